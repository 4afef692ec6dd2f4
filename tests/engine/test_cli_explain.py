"""`python main.py explain`: the map of one image, indexed as evaluate's mistakes are, and clean errors."""

from __future__ import annotations

import numpy as np
import pytest

from engine.scoring.evaluation import inspection_copy
from engine.inspection.explanations import explain
from engine.project.run_input import read_run_input
from engine.scoring.split import images_to_score
from main import main
from tests.engine.training_data import evaluate_json, train_tiny_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("explain"))


def reference(out, dataset, split, sample, method, target=None, layer=None):
    project = read_run_input(out)
    images = images_to_score(project.config, dataset, split, project.normalization, 3).split.images
    model = inspection_copy(project.architecture, project.weights)
    if target is None:
        target = int(model.logits(images[sample][None]).argmax())
    return explain(model, images[sample], target, method, normalization=project.normalization, layer=layer,
                   arch=project.architecture)


@pytest.mark.parametrize("method, layer", [("gradcam", "1"), ("saliency", None), ("integrated-gradients", None)])
def test_the_raw_map_is_the_explanation_of_that_validation_sample(run, tmp_path, capsys, method, layer):
    _, _, out = run
    png, npy = tmp_path / "map.png", tmp_path / "map.npy"
    extra = ["--layer", layer] if layer else []
    assert main(["explain", str(out), "--sample", "3", "--method", method, *extra, "--out", str(png),
                 "--npy", str(npy)]) == 0
    raw = np.load(npy)
    assert raw.dtype == np.float32 and raw.shape == (8, 8)
    np.testing.assert_allclose(raw, reference(out, None, "val", 3, method, layer=int(layer) if layer else None),
                               atol=1e-5)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "on sample 3 of the validation split" in capsys.readouterr().out


def test_a_mistake_from_evaluate_is_explained_under_the_same_index(run, tmp_path, capsys):
    _, data, out = run
    result = evaluate_json(capsys, str(out), "--dataset", str(data), "--split", "all")
    assert main(["explain", str(out), "--dataset", str(data), "--sample", "7", "--method", "saliency",
                 "--target", "2", "--out", str(tmp_path / "m.png"), "--npy", str(tmp_path / "m.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "m.npy"), reference(out, str(data), "all", 7, "saliency", 2),
                               atol=1e-6)
    for mistake in result["mistakes"][:1]:
        capsys.readouterr()
        assert main(["explain", str(out), "--dataset", str(data), "--sample", str(mistake["index"]), "--method",
                     "occlusion", "--out", str(tmp_path / "o.png")]) == 0
        line = capsys.readouterr().out
        assert f"true {mistake['label']}, predicted {mistake['predicted']}" in line


@pytest.mark.parametrize("args, pattern", [
    (["--sample", "999", "--method", "saliency"], r"--sample 999 is out of range: .* 0 to 23"),
    (["--sample", "0", "--method", "cam"], r"global-average-pooling"),
    (["--sample", "0", "--method", "saliency", "--target", "5"], r"target class 5 is out of range"),
    (["--sample", "0", "--method", "gradcam", "--layer", "4"], r"layer 4 .* no 2-D maps"),
    (["--sample", "0", "--method", "saliency", "--split", "test"], r"has no test split"),
])
def test_bad_input_exits_2_with_one_clear_line(run, tmp_path, capsys, args, pattern):
    import re

    _, _, out = run
    capsys.readouterr()
    assert main(["explain", str(out), *args, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(pattern, err), err
    assert not (tmp_path / "x.png").exists()


def test_the_command_offers_exactly_the_registry_and_other_commands_never_import_torch_for_it(tmp_path, capsys):
    import re
    import subprocess
    import sys

    from engine.inspection.explanations import METHODS

    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "run", "--sample", "0", "--method", "edges", "--out", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'edges'" in err and all(repr(key) in err for key in METHODS)
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    shown = re.sub(r"-\n\s+", "-", capsys.readouterr().out)  # argparse may wrap "integrated-gradients" at its hyphen
    assert all(key in shown for key in METHODS)
    # Every command's parser is built at start-up: `summary` must not pay for the registry's torch import.
    code = ("import sys, main; main.main(['summary', 'resources/presets/lenet5.json']); "
            "sys.exit(3 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
