"""The drawing page never draws its widgets over each other: on a short page the top part scrolls."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("height", [900, 700, 560])
def test_clear_and_the_caption_stay_below_the_canvas(qtbot, window, height):
    # Under Xvfb at 1440x900 the splitter gave the top part less than the fixed-size canvas and its wrapped
    # caption needed: Clear and the caption were painted over the canvas.
    window.resize(1440, height)
    evaluation = window.evaluation
    window.tabs.setCurrentWidget(evaluation)
    evaluation.pages.setCurrentWidget(evaluation.drawing)
    page = evaluation.drawing
    qtbot.waitUntil(lambda: page.canvas.isVisible() and page.clear_button.isVisible())
    canvas, clear, caption = page.canvas, page.clear_button, page.caption
    def top_in_page(widget):
        return widget.mapTo(page, widget.rect().topLeft()).y()
    assert top_in_page(clear) >= top_in_page(canvas) + canvas.height()
    assert top_in_page(caption) >= top_in_page(clear) + clear.height()
