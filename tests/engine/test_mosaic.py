"""Mosaic tiling (pure numpy, no display): exact positions of every kernel and map value."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.inspection.mosaic import (grid_shape, kernels_layout, maps_layout, symmetric_limit,
                              tile_kernels, tile_maps)


def _distinct(shape) -> np.ndarray:
    """Values that are all different, so a misplaced value cannot match by accident."""
    return np.arange(1, np.prod(shape) + 1, dtype=np.float64).reshape(shape)


def test_grey_kernels_are_filters_by_rows_and_input_channels_by_columns() -> None:
    weights = _distinct((2, 3, 2, 2))
    mosaic = tile_kernels(weights)
    assert mosaic.shape == (2 * 3 - 1, 3 * 3 - 1)  # 1-pixel gaps between tiles only
    for out in range(2):
        for inp in range(3):
            np.testing.assert_array_equal(
                mosaic[out * 3:out * 3 + 2, inp * 3:inp * 3 + 2], weights[out, inp])
    assert np.isnan(mosaic[2, :]).all() and np.isnan(mosaic[:, 2]).all()
    assert np.isnan(mosaic[:, 5]).all()
    assert np.count_nonzero(~np.isnan(mosaic)) == weights.size


def test_non_square_kernels_land_at_their_tiles() -> None:
    weights = _distinct((4, 2, 3, 5))
    mosaic = tile_kernels(weights, pad=2)
    assert mosaic.shape == (4 * 5 - 2, 2 * 7 - 2)
    for out, inp, row, col in np.ndindex(weights.shape):
        assert mosaic[out * 5 + row, inp * 7 + col] == weights[out, inp, row, col]


def test_one_by_one_kernels_without_padding_are_the_weight_matrix() -> None:
    weights = _distinct((3, 2, 1, 1))
    np.testing.assert_array_equal(tile_kernels(weights, pad=0), weights[:, :, 0, 0])
    padded = tile_kernels(weights)
    assert padded.shape == (5, 3)
    np.testing.assert_array_equal(padded[::2, ::2], weights[:, :, 0, 0])


def test_single_input_channel_filters_fill_a_near_square_grid() -> None:
    weights = _distinct((6, 1, 5, 5))
    mosaic = tile_kernels(weights)
    assert grid_shape(6) == (2, 3)
    assert mosaic.shape == (2 * 6 - 1, 3 * 6 - 1)
    for f in range(6):
        grid_row, grid_col = divmod(f, 3)
        np.testing.assert_array_equal(
            mosaic[grid_row * 6:grid_row * 6 + 5, grid_col * 6:grid_col * 6 + 5], weights[f, 0])


def test_rgb_tiles_scale_by_the_layer_limit_with_zero_as_grey() -> None:
    weights = np.zeros((5, 3, 2, 2))
    weights[0, 0, 0, 0] = 4.0     # the layer's max |w| -> red channel 1.0
    weights[1, 2, 1, 1] = -4.0    # -> blue channel 0.0
    weights[2, 1, 0, 1] = 2.0     # -> green 0.75
    mosaic = tile_kernels(weights, rgb=True)
    rows, cols = grid_shape(5)
    assert (rows, cols) == (2, 3)
    assert mosaic.shape == (rows * 3 - 1, cols * 3 - 1, 3)
    assert tuple(mosaic[0, 0]) == (1.0, 0.5, 0.5)
    assert tuple(mosaic[0 + 1, 3 + 1]) == (0.5, 0.5, 0.0)      # filter 1: grid (0, 1)
    assert tuple(mosaic[0, 6 + 1]) == (0.5, 0.75, 0.5)         # filter 2: grid (0, 2)
    filter_4 = mosaic[3:5, 3:5]                                # grid (1, 1)
    np.testing.assert_array_equal(filter_4, np.full((2, 2, 3), 0.5))
    assert np.isnan(mosaic[3:5, 6:8]).all()                    # unused sixth cell
    assert np.isnan(mosaic[2, :, :]).all()                     # gap row


def test_rgb_is_ignored_unless_there_are_three_input_channels() -> None:
    weights = _distinct((4, 2, 3, 3))
    np.testing.assert_array_equal(tile_kernels(weights, rgb=True), tile_kernels(weights))


def test_maps_form_a_near_square_grid_with_empty_cells_nan() -> None:
    maps = _distinct((5, 3, 4))
    mosaic = tile_maps(maps)
    assert mosaic.shape == (2 * 4 - 1, 3 * 5 - 1)
    for channel in range(5):
        grid_row, grid_col = divmod(channel, 3)
        np.testing.assert_array_equal(
            mosaic[grid_row * 4:grid_row * 4 + 3, grid_col * 5:grid_col * 5 + 4], maps[channel])
    assert np.isnan(mosaic[4:, 10:]).all()


@settings(max_examples=40, deadline=None)
@given(channels=st.integers(1, 20), height=st.integers(1, 6), width=st.integers(1, 6),
       pad=st.integers(0, 2))
def test_cell_at_inverts_the_tiling(channels: int, height: int, width: int, pad: int) -> None:
    maps = _distinct((channels, height, width))
    mosaic = tile_maps(maps, pad=pad)
    layout = maps_layout(maps.shape, pad)
    assert mosaic.shape == layout.shape
    for y, x in np.ndindex(mosaic.shape):
        cell = layout.cell_at(y, x)
        if np.isnan(mosaic[y, x]):
            assert cell is None
        else:
            assert mosaic[y, x] == maps[cell]
    assert layout.cell_at(-1, 0) is None and layout.cell_at(0, mosaic.shape[1]) is None
    for channel in range(channels):
        assert layout.cell_at(*layout.origin(channel)) == (channel, 0, 0)


def test_kernel_layout_locates_a_kernel_value() -> None:
    weights = _distinct((3, 4, 3, 3))
    layout = kernels_layout(weights.shape)
    y, x = layout.origin(2 * 4 + 1)  # filter 2, input channel 1
    assert tile_kernels(weights)[y + 2, x + 1] == weights[2, 1, 2, 1]


def test_symmetric_limit_ignores_non_finite_values_and_has_a_floor() -> None:
    assert symmetric_limit(np.array([0.5, -3.0, np.nan, 2.0])) == 3.0
    assert symmetric_limit(np.array([1.0, np.inf, -np.inf])) == 1.0
    assert symmetric_limit(np.zeros((3, 3))) == 1e-12
    assert symmetric_limit(np.full(4, np.nan)) == 1e-12
    assert symmetric_limit(np.zeros(0)) == 1e-12


@pytest.mark.parametrize("shape", [(3, 3, 3), (2, 2, 2, 2, 2), (0, 1, 3, 3)])
def test_bad_weight_shapes_are_reported_with_the_shape(shape) -> None:
    with pytest.raises(ValueError, match=r"shape \("):
        tile_kernels(np.zeros(shape))


def test_bad_maps_and_padding_are_reported() -> None:
    with pytest.raises(ValueError, match="channels, height, width"):
        tile_maps(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="pad"):
        tile_maps(np.zeros((1, 2, 2)), pad=-1)
