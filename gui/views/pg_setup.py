"""Binds pyqtgraph to PySide6 and sets its global options once; views import ``pg`` from here."""
from __future__ import annotations

import os

# pyqtgraph picks its Qt binding at import time; PySide6 must win even if PyQt is installed.
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import PySide6.QtCore  # noqa: F401  (imported before pyqtgraph on purpose)
import pyqtgraph as pg

# row-major: numpy images (rows, cols) show without transposes.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

__all__ = ["pg"]
