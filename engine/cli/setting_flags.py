"""The training settings' command-line flags, made from engine/config.py's SETTINGS (for `train` and `experiment`).

Every flag's default is None, "not given": the command then keeps the setting its input brings (a run folder's,
a project's or an experiment spec's), else TrainConfig's default. Ranges are checked by TrainConfig, so a value
out of range is refused in one line that names the setting.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.config import SETTINGS, Setting, number_text


def add_setting_flags(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One flag per setting (but those in `skip`, which the command spells itself), in groups as in the window."""
    groups: dict[str, Any] = {}
    for setting in SETTINGS.values():
        if setting.name in skip:
            continue
        if setting.group not in groups:
            groups[setting.group] = parser.add_argument_group(f"training settings: {setting.group.lower()}")
        _add_flag(groups[setting.group], setting)


def _add_flag(group: Any, setting: Setting) -> None:
    help_text = f"{setting.help}; {allowed_values(setting)}".replace("%", "%%")  # argparse formats help with %
    if setting.kind is bool:
        group.add_argument(*setting.flags, dest=setting.name, action=argparse.BooleanOptionalAction, default=None,
                           help=help_text)
        return
    group.add_argument(*setting.flags, dest=setting.name, type=setting.kind, metavar=setting.metavar,
                       choices=setting.choice_keys() or None, default=None, help=help_text)


def allowed_values(setting: Setting) -> str:
    """`in (0, 10], default 0.001`, `default: adam`, `on by default`: what --help and the docs table add."""
    if setting.kind is bool:
        return f"{'on' if setting.default else 'off'} by default"
    if setting.kind in (int, float):
        zero = f", 0 = {setting.zero}" if setting.zero and f"({setting.zero})" not in setting.range_text() else ""
        return f"{setting.range_text()}{zero}, default {number_text(setting.default)}"
    return f"default: {setting.default}"


def settings_from_args(args: argparse.Namespace, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The settings given on the command line, by TrainConfig field name."""
    return {name: getattr(args, name) for name in SETTINGS
            if name not in skip and getattr(args, name, None) is not None}
