"""Fetch the full public sets: resumable HTTP(S) transfers, size + SHA-256 checks, atomic files."""

from __future__ import annotations

import hashlib
import http.client
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from engine.datasets.archive import extract_folder
from engine.datasets.catalog import RemoteFile, default_cache_dir, is_downloaded, remote_spec
from engine.datasets.dataset import DownloadError

# progress(bytes_done, bytes_total, filename), called after every chunk of one file.
ProgressCallback = Callable[[int, int, str], None]

USER_AGENT = "ConvScope-dataset-downloader"


class _Interrupted(Exception):
    """The transfer stopped early; the .part file keeps what arrived, so it can resume."""


class _RangeRefused(_Interrupted):
    """HTTP 416: the .part does not fit the file on the server, so start again from zero."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        if exc.code == 416 and offset:
            raise _RangeRefused("the server refused the resume range") from None
        raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
    except URLError as exc:
        if isinstance(exc.reason, (TimeoutError, ConnectionResetError, ConnectionAbortedError)):
            raise _Interrupted(str(exc.reason)) from None
        raise DownloadError(
            f"{url}: cannot reach the server ({exc.reason}); check the connection and try again, or fetch the "
            "files on a machine that can and open their folder as a dataset (the training panel's Open folder..., "
            "or --dataset PATH)"
        ) from None
    except (OSError, http.client.HTTPException) as exc:  # resets, timeouts, TLS errors
        raise _Interrupted(f"{type(exc).__name__}: {exc}") from None


def _transfer(
    url: str, part: Path, remote: RemoteFile, progress: ProgressCallback | None,
    chunk_size: int, timeout: float,
) -> None:
    """Append the rest of `remote` to `part`, resuming with a Range request when possible."""
    offset = part.stat().st_size if part.exists() else 0
    if offset > remote.size:
        part.unlink()
        offset = 0
    if offset == remote.size:
        return
    try:
        response = _open(url, offset, timeout)
    except _RangeRefused:
        part.unlink()
        raise
    with response:
        if offset and response.status == 206:
            content_range = response.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                part.unlink()
                raise _Interrupted(f"the server resumed at the wrong place ({content_range!r})")
            mode = "ab"
        elif response.status == 200:
            mode, offset = "wb", 0  # fresh start, or a server that ignores Range: restart
        else:
            raise DownloadError(f"{url}: unexpected HTTP status {response.status}")
        done = offset
        with open(part, mode) as fh:
            if progress is not None:
                progress(done, remote.size, remote.filename)
            while True:
                try:
                    chunk = response.read(chunk_size)
                except (OSError, http.client.HTTPException) as exc:  # socket, TLS, protocol
                    raise _Interrupted(f"{type(exc).__name__}: {exc}") from None
                if not chunk:
                    break
                if done + len(chunk) > remote.size:
                    fh.close()
                    part.unlink()
                    raise DownloadError(
                        f"{url}: the server sent more than the expected {remote.size} bytes; "
                        "the file on the server is not the expected one"
                    )
                fh.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, remote.size, remote.filename)
    if done < remote.size:
        raise _Interrupted(f"the connection closed after {done} of {remote.size} bytes")


def fetch_file(
    url: str, dest: Path, remote: RemoteFile, *, progress: ProgressCallback | None = None,
    chunk_size: int = 1 << 16, timeout: float = 30.0, retries: int = 3,
) -> Path:
    """Download `url` to `dest` via dest.part, verify size and SHA-256, then rename into place.

    An interrupted transfer is resumed up to `retries` times; if it still fails the .part
    file stays, and the next call resumes from it. A checksum mismatch deletes the .part.
    """
    if dest.is_file():
        if dest.stat().st_size == remote.size:
            return dest  # files land here only after verification
        dest.unlink()
    part = dest.with_name(dest.name + ".part")
    failures = 0
    try:
        while True:
            try:
                _transfer(url, part, remote, progress, chunk_size, timeout)
                break
            except _Interrupted as exc:
                failures += 1
                if failures > retries:
                    have = part.stat().st_size if part.exists() else 0
                    raise DownloadError(
                        f"{url}: transfer interrupted ({exc}); {have} of {remote.size} bytes "
                        f"are kept in {part}: run the download again to resume"
                    ) from None
        actual = _sha256(part)
    except OSError as exc:  # network errors became _Interrupted: this is the local disk
        raise DownloadError(
            f"{part}: cannot write the download ({exc}); check free space and permissions"
        ) from None
    if actual != remote.sha256:
        part.unlink()
        raise DownloadError(
            f"{url}: SHA-256 mismatch for {remote.filename}: expected {remote.sha256}, got "
            f"{actual}; the download was deleted. Try again"
        )
    os.replace(part, dest)
    return dest


def download(
    name: str, cache_dir: Path | None = None, *, progress: ProgressCallback | None = None,
    base_url: str | None = None, chunk_size: int = 1 << 16, timeout: float = 30.0,
    retries: int = 3, files: Sequence[RemoteFile] | None = None,
) -> Path:
    """Fetch the full public set `name` ("mnist", "fashion-mnist", "cifar10") into the cache.

    Returns the dataset's folder; afterwards load_dataset("mnist-full" / "fashion-mnist-full"
    / "cifar10") reads it. `base_url` points at a mirror holding the same file names;
    `files` replaces the table of names, sizes and checksums (tests, private mirrors).
    """
    try:
        spec = remote_spec(name)
    except KeyError as exc:
        raise DownloadError(str(exc.args[0])) from None
    cache = default_cache_dir() if cache_dir is None else Path(cache_dir)
    folder = cache / spec.local_name
    if is_downloaded(spec, cache):
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"{folder}: cannot create the download folder ({exc})") from None
    root = (base_url or spec.base_url).rstrip("/")
    table = tuple(spec.files if files is None else files)
    for remote in table:
        fetch_file(
            f"{root}/{remote.filename}", folder / remote.filename, remote, progress=progress,
            chunk_size=chunk_size, timeout=timeout, retries=retries,
        )
    if spec.extract_folder is not None:
        for remote in table:
            archive = folder / remote.filename
            extract_folder(archive, folder, spec.extract_folder)
            archive.unlink()  # verified and unpacked; 170 MB not worth keeping
    return folder
