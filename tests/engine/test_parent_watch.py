"""ParentWatch: end of input stops the run; closing the watch leaves no thread for the interpreter's shutdown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.parent_watch import ParentWatch
from engine.training.control import TrainingControl

ROOT = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name != "posix", reason="the wake-up pipe is POSIX's (Windows blocks in os.read)")


def test_the_parent_closing_the_pipe_stops_the_run():
    read_end, write_end = os.pipe()
    control = TrainingControl()
    watch = ParentWatch(control, fd=read_end)
    os.write(write_end, b"ignored: the parent writes nothing that matters")
    os.close(write_end)
    watch._thread.join(timeout=60)
    assert watch.gone and control.stop_requested
    watch.close()
    os.close(read_end)


@posix_only
def test_close_wakes_and_joins_the_thread_without_calling_the_parent_gone():
    read_end, write_end = os.pipe()
    control = TrainingControl()
    watch = ParentWatch(control, fd=read_end)
    watch.close()
    assert not watch._thread.is_alive()
    assert not watch.gone and not control.stop_requested
    watch.close()  # twice is harmless
    os.close(read_end)
    os.close(write_end)


@posix_only
def test_no_watch_thread_is_left_when_the_interpreter_finalises():
    """The worker once died with SIGABRT: its daemon thread, blocked in a read, was woken by the parent closing
    stdin while the interpreter shut down. atexit handlers run in reverse order, so the one registered first here
    runs after ParentWatch's own and sees which threads the shutdown will meet."""
    code = ("import atexit, threading\n"
            "atexit.register(lambda: print(sorted(t.name for t in threading.enumerate())))\n"
            "from engine.cli.parent_watch import ParentWatch\n"
            "from engine.training.control import TrainingControl\n"
            "ParentWatch(TrainingControl())\n")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:  # stdin stays open until the child has exited: its parent is alive throughout
        stdout, stderr = child.stdout.read(), child.stderr.read()
        assert child.wait(timeout=120) == 0, stderr
    finally:
        child.stdin.close()
        child.kill()
    assert stdout.strip() == "['MainThread']"
