"""Bombs (a few MB that would unpack to hundreds) are refused while streaming: peak memory stays near the baseline.

Each case runs in a fresh interpreter that first imports torch and the loaders (the baseline, about 360 MB),
then opens the bomb; the growth of its peak resident size (ru_maxrss) is what the bomb cost. An address-space
limit would be no test: torch reserves far more address space than it touches.
"""

import json
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from engine.project.project_file import MANIFEST, METRICS, WEIGHTS, to_bytes
from tests.engine.test_project import sample_project

BOMB = 256 << 20           # what each bomb unpacks to (a few hundred kB on disk)
ALLOWED_GROWTH = 100 << 20  # far below the bomb, and below the 1 GB the issue allows
_ZEROS = bytes(1 << 20)

_CHILD = textwrap.dedent("""
    import resource, sys
    import torch
    from engine.datasets.registry import load_dataset
    from engine.datasets.dataset import DatasetError
    from engine.project.project_file import ProjectError, load_project
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    before = peak()
    kind, path = sys.argv[1], sys.argv[2]
    try:
        load_project(path) if kind == "project" else load_dataset(path)
        outcome = "opened"
    except (ProjectError, DatasetError) as exc:
        outcome = "refused: " + str(exc)
    print(peak() - before)
    print(outcome)
""")


def growth(kind, path, env_limit=None):
    import os
    env = dict(os.environ)
    if env_limit is not None:
        env["CONVSCOPE_MAX_DATASET_BYTES"] = str(env_limit)
    result = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    grown, outcome = result.stdout.splitlines()[:2]
    print(f"{kind} {path.name}: {int(grown) / 2**20:.1f} MiB above the baseline; {outcome[:100]}")
    return int(grown), outcome


def write_member(zf, name, chunks):
    with zf.open(zipfile.ZipInfo(name), "w", force_zip64=True) as f:
        for chunk in chunks:
            f.write(chunk)


def version_1_project(path, bomb_name, chunks):
    """A version-1 project (no checksums to compute) with one member that unpacks to BOMB bytes."""
    with zipfile.ZipFile(__import__("io").BytesIO(to_bytes(sample_project(weights=False)))) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members[MANIFEST])
    manifest["version"] = 1
    del manifest["members"]
    members[MANIFEST] = json.dumps(manifest).encode()
    members.pop(bomb_name, None)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.compression = zipfile.ZIP_DEFLATED
        info = zipfile.ZipInfo(bomb_name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            for chunk in chunks:
                f.write(chunk)
    assert path.stat().st_size < BOMB // 50


def zeros():
    return (_ZEROS for _ in range(BOMB // len(_ZEROS)))


def check(grown, outcome, word):
    assert outcome.startswith("refused") and word in outcome, outcome
    assert grown < ALLOWED_GROWTH, f"{grown / 2**20:.0f} MiB above the baseline"


def test_a_weights_bomb_in_a_project(tmp_path):
    path = tmp_path / "bomb.convscope"
    version_1_project(path, WEIGHTS, zeros())
    check(*growth("project", path), WEIGHTS)


def test_an_extras_bomb_in_a_project(tmp_path):
    path = tmp_path / "bomb.convscope"
    version_1_project(path, "extras/big.json", [b"["] + [b" " * len(_ZEROS)] * (BOMB // len(_ZEROS)) + [b"]"])
    check(*growth("project", path), "extras/big.json")


def test_a_metrics_bomb_in_a_project(tmp_path):
    path = tmp_path / "bomb.convscope"
    header = b"kind,epoch,step,loss,accuracy,train_loss,train_accuracy,val_loss,val_accuracy\n"
    row = b"batch,1,1,0.5,0.5,,,,\n"
    block = row * (len(_ZEROS) // len(row))
    version_1_project(path, METRICS, [header] + [block] * (BOMB // len(block)))
    check(*growth("project", path), METRICS)


def test_a_gzipped_idx_bomb(tmp_path):
    import gzip
    count = BOMB // (28 * 28) + 1
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb", compresslevel=1) as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, count, 28, 28))
        for chunk in zeros():
            f.write(chunk)
        f.write(bytes(count * 28 * 28 - BOMB))  # exactly the data its header promises: a valid file, only big
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, count) + bytes(count))
    check(*growth("dataset", tmp_path, env_limit=16 << 20), "CONVSCOPE_MAX_DATASET_BYTES")


def test_a_cifar_pickle_that_asks_for_a_huge_bytearray(tmp_path):
    class Huge:
        def __reduce__(self):
            return bytearray, (BOMB,)

    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": Huge(), b"labels": [0]}, protocol=2))
    assert (tmp_path / "data_batch_1").stat().st_size < 200
    check(*growth("dataset", tmp_path), "bytearray")


def test_an_npz_label_of_ten_million_without_class_names(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, images=np.zeros((2, 4, 4), np.uint8), labels=np.array([0, 10**7]))
    check(*growth("dataset", path), "classes")


def test_an_npz_images_bomb(tmp_path):
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        header = np.lib.format.header_data_from_array_1_0(np.zeros((BOMB // 16, 4, 4), np.uint8))
        with zf.open("images.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            for chunk in zeros():
                f.write(chunk)
        with zf.open("labels.npy", "w") as f:
            np.lib.format.write_array(f, np.zeros(BOMB // 16, np.int64))
    assert path.stat().st_size < BOMB // 50
    check(*growth("dataset", path, env_limit=16 << 20), "CONVSCOPE_MAX_DATASET_BYTES")


@pytest.mark.parametrize("limit", ["16777216"])
def test_the_limit_is_read_from_the_environment(monkeypatch, limit):
    from engine.datasets.limits import max_bytes
    monkeypatch.setenv("CONVSCOPE_MAX_DATASET_BYTES", limit)
    assert max_bytes() == int(limit)
