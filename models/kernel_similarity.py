"""Which learned filter looks most like a classical kernel: cosine similarity of the weights (numpy only)."""

from __future__ import annotations

import numpy as np

from models.kernel_library import filter_values


def classical_weights(name: str, in_channels: int, kh: int, kw: int) -> np.ndarray:
    """A library kernel as one filter (1, in_channels, kh, kw), centred in a larger odd kernel."""
    return np.asarray(filter_values(name, 0, in_channels, kh, kw), dtype=np.float64)[None]


def cosine_similarities(kernel: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """cos(kernel, filter m) for each filter of `weights` (M, C, kh, kw); `kernel` is (C, kh, kw).
    A filter of all zeros has similarity 0."""
    k = np.asarray(kernel, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).reshape(len(weights), -1)
    norms = np.linalg.norm(w, axis=1) * np.linalg.norm(k)
    dots = w @ k
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def ranking(kernel: np.ndarray, weights: np.ndarray) -> list[tuple[int, float]]:
    """(filter, cosine) from the most to the least similar by |cosine|: an inverted edge detector (-0.9) is
    as much an edge detector as the kernel itself."""
    cos = cosine_similarities(kernel, weights)
    order = sorted(range(len(cos)), key=lambda m: (-abs(cos[m]), m))
    return [(m, float(cos[m])) for m in order]
