"""Evolution exports: a layer's filters, or the probe's activation maps, over a run's snapshot timeline, as a GIF.

One frame per snapshot on disk (engine/run_folder/timeline.py), the step and epoch written above each. The
colour scale is the same on every frame (max |value| over all of them), so a filter fading or growing shows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from engine.export.images import activation_mosaic, auto_scale, diverging, filter_mosaic, to_rgb8
from engine.export.target import ExportError, check_destination, eval_model
from engine.inspection.mosaic import symmetric_limit
from models.architecture import Architecture
from models.atomic_file import write_atomically
from models.layers import has_filters

GIF_SUFFIXES = (".gif",)
BANNER = 14          # pixels of caption above each frame
MAX_FRAMES = 1000    # the timeline's own bound; a GIF this long is still a few MB for small layers


def _entries(folder: Path):
    from engine.run_folder import RunFolderError
    from engine.run_folder.timeline import timeline

    try:
        entries = timeline(folder)
    except RunFolderError as exc:
        raise ExportError(str(exc)) from None
    if not entries:
        raise ExportError(f"{folder}: the run folder has no snapshots on disk, so there is nothing to animate; "
                          f"train with `train --out {folder}` first")
    return entries[-MAX_FRAMES:]


def _models(arch: Architecture, folder: Path, progress: Callable[[float], None] | None = None):
    """(entry, eval-mode model) per snapshot, oldest first; a snapshot thinned away meanwhile is skipped.
    `progress(fraction)` is told after each snapshot (the window's progress bar)."""
    from engine.run_folder import RunFolderError
    from engine.run_folder.timeline import load_timeline_weights

    entries = _entries(folder)
    for done, entry in enumerate(entries, start=1):
        try:
            weights = load_timeline_weights(folder, entry)
        except RunFolderError:
            continue  # a live run thinned it between listing and reading: the frame is left out
        yield entry, eval_model(arch, weights)
        if progress is not None:
            progress(done / len(entries))


def _layer(arch: Architecture, layer: int, conv_only: bool) -> int:
    """The 1-based layer index checked against the architecture (0 picks the first conv layer)."""
    convs = [i for i, spec in enumerate(arch.layers, start=1) if has_filters(spec.TYPE)]
    if layer == 0:
        if not conv_only:
            return 1
        if not convs:
            raise ExportError("the network has no convolution layers, so there are no filters to animate")
        return convs[0]
    if not 1 <= layer <= len(arch.layers):
        raise ExportError(f"--layer {layer}: the network has layers 1 to {len(arch.layers)}")
    if conv_only and layer not in convs:
        raise ExportError(f"--layer {layer} is {arch.layers[layer - 1].TYPE}, which has no filters; "
                          f"conv layers: {', '.join(map(str, convs)) or 'none'}")
    return layer


def _frames(images: list[np.ndarray], captions: list[str]) -> list:
    """Pillow frames: each image through the shared diverging scale (or as colour), enlarged, captioned."""
    from PIL import Image, ImageDraw

    limit = symmetric_limit(np.stack([np.nan_to_num(i) for i in images]))
    frames = []
    for image, caption in zip(images, captions):
        rgb = diverging(image, limit) if image.ndim == 2 else to_rgb8(image)
        scale = auto_scale(*rgb.shape[:2])
        rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
        canvas = Image.new("RGB", (max(rgb.shape[1], 120), rgb.shape[0] + BANNER), (255, 255, 255))
        canvas.paste(Image.fromarray(rgb), (0, BANNER))
        ImageDraw.Draw(canvas).text((2, 1), caption, fill=(0, 0, 0))
        frames.append(canvas)
    return frames


def _write_gif(frames: list, out: Path, frame_ms: int) -> Path:
    import io

    buf = io.BytesIO()
    # disposal 1 and a fixed palette per frame keep every frame whole (no transparency tricks between them).
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0,
                   disposal=1, optimize=False)
    try:
        write_atomically(out, buf.getvalue())
    except OSError as exc:
        raise ExportError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return out


def _caption(entry) -> str:
    return f"step {entry.step:,}  epoch {entry.epoch}"


def export_filters_gif(arch: Architecture, folder: str | os.PathLike, out: str | os.PathLike, layer: int = 0,
                       frame_ms: int = 200, progress: Callable[[float], None] | None = None) -> Path:
    """The filters of conv layer `layer` (1-based; 0: the first conv layer) at every snapshot, one GIF frame each."""
    out = check_destination(out, GIF_SUFFIXES, "GIF")
    index = _layer(arch, layer, conv_only=True)
    images, captions = [], []
    for entry, model in _models(arch, Path(folder), progress):
        images.append(filter_mosaic(model[index - 1].weight.detach().numpy().astype(np.float32)))
        captions.append(_caption(entry))
    if not images:
        raise ExportError(f"{folder}: every snapshot was thinned away while reading; try again")
    return _write_gif(_frames(images, captions), out, frame_ms)


def layer_output(model, index: int, sample: torch.Tensor) -> np.ndarray:
    """Layer `index`'s (1-based) output for one sample (C, H, W), without the batch dimension (a graph's too:
    ConvNet.output_of runs what the layer reads, not the children in turn)."""
    with torch.no_grad():
        return model.output_of(sample[None], index)[0].numpy()


def export_activations_gif(arch: Architecture, folder: str | os.PathLike, out: str | os.PathLike,
                           sample: np.ndarray, layer: int = 1, frame_ms: int = 200, label: str = "",
                           progress: Callable[[float], None] | None = None) -> Path:
    """Layer `layer`'s activation maps for one input `sample` (C, H, W, normalised) at every snapshot, as a GIF."""
    out = check_destination(out, GIF_SUFFIXES, "GIF")
    index = _layer(arch, layer, conv_only=False)
    sample_t = torch.from_numpy(np.asarray(sample, dtype=np.float32))
    if tuple(sample_t.shape) != arch.input.as_tuple():
        raise ExportError(f"the sample has shape {tuple(sample_t.shape)}; the network takes {arch.input.as_tuple()}")
    images, captions = [], []
    for entry, model in _models(arch, Path(folder), progress):
        images.append(activation_mosaic(layer_output(model, index, sample_t)))
        captions.append(f"{_caption(entry)}{'  ' + label if label else ''}")
    if not images:
        raise ExportError(f"{folder}: every snapshot was thinned away while reading; try again")
    return _write_gif(_frames(images, captions), out, frame_ms)
