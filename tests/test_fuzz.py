"""Seeded mutation fuzzer over every loader: only documented errors, whatever the bytes.

A few hundred cases per target by default; CONVSCOPE_FUZZ_CASES=N runs N per target (e.g. 10000). The seed is
fixed, so a failure names a case that reproduces; CONVSCOPE_FUZZ_SEED picks another sequence.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import zipfile

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.datasets.cifar import read_batch
from engine.datasets.dataset import DatasetError
from engine.datasets.idx import parse_idx
from engine.datasets.npz import read_npz
from engine.project.project_file import ProjectError, from_bytes, to_bytes
from engine.network.weights import WeightsError, apply_state_dict, load_state_dict
from models import architecture_file
from models.architecture_file import ArchitectureFileError
from models.presets import PRESET_KEYS, load_preset
from models.shapes import analyze

CASES = int(os.environ.get("CONVSCOPE_FUZZ_CASES", "0")) or None
SEED = int(os.environ.get("CONVSCOPE_FUZZ_SEED", "16"))

# Values that broke loaders before: wrong types, huge and deep values, escapes, lone surrogates.
HOSTILE = [None, True, -1, 0, 2**31, 2**63, 10**30, 1e308, -0.0, "", "relu", "\x1b[31m", "\ud800", "x" * 5000,
           [], ["relu"], [1, 2, 3], {}, {"type": "relu"}, [[[[[[]]]]]]]


def cases(default: int) -> int:
    return CASES or default


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 4, 16))):
        op = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:      # flip bits
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and data:    # random byte
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 2:             # delete a span
            del data[at:at + rng.randrange(1, 64)]
        elif op == 3:             # duplicate a span
            data[at:at] = data[at:at + rng.randrange(1, 64)]
        elif op == 4:             # insert structure characters
            data[at:at] = rng.choice([b"[", b"]", b"{", b"}", b",", b'"', b"\\", b"\x00", b"9" * 40, b"\xff"])
        else:                     # truncate
            del data[at:]
    return bytes(data)


def mutate_value(rng: random.Random, value):
    """A copy of a JSON value with one leaf or container replaced by a hostile value (or a key dropped/added)."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.1:
            del out[key]
        elif roll < 0.2:
            out[rng.choice(["extra", "type", "layers", "\x1b]0;t\x07"])] = rng.choice(HOSTILE)
        else:
            out[key] = mutate_value(rng, value[key])
        return out
    if isinstance(value, list) and value and rng.random() < 0.7:
        out = list(value)
        i = rng.randrange(len(out))
        out[i] = mutate_value(rng, out[i])
        if rng.random() < 0.1:
            out.insert(i, rng.choice(HOSTILE))
        return out
    if rng.random() < 0.05:
        return _deep(rng)
    return rng.choice(HOSTILE)


def _deep(rng: random.Random):
    value: object = []
    for _ in range(rng.choice((70, 500))):
        value = [value]
    return value


def _dumps(rng: random.Random, value) -> str:
    try:
        return json.dumps(value, ensure_ascii=rng.random() < 0.5)
    except RecursionError:
        return "[" * 2000 + "]" * 2000


def arch_texts(rng: random.Random, n: int):
    sources = [architecture_file.to_dict(load_preset(key)) for key in PRESET_KEYS]
    for _ in range(n):
        data = rng.choice(sources)
        if rng.random() < 0.5:
            yield _dumps(rng, mutate_value(rng, data))
        else:
            yield mutate_bytes(rng, json.dumps(data).encode()).decode("utf-8", "surrogateescape")


def undocumented(failures: list, case: int, exc: BaseException) -> None:
    failures.append(f"case {case}: {type(exc).__name__}: {str(exc)[:200]}")


def check_message(message: str) -> None:
    """Documented errors are one short printable line (a file path plus a quoted excerpt at most)."""
    assert len(message) < 600, message[:300]
    assert "\x1b" not in message, message[:300]
    message.encode("utf-8")


def test_architecture_files_raise_only_architecture_file_errors():
    rng = random.Random(SEED)
    failures: list[str] = []
    for case, text in enumerate(arch_texts(rng, cases(400))):
        try:
            arch = architecture_file.loads(text)
            analyze(arch)  # a loaded file must also be analysable without surprises
        except ArchitectureFileError as exc:
            check_message(str(exc))
        except Exception as exc:  # noqa: BLE001 - the point of the test
            undocumented(failures, case, exc)
    assert failures == []


