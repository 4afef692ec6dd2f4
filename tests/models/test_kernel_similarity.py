"""Cosine similarity picks the learned filter that is a (scaled, possibly inverted) copy of the classical kernel."""

import numpy as np
import pytest

from models.kernel_library import KERNELS
from models.kernel_similarity import classical_weights, cosine_similarities, ranking


def test_the_scaled_copy_wins_and_an_inverted_copy_counts_as_much():
    sobel = classical_weights("sobel_x", 2, 3, 3)[0]
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(5, 2, 3, 3)) * 0.1
    weights[3] = 0.2 * sobel
    weights[1] = -0.5 * sobel + 0.01
    cos = cosine_similarities(sobel, weights)
    assert cos[3] == pytest.approx(1.0) and cos[1] < -0.99
    assert [m for m, _ in ranking(sobel, weights)[:2]] == [3, 1]
    np.testing.assert_allclose(cos[0], np.dot(weights[0].ravel(), sobel.ravel())
                               / np.linalg.norm(weights[0]) / np.linalg.norm(sobel))


def test_centred_in_a_5x5_and_zero_filters_score_zero():
    lap = classical_weights("laplacian", 1, 5, 5)
    assert lap.shape == (1, 1, 5, 5) and lap[0, 0, 1:4, 1:4].tolist() == [list(r) for r in KERNELS["laplacian"]]
    assert cosine_similarities(lap[0], np.zeros((2, 1, 5, 5))).tolist() == [0.0, 0.0]
