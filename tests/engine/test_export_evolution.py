"""filters-gif and activations-gif: one frame per snapshot on disk, each showing that snapshot's weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.datasets import load_dataset
from engine.export.evolution import BANNER
from engine.export.images import auto_scale, diverging, filter_mosaic
from engine.inspection.mosaic import symmetric_limit, tile_maps
from engine.run_folder import RunFolderWriter
from engine.run_folder.timeline import load_timeline_weights, timeline
from engine.training.trainer import Trainer
from engine.network.weights import apply_state_dict
from main import main
from tests.engine.training_data import tiny_arch, write_tiny_npz


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A tiny run folder with a snapshot after every batch (about 13), trained on an .npz it can reload."""
    folder = tmp_path_factory.mktemp("evolution")
    data = write_tiny_npz(folder / "tiny.npz")
    config = TrainConfig(dataset=str(data), epochs=2, batch_size=16, learning_rate=0.01, snapshot_interval=0.0,
                         device="cpu", threads=1)
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    trainer = Trainer(tiny_arch(), dataset, config)
    writer = RunFolderWriter(folder / "run", trainer.model, tiny_arch(), config, dataset.normalization)
    (folder / "run").mkdir()
    writer.start()
    trainer.callbacks.append(writer)
    trainer.fit()
    writer.close()
    return folder / "run"


def frames(path: Path) -> list[np.ndarray]:
    image = Image.open(path)
    out = []
    for i in range(image.n_frames):
        image.seek(i)
        out.append(np.asarray(image.convert("RGB")))
    return out


def unscaled(frame: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The frame's picture below the caption, one pixel per cell again (each cell was a scale x scale block)."""
    scale = auto_scale(*shape)
    return frame[BANNER:BANNER + shape[0] * scale:scale, :shape[1] * scale:scale].astype(int)


def test_filters_gif_has_one_frame_per_snapshot_showing_its_stored_filters(run, tmp_path):
    out = tmp_path / "filters.gif"
    assert main(["export", str(run), "--format", "filters-gif", "--out", str(out), "--delay", "50"]) == 0
    entries = timeline(run)
    got = frames(out)
    assert len(got) == len(entries) >= 10
    mosaics = [filter_mosaic(load_timeline_weights(run, e)["0.weight"].numpy()) for e in entries]
    limit = symmetric_limit(np.stack([np.nan_to_num(m) for m in mosaics]))  # one scale for every frame
    for frame, mosaic in zip(got, mosaics):
        expected = diverging(mosaic, limit).astype(int)
        assert np.abs(unscaled(frame, mosaic.shape) - expected).max() <= 24  # the GIF palette's rounding
    assert not np.array_equal(got[0], got[-1])
    assert Image.open(out).info["duration"] == 50


def test_activations_gif_shows_the_probe_maps_of_each_snapshot_computed_by_torch(run, tmp_path):
    out = tmp_path / "maps.gif"
    assert main(["export", str(run), "--format", "activations-gif", "--layer", "2", "--probe", "3",
                 "--out", str(out)]) == 0
    config = TrainConfig.from_dict({k: v for k, v in __import__("json").loads(
        (run / "settings.json").read_text()).items() if k != "normalization"})
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)
    x = dataset.val.images[3:4]
    entries, got = timeline(run), frames(out)
    assert len(got) == len(entries)
    maps = []
    for entry in entries:
        model = build_model(tiny_arch()).eval()
        apply_state_dict(model, load_timeline_weights(run, entry))
        with torch.no_grad():
            maps.append(tile_maps(torch.relu(model[0](x))[0].numpy()))  # layer 2 is the ReLU after the conv
    limit = symmetric_limit(np.stack([np.nan_to_num(m) for m in maps]))
    for frame, mosaic in zip(got, maps):
        assert np.abs(unscaled(frame, mosaic.shape) - diverging(mosaic, limit).astype(int)).max() <= 24


def test_evolution_exports_refuse_what_they_cannot_animate(run, tmp_path, capsys):
    capsys.readouterr()
    assert main(["export", str(run), "--format", "filters-gif", "--layer", "2", "--out",
                 str(tmp_path / "x.gif")]) == 2
    assert "--layer 2 is relu, which has no filters; conv layers: 1" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "filters-gif", "--out", str(tmp_path / "x.png")]) == 2
    assert "GIF files must end in .gif" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "activations-gif", "--probe", "999", "--out",
                 str(tmp_path / "x.gif")]) == 2
    assert "--probe 999: the validation split has 24 images" in capsys.readouterr().err
    assert not (tmp_path / "x.gif").exists()
