"""The overlay of a map on its image: where the map is zero the image shows; opacity and sign decide the colour."""

import numpy as np

from engine.inspection.explanation_images import overlay


def test_overlay_blends_by_strength_and_sign():
    image = np.full((2, 2, 1), 100, dtype=np.uint8)
    heat = np.array([[0.0, 1.0], [0.5, 0.0]])
    out = overlay(image, heat, 1.0)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    assert (out[0, 0] == 100).all() and (out[1, 1] == 100).all()  # zero: the image itself
    assert tuple(out[0, 1]) == (255, 255, 230)  # the strongest pixel at full opacity: the ramp's end
    assert (overlay(image, heat, 0.0) == 100).all()
    signed = overlay(image, np.array([[1.0, -1.0], [0.0, 0.0]]), 1.0)
    assert signed[0, 0, 0] > signed[0, 0, 2] and signed[0, 1, 2] > signed[0, 1, 0]  # red raises, blue lowers
    assert (overlay(image, np.zeros((2, 2)), 1.0) == 100).all()
