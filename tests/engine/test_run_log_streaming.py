"""The run log is read in bounded chunks (issue 27 item 4): an over-long line is one damaged line, dropped up to
its newline, never held whole; lines that span chunks and polls come back whole."""

from __future__ import annotations

import json

import pytest

from engine.run_folder import EVENTS, FORMAT, VERSION, EventTail, RunFolderError, read_run_log
from engine.run_folder.event_tail import CHUNK, MAX_LINE

STARTED = {"kind": "started", "format": FORMAT, "version": VERSION}


def line(record: dict) -> bytes:
    return json.dumps(record).encode() + b"\n"


def batch(step: int) -> bytes:
    """A batch line as a run writes it (a line without its counts is damaged: RunLog leaves it out)."""
    return line({"kind": "batch", "epoch": 1, "step": step, "batch": step, "batches_per_epoch": 100, "loss": 2.0,
                 "accuracy": 0.1, "samples_per_second": 1000.0, "learning_rate": 0.001})


def long_line(size: int) -> bytes:
    """A valid JSON line of `size` bytes, newline included: only its length is wrong."""
    head = b'{"kind": "note", "text": "'
    return head + b"x" * (size - len(head) - 3) + b'"}\n'


@pytest.fixture
def log(tmp_path):
    with open(tmp_path / EVENTS, "wb") as f:
        f.write(line(STARTED))
    return tmp_path / EVENTS


def append(path, *parts: bytes) -> None:
    with open(path, "ab") as f:
        for part in parts:
            f.write(part)


def test_a_complete_over_long_line_is_one_damaged_line_and_the_lines_around_it_are_kept(log):
    append(log, batch(1), long_line(MAX_LINE + 2), batch(2))
    tail = EventTail(log)
    assert [e.get("step") for e in tail.poll()] == [None, 1, 2]
    assert tail.damaged == 1 and f"line 3 is over {MAX_LINE:,} bytes" in tail.problems[0]
    with pytest.raises(RunFolderError, match=f"events.jsonl: line 3 is over {MAX_LINE:,} bytes; the log is damaged"):
        read_run_log(log.parent)


def test_a_line_of_exactly_the_limit_is_read(log):
    append(log, long_line(MAX_LINE + 1), batch(1))  # MAX_LINE bytes before its newline
    assert [e["kind"] for e in read_run_log(log.parent).events] == ["note", "batch"]


def test_an_unfinished_over_long_line_is_reported_once_and_dropped_until_its_newline(log):
    tail = EventTail(log)
    assert [e["kind"] for e in tail.poll()] == ["started"]
    append(log, batch(1), b'{"kind": "note", "text": "' + b"x" * (MAX_LINE + 10))
    assert [e["step"] for e in tail.poll()] == [1] and tail.damaged == 1
    assert "line 3 is over" in tail.problems[0]
    append(log, b"y" * (3 * CHUNK))  # still the same line: not held, not reported again
    assert tail.poll() == [] and tail.damaged == 1 and not tail._pending
    append(log, b'"}\n', batch(2))
    assert [e["step"] for e in tail.poll()] == [2] and tail.damaged == 1


def test_an_over_long_first_line_is_not_a_run_log(tmp_path):
    (tmp_path / EVENTS).write_bytes(b"x" * (MAX_LINE + 1))
    with pytest.raises(RunFolderError, match=f"line 1 is over {MAX_LINE:,} bytes"):
        read_run_log(tmp_path)


def test_lines_spanning_chunks_come_back_whole_and_a_torn_last_line_once_complete(log):
    big = long_line(CHUNK + CHUNK // 2)  # crosses a chunk boundary wherever it starts
    append(log, big, big, batch(1))
    assert [e["kind"] for e in read_run_log(log.parent).events] == ["note", "note", "batch"]
    tail = EventTail(log)
    assert len(tail.poll()) == 4
    append(log, big[:CHUNK + 7])  # a writer mid-line, across a chunk boundary
    assert tail.poll() == []
    append(log, big[CHUNK + 7:], batch(2))
    assert [e["kind"] for e in tail.poll()] == ["note", "batch"] and tail.damaged == 0