def _zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _rezip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _resign(members: dict[str, bytes]) -> dict[str, bytes]:
    """Update the manifest's checksums, so a mutated member reaches its own parser."""
    import hashlib
    try:
        manifest = json.loads(members["manifest.json"])
        manifest["members"] = {n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                               for n, d in members.items() if n != "manifest.json"}
        members["manifest.json"] = json.dumps(manifest).encode()
    except (KeyError, ValueError, TypeError):
        pass
    return members


def project_bytes(rng: random.Random, n: int):
    from tests.engine.test_project import sample_project
    originals = [to_bytes(sample_project("lenet5")), to_bytes(sample_project("all_conv", weights=False))]
    for _ in range(n):
        data = rng.choice(originals)
        roll = rng.random()
        if roll < 0.4:
            yield mutate_bytes(rng, data)
        else:  # damage one member, re-zipped with a valid CRC (and, mostly, a matching checksum)
            members = _zip_members(data)
            name = rng.choice(list(members))
            text = members[name]
            if name.endswith(".json") and rng.random() < 0.6:
                try:
                    members[name] = _dumps(rng, mutate_value(rng, json.loads(text))).encode("utf-8", "surrogatepass")
                except ValueError:
                    members[name] = mutate_bytes(rng, text)
            elif rng.random() < 0.15:
                renamed = mutate_bytes(rng, name.encode()).decode("cp437").split("\x00")[0] or "x"  # zipfile cuts names at NUL; "" cannot be written
                members[renamed] = members.pop(name)
            else:
                members[name] = mutate_bytes(rng, text)
            yield _rezip(_resign(members) if roll < 0.9 else members)


def test_projects_raise_only_project_errors():
    rng = random.Random(SEED + 1)
    failures: list[str] = []
    for case, data in enumerate(project_bytes(rng, cases(200))):
        try:
            from_bytes(data)
        except ProjectError as exc:
            check_message(str(exc))
        except Exception as exc:  # noqa: BLE001
            undocumented(failures, case, exc)
    assert failures == []


def test_weights_files_raise_only_weights_errors(tmp_path):
    from engine.network.weights import state_dict_to_safetensors
    rng = random.Random(SEED + 2)
    model = build_model(load_preset("lenet5"))
    state = model.state_dict()
    buf = io.BytesIO()
    torch.save(dict(state), buf)
    originals = {".safetensors": state_dict_to_safetensors(state), ".pt": buf.getvalue()}
    failures: list[str] = []
    for case in range(cases(150)):
        suffix = rng.choice(list(originals))
        path = tmp_path / f"w{suffix}"
        path.write_bytes(mutate_bytes(rng, originals[suffix]))
        try:
            apply_state_dict(model, load_state_dict(path), str(path))
        except WeightsError as exc:
            check_message(str(exc))
        except Exception as exc:  # noqa: BLE001
            undocumented(failures, case, exc)
    assert failures == []


def _npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, images=np.zeros((4, 6, 6), np.uint8), labels=np.array([0, 1, 2, 1]),
                        class_names=np.array(["a", "b", "c"]))
    return buf.getvalue()


def _idx_bytes() -> bytes:
    import struct
    return struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 4, 4) + bytes(32)


def _cifar_bytes() -> bytes:
    return pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}, protocol=2)


@pytest.mark.filterwarnings("ignore")  # numpy warns about some mutated dtype arguments before refusing them
def test_dataset_files_raise_only_dataset_errors(tmp_path):
    rng = random.Random(SEED + 3)
    readers = {"npz": (_npz_bytes(), lambda p: read_npz(p)), "idx": (_idx_bytes(), None),
               "cifar": (_cifar_bytes(), lambda p: read_batch(p))}
    failures: list[str] = []
    for case in range(cases(300)):
        kind = rng.choice(list(readers))
        original, reader = readers[kind]
        data = mutate_bytes(rng, original)
        path = tmp_path / ("d.npz" if kind == "npz" else "data_batch_1")
        path.write_bytes(data)
        try:
            parse_idx(data, "fuzz") if reader is None else reader(path)
        except DatasetError as exc:
            check_message(str(exc))
        except Exception as exc:  # noqa: BLE001
            undocumented(failures, case, exc)
    assert failures == []
