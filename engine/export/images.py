"""PNG export of filters and activation maps: numpy mosaics, a diverging colour map, a pure zlib PNG writer."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.export.target import ExportError, check_destination, eval_model
from engine.inspection.mosaic import symmetric_limit, tile_kernels, tile_maps
from models.architecture import Architecture
from models.atomic_file import write_atomically
from models.layers import has_filters

PNG_SUFFIXES = (".png",)
# Diverging map, as in the app's views: blue for negative, white for zero, red for positive.
NEGATIVE, ZERO, POSITIVE = np.array([33, 102, 172]), np.array([247, 247, 247]), np.array([178, 24, 43])
GAP = np.array([64, 64, 64], dtype=np.uint8)  # NaN cells: padding between tiles and unused grid cells
TARGET_PIXELS = 512  # automatic scaling enlarges the longer side towards this


def encode_png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of a (H, W, 3) uint8 array, written with zlib only (no Qt, no Pillow)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"expected a non-empty (H, W, 3) image, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """(H, W) floats -> (H, W, 3) uint8: -limit blue, 0 white, +limit red (limit: max |value|); NaN grey."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {values.shape}")
    limit = symmetric_limit(values) if limit is None else limit
    t = np.clip(np.nan_to_num(values / limit), -1.0, 1.0)[..., None]
    colour = np.where(t < 0, ZERO + (NEGATIVE - ZERO) * -t, ZERO + (POSITIVE - ZERO) * t)
    out = np.rint(colour).astype(np.uint8)
    out[np.isnan(values)] = GAP
    return out


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """(H, W) floats through the diverging map, or (H, W, 3) floats in [0, 1] as colour; NaN grey."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return diverging(image)
    if image.ndim == 3 and image.shape[2] == 3:
        out = np.rint(np.clip(np.nan_to_num(image), 0.0, 1.0) * 255).astype(np.uint8)
        out[np.isnan(image).any(axis=2)] = GAP
        return out
    raise ValueError(f"expected an (H, W) or (H, W, 3) array, got shape {image.shape}")


def auto_scale(height: int, width: int) -> int:
    """Whole-number enlargement so that small kernels stay visible: towards TARGET_PIXELS, 1 to 32."""
    return int(min(32, max(1, TARGET_PIXELS // max(height, width, 1))))


def save_png(image: np.ndarray, path: str | os.PathLike, scale: int | None = None) -> Path:
    """Write an (H, W) or (H, W, 3) float array as a PNG, each pixel a scale x scale block (atomic)."""
    path = check_destination(path, PNG_SUFFIXES, "PNG")
    rgb = to_rgb8(image)
    scale = auto_scale(*rgb.shape[:2]) if scale is None else scale
    if scale < 1:
        raise ExportError(f"{path}: scale must be at least 1, not {scale}")
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    try:
        write_atomically(path, encode_png(rgb))
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def filter_mosaic(weights: np.ndarray) -> np.ndarray:
    """The same mosaic the app's filter view shows: colour tiles for RGB-input layers, else grey kernels."""
    return tile_kernels(weights, rgb=weights.shape[1] == 3)


def activation_mosaic(maps: np.ndarray) -> np.ndarray:
    """One sample's layer output: (C, H, W) as a near-square grid of maps; (N,) as a one-row strip."""
    return tile_maps(maps) if maps.ndim == 3 else maps.reshape(1, -1)


def _out_folder(out_dir: str | os.PathLike) -> Path:
    out_dir = Path(out_dir)
    if not out_dir.parent.is_dir():
        raise ExportError(f"{out_dir}: the folder {out_dir.parent} does not exist; create it first")
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir}: is a file; give a folder for the PNGs")
    out_dir.mkdir(exist_ok=True)
    return out_dir


def export_filter_pngs(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                       out_dir: str | os.PathLike) -> list[Path]:
    """One PNG per conv layer, 'layer<i>_conv2d_filters.png', in `out_dir` (created if its parent exists)."""
    model = eval_model(arch, weights)
    convs = [(i, m) for i, (m, spec) in enumerate(zip(model, arch.layers), start=1) if has_filters(spec.TYPE)]
    if not convs:
        raise ExportError("the network has no convolution layers, so there are no filters to draw")
    folder = _out_folder(out_dir)
    return [save_png(filter_mosaic(m.weight.detach().numpy().astype(np.float32)),
                     folder / f"layer{i}_conv2d_filters.png") for i, m in convs]


def export_activation_pngs(arch: Architecture, weights: dict[str, torch.Tensor] | nn.Module | None,
                           sample: np.ndarray, out_dir: str | os.PathLike) -> list[Path]:
    """Every layer's output for one input `sample` (C, H, W), one PNG each: 'layer<i>_<type>_activations.png'."""
    sample = np.asarray(sample, dtype=np.float32)
    if sample.shape != arch.input.as_tuple():
        raise ExportError(f"the sample has shape {sample.shape}; the network takes {arch.input.as_tuple()}")
    model = eval_model(arch, weights)
    folder = _out_folder(out_dir)
    paths = []
    with torch.no_grad():  # layer_outputs: a graph's layers run on what they read, not one after another
        outputs = model.layer_outputs(torch.from_numpy(sample)[None])
    for i, spec in enumerate(arch.layers, start=1):
        paths.append(save_png(activation_mosaic(outputs[i][0].numpy()), folder / f"layer{i}_{spec.TYPE}_activations.png"))
    return paths
