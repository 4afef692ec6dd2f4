"""PNG export without Qt: the zlib PNG writer, the diverging colour map, filter and activation mosaics."""

import struct
import zlib

import numpy as np
import pytest
import torch

from engine.network.builder import build_model
from engine.export.images import (GAP, activation_mosaic, diverging, encode_png, export_activation_pngs,
                                  export_filter_pngs, filter_mosaic, save_png, to_rgb8)
from engine.export.target import ExportError
from models.presets import load_preset


def decode_png(data):
    """Independent minimal decoder for what encode_png writes (8-bit RGB, filter type 0 on every row)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.setdefault(kind, b"")
        chunks[kind] += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2) and b"IEND" in chunks
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * 3)
    assert not raw[:, 0].any()
    return raw[:, 1:].reshape(height, width, 3)


def test_encode_png_round_trips_through_an_independent_decoder_and_pillow(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (7, 11, 3), dtype=np.uint8)
    data = encode_png(rgb)
    np.testing.assert_array_equal(decode_png(data), rgb)
    image = pytest.importorskip("PIL.Image")
    (tmp_path / "a.png").write_bytes(data)
    with image.open(tmp_path / "a.png") as im:
        assert im.mode == "RGB" and im.size == (11, 7)
        np.testing.assert_array_equal(np.asarray(im), rgb)


def test_diverging_map_blue_white_red_and_grey_gaps():
    out = diverging(np.array([[-2.0, 0.0, 2.0, np.nan, 1.0]]))
    assert tuple(out[0, 0]) == (33, 102, 172)      # -limit: blue
    assert tuple(out[0, 1]) == (247, 247, 247)     # zero: white
    assert tuple(out[0, 2]) == (178, 24, 43)       # +limit: red
    assert tuple(out[0, 3]) == tuple(GAP)
    assert tuple(out[0, 4]) == tuple(np.rint((np.array([247, 247, 247]) + np.array([178, 24, 43])) / 2))


def test_rgb_floats_are_scaled_and_clipped():
    out = to_rgb8(np.array([[[0.0, 0.5, 1.0], [2.0, -1.0, np.nan]]]))
    assert out[0, 0].tolist() == [0, 128, 255] and out[0, 1].tolist() == list(GAP)


def test_filter_mosaic_places_kernel_f_c_at_row_f_column_c():
    w = np.random.default_rng(1).standard_normal((4, 2, 3, 5)).astype(np.float32)
    mosaic = filter_mosaic(w)
    assert mosaic.shape == (4 * 4 - 1, 2 * 6 - 1)
    for f in range(4):
        for c in range(2):
            np.testing.assert_array_equal(mosaic[f * 4:f * 4 + 3, c * 6:c * 6 + 5], w[f, c])
    assert np.isnan(mosaic[3, 0]) and np.isnan(mosaic[0, 5])


def test_rgb_filters_become_colour_tiles_with_zero_mid_grey():
    w = np.zeros((5, 3, 2, 2), np.float32)
    w[0, 0, 0, 0] = 1.0
    mosaic = filter_mosaic(w)
    assert mosaic.shape == (2 * 3 - 1, 3 * 3 - 1, 3)
    assert mosaic[0, 0].tolist() == [1.0, 0.5, 0.5] and mosaic[1, 1].tolist() == [0.5, 0.5, 0.5]


def test_activation_mosaic_tiles_maps_and_strips_vectors():
    maps = np.arange(5 * 2 * 2, dtype=np.float32).reshape(5, 2, 2)
    mosaic = activation_mosaic(maps)
    assert mosaic.shape == (2 * 3 - 1, 3 * 3 - 1)
    np.testing.assert_array_equal(mosaic[3:5, 0:2], maps[3])
    assert activation_mosaic(np.arange(10.0)).shape == (1, 10)


def test_save_png_scales_each_pixel_to_a_block(tmp_path):
    values = np.array([[1.0, -1.0], [0.0, np.nan]])
    path = save_png(values, tmp_path / "v.png", scale=3)
    decoded = decode_png(path.read_bytes())
    assert decoded.shape == (6, 6, 3)
    np.testing.assert_array_equal(decoded[::3, ::3], diverging(values))


def test_lenet_filters_one_png_per_conv_layer_showing_the_weights(tmp_path):
    arch = load_preset("lenet5")
    torch.manual_seed(0)
    model = build_model(arch)
    paths = export_filter_pngs(arch, model, tmp_path / "filters")
    assert [p.name for p in paths] == ["layer1_conv2d_filters.png", "layer4_conv2d_filters.png"]
    decoded = decode_png(paths[0].read_bytes())
    expected = diverging(filter_mosaic(model[0].weight.detach().numpy()))  # 35 x 5
    scale = decoded.shape[0] // expected.shape[0]
    assert scale > 1 and decoded.shape[:2] == (expected.shape[0] * scale, expected.shape[1] * scale)
    np.testing.assert_array_equal(decoded[::scale, ::scale], expected)


def test_activation_pngs_one_per_layer_from_the_probe_sample(tmp_path):
    arch = load_preset("fully_conv")
    torch.manual_seed(0)
    model = build_model(arch).eval()
    sample = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    paths = export_activation_pngs(arch, model, sample, tmp_path / "acts")
    assert len(paths) == len(arch.layers) and paths[0].name == "layer1_conv2d_activations.png"
    with torch.no_grad():
        first = model[0](torch.from_numpy(sample)[None])[0].numpy()
    decoded = decode_png(paths[0].read_bytes())
    expected = diverging(activation_mosaic(first))
    scale = decoded.shape[0] // expected.shape[0]
    np.testing.assert_array_equal(decoded[::scale, ::scale], expected)
    with pytest.raises(ExportError, match=r"the network takes \(1, 28, 28\)"):
        export_activation_pngs(arch, model, sample[:, :10], tmp_path / "acts")


def test_filters_of_a_net_without_convolutions_and_bad_folders_are_explained(tmp_path):
    from models.architecture import Architecture
    from models.layers import FlattenSpec, LinearSpec
    arch = Architecture("mlp", layers=(FlattenSpec(), LinearSpec(out_features=10)))
    with pytest.raises(ExportError, match="no convolution layers"):
        export_filter_pngs(arch, build_model(arch), tmp_path / "f")
    lenet = load_preset("lenet5")
    with pytest.raises(ExportError, match="does not exist"):
        export_filter_pngs(lenet, build_model(lenet), tmp_path / "no" / "f")
