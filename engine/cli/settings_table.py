"""docs/training-settings.md, made from engine/config.py's SETTINGS (tools/write_training_settings_doc.py writes
it; tests/engine/test_training_settings_doc.py fails when the file and this differ)."""

from __future__ import annotations

from engine.cli.setting_flags import allowed_values
from engine.config import SETTINGS, Setting

DOC_PATH = "docs/training-settings.md"
INTRO = ("# Training settings\n\n"
         "Every training setting, as `settings.json` and the project file name it, as `train` and `experiment` take "
         "it on the command line, and as the window's Training form shows it (grouped under the same headings). "
         "A value outside its range is refused with its name, never clamped; files written before a setting existed "
         "load with its default. This file is generated from `engine/config.py`: run "
         "`.venv/bin/python tools/write_training_settings_doc.py` after changing a setting.\n")


def settings_markdown() -> str:
    """The whole of docs/training-settings.md: the intro and one table row per setting, in the window's order."""
    rows = ["| setting | option | values | what it does |", "| --- | --- | --- | --- |"]
    group = None
    for setting in SETTINGS.values():
        if setting.group != group:  # a row naming the group, as the form's section heading does
            group = setting.group
            rows.append(f"| **{group}** | | | |")
        rows.append(f"| {' | '.join(_cell(text) for text in _row(setting))} |")
    return INTRO + "\n" + "\n".join(rows) + "\n"


def _row(setting: Setting) -> tuple[str, str, str, str]:
    flags = [*setting.flags, *(f"--no-{flag[2:]}" for flag in setting.flags if setting.kind is bool)]
    option = ", ".join(f"`{flag}`" for flag in flags) + (f" {setting.metavar}" if setting.metavar else "")
    values = allowed_values(setting)
    if setting.choices:  # presets (augment's) are the form's shortcuts: its help says what the values are
        values = f"{', '.join(f'`{key}`' for key in setting.choice_keys())}; {values}"
    does = ". ".join([setting.help, *([setting.details] if setting.details else []),
                      *([] if setting.in_form else ["Not in the window's form: settings.json and the command line "
                                                     "set it"])])
    return f"`{setting.name}`", option, values, does


def _cell(text: str) -> str:
    """A table cell: a `|` would end the cell, a line break the row."""
    return " ".join(text.split()).replace("|", "\\|")
