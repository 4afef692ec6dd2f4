"""`python main.py summary ... | head -1` ends quietly: no BrokenPipeError traceback, exit 141 (128 + SIGPIPE)."""

import json
import subprocess
import sys


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    # 900 layers with their formulas: far more output than a pipe buffer holds, so writing meets the closed pipe.
    layers = [{"type": "linear", "out_features": 10}] + [{"type": "relu"}] * 899
    arch = {"format": "convscope.architecture", "version": 1, "name": "long",
            "input": {"channels": 1, "height": 28, "width": 28}, "layers": [{"type": "flatten"}] + layers}
    path = tmp_path / "long.json"
    path.write_text(json.dumps(arch))
    proc = subprocess.Popen([sys.executable, "main.py", "summary", str(path), "--formulas"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(1)
    proc.stdout.close()  # the reader leaves, as `head -1` does after its line
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
