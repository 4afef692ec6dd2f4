"""Write docs/training-settings.md from engine/config.py's settings: `.venv/bin/python tools/write_training_settings_doc.py`.

Run it after adding or changing a setting; tests/engine/test_training_settings_doc.py fails until the file matches.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project's packages are importable

from engine.cli.settings_table import DOC_PATH, settings_markdown  # noqa: E402

if __name__ == "__main__":
    path = ROOT / DOC_PATH
    path.write_text(settings_markdown(), encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
