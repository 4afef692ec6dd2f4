"""Nothing in a project is dropped silently: members are checked against the manifest's list and SHA-256."""

import json
import random
import zipfile

import pytest
import torch

from engine.project.project_file import MANIFEST, METRICS, SETTINGS, WEIGHTS, ProjectError, from_bytes, load_project, to_bytes
from tests.engine.test_project import rewrite, sample_project


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "p.convscope"
    path.write_bytes(to_bytes(sample_project()))
    return path


def refusal(path):
    with pytest.raises(ProjectError) as info:
        load_project(path)
    return str(info.value)


def rename_member(path, old, new):
    """Rename a member in place (local header and central directory), as one damaged name would read."""
    assert len(old) == len(new)
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode()))


def make_version_1(path):
    """The project as ConvScope 1 wrote it: a manifest without the members list."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    del manifest["members"]
    manifest["version"] = 1
    rewrite(path, replace={MANIFEST: json.dumps(manifest).encode()})


def test_manifest_lists_every_member_with_size_and_sha256(saved):
    import hashlib
    with zipfile.ZipFile(saved) as zf:
        listed = json.loads(zf.read(MANIFEST))["members"]
        names = set(zf.namelist()) - {MANIFEST}
        assert set(listed) == names
        for name in names:
            data = zf.read(name)
            assert listed[name] == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_renamed_weights_member_is_refused_not_opened_untrained(saved):
    rename_member(saved, WEIGHTS, "weights.safetensorz")
    message = refusal(saved)
    assert "weights.safetensorz" in message and "unknown member" in message


def test_a_listed_member_that_is_absent_is_refused(saved):
    rewrite(saved, drop=[WEIGHTS], resign=False)
    assert f"missing member {WEIGHTS}" in refusal(saved)


def test_a_member_not_in_the_manifest_is_refused(saved):
    rewrite(saved, add={"extras/notes.json": b"{}"}, resign=False)
    assert "extras/notes.json" in refusal(saved) and "not listed" in refusal(saved)


@pytest.mark.parametrize("name", ["notes.txt", "extras/bad name.json", "weights/other.bin"])
def test_unknown_members_are_refused_by_name(saved, name):
    rewrite(saved, add={name: b"{}"})
    message = refusal(saved)
    assert repr(name) in message and "unknown member" in message


@pytest.mark.parametrize("member, data", [(SETTINGS, b'{"learning_rate": 0.02}\n'),
                                          (METRICS, b"kind,epoch,step,loss,accuracy,train_loss,train_accuracy,"
                                                    b"val_loss,val_accuracy\n")])
def test_a_member_edited_and_rezipped_with_a_valid_crc_is_refused(saved, member, data):
    rewrite(saved, replace={member: data}, resign=False)  # zipfile writes a correct CRC for the new bytes
    message = refusal(saved)
    assert member in message and "checksum" in message


def test_version_1_projects_still_open(saved):
    make_version_1(saved)
    loaded = load_project(saved)
    original = sample_project()
    assert loaded.config == original.config and loaded.extras == original.extras
    assert all(torch.equal(loaded.weights[k], v) for k, v in original.weights.items())


def test_a_version_1_project_with_a_renamed_weights_member_is_refused(saved):
    make_version_1(saved)
    rename_member(saved, WEIGHTS, "weights.safetensorz")
    assert "weights.safetensorz" in refusal(saved)


def test_a_manifest_with_a_malformed_members_list_is_refused(saved):
    with zipfile.ZipFile(saved) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    manifest["members"][SETTINGS] = {"size": "12", "sha256": "x"}
    rewrite(saved, replace={MANIFEST: json.dumps(manifest).encode()})
    assert "settings.json" in refusal(saved) and "sha256" in refusal(saved)


def test_no_single_bit_flip_of_the_central_directory_drops_a_member():
    """Every flipped bit either is refused or gives back the very same project (seeded sample of the bits)."""
    original = sample_project()
    data = to_bytes(original)
    start = data.find(b"PK\x01\x02")
    rng = random.Random(16)
    positions = rng.sample(range(start * 8, len(data) * 8), 250)
    silently_changed = []
    for bit in positions:
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        try:
            loaded = from_bytes(bytes(damaged))
        except ProjectError:
            continue
        same = (loaded.weights is not None and loaded.weights.keys() == original.weights.keys()
                and all(torch.equal(loaded.weights[k], v) for k, v in original.weights.items())
                and loaded.extras == original.extras and loaded.history == original.history
                and loaded.config == original.config)
        if not same:
            silently_changed.append(bit)
    assert silently_changed == []
