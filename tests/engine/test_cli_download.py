"""`python main.py download`: an already complete set, an unusable cache folder (no network needed)."""

from __future__ import annotations

from main import main

MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
               "t10k-labels-idx1-ubyte.gz")


def test_a_set_already_in_the_cache_is_reported_without_fetching(tmp_path, capsys):
    folder = tmp_path / "mnist-full"
    folder.mkdir()
    for name in MNIST_FILES:  # files land in the cache only after verification, so presence means done
        (folder / name).write_bytes(b"")
    assert main(["download", "mnist", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(folder) in out and "--dataset mnist-full" in out


def test_an_unusable_cache_folder_exits_2_with_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["download", "cifar10", "--cache-dir", str(blocker)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "cannot create the download folder" in lines[0]
