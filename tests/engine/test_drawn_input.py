"""MNIST-style preprocessing of a drawing: ink in a 20x20 box, centre of mass at the centre of 28x28."""

import numpy as np
import pytest

from engine.inspection.drawn_input import centre_of_mass, mnist_style


def stroke_drawing(shape=(300, 200)):
    """An off-centre, lop-sided 'L' drawn on a big canvas: a long bar and a short heavy foot."""
    drawing = np.zeros(shape, dtype=np.float32)
    drawing[20:180, 130:145] = 1.0   # tall thin bar, far right and high
    drawing[160:180, 100:190] = 1.0  # foot
    return drawing


@pytest.mark.parametrize("shape", [(300, 200), (90, 400), (28, 28)])
def test_the_ink_fits_a_20x20_box_and_its_centre_of_mass_is_the_centre(shape):
    drawing = np.zeros(shape, dtype=np.float32)
    h, w = shape
    drawing[h // 10:h // 2, w // 2:w // 2 + max(2, w // 12)] = 1.0
    drawing[h // 2 - max(2, h // 12):h // 2, w // 4:w - 2] = 1.0
    out = mnist_style(drawing)
    assert out.shape == (28, 28) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    rows, cols = np.nonzero(out > 0.05)
    tall, wide = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert max(tall, wide) <= 20 and max(tall, wide) >= 18  # the longer side fills the box
    row, col = centre_of_mass(out)
    assert abs(row - 13.5) <= 0.5 and abs(col - 13.5) <= 0.5


def test_the_aspect_ratio_is_kept():
    out = mnist_style(stroke_drawing())
    rows, cols = np.nonzero(out > 0.05)
    tall, wide = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert tall == pytest.approx(20, abs=1) and wide == pytest.approx(20 * 90 / 160, abs=1.5)


def test_a_blank_drawing_stays_blank_and_a_bad_one_is_refused():
    assert not mnist_style(np.zeros((50, 50))).any()
    with pytest.raises(ValueError, match="one \\(height, width\\) plane"):
        mnist_style(np.zeros((5, 5, 3)))
