"""Atomic file replacement: write a temporary file beside the target, fsync, rename over it, fsync the folder.

The temporary file is named `.NAME.PID.RANDOM.tmp`: a save killed half-way (SIGKILL, power loss) leaves one
behind, and the next save or open of NAME removes those whose process is gone (a run folder written again:
all of them in it, remove_stale_temporaries_in), so repeated kills do not fill the disk. Saving keeps the
target's permissions, follows a symbolic link to its target, and replaces the directory entry: another hard
link to the old file keeps the old contents (docs/project-files.md#saving).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _process_is_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process's own temporary files are in flight (another thread saving): never ours to remove
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform that cannot tell: keep its file
    return True


# mkstemp's names: eight of [a-z0-9_] (tempfile._RandomNameSequence). Matching exactly that, with a pid,
# keeps another program's `.NAME.tmp` or `.NAME.backup.tmp` out of reach.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d{1,10})\.[a-z0-9_]{8}\.tmp$")


def _remove_stale(folder: Path, wanted: str | None) -> list[Path]:
    """Remove the temporaries in `folder` (of target `wanted`, or of any target) whose writing process is gone.

    Why the pid and not an age: a live save may take minutes (120 MB on a slow disk) and must keep its file, and
    a dead writer's file can go at once; on one machine a pid says which. A pid reused since keeps a leftover
    until the next save after that process ends (harmless). A folder shared by two machines (NFS) cannot tell
    another host's live writer from a dead one: do not save there from two machines at once."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed  # a missing folder, or one that cannot be listed: there is nothing to clean
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match is None or (wanted is not None and match["name"] != wanted):
            continue
        if _process_is_alive(int(match["pid"])):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass  # removed meanwhile by another save, or not ours to remove: the save itself is unaffected
    return removed


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed saves of `path` left beside it; returns those removed.

    Only files of this module's naming for `path` whose writing process no longer runs are touched."""
    path = Path(os.path.realpath(path))
    return _remove_stale(path.parent, path.name)


def remove_stale_temporaries_in(folder: str | os.PathLike) -> list[Path]:
    """Remove every temporary of this module's naming in `folder` (not below) whose writing process is gone.

    For folders ConvScope owns (a run folder, its snapshots/): a killed save of a file that is never saved
    again under the same name (a snapshot's step) would otherwise stay there forever."""
    return _remove_stale(Path(os.path.realpath(folder)), None)


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a platform that cannot open a folder (Windows) skips it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the data itself is already synced
    finally:
        os.close(fd)


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """A crash or error mid-write leaves the previous file intact and no temporary file behind."""
    path = Path(os.path.realpath(path))  # through a symbolic link: its target is what gets replaced
    remove_stale_temporaries(path)
    try:
        mode = os.stat(path).st_mode & 0o7777  # keep a 0600 file 0600
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # mkstemp makes owner-only files; a new file gets the usual permissions
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
