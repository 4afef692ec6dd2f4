"""Import rules: gui -> engine -> models; no Qt outside gui/; no torch in models/."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def loaded_modules(*packages):
    code = ("import importlib, pkgutil, sys\n"
            f"for name in {packages!r}:\n"
            "    pkg = importlib.import_module(name)\n"
            "    for info in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
            "        importlib.import_module(info.name)\n"
            "print('\\n'.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_models_load_neither_qt_nor_torch():
    modules = loaded_modules("models")
    assert not {m for m in modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "torch")}


def test_engine_loads_no_qt():
    modules = loaded_modules("models", "engine")
    assert not {m for m in modules if m.split(".")[0] in ("PySide6", "pyqtgraph")}


def test_import_linter_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed in this environment")
    out = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
