"""Unpack one folder of a verified tar.gz, refusing members that could escape the destination."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from engine.datasets.dataset import DownloadError


def _check_member(archive: Path, member: tarfile.TarInfo) -> None:
    parts = PurePosixPath(member.name).parts
    if member.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise DownloadError(
            f"{archive}: member {member.name!r} points outside the destination folder; "
            "refusing to extract this archive"
        )
    if not (member.isfile() or member.isdir()):
        raise DownloadError(
            f"{archive}: member {member.name!r} is a link or special file; refusing to "
            "extract this archive"
        )


def extract_folder(archive: Path, dest: Path, folder: str) -> Path:
    """Extract the members under `folder`/ of `archive` into dest/folder, atomically.

    Members go to a staging folder inside `dest` first and are moved into place by one
    rename, so a half-extracted set is never mistaken for a complete one.
    """
    target = dest / folder
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    # filter="data" (Python 3.12, 3.11.4+) is a second guard behind _check_member.
    extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                _check_member(archive, member)
                if PurePosixPath(member.name).parts[:1] == (folder,):
                    tar.extract(member, staging, **extra)
        if not (staging / folder).is_dir():
            raise DownloadError(
                f"{archive}: contains no {folder}/ folder; not the expected archive"
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / folder, target)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DownloadError(
            f"{archive}: cannot unpack it ({type(exc).__name__}: {exc}); "
            "delete it and download again"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
