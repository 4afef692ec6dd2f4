"""One writer per run folder: an OS lock on `writer.lock` in the folder, held while a run writes it.

Two writers in one folder would interleave their logs and overwrite each other's files, so the second is
refused, naming the first (pid, host, start time, which it writes into the lock file). The lock is the operating
system's, not the file's existence, so a writer that died (SIGKILL, power cut) leaves nothing that blocks:
- POSIX: fcntl.flock on the open file; the kernel drops it when the process's last descriptor closes.
- Windows: msvcrt.locking on one byte of the open file; Windows drops it when the handle closes.
- Elsewhere (neither module): no lock; runs are not guarded.
A forked child (not one started by exec) shares the descriptor, so it keeps the lock until it exits too.
Within one process taking a folder is idempotent (train's prepare_output_dir and its RunFolderWriter both ask);
release() gives it up and removes the file, so a finished run leaves its folder as it was.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import threading
from pathlib import Path

from engine.run_folder.layout import WRITER_LOCK

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
try:
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None

WINDOWS_LOCK_OFFSET = 1 << 20  # the byte msvcrt locks: past the owner text, which others must still read
_held: dict[str, tuple[int, Path]] = {}  # realpath of a folder this process writes -> (descriptor, lock file)
_guard = threading.Lock()


class FolderInUseError(ValueError):
    """Another live process writes the folder; the message names the folder, that writer and what to do."""


def acquire(folder: str | os.PathLike) -> None:
    """Take `folder`'s writer lock for this process (no-op if it holds it); FolderInUseError if another does.
    OSError if the lock file cannot be opened."""
    key = os.path.realpath(folder)
    with _guard:
        if key not in _held:
            _held[key] = _take(Path(folder))


def release(folder: str | os.PathLike) -> None:
    """Give up `folder`'s lock (no-op if this process does not hold it) and remove the lock file."""
    with _guard:
        held = _held.pop(os.path.realpath(folder), None)
    if held is None:
        return
    fd, path = held
    if msvcrt is None:  # unlinked while still locked: whoever opened the old file sees it is gone and retries
        _unlink_if_same(path, fd)
        os.close(fd)
    else:  # Windows cannot remove an open file; a file another process has open stays (it does not block)
        os.close(fd)
        try:
            path.unlink()
        except OSError:
            pass


def holds(folder: str | os.PathLike) -> bool:
    return os.path.realpath(folder) in _held


def this_process() -> dict:
    """Who writes a run: the started line's `process` object (pid, host, boot_id), so a follower can tell a
    live writer from a dead one (writer_alive). The boot id tells a pid from before a reboot from a live one."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "boot_id": _boot_id()}


def writer_alive(pid: int, host: str, boot_id: str | None) -> bool | None:
    """Whether the process that wrote a run's started line still runs: True or False where this machine can
    tell (same host, same boot, POSIX), None where it cannot (another host: the log's heartbeat tells then).
    Read-only: it asks the kernel about the pid (signal 0 sends nothing) and never touches writer.lock, whose
    test-by-taking would, for an instant, refuse a run starting in the folder."""
    if host != socket.gethostname() or boot_id != _boot_id() or os.name != "posix" or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except OSError:
        return None
    try:  # a killed process its parent has not reaped yet is a zombie: it exists, and writes nothing more
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True  # no /proc (macOS): the pid exists


_boot: list[str | None] = []


def _boot_id() -> str | None:
    """This boot's id (Linux), read once; None elsewhere."""
    if not _boot:
        try:
            _boot.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:64] or None)
        except OSError:
            _boot.append(None)
    return _boot[0]


def _take(folder: Path) -> tuple[int, Path]:
    path = folder / WRITER_LOCK
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    while True:
        fd = os.open(path, flags, 0o644)
        try:
            if not _lock(fd):
                raise FolderInUseError(_refusal(folder, _owner(fd)))
            if not _same_file(path, fd):  # its writer released (and removed) it between our open and lock
                os.close(fd)
                continue
            text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                               "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")})
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, text.encode() + b"\n")
            return fd, path
        except BaseException:
            os.close(fd)
            raise


def _lock(fd: int) -> bool:
    """True if this descriptor now holds the lock, False if another process holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif msvcrt is not None:
            os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except (BlockingIOError, PermissionError):
        return False
    except OSError as exc:
        if exc.errno in (11, 13, 35, 36):  # EAGAIN, EACCES, EWOULDBLOCK (macOS), EDEADLOCK (Windows)
            return False
        raise
    return True


def _same_file(path: Path, fd: int) -> bool:
    try:
        now = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)


def _unlink_if_same(path: Path, fd: int) -> None:
    try:
        if _same_file(path, fd):
            path.unlink()
    except OSError:
        pass  # a read-only or vanished folder: the lock itself still goes when fd closes


def _owner(fd: int) -> dict:
    """What the holder wrote into the lock file ({} if unreadable or not written yet)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        owner = json.loads(os.read(fd, 4096).decode("utf-8", "replace"))
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _refusal(folder: Path, owner: dict) -> str:
    details = [f"pid {owner['pid']}"] if isinstance(owner.get("pid"), int) else []
    if isinstance(owner.get("host"), str):
        details.append(f"on {owner['host'][:100]}")
    if isinstance(owner.get("started"), str):
        details.append(f"since {owner['started'][:40]}")
    who = f" ({' '.join(details)})" if details else ""
    return (f"{folder}: another run is writing this folder{who}; give another folder (--out), "
            f"or stop that run first")
