"""tools/run-window.sh: which systems get a virtual screen, run as a real bash process with stand-in commands."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "run-window.sh"
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


@pytest.mark.parametrize(("system", "display", "wayland", "expected"), [
    ("Darwin", "", "", "native"),              # macOS: a real screen, no DISPLAY
    ("MINGW64_NT-10.0-19045", "", "", "native"),  # Git Bash on Windows
    ("MSYS_NT-10.0", "", "", "native"),
    ("CYGWIN_NT-10.0", "", "", "native"),
    ("Linux", "", "", "xvfb"),                 # a server or container without a screen
    ("Linux", ":0", "", "native"),
    ("Linux", "", "wayland-0", "native"),
    ("FreeBSD", "", "", "xvfb"),
])
def test_the_platform_decision(system: str, display: str, wayland: str, expected: str) -> None:
    done = subprocess.run([BASH, str(SCRIPT), "--screen-for", system, display, wayland],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == expected


def _run(tmp_path: Path, system: str, *, xvfb: bool = True, display: str | None = None) -> subprocess.CompletedProcess:
    """The script on `echo app`, with `uname` reporting `system` and `xvfb-run` a stand-in that says it ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stand_ins = {"uname": f'echo "{system}"'}
    if xvfb:
        stand_ins["xvfb-run"] = 'echo "virtual screen"; shift 3; exec "$@"'
    for name, body in stand_ins.items():
        path = bin_dir / name
        path.write_text(f"#!{BASH}\n{body}\n")
        path.chmod(0o755)
    # The real tools the script needs (env, bash) stay reachable through a folder of links, not /usr/bin itself,
    # so a real xvfb-run on this machine cannot answer instead of the stand-in.
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for name in ("env", "bash", "echo"):
        real = shutil.which(name)
        if real and not (tools / name).exists():
            (tools / name).symlink_to(real)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{tools}"
    if display is not None:
        env["DISPLAY"] = display
    return subprocess.run([BASH, str(SCRIPT), "echo", "app"], capture_output=True, text=True, env=env)


def test_macos_without_display_runs_the_app_directly(tmp_path: Path) -> None:
    done = _run(tmp_path, "Darwin")
    assert done.returncode == 0 and done.stdout.split() == ["app"]
    assert "Xvfb" not in done.stderr


def test_linux_without_display_uses_xvfb_and_says_so(tmp_path: Path) -> None:
    done = _run(tmp_path, "Linux")
    assert done.returncode == 0 and done.stdout.splitlines() == ["virtual screen", "app"]
    assert "virtual screen (Xvfb)" in done.stderr
    assert _run(tmp_path, "Linux", display=":0").stdout.split() == ["app"]


def test_linux_without_display_or_xvfb_says_what_to_do(tmp_path: Path) -> None:
    done = _run(tmp_path, "Linux", xvfb=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "xvfb-run is not installed" in done.stderr and "ssh -X" in done.stderr
