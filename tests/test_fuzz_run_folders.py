"""Seeded fuzzer over the surfaces added after tests/test_fuzz.py: run folders, control.json, lessons, experiments.

Each case damages one thing (the event log's bytes, its lines, its fields; the snapshot files and the names
that point at them; control.json; a lesson; an experiment spec; an experiment folder) and reads it through the
readers the CLI and the window use. Only the documented errors may come out (as one short printable line),
and every reader call runs on a thread of its own under a generous hang guard (HANG_S): a reader still
blocked then (a FIFO opened for reading waits for a writer forever) is a hang, reported with its case.

A few hundred cases per surface by default; CONVSCOPE_FUZZ_CASES=N runs N per surface. The seed is fixed
(CONVSCOPE_FUZZ_SEED picks another sequence), so a failure's surface and case number reproduce it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import stat
import threading
import time
import tracemalloc
import traceback
from pathlib import Path

import pytest
import torch
from torch import nn

from engine.experiments.results_reader import read_experiment
from engine.experiments.runner import CSV_COLUMNS
from engine.metrics import MetricsHistory
from engine.project.project_file import ProjectError
from engine.project.sources import open_project_or_run
from engine.run_folder import (COMMANDS, ControlFileWatcher, EventTail, RunFolderError, RunLog, RunWriter,
                               newest_snapshot, read_run_log, recorded_snapshot, recover_unfinished, write_command)
from engine.run_folder.records import batch_event, epoch_event, finished_event
from engine.run_folder.timeline import load_timeline_weights, timeline
from engine.training.control import TrainingControl
from engine.cli.convolve_command import as_json, as_text
from engine.network.weights import state_dict_to_safetensors
from models import architecture_file
from models import experiment as experiment_spec
from models.experiment import ExperimentError
from models.lesson import LessonError
from models.lesson_library import open_lesson
from models.presets import load_preset
from tests.engine.training_data import train_tiny_run
from tests.test_fuzz import _deep, mutate_bytes

CASES = int(os.environ.get("CONVSCOPE_FUZZ_CASES", "0")) or None
SEED = int(os.environ.get("CONVSCOPE_FUZZ_SEED", "16"))
HANG_S = 60.0          # per reader call: only a hang (the bug) ever waits this long
POLL_BYTES = 256 * 1024  # as the window's follower reads (gui/training/training_session.py)
ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "resources" / "lessons").glob("*.json"))
SPEC = ROOT / "resources" / "experiments" / "pooling-comparison.json"

# Field values that broke readers before, plus what a log, a lesson or a spec may hold: NaN and infinities
# (json.dumps writes them), integers of hundreds of digits, control characters and terminal escapes, NULs,
# long strings, paths leading out, names too long for the file system, lone surrogates, deep nesting.
FIELD_HOSTILE = [None, True, False, -1, 0, 1, 2**31, 2**63, 10**30, 10**400, -(10**400), 1e308, -0.0,
                 float("nan"), float("inf"), float("-inf"), "", "x", "1", "\x00", "\x1b]0;PWNED\x07\x1b[2J",
                 "\ud800", "x" * 5000, "y" * 100_000, "../../../../etc/passwd", "/etc/passwd",
                 "snapshots/../weights.safetensors", "snapshots/" + "a" * 300 + ".safetensors",
                 "snapshots/step-000000.safetensors", "snapshots/a/b.safetensors", "snapshots\\x.safetensors",
                 [], [1, 2, 3], [[1, 2], [3]], {}, {"kind": "batch"}, {"a": {"b": {"c": [1]}}}]
KEYS = ["kind", "step", "epoch", "file", "format", "version", "gradient_norms", "recorded", "probe_index",
        "reason", "message", "epochs_completed", "loss", "accuracy", "val_accuracy", "dtype", "architecture",
        "\x1b]0;t\x07", "y" * 300]


def cases(default: int) -> int:
    return CASES or default


# -- the hang guard and the classification ---------------------------------------------------------------------

class Fuzz:
    """Runs reader calls of one surface under the hang guard; collects undocumented exceptions and hangs."""

    def __init__(self, surface: str) -> None:
        self.surface, self.failures, self.hangs, self.case, self.what = surface, [], [], 0, ""
        self.calls = self.returned = self.refused = 0  # reader calls; of them, returned a value; documented error
        self.hang_s = HANG_S
        self.started = time.perf_counter()

    def where(self, reader: str) -> str:
        return f"{self.surface} case {self.case} (CONVSCOPE_FUZZ_SEED={SEED}; {self.what}): {reader}"

    def call(self, reader: str, documented: tuple[type[BaseException], ...], fn, *args, folder: Path | None = None):
        """fn(*args) on a thread; its result, or None when it raised (a documented error is only checked)."""
        box: dict = {}

        def target() -> None:
            try:
                box["value"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - classified below, on the test's thread
                box["error"] = exc

        self.calls += 1
        thread = threading.Thread(target=target, name=f"fuzz-{self.surface}-{self.case}", daemon=True)
        thread.start()
        thread.join(self.hang_s)  # the only wall-clock wait: a hang guard, met only by a hang
        if thread.is_alive():
            self.hangs.append(f"{self.where(reader)}: still running after {self.hang_s:g} s")
            if folder is not None:
                release_fifos(folder)
            return None
        exc = box.get("error")
        if exc is None:
            self.returned += 1
            return box.get("value")
        if isinstance(exc, documented):
            self.refused += 1
            message = str(exc)
            if len(message) >= 600 or "\x1b" in message or "\n" in message:
                self.failures.append(f"{self.where(reader)}: {type(exc).__name__} message is not one short "
                                     f"printable line: {message[:200]!r}")
            return None
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {frame.filename}:{frame.lineno}" if frame else ""
        self.failures.append(f"{self.where(reader)}: {type(exc).__name__}: {str(exc)[:200]!r}{at}")
        return None

    def report(self, n: int) -> None:
        seconds = time.perf_counter() - self.started
        print(f"\nfuzz {self.surface}: {n} cases, {self.calls} reader calls ({self.returned} returned, {self.refused} "
              f"documented errors), {len(self.failures)} undocumented, {len(self.hangs)} hangs, {seconds:.1f} s")
        problems = self.failures + self.hangs
        assert problems == [], f"{len(problems)} problem(s) in {n} {self.surface} cases:\n" + "\n".join(problems[:30])


def release_fifos(folder: Path) -> None:
    """Open every FIFO under `folder` for writing (O_RDWR never blocks on Linux), so a hung reader gets EOF."""
    for path in folder.rglob("*"):
        try:
            if stat.S_ISFIFO(os.lstat(path).st_mode):
                os.close(os.open(path, os.O_RDWR | os.O_NONBLOCK))
        except OSError:
            pass


def dumps(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError):
        return "[" * 2000 + "]" * 2000


def mutate(rng: random.Random, value, pool=FIELD_HOSTILE, keys=KEYS):
    """A copy of a JSON value with one leaf or container replaced by a hostile value (or a key dropped/added)."""
    if isinstance(value, dict) and value and rng.random() < 0.75:
        out = dict(value)
        key = rng.choice(list(value))
        roll = rng.random()
        if roll < 0.1:
            del out[key]
        elif roll < 0.25:
            out[rng.choice(keys)] = rng.choice(pool)
        else:
            out[key] = mutate(rng, value[key], pool, keys)
        return out
    if isinstance(value, list) and value and rng.random() < 0.7:
        out = list(value)
        i = rng.randrange(len(out))
        out[i] = mutate(rng, out[i], pool, keys)
        if rng.random() < 0.1:
            out.insert(i, rng.choice(pool))
        return out
    if rng.random() < 0.05:
        return _deep(rng)
    return rng.choice(pool)


def special_file(rng: random.Random, path: Path, outside: Path, huge: int = 1 << 30) -> str:
    """Replace `path` by something that is not a regular file in the folder (or by a sparse file of `huge`
    bytes); returns what it is."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    kind = rng.choice(["fifo", "dir", "link-outside", "link-dev-zero", "link-dangling", "link-loop", "sparse-huge"])
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "link-outside":
        path.symlink_to(outside)
    elif kind == "link-dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "link-dangling":
        path.symlink_to(path.parent / "nowhere")
    elif kind == "link-loop":
        path.symlink_to(path.name)
    else:
        with open(path, "wb") as f:
            f.truncate(huge)  # sparse zeros: cost no disk, must not be read whole
    return kind if kind != "sparse-huge" else f"sparse {huge:,} bytes"


