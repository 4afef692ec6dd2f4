"""Activation maximisation: the found input excites its channel (or class) far more than any real sample does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.inspection.activation_maximisation import (MaximisationConfig, MaximisationError, channel_scores, maximise,
                                            pixel_grid)
from engine.scoring.evaluation import inspection_copy
from engine.project.run_input import read_run_input
from engine.scoring.split import images_to_score
from tests.engine.training_data import train_tiny_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    _, _, out = train_tiny_run(tmp_path_factory.mktemp("maximise"))
    project = read_run_input(out)
    images = images_to_score(project.config, None, "all", project.normalization, 3).split.images
    return project, inspection_copy(project.architecture, project.weights), images


LIGHT = MaximisationConfig(l2=0.005, total_variation=0.005)  # an 8x8 input has few pixels to pay the price with


@pytest.mark.parametrize("layer, channel, config", [(2, 1, MaximisationConfig()), (2, 3, MaximisationConfig()),
                                                    (5, 0, LIGHT), (5, 2, LIGHT)])  # conv channels after a ReLU; classes
def test_the_found_input_beats_every_real_sample(trained, layer, channel, config):
    project, model, images = trained
    pixels, chosen = maximise(model, (1, 8, 8), project.normalization, layer, [channel], config)
    assert chosen == [channel] and pixels.shape == (1, 1, 8, 8)
    assert pixels.min() >= 0 and pixels.max() <= 1  # clamped to the data range
    found = channel_scores(model, project.normalization.apply(torch.from_numpy(pixels)), layer, channel)[0]
    real = channel_scores(model, images, layer, channel)
    assert found > real.max() + 0.2 * (real.max() - real.min()), (found, real.max(), real.min())


def test_a_whole_layer_at_once_and_its_grid(trained):
    project, model, _ = trained
    seen = []
    pixels, chosen = maximise(model, (1, 8, 8), project.normalization, 1,
                              config=MaximisationConfig(steps=8), progress=seen.append)
    assert chosen == [0, 1, 2, 3] and pixels.shape == (4, 1, 8, 8) and seen[-1] == 1.0
    one, _ = maximise(model, (1, 8, 8), project.normalization, 1, [2], config=MaximisationConfig(steps=8))
    grid = pixel_grid(pixels)
    assert grid.shape == (17, 17, 3) and np.isnan(grid[8]).all()  # 2x2 tiles with a 1-pixel gap


def test_weights_are_untouched_and_bad_choices_are_named(trained):
    project, model, _ = trained
    before = {k: v.clone() for k, v in model.state_dict().items()}
    maximise(model, (1, 8, 8), project.normalization, 1, [0], config=MaximisationConfig(steps=4))
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    with pytest.raises(MaximisationError, match="channels 0 to 3; channel 9"):
        maximise(model, (1, 8, 8), project.normalization, 1, [9])
    with pytest.raises(MaximisationError, match="layer 12 does not exist: choose 1 to 5"):
        maximise(model, (1, 8, 8), project.normalization, 12)


def test_visualize_writes_the_grid_of_a_layer(tmp_path, capsys):
    from main import main

    _, _, out = train_tiny_run(tmp_path)
    grid = tmp_path / "grid.png"
    assert main(["visualize", str(out), "--layer", "1", "--steps", "8", "--out", str(grid)]) == 0
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4 channels maximised" in capsys.readouterr().out
    assert main(["visualize", str(out), "--layer", "1", "--channel", "7", "--out", str(grid)]) == 2
    assert "channels 0 to 3; channel 7" in capsys.readouterr().err
