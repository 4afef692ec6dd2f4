"""What a long run's log costs to hold (issue 27 item 4): a 200 MB log of batch lines took about 1.1 GB of Python
objects as dicts; RunLog keeps batch lines in slots (records.BatchLine). Measured with tracemalloc on a small log,
per line, through both paths: read_run_log and the window's follower (EventTail polled into a RunLog)."""

from __future__ import annotations

import json
import tracemalloc

from engine.run_folder import EVENTS, FORMAT, VERSION, EventTail, RunLog, read_run_log

LINES = 20_000
BYTES_PER_LINE = 400  # retained; dicts took about 1,000


def write_log(folder) -> None:
    with open(folder / EVENTS, "w") as f:
        f.write(json.dumps({"kind": "started", "format": FORMAT, "version": VERSION}) + "\n")
        for step in range(1, LINES + 1):  # as RunFolderWriter writes them: floats that are not small ints
            f.write(json.dumps({"kind": "batch", "epoch": step // 1000 + 1, "step": step, "batch": step % 1000 + 1,
                                "batches_per_epoch": 1000, "loss": 1 / step, "accuracy": 0.5 + 1 / step,
                                "samples_per_second": 1000 + 1 / step, "learning_rate": 0.01 / step},
                               separators=(",", ":")) + "\n")


def follow(folder) -> RunLog:
    log, tail = RunLog(), EventTail(folder / EVENTS)
    while records := tail.poll(256 * 1024):  # the window's POLL_BYTES; every poll here ends on a line
        log.add(records)
    return log


def retained_per_line(read, folder) -> float:
    tracemalloc.start()
    try:
        log = read(folder)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(log.of_kind("batch")) == LINES and log.history().batches[-1].step == LINES
    return held / LINES


def test_read_run_log_holds_a_batch_line_in_a_few_hundred_bytes(tmp_path):
    write_log(tmp_path)
    cost = retained_per_line(read_run_log, tmp_path)
    assert cost < BYTES_PER_LINE, f"read_run_log holds {cost:.0f} bytes per batch line"


def test_the_follower_holds_a_batch_line_in_a_few_hundred_bytes(tmp_path):
    write_log(tmp_path)
    cost = retained_per_line(follow, tmp_path)
    assert cost < BYTES_PER_LINE, f"EventTail into a RunLog holds {cost:.0f} bytes per batch line"


def test_a_kept_batch_line_reads_and_compares_as_its_dict(tmp_path):
    write_log(tmp_path)
    line = read_run_log(tmp_path).of_kind("batch")[0]
    assert line == json.loads((tmp_path / EVENTS).read_text().splitlines()[1])
    assert line["step"] == 1 and line.get("file") is None and dict(line)["kind"] == "batch"
