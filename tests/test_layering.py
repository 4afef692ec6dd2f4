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


def _layers(name_start):
    import tomllib
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["name"].startswith(name_start)]
    return {part.strip() for layer in contract["layers"] for part in layer.split("|")}


def test_every_engine_room_is_in_the_rooms_contract_and_the_root_holds_the_vocabulary_only():
    """A new engine module goes into a room, and a new room into the contract: one the contract does not name is
    free to import any other, and a module loose at the root is the first step back to 41 of them."""
    layers = _layers("engine rooms")
    rooms = {p.name for p in (ROOT / "engine").iterdir() if (p / "__init__.py").exists()}
    loose = {p.stem for p in (ROOT / "engine").glob("*.py")} - {"__init__"}
    assert rooms | loose == layers
    assert loose == {"config", "events", "metrics", "normalization"}


def test_every_gui_room_is_in_the_rooms_contract():
    """Every package of gui/ (each tab's room among them) is a layer, so two tabs cannot import each other."""
    layers = _layers("gui rooms")
    rooms = {f"gui.{p.name}" for p in (ROOT / "gui").iterdir() if (p / "__init__.py").exists()}
    assert rooms <= layers, f"rooms missing from the gui rooms contract: {sorted(rooms - layers)}"
