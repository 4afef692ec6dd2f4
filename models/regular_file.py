"""Open only regular files, without blocking: a FIFO, device, socket or folder where a file belongs is refused.

open() on a FIFO waits for a writer forever, and a read of /dev/zero never ends, so a stranger's folder could
hang any reader. Here the file is opened with O_NONBLOCK (which makes that open return at once and means
nothing for a regular file's reads) and checked with fstat on the open descriptor, so no file can be swapped
in between the check and the read.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class NotRegularFileError(OSError):
    """The path names something other than a regular file (or a link where links are refused); `strerror` says
    which, so callers that already report `OSError.strerror` need no new case."""

    def __init__(self, path: str | os.PathLike, what: str) -> None:
        super().__init__(errno.EINVAL, what, os.fspath(path))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike, *, follow_links: bool = True) -> BinaryIO:
    """`path` opened for binary reading if it is a regular file; NotRegularFileError (an OSError) if it is not,
    if its name holds a NUL, or if it is a symbolic link and `follow_links` is False (only the last part of the
    path is checked: callers that must stay inside a folder check the folders on the way). Other OSErrors
    (missing, no permission, a name too long) as open() raises them."""
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
             | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0)))
    try:
        fd = os.open(path, flags)
    except ValueError:  # a NUL character, which no file name can hold
        raise NotRegularFileError(path, "a name holding a NUL character, which no file can have") from None
    except OSError as exc:
        if not follow_links and exc.errno == errno.ELOOP and os.path.islink(path):  # O_NOFOLLOW met a link
            raise NotRegularFileError(path, "a symbolic link, which is not followed here") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(path, f"{_kind(mode)}, not a regular file")
        if not follow_links and not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):  # Windows: ask instead
            raise NotRegularFileError(path, "a symbolic link, which is not followed here")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


_CHUNK = 1 << 20


def read_at_most(f: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes of `f`, from where it stands (callers pass their cap + 1 to tell a file over it).

    Not `f.read(limit)`: that allocates `limit` bytes before reading one, so a 4 GiB cap cost a 4 GiB buffer for
    every 4 kB snapshot (a MemoryError where RAM and swap are smaller). The file's size is the first read's
    length; a file that grew since is read on in chunks, never past `limit`."""
    try:
        first = min(limit, os.fstat(f.fileno()).st_size + 1)
    except (OSError, AttributeError, ValueError):  # not a real file (an in-memory stream): chunks from the start
        first = min(limit, _CHUNK)
    data = f.read(first)
    if len(data) < first:
        return data
    parts, total = [data], len(data)
    while total < limit:
        part = f.read(min(_CHUNK, limit - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)
