"""Atomic file replacement: write a temporary file beside the target, fsync, rename over it, fsync the folder.

The temporary file is named `.NAME.PID.RANDOM.tmp`: a save killed half-way (SIGKILL, power loss) leaves one
behind, and the next save or open of NAME removes those whose process is gone, so repeated kills do not fill
the disk. Saving keeps the target's permissions, follows a symbolic link to its target, and replaces the
directory entry: another hard link to the old file keeps the old contents.
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


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed saves of `path` left beside it; returns those removed.

    Only files of this module's naming whose writing process no longer runs are touched; a missing folder,
    or one that cannot be listed, is not an error (there is nothing to clean)."""
    path = Path(os.path.realpath(path))
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[A-Za-z0-9_]+\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or _process_is_alive(int(match.group(1))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass  # removed meanwhile by another save, or not ours to remove: the save itself is unaffected
    return removed


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