# -- the run folders the damage starts from -------------------------------------------------------------------

class _Residual(nn.Module):
    """A model ConvScope cannot rebuild: RunWriter records its snapshots (activations, filters, probe output)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.relu, self.fc = nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Linear(2 * 6 * 6, 3)

    def forward(self, x):
        return self.fc((self.relu(self.conv(x)) + x).flatten(1))


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    return make_bases(tmp_path_factory.mktemp("fuzz-bases"))


def make_bases(root: Path) -> dict[str, Path]:
    """A run folder from the real CLI (rebuilt snapshots, a compressed line) and one from RunWriter (recorded),
    under `root` (tests/gui/test_fuzz_window.py damages them too)."""
    cli_run = train_tiny_run(root)[2]
    torch.manual_seed(0)
    recorded = root / "recorded"
    with RunWriter(_Residual(), recorded, probe=torch.randn(4, 1, 6, 6), settings={"seed": 0}) as run:
        for step in range(1, 5):
            run.log_batch(step, 1.0 / step, 0.5, batch_size=4)
            if step % 2 == 0:
                run.log_epoch(step // 2, 1.0, 1.0, 0.5)
                run.snapshot(step)
    (root / "outside.safetensors").write_bytes(state_dict_to_safetensors({"w": torch.zeros(3)}))
    return {"cli": cli_run, "recorded": recorded, "outside": root / "outside.safetensors"}


def fresh_run(rng: random.Random, bases: dict[str, Path], root: Path, case: int) -> tuple[Path, list[bytes]]:
    """A copy of one base folder (half the time without final weights, so Open recovers from the log)."""
    folder = root / f"case{case}"
    shutil.copytree(bases[rng.choice(["cli", "recorded"])], folder, symlinks=True)
    if rng.random() < 0.5:
        (folder / "weights.safetensors").unlink(missing_ok=True)
    return folder, (folder / "events.jsonl").read_bytes().split(b"\n")[:-1]


def read_run_folder(fuzz: Fuzz, folder: Path) -> None:
    """Every reader of a run folder, as the CLI (evaluate, export, health, train --resume) and the window
    (Open, Attach and its follower, the Timeline tab, the inspection thread) use them."""
    log = fuzz.call("read_run_log", (RunFolderError,), read_run_log, folder, folder=folder)
    followed = fuzz.call("EventTail.poll (the window's follower)", (RunFolderError,), follow, folder, folder=folder)
    fuzz.call("newest_snapshot", (RunFolderError,), newest_snapshot, folder, folder=folder)
    fuzz.call("recover_unfinished", (RunFolderError,), recover_unfinished, folder, folder=folder)
    entries = fuzz.call("timeline", (RunFolderError,), timeline, folder, folder=folder) or []
    for entry in entries[-3:]:
        fuzz.call("load_timeline_weights", (RunFolderError,), load_timeline_weights, folder, entry, folder=folder)
    for source in (log, followed):
        for snapshot in (source.snapshots[-2:] if source is not None else []):
            if snapshot.recorded is not None:
                fuzz.call("recorded_snapshot", (RunFolderError,), recorded_snapshot, folder, snapshot,
                          snapshot.probe_index, folder=folder)
    fuzz.call("open_project_or_run", (ProjectError,), open_project_or_run, folder, folder=folder)


def follow(folder: Path) -> RunLog:
    """What the window's follower does with a folder: poll in POLL_BYTES steps, add to a RunLog, turn each
    batch, epoch and finished line into its event (a RunFolderError per bad line is logged there), history."""
    tail, log = EventTail(folder / "events.jsonl"), RunLog()
    size = os.lstat(folder / "events.jsonl").st_size if os.path.lexists(folder / "events.jsonl") else 0
    for _ in range(size // POLL_BYTES + 3):
        records = tail.poll(POLL_BYTES)
        log.add(records)
        for record in records:
            try:
                if record["kind"] == "batch":
                    batch_event(record)
                elif record["kind"] == "epoch":
                    epoch_event(record)
            except RunFolderError:
                pass
    if log.finished is not None:
        try:
            finished_event(log.finished)
        except RunFolderError:
            pass
    try:
        log.history()
    except RunFolderError:
        pass
    return log


def write_log(folder: Path, lines: list[bytes], final_newline: bool = True) -> None:
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + (b"\n" if final_newline and lines else b""))


# -- run folders: the log's bytes, its lines, its fields ------------------------------------------------------

def damage_log_bytes(rng: random.Random, folder: Path, lines: list[bytes], outside: Path) -> str:
    roll = rng.random()
    data = b"\n".join(lines) + b"\n"
    if roll < 0.55:
        for _ in range(rng.choice((1, 2, 4))):
            data = mutate_bytes(rng, data)
        (folder / "events.jsonl").write_bytes(data)
        return "mutated bytes"
    if roll < 0.7:
        (folder / "events.jsonl").write_bytes(rng.randbytes(rng.randrange(4096)))
        return "random bytes"
    if roll < 0.9:
        extra = [rng.randbytes(rng.randrange(200)).replace(b"\n", b"") for _ in range(rng.randrange(1, 6))]
        cut = rng.randrange(1, len(lines) + 1)
        write_log(folder, lines[:cut] + extra + lines[cut:])
        return "random byte lines"
    # Sparse: just over the longest line the reader takes (MAX_LINE, 16 MiB); bigger ones cost only time (the
    # reader goes through it in chunks: see the memory test).
    return "events.jsonl is " + special_file(rng, folder / "events.jsonl", outside, huge=17 << 20)


def damage_log_lines(rng: random.Random, folder: Path, lines: list[bytes], outside: Path) -> str:
    lines, done, final_newline = list(lines), [], True
    for _ in range(rng.choice((1, 1, 2, 3))):
        op = rng.choice(["drop-first", "drop", "duplicate", "swap", "truncate-last", "truncate-any", "blank",
                         "crlf", "garbage", "restart", "no-newline", "reverse", "long"])
        done.append(op)
        i = rng.randrange(len(lines)) if lines else 0
        if not lines:
            break
        if op == "drop-first":
            lines.pop(0)
        elif op == "drop":
            lines.pop(i)
        elif op == "duplicate":
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == "swap":
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate-last":
            lines[-1] = lines[-1][:rng.randrange(len(lines[-1]) + 1)]
            final_newline = rng.random() < 0.5
        elif op == "truncate-any":
            lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
        elif op == "blank":
            lines.insert(i, rng.choice([b"", b" ", b"\r", b"\t"]))
        elif op == "crlf":
            lines = [line + b"\r" for line in lines]
        elif op == "garbage":
            lines.insert(i, rng.choice([b"{", b"[]", b"null", b'{"kind": 1}', b'"started"', b"\xff\xfe",
                                        b"[" * 10_000, b'{"kind":"batch"' + b',"x":1' * 1000 + b"}", b"NaN"]))
        elif op == "restart":  # a second run's started line in the middle
            lines.insert(i, lines[0])
        elif op == "no-newline":
            final_newline = False
        elif op == "reverse":
            lines.reverse()
        else:
            lines.insert(i, b'{"kind":"note","text":"' + b"z" * rng.choice((70_000, 1_000_000)) + b'"}')
    write_log(folder, lines, final_newline)
    return "lines " + "+".join(done)


def damage_log_fields(rng: random.Random, folder: Path, lines: list[bytes], outside: Path) -> str:
    lines, changed = list(lines), []
    # The lines readers look into most: started, snapshots, finished; and any other.
    weighted = [i for i, line in enumerate(lines) for _ in range(3 if b'"snapshot"' in line or b'"started"' in line
                                                                  or b'"finished"' in line else 1)]
    for _ in range(rng.choice((1, 1, 2, 3))):
        i = rng.choice(weighted)
        try:
            record = json.loads(lines[i])
        except ValueError:
            continue
        if isinstance(record, dict) and rng.random() < 0.5:  # a targeted field
            key = rng.choice([k for k in KEYS[:12] if k in record] or KEYS[:4])
            record = {**record, key: rng.choice(FIELD_HOSTILE) if rng.random() < 0.9 else _deep(rng)}
        else:
            record = mutate(rng, record)
        lines[i] = dumps(record).encode("utf-8", "surrogatepass")
        changed.append(str(i))
    write_log(folder, lines)
    return "fields of lines " + ",".join(changed)


def fuzz_run_folders(surface: str, damage, rng_offset: int, default: int, bases, tmp_path) -> None:
    rng = random.Random(SEED * 1000 + rng_offset)
    fuzz, n = Fuzz(surface), cases(default)
    for case in range(n):
        fuzz.case = case
        folder, lines = fresh_run(rng, bases, tmp_path, case)
        fuzz.what = damage(rng, folder, lines, bases["outside"])
        read_run_folder(fuzz, folder)
        shutil.rmtree(folder, ignore_errors=True)
    fuzz.report(n)


def test_run_folder_logs_damaged_in_their_bytes(bases, tmp_path):
    fuzz_run_folders("log bytes", damage_log_bytes, 1, 250, bases, tmp_path)


def test_run_folder_logs_damaged_in_their_lines(bases, tmp_path):
    fuzz_run_folders("log lines", damage_log_lines, 2, 250, bases, tmp_path)


def test_run_folder_logs_with_hostile_fields(bases, tmp_path):
    fuzz_run_folders("log fields", damage_log_fields, 3, 250, bases, tmp_path)


# -- run folders: snapshot files and the names that point at them ---------------------------------------------

def damage_snapshots(rng: random.Random, folder: Path, lines: list[bytes], outside: Path) -> str:
    snapshots = sorted((folder / "snapshots").iterdir())
    target = rng.choice(snapshots[-2:] + snapshots)  # mostly the newest ones, which every reader opens
    roll = rng.random()
    if roll < 0.25:
        data = target.read_bytes()
        target.write_bytes(data[:rng.randrange(len(data) + 1)])
        return f"{target.name} truncated"
    if roll < 0.4:
        target.write_bytes(mutate_bytes(rng, target.read_bytes()))
        return f"{target.name} mutated bytes"
    if roll < 0.55:  # a header that parses as JSON but lies: dtypes, shapes, offsets, sizes
        data = target.read_bytes()
        size = int.from_bytes(data[:8], "little")
        header = mutate(rng, json.loads(data[8:8 + size]), FIELD_HOSTILE + ["F16", "I64", [2**40, 2**40],
                                                                            [0, 2**62]])
        text = dumps(header).encode("utf-8", "surrogatepass")
        target.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + size:])
        return f"{target.name} header fields"
    if roll < 0.65:
        target.write_bytes(rng.choice([b"", rng.randbytes(rng.randrange(64)), (2**63).to_bytes(8, "little"),
                                       (100).to_bytes(8, "little") + b"{" * 100]))
        return f"{target.name} garbage"
    if roll < 0.85:
        return f"{target.name} is " + special_file(rng, target, outside, huge=32 << 20)  # read whole, see below
    if roll < 0.9:
        shutil.rmtree(folder / "snapshots")
        (folder / "snapshots").symlink_to(outside.parent / rng.choice(["recorded/snapshots", "run/snapshots"]))
        return "snapshots/ is a link to another run's"
    # the log's names: outside the folder, absolute, too long, a link's name, a device
    name = rng.choice(["../outside.safetensors", "/dev/zero", str(outside), "snapshots/../../outside.safetensors",
                       "snapshots/" + "n" * 300 + ".safetensors", "snapshots/" + "é" * 200 + ".safetensors",
                       "snapshots/.", "snapshots/", "snapshots/x.safetensors\x00", "snapshots/\x1b[2J.safetensors",
                       "snapshots/link.safetensors", "snapshots/fifo.safetensors"])
    os.symlink(outside, folder / "snapshots" / "link.safetensors")
    os.mkfifo(folder / "snapshots" / "fifo.safetensors")
    out = []
    for line in lines:
        record = json.loads(line)
        if record.get("kind") == "snapshot" and rng.random() < 0.7:
            record["file"] = name
        out.append(dumps(record).encode("utf-8", "surrogatepass"))
    write_log(folder, out)
    return f"snapshot lines name {name[:40]!r}"


def test_run_folder_snapshots_damaged_linked_and_special(bases, tmp_path):
    fuzz_run_folders("snapshots", damage_snapshots, 4, 250, bases, tmp_path)


# -- control.json ---------------------------------------------------------------------------------------------

def read_control(fuzz: Fuzz, folder: Path, before: ControlFileWatcher, rng: random.Random) -> None:
    """The training process's watcher (made before and after the damage) and the window's Pause button."""
    fuzz.call("ControlFileWatcher.check (made before)", (), before.check, folder=folder)
    after = fuzz.call("ControlFileWatcher()", (), ControlFileWatcher, folder, TrainingControl(), folder=folder)
    if after is not None:
        fuzz.call("ControlFileWatcher.check (made after)", (), after.check, folder=folder)
    # write_command: RunFolderError where control.json is not a regular file; the window also catches OSError
    fuzz.call("write_command", (RunFolderError, OSError), write_command, folder, rng.choice(COMMANDS), folder=folder)


def test_control_files_damaged_huge_linked_and_special(tmp_path):
    rng = random.Random(SEED * 1000 + 5)
    fuzz, n = Fuzz("control.json"), cases(250)
    outside = tmp_path / "outside.json"
    outside.write_text('{"command": "stop", "seq": 99}')
    valid = {"command": "pause", "seq": 3}
    for case in range(n):
        fuzz.case = case
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        path = folder / "control.json"
        path.write_text(json.dumps({"command": "resume", "seq": 1}))
        before = ControlFileWatcher(folder, TrainingControl())
        roll = rng.random()
        if roll < 0.3:
            path.write_bytes(mutate_bytes(rng, json.dumps(valid).encode()))
            fuzz.what = "mutated bytes"
        elif roll < 0.6:
            path.write_text(dumps(mutate(rng, valid)), encoding="utf-8", errors="surrogatepass")
            fuzz.what = "hostile fields"
        elif roll < 0.7:
            path.write_bytes(rng.randbytes(rng.randrange(8192)))
            fuzz.what = "random bytes"
        elif roll < 0.75:
            path.write_text(json.dumps({"command": "stop", "seq": 5, "pad": "p" * rng.choice((4096, 5_000_000))}))
            fuzz.what = "huge"
        else:
            fuzz.what = "control.json is " + special_file(rng, path, outside)
        read_control(fuzz, folder, before, rng)
        shutil.rmtree(folder, ignore_errors=True)
    fuzz.report(n)


# -- lessons --------------------------------------------------------------------------------------------------

def work_lesson(path: Path) -> None:
    """`convolve LESSON` and `convolve LESSON --json`: load, then every step, as JSON that must be valid."""
    lesson = open_lesson(path)
    json.dumps(as_json(lesson), allow_nan=False)
    for _ in as_text(lesson):
        pass


def test_lessons_raise_only_lesson_errors(tmp_path):
    rng = random.Random(SEED * 1000 + 6)
    fuzz, n = Fuzz("lessons"), cases(400)
    sources = [(p.name, p.read_text(encoding="utf-8")) for p in LESSONS]
    outside = tmp_path / "outside.json"
    outside.write_text(sources[0][1], encoding="utf-8")
    pool = FIELD_HOSTILE + ["conv", "maxpool", "avgpool", "same", "valid", [3, 3], [[1e308, 1e308]], [[-1e308]],
                            [[[1, 2], [3, 4]]], 64, 65, 10**6]
    keys = ["format", "version", "title", "notes", "operation", "input", "kernels", "kernel_size", "stride",
            "padding", "\x1b[2J"]
    for case in range(n):
        fuzz.case = case
        name, text = rng.choice(sources)
        path = tmp_path / f"lesson{case}.json"
        roll = rng.random()
        if roll < 0.45:
            path.write_text(dumps(mutate(rng, json.loads(text), pool, keys)), encoding="utf-8",
                            errors="surrogatepass")
            fuzz.what = f"{name} hostile fields"
        elif roll < 0.9:
            path.write_bytes(mutate_bytes(rng, text.encode("utf-8")))
            fuzz.what = f"{name} mutated bytes"
        else:
            path.write_text(text, encoding="utf-8")
            fuzz.what = "the lesson is " + special_file(rng, path, outside)
        fuzz.call("convolve (open_lesson, as_json, as_text)", (LessonError,), work_lesson, path, folder=tmp_path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    fuzz.report(n)


# -- experiment specs ------------------------------------------------------------------------------------------

def test_experiment_specs_raise_only_experiment_errors(tmp_path):
    rng = random.Random(SEED * 1000 + 7)
    fuzz, n = Fuzz("experiment specs"), cases(300)
    spec = {**json.loads(SPEC.read_text(encoding="utf-8")), "base": "base.json"}
    base_text = json.dumps(architecture_file.to_dict(load_preset("lenet5")))
    inline = architecture_file.to_dict(load_preset("tiny_vgg"))
    (tmp_path / "outside.json").write_text(base_text)
    paths = ["base.json", "../outside.json", "link.json", "fifo.json", "dir.json", "/dev/zero", "/etc/passwd",
             "base.json\x00x", "b" * 300 + ".json", "./sub/../base.json", "", ".", "..", "\x1b[2J.json",
             "../../../../etc/shadow", "zero.json"]
    pool = FIELD_HOSTILE + paths + ["pooling", "batchnorm", "dropout", "max", "avg", "none", inline]
    keys = ["format", "version", "name", "base", "vary", "seeds", "training", "what", "values", "\x1b[2J"]
    for case in range(n):
        fuzz.case = case
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        (folder / "base.json").write_text(base_text)
        (folder / "link.json").symlink_to(tmp_path / "outside.json")
        (folder / "zero.json").symlink_to("/dev/zero")
        (folder / "dir.json").mkdir()
        os.mkfifo(folder / "fifo.json")
        path = folder / "spec.json"
        roll = rng.random()
        if roll < 0.45:
            path.write_text(dumps(mutate(rng, spec, pool, keys)), encoding="utf-8", errors="surrogatepass")
            fuzz.what = "hostile fields"
        elif roll < 0.6:
            path.write_text(dumps({**spec, "base": mutate(rng, inline, pool)}), encoding="utf-8",
                            errors="surrogatepass")
            fuzz.what = "an inline base with hostile fields"
        elif roll < 0.7:
            path.write_text(json.dumps({**spec, "base": rng.choice(paths)}))
            (folder / "base.json").write_bytes(mutate_bytes(rng, base_text.encode()))
            fuzz.what = "a damaged base file"
        elif roll < 0.92:
            path.write_bytes(mutate_bytes(rng, json.dumps(spec).encode()))
            fuzz.what = "mutated bytes"
        else:
            path.write_text(json.dumps(spec))
            fuzz.what = "the spec is " + special_file(rng, path, tmp_path / "outside.json")
        fuzz.call("experiment load", (ExperimentError,), experiment_spec.load, path, folder=folder)
        shutil.rmtree(folder, ignore_errors=True)
    fuzz.report(n)


# -- experiment folders (Experiments > Open) -------------------------------------------------------------------

ROW = {"variant": "pooling max", "seed": "0", "params": "100", "macs": "1000", "best_val_accuracy": "0.5",
       "final_val_accuracy": "0.5", "best_epoch": "1", "seconds": "1.5", "samples_per_second": "100.0"}


def experiment_folder(folder: Path) -> None:
    from engine.events import BatchEnded, EpochEnded
    folder.mkdir()
    (folder / "experiment.json").write_text(json.dumps({**json.loads(SPEC.read_text(encoding="utf-8")),
                                                        "name": "pooling"}))
    history = MetricsHistory()
    history.record_batch(BatchEnded(epoch=1, step=1, batch=1, batches_per_epoch=1, loss=1.0, accuracy=0.5,
                                      samples_per_second=100.0))
    history.record_epoch(EpochEnded(epoch=1, step=1, train_loss=1.0, train_accuracy=0.5, val_loss=1.0,
                                    val_accuracy=0.5))
    rows = []
    for n, variant in enumerate(["none", "max"], start=1):
        name = f"{n:02d}-pooling-{variant}-seed0"
        (folder / name).mkdir()
        (folder / name / "metrics.csv").write_text(history.to_csv())
        rows.append({**ROW, "variant": f"pooling {variant}", "folder": name})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (folder / "results.csv").write_text(buffer.getvalue())


def damage_experiment_folder(rng: random.Random, folder: Path, outside: Path) -> str:
    member = rng.choice(["experiment.json", "results.csv", "results.csv", "metrics.csv", "run folder"])
    path = (folder / "01-pooling-none-seed0" / "metrics.csv" if member == "metrics.csv"
            else folder / "01-pooling-none-seed0" if member == "run folder" else folder / member)
    roll = rng.random()
    if member == "run folder":
        shutil.rmtree(path)
        path.symlink_to(outside.parent)
        return "a run folder is a link"
    if roll < 0.4:
        path.write_bytes(mutate_bytes(rng, path.read_bytes()))
        return f"{member} mutated bytes"
    if roll < 0.65 and member == "experiment.json":
        path.write_text(dumps(mutate(rng, json.loads(path.read_text()))), encoding="utf-8", errors="surrogatepass")
        return f"{member} hostile fields"
    if roll < 0.65 and member == "results.csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
        row = rng.choice(rows)
        key = rng.choice(CSV_COLUMNS)
        row[key] = rng.choice(["", "nan", "inf", "-1", "1e400", "9" * 500, "../..", "/etc", ".", "..",
                               "01-pooling-none-seed0/../..", "x\x00y", "\x1b]0;PWNED\x07", "q" * 200_000,
                               "a\nb", '"', "\ud800", "2**63", "0x10", "1_000"])
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows * rng.choice((1, 1, 1, 400)))
        path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")
        return f"results.csv {key} hostile"
    if roll < 0.8:
        path.write_bytes(rng.randbytes(rng.randrange(4096)))
        return f"{member} random bytes"
    return f"{member} is " + special_file(rng, path, outside)


def test_experiment_folders_raise_only_experiment_errors(tmp_path):
    rng = random.Random(SEED * 1000 + 8)
    fuzz, n = Fuzz("experiment folders"), cases(300)
    outside = tmp_path / "outside" / "metrics.csv"
    outside.parent.mkdir()
    outside.write_text("step,loss\n1,1.0\n")
    for case in range(n):
        fuzz.case = case
        folder = tmp_path / f"case{case}"
        experiment_folder(folder)
        fuzz.what = damage_experiment_folder(rng, folder, outside)
        fuzz.call("read_experiment", (ExperimentError,), read_experiment, folder, folder=folder)
        shutil.rmtree(folder, ignore_errors=True)
    fuzz.report(n)


def test_the_hang_guard_reports_a_reader_blocked_on_a_fifo_and_releases_it(tmp_path):
    """The guard itself: a plain open() of a FIFO blocks until a writer comes; it is reported, then released."""
    os.mkfifo(tmp_path / "fifo")
    fuzz = Fuzz("guard")
    fuzz.hang_s = 0.5
    fuzz.call("open", (), lambda: open(tmp_path / "fifo", "rb").close(), folder=tmp_path)
    assert len(fuzz.hangs) == 1 and "guard case 0" in fuzz.hangs[0], fuzz.hangs


# -- bounded memory for the biggest inputs ---------------------------------------------------------------------

LOG_MB = 50


def peak_mib(fn, *args) -> float:
    """tracemalloc's peak, in MiB, while fn(*args) runs (its documented error is allowed)."""
    tracemalloc.start()
    try:
        try:
            fn(*args)
        except (RunFolderError, ExperimentError, LessonError, ProjectError):
            pass
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_the_biggest_inputs_take_bounded_memory(tmp_path):
    """Peak Python memory while the readers take a 50 MB log (one unterminated line; lines of 64 kB) and
    gigabyte sparse control, lesson, spec and experiment files. Each bound names the case it fails for."""
    started = json.dumps({"kind": "started", "format": "convscope.run", "version": 1, "architecture": None,
                          "settings": {}}).encode() + b"\n"
    size = LOG_MB * 1_000_000
    one_line = tmp_path / "one-line"
    one_line.mkdir()
    with open(one_line / "events.jsonl", "wb") as f:
        f.write(started + b'{"kind":"note","text":"' + b"x" * size)
    long_lines = tmp_path / "long-lines"
    long_lines.mkdir()
    line = b'{"kind":"note","text":"' + b"y" * 65_000 + b'"}\n'
    (long_lines / "events.jsonl").write_bytes(started + line * (size // len(line)))
    sparse = tmp_path / "sparse"
    sparse.mkdir()
    for name in ("control.json", "lesson.json", "spec.json", "experiment.json", "results.csv"):
        with open(sparse / name, "wb") as f:
            f.truncate(1 << 30)
    measured = {
        f"read_run_log, a {LOG_MB} MB log of one unterminated line": (peak_mib(read_run_log, one_line), 3 * LOG_MB),
        f"read_run_log, a {LOG_MB} MB log of 64 kB lines": (peak_mib(read_run_log, long_lines), 4 * LOG_MB),
        f"the window's follower, a {LOG_MB} MB log of 64 kB lines": (peak_mib(follow, long_lines), 4 * LOG_MB),
        "ControlFileWatcher, a 1 GiB sparse control.json": (
            peak_mib(lambda: ControlFileWatcher(sparse, TrainingControl()).check()), 16),
        "open_lesson, a 1 GiB sparse lesson": (peak_mib(open_lesson, sparse / "lesson.json"), 16),
        "experiment load, a 1 GiB sparse spec": (peak_mib(experiment_spec.load, sparse / "spec.json"), 40),
        "read_experiment, 1 GiB sparse experiment.json and results.csv": (peak_mib(read_experiment, sparse), 40),
    }
    print("\n" + "\n".join(f"peak {mib:7.1f} MiB (bound {bound} MiB): {case}" for case, (mib, bound) in measured.items()))
    over = [f"{case}: peak {mib:.1f} MiB, over {bound} MiB" for case, (mib, bound) in measured.items() if mib > bound]
    assert over == [], "\n".join(over)


def test_a_huge_log_is_not_read_whole(tmp_path):
    with open(tmp_path / "events.jsonl", "wb") as f:
        f.truncate(256 << 20)
    mib = peak_mib(read_run_log, tmp_path)
    assert mib < 64, f"read_run_log, a 256 MiB sparse events.jsonl: peak {mib:.1f} MiB"


def test_a_snapshot_read_takes_memory_in_proportion_to_its_file(tmp_path):
    """It once read with f.read(MAX_SNAPSHOT_BYTES + 1): a 4 GiB buffer for any snapshot (models.regular_file.
    read_at_most reads what the file holds). The architecture's lower cap: tests/engine/test_snapshot_cap.py."""
    from engine.run_folder import snapshot_tensors
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "step-000001.safetensors").write_bytes(
        state_dict_to_safetensors({"w": torch.zeros(1000)}))
    mib = peak_mib(snapshot_tensors, tmp_path, "snapshots/step-000001.safetensors")
    assert mib < 16, f"snapshot_tensors, a 4 kB snapshot: peak {mib:.1f} MiB"
