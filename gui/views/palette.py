"""Colours shared by the live views: the diverging map centred on zero and a few accents."""
from __future__ import annotations

from gui.views.pg_setup import pg

# Gaps between mosaic tiles are NaN, which ImageItem draws transparent: this shows through.
MOSAIC_BACKGROUND = "#3a3a3a"
PLOT_BACKGROUND = "#ffffff"
HIGHLIGHT_COLOR = "#ffd400"  # outline of the selected map: stands out from blue, white and red
OUTLINE_COLOR = "#22c55e"  # dashed frame of marked tiles (frozen filters): apart from the yellow selection
TEXT_COLOR = "#202020"
TRAIN_RAW_COLOR = (178, 202, 236)  # pale, so the smoothed line reads on top of it
TRAIN_SMOOTH_COLOR = (10, 40, 140)
VALIDATION_COLOR = (220, 90, 20)
BAR_COLOR = (150, 170, 200)
PREDICTED_COLOR = (220, 90, 20)
TRUE_LABEL_COLOR = (30, 150, 60)


def diverging_colormap() -> pg.ColorMap:
    """Blue (negative) - white (zero) - red (positive); use with levels (-lim, +lim)."""
    return pg.ColorMap(
        pos=[0.0, 0.25, 0.5, 0.75, 1.0],
        color=[(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)],
        name="convscope-diverging",
    )
