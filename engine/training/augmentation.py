"""Training-time augmentation as batched tensor operations on the device, seeded, for training batches only.

Operations (applied in this order, each to every image with its own random draw, no per-image loop):
- crop: pad CROP_PADDING pixels of black on every side, then cut the original size at a random offset;
- flip: mirror left-right with probability 1/2;
- affine: rotate by up to AFFINE_DEGREES, translate by up to AFFINE_TRANSLATE of the size, scale by
  1 +- AFFINE_SCALE (bilinear, black outside the image);
- cutout: set a CUTOUT_FRACTION-of-the-side square at a random centre to 0, the dataset's mean colour.
Images arrive normalised, so "black" is (0 - mean) / std per channel. Labels are never seen here.
`default` depends on the dataset (`default_operations`): none for digits (a mirrored 2 is no 2), crop + flip
for Fashion-MNIST, colour sets and image folders.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from engine.config import TrainConfig, augment_operations

CROP_PADDING = 2
AFFINE_DEGREES, AFFINE_TRANSLATE, AFFINE_SCALE = 10.0, 0.1, 0.1
CUTOUT_FRACTION = 0.25
SEED_OFFSET = 0x5EED  # the augmentation's own generator: turning it on leaves shuffling and dropout as they were
DIGIT_SETS = ("mnist", "mnist-full")
NATURAL_SETS = ("fashion-mnist", "fashion-mnist-full", "cifar10")


def default_operations(source: str, channels: int) -> tuple[str, ...]:
    """What `--augment default` means for a dataset source (a name or a path)."""
    if source in DIGIT_SETS:
        return ()
    if source in NATURAL_SETS:
        return ("crop", "flip")
    path = Path(source).expanduser()
    if path.is_dir():
        from engine.datasets.idx import is_idx_dir

        # IDX is MNIST's format: digits unless the folder says it is Fashion-MNIST
        if is_idx_dir(path) and "fashion" not in str(path).lower():
            return ()
        return ("crop", "flip")  # CIFAR batches, image folders
    if path.suffix.lower() == ".npz" and channels == 3:
        return ("crop", "flip")
    return ()  # a grayscale .npz or a dataset made in code: nothing is assumed about its images


def resolve_operations(config: TrainConfig, source: str, channels: int) -> tuple[str, ...]:
    """The operations a run applies, in their fixed order."""
    chosen = augment_operations(config.augment)
    return default_operations(source, channels) if chosen is None else chosen


def describe(operations: Sequence[str]) -> str:
    return " + ".join(operations) if operations else "none"


# --- the operations, on explicit random draws (so tests can hand them fixed ones) ------------------------------

def hflip(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mirror the images where `mask` (N,) is true."""
    return torch.where(mask.view(-1, 1, 1, 1), x.flip(3), x)


def crop(x: torch.Tensor, padding: int, top: torch.Tensor, left: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """Pad by `padding` with `fill` (1, C, 1, 1), then take each image's (H, W) window at (top, left) in
    [0, 2 * padding]: one gather for the batch."""
    n, c, h, w = x.shape
    border = 1.0 - F.pad(torch.ones((1, 1, h, w), dtype=x.dtype, device=x.device), (padding,) * 4)
    padded = F.pad(x, (padding,) * 4) + fill * border  # exact: the image's own values are not touched
    rows = (top.view(-1, 1) + torch.arange(h, device=x.device)).view(n, 1, h, 1).expand(n, c, h, w + 2 * padding)
    picked = padded.gather(2, rows)
    cols = (left.view(-1, 1) + torch.arange(w, device=x.device)).view(n, 1, 1, w).expand(n, c, h, w)
    return picked.gather(3, cols)


def affine(x: torch.Tensor, angle: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor,
           fill: torch.Tensor) -> torch.Tensor:
    """Rotate by `angle` (radians, N), translate by `shift` (N, 2, in half-sizes), scale by `scale` (N)."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill


def cutout(x: torch.Tensor, size: int, cy: torch.Tensor, cx: torch.Tensor) -> torch.Tensor:
    """Zero a size x size square centred at (cy, cx) (clipped at the border) in every image."""
    _, _, h, w = x.shape
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    top, left = (cy - size // 2).view(-1, 1, 1), (cx - size // 2).view(-1, 1, 1)
    inside = (ys >= top) & (ys < top + size) & (xs >= left) & (xs < left + size)
    return x.masked_fill(inside.unsqueeze(1), 0.0)


class Augmenter:
    """Call it on a training batch (N, C, H, W) on `device`; returns a new tensor, the batch is not modified."""

    def __init__(self, operations: Sequence[str], mean: Sequence[float], std: Sequence[float],
                 device: torch.device | str, seed: int) -> None:
        self.operations = tuple(operations)
        self.device = torch.device(device)
        mean_t, std_t = torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32)
        self.black = (-mean_t / std_t).view(1, -1, 1, 1).to(self.device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed + SEED_OFFSET)

    def __bool__(self) -> bool:
        return bool(self.operations)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.operations:
            return x
        n, _, h, w = x.shape
        g, dev = self.generator, x.device
        if "crop" in self.operations:
            top = torch.randint(0, 2 * CROP_PADDING + 1, (n,), generator=g, device=dev)
            left = torch.randint(0, 2 * CROP_PADDING + 1, (n,), generator=g, device=dev)
            x = crop(x, CROP_PADDING, top, left, self.black)
        if "flip" in self.operations:
            x = hflip(x, torch.rand(n, generator=g, device=dev) < 0.5)
        if "affine" in self.operations:
            u = torch.rand(n, 4, generator=g, device=dev) * 2 - 1
            x = affine(x, u[:, 0] * math.radians(AFFINE_DEGREES), u[:, 1:3] * (2 * AFFINE_TRANSLATE),
                       1 + u[:, 3] * AFFINE_SCALE, self.black)
        if "cutout" in self.operations:
            size = max(1, round(min(h, w) * CUTOUT_FRACTION))
            cy = torch.randint(0, h, (n,), generator=g, device=dev)
            cx = torch.randint(0, w, (n,), generator=g, device=dev)
            x = cutout(x, size, cy, cx)
        return x


def make_augmenter(config: TrainConfig, dataset, device: torch.device, stream: int = 0) -> Augmenter:
    """The run's augmenter (empty when it augments nothing) for `dataset`'s training batches; `stream` (the
    torchrun rank) gives each rank draws of its own."""
    operations = resolve_operations(config, dataset.name, dataset.input_shape[0])
    return Augmenter(operations, dataset.mean, dataset.std, device, config.seed + stream)
