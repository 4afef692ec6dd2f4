"""docs/training-settings.md is the table engine/cli/settings_table.py makes from the settings, and lists each."""

from __future__ import annotations

from pathlib import Path

from engine.cli.settings_table import DOC_PATH, settings_markdown
from engine.config import SETTINGS

DOC = Path(__file__).resolve().parents[2] / DOC_PATH


def test_the_docs_table_is_the_one_the_settings_make():
    assert DOC.read_text(encoding="utf-8") == settings_markdown(), (
        f"{DOC_PATH} differs from the settings in engine/config.py: run "
        f"`.venv/bin/python tools/write_training_settings_doc.py` and commit the file")


def test_the_docs_table_has_a_row_per_setting_with_its_flags():
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    cells = {row.split(" | ")[0].strip("| `"): row.split(" | ")[1] for row in rows}
    assert list(cells) == list(SETTINGS)
    for name, setting in SETTINGS.items():
        assert all(f"`{flag}`" in cells[name] for flag in setting.flags), name
