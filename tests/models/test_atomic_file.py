"""Atomic saves, done fully: a killed save's leftovers go, permissions stay, links are followed."""

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from models.atomic_file import remove_stale_temporaries, remove_stale_temporaries_in, write_atomically

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions, links and signals")


PAYLOAD = 16 * 1024 * 1024  # big enough that the temporary holds real data when the kill comes


def _saving_child(path: Path) -> subprocess.Popen:
    """A real process saving PAYLOAD bytes to `path` that stops after writing its temporary (fsync never returns)."""
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from models import atomic_file
        def hang(fd):
            print("writing", flush=True)
            time.sleep(600)
        atomic_file.os.fsync = hang
        atomic_file.write_atomically({str(path)!r}, b"n" * {PAYLOAD})
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "writing\n"  # the condition: its temporary is written, not yet renamed
    held = [p for p in Path(path).parent.iterdir() if p.name.startswith(f".{Path(path).name}.{child.pid}.")]
    assert [p.stat().st_size for p in held] == [PAYLOAD], held
    return child


def _killed_save(path: Path) -> None:
    """A real process that dies by SIGKILL in the middle of saving `path` (its data written, not yet renamed)."""
    child = _saving_child(path)
    child.kill()  # SIGKILL: no handler, no finally, the temporary stays
    child.wait(timeout=30)
    child.stdout.close()


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_killed_save_keeps_the_old_file_and_the_next_save_removes_its_leftovers(tmp_path):
    target = tmp_path / "net.convscope"
    write_atomically(target, b"old")
    _killed_save(target)
    first = _temporaries(tmp_path)
    assert target.read_bytes() == b"old" and len(first) == 1  # what the kill left (16 MB)
    _killed_save(target)  # a save too: it removed the first one's leftover before leaving its own
    second = _temporaries(tmp_path)
    assert target.read_bytes() == b"old" and len(second) == 1 and second != first

    write_atomically(target, b"newer")
    assert target.read_bytes() == b"newer"
    assert _temporaries(tmp_path) == []


def test_opening_a_project_removes_a_killed_saves_leftovers(tmp_path):
    from engine.project.project_file import ProjectError, load_project

    target = tmp_path / "p.convscope"
    target.write_bytes(b"not a project")
    _killed_save(target)
    assert _temporaries(tmp_path)
    with pytest.raises(ProjectError):
        load_project(target)
    assert _temporaries(tmp_path) == []


def test_only_the_targets_leftovers_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "a.json"
    mine = tmp_path / f".a.json.{os.getpid()}.abc12345.tmp"  # this process: a save in flight on another thread
    other_name = tmp_path / ".b.json.999999999.abc12345.tmp"  # another file's
    user_file = tmp_path / ".a.json.notes.tmp"  # not of our naming
    for p in (mine, other_name, user_file):
        p.write_bytes(b"x")
    assert remove_stale_temporaries(target) == []
    assert _temporaries(tmp_path) == sorted(p.name for p in (mine, other_name, user_file))


def test_the_files_permissions_are_kept(tmp_path):
    target = tmp_path / "secret.json"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomically(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.json", b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_saving_through_a_symbolic_link_updates_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "net.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert _temporaries(tmp_path) == [] and _temporaries(tmp_path / "real") == []


def test_another_hard_link_keeps_the_old_contents(tmp_path):
    target = tmp_path / "net.json"
    target.write_bytes(b"old")
    other = tmp_path / "copy.json"
    os.link(target, other)
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new" and other.read_bytes() == b"old"  # as docs/project-files.md says


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    write_atomically(tmp_path / "x.json", b"x")
    assert synced == [False, True]  # the data, then the directory entry


def test_a_live_writers_temporary_is_kept_until_its_process_is_gone(tmp_path):
    target = tmp_path / "net.safetensors"
    child = _saving_child(target)
    try:
        assert remove_stale_temporaries(target) == [] and remove_stale_temporaries_in(tmp_path) == []
        assert len(_temporaries(tmp_path)) == 1  # a slow save in flight is never cut from under its writer
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert len(remove_stale_temporaries(target)) == 1 and _temporaries(tmp_path) == []  # its writer is gone now


def test_a_folder_sweep_removes_only_our_naming(tmp_path):
    dead = 999_999_999  # above any pid_max: no such process
    ours = [f".step-000005.safetensors.{dead}.k2_9zq0a.tmp", f".weights.safetensors.{dead}.abcdefgh.tmp"]
    theirs = [".weights.safetensors.tmp", f".weights.safetensors.{dead}.ABCDEFGH.tmp",  # not mkstemp's letters
              f".weights.safetensors.{dead}.abc.tmp", f"weights.safetensors.{dead}.abcdefgh.tmp",  # no dot first
              f".notes.{dead}.abcdefgh.tmp.bak", "notes.tmp"]
    for name in ours + theirs:
        (tmp_path / name).write_bytes(b"x")
    os.symlink(tmp_path / "notes.tmp", tmp_path / f".link.{dead}.abcdefgh.tmp")  # a link: not a file we wrote
    assert sorted(p.name for p in remove_stale_temporaries_in(tmp_path)) == sorted(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(theirs + [f".link.{dead}.abcdefgh.tmp"])


def test_a_run_folder_written_again_removes_killed_saves_of_snapshots_and_weights(tmp_path):
    from engine.run_folder.run_output import prepare_output_dir

    (tmp_path / "snapshots").mkdir()
    _killed_save(tmp_path / "snapshots" / "step-000005.safetensors")  # a step never written again
    _killed_save(tmp_path / "weights.safetensors")
    assert _temporaries(tmp_path) and _temporaries(tmp_path / "snapshots")
    prepare_output_dir(tmp_path)  # train --out, an experiment's run, RunWriter: before anything is written
    assert _temporaries(tmp_path) == [] and _temporaries(tmp_path / "snapshots") == []


def test_a_live_run_folder_started_again_removes_killed_saves(tmp_path):
    from engine.config import TrainConfig
    from engine.run_folder.writer import RunFolderWriter
    from engine.training.trainer import Trainer
    from tests.engine.training_data import tiny_arch, tiny_dataset

    (tmp_path / "snapshots").mkdir()
    _killed_save(tmp_path / "snapshots" / "step-000040.safetensors")
    config = TrainConfig(epochs=1, batch_size=16, device="cpu", threads=1)
    trainer = Trainer(tiny_arch(), tiny_dataset(), config)
    writer = RunFolderWriter(tmp_path, trainer.model, tiny_arch(), config)
    writer.start()
    writer.close()
    assert _temporaries(tmp_path) == [] and _temporaries(tmp_path / "snapshots") == []


def test_saving_through_a_chain_of_relative_links_keeps_both_links(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "net.json"
    real.write_bytes(b"old")
    real.chmod(0o640)
    (tmp_path / "middle.json").symlink_to(Path("real") / "net.json")
    (tmp_path / "link.json").symlink_to("middle.json")
    write_atomically(tmp_path / "link.json", b"new")
    assert os.readlink(tmp_path / "link.json") == "middle.json"
    assert os.readlink(tmp_path / "middle.json") == os.path.join("real", "net.json")
    assert real.read_bytes() == b"new" and stat.S_IMODE(real.stat().st_mode) == 0o640
