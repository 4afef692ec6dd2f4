"""The picker's Download button against a real HTTP server on 127.0.0.1: progress, cancel (kept .part), resume,
and the downloaded set selected in the dataset list."""

from __future__ import annotations

import functools
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gzip
import struct

import numpy as np
import pytest

from engine.datasets import RemoteFile, download
from gui.training.download_box import DownloadBox
from gui.training.training_form import TrainingForm

NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz")


def _idx_gz(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes())


class _Handler(BaseHTTPRequestHandler):
    """Serves server.files with Range support; holds each response until server.gate is set."""

    def do_GET(self) -> None:
        data = self.server.files[self.path.lstrip("/")]
        start = int(self.headers.get("Range", "bytes=0-").removeprefix("bytes=").split("-")[0])
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        body = data[start:]
        self.wfile.write(body[:4096])  # the first chunk at once, the rest once the test opens the gate
        self.wfile.flush()
        self.server.gate.wait(30)
        self.wfile.write(body[4096:])

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def mirror():
    rng = np.random.default_rng(3)
    files = {NAMES[0]: _idx_gz(rng.integers(0, 256, (200, 28, 28), dtype=np.uint8)),
             NAMES[1]: _idx_gz((np.arange(200) % 10).astype(np.uint8)),
             NAMES[2]: _idx_gz(rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)),
             NAMES[3]: _idx_gz((np.arange(20) % 10).astype(np.uint8))}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files = {f"m/{n}": d for n, d in files.items()}
    httpd.gate = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    table = tuple(RemoteFile(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in files.items())
    yield httpd, functools.partial(download, base_url=f"http://127.0.0.1:{httpd.server_address[1]}/m", files=table,
                                   chunk_size=1024)
    httpd.gate.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_cancel_keeps_the_part_and_a_second_start_resumes_and_selects_the_set(qtbot, tmp_path, mirror):
    server, fetch = mirror
    box = DownloadBox(fetch=fetch, cache_dir=tmp_path)
    qtbot.addWidget(box)
    box._fill_menu()
    assert [a.isEnabled() for a in box.menu.actions()] == [True, True, True]
    box.start("mnist")
    qtbot.waitUntil(lambda: box.bar.value() > 0, timeout=30_000)  # the first 4 KiB arrived; the server waits
    assert not box.bar.isHidden() and not box.cancel_button.isHidden() and not box.button.isEnabled()
    assert 0 < box.bar.value() < 1000
    box.cancel()
    server.gate.set()  # the job's next chunk sees the cancel and stops
    assert box._runner.wait(30)
    part = tmp_path / "mnist-full" / f"{NAMES[0]}.part"
    assert part.is_file() and part.stat().st_size >= 1024
    assert not (tmp_path / "mnist-full" / NAMES[0]).exists()
    assert "cancelled" in box.status.text() and box.button.isEnabled() and box.bar.isHidden()
    # Again: it resumes from the .part, verifies every file and reports the name to load.
    with qtbot.waitSignal(box.downloaded, timeout=60_000) as done:
        box.start("mnist")
    assert done.args == ["mnist-full"]
    assert not part.exists() and all((tmp_path / "mnist-full" / n).is_file() for n in NAMES)
    assert box.bar.isHidden() and "verified" in box.status.text()
    box._fill_menu()
    assert [a.isEnabled() for a in box.menu.actions()] == [False, True, True]
    assert "downloaded" in box.menu.actions()[0].text()


def test_the_form_selects_a_downloaded_set(qtbot, tmp_path, mirror):
    server, fetch = mirror
    server.gate.set()
    form = TrainingForm()
    qtbot.addWidget(form)
    form.download_box._fetch, form.download_box._cache_dir = fetch, tmp_path
    with qtbot.waitSignal(form.source_changed, timeout=60_000) as changed:
        form.download_box.start("mnist")
    assert changed.args == ["mnist-full"]
    assert form.dataset_source() == "mnist-full" and form.dataset_combo.currentText() == "MNIST (full, downloaded)"


def test_a_failed_download_says_why(qtbot, tmp_path, mirror):
    server, fetch = mirror
    server.gate.set()
    server.files[f"m/{NAMES[1]}"] = b"not the published file"
    box = DownloadBox(fetch=fetch, cache_dir=tmp_path)
    qtbot.addWidget(box)
    box.start("mnist")
    qtbot.waitUntil(lambda: "Download failed" in box.status.text(), timeout=60_000)
    assert NAMES[1] in box.status.text() and box.button.isEnabled() and box.bar.isHidden()
