"""The canvas's zoom factor: a fixed ladder of levels for the keys and the wheel, bounded, and a fit level."""

from __future__ import annotations

# Below 30% the block text is unreadable even as an overview; above 300% one block fills the canvas.
ZOOM_LEVELS = (0.3, 0.4, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
MIN_ZOOM, MAX_ZOOM = ZOOM_LEVELS[0], ZOOM_LEVELS[-1]
WHEEL_NOTCH = 120  # angleDelta units of one mouse-wheel notch (touchpads send fractions of it)


def clamp_zoom(factor: float) -> float:
    return max(MIN_ZOOM, min(MAX_ZOOM, factor))


def zoomed_in(factor: float) -> float:
    """The next ladder level above `factor` (a fit level between two rungs goes to the upper one)."""
    return next((level for level in ZOOM_LEVELS if level > factor + 1e-6), MAX_ZOOM)


def zoomed_out(factor: float) -> float:
    return next((level for level in reversed(ZOOM_LEVELS) if level < factor - 1e-6), MIN_ZOOM)


def fit_zoom(content_height: float, viewport_height: float) -> float:
    """The factor that shows `content_height` (unzoomed pixels) in `viewport_height`, never above 100%: a short
    network already fits, and blowing its blocks up shows nothing more."""
    if content_height <= 0:
        return 1.0
    return clamp_zoom(min(1.0, viewport_height / content_height))


class WheelSteps:
    """Turns wheel deltas into whole zoom steps: a notch is one step, a touchpad's small deltas add up to one."""

    def __init__(self) -> None:
        self._pending = 0

    def steps(self, delta: int) -> int:
        if delta and (self._pending > 0) != (delta > 0):
            self._pending = 0  # a change of direction starts afresh
        self._pending += delta
        steps = int(self._pending / WHEEL_NOTCH)
        self._pending -= steps * WHEEL_NOTCH
        return steps
