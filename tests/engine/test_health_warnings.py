"""Issue 28 item 4: health warnings that hold when most layers are dead, percentages that never round to 100%,
and snapshots that blew up (inf/NaN) said plainly instead of as nan statistics."""

from __future__ import annotations

import math

import numpy as np
import torch
from safetensors.torch import save_file

from engine.inspection.health import LayerHealth, network_health, percent, warnings_for
from engine.network.builder import build_model
from engine.run_folder.timeline import timeline
from main import main
from tests.engine.test_health import MLP, inputs, train_run


def test_four_of_five_gradient_norms_at_zero_warn_and_a_vanishing_one_is_measured_against_the_non_zero():
    layers = [LayerHealth(i, "linear", gradient_norm=n) for i, n in ((1, 0.0), (3, 0.0), (5, 0.0), (7, 0.0),
                                                                     (9, 0.8))]
    found = warnings_for(layers)
    assert [(w.layer, w.kind) for w in found] == [(1, "no_gradient"), (3, "no_gradient"), (5, "no_gradient"),
                                                  (7, "no_gradient")]
    assert all("exactly 0" in w.message and w.advice for w in found)
    # A tiny non-zero norm among dead layers: compared with the other non-zero norms (median 1.5), not with 0.
    layers = [LayerHealth(1, "linear", gradient_norm=0.0), LayerHealth(3, "linear", gradient_norm=0.0),
              LayerHealth(5, "linear", gradient_norm=1e-7), LayerHealth(7, "linear", gradient_norm=1.0),
              LayerHealth(9, "linear", gradient_norm=2.0)]
    kinds = [(w.layer, w.kind) for w in warnings_for(layers)]
    assert kinds == [(1, "no_gradient"), (3, "no_gradient"), (5, "vanishing")]
    assert "median (1.5)" in warnings_for(layers)[-1].message


def test_a_fraction_is_never_rounded_to_100_or_0_percent_unless_it_is():
    assert [percent(f) for f in (1.0, 0.0, 0.5, 0.9994, 0.99996, 0.0004, 0.4)] == [
        "100%", "0%", "50%", "99.9%", "99.996%", "0.04%", "40%"]
    assert percent(1 - 1e-12) == ">99.9999%" and percent(1e-12) == "<0.0001%"
    for fraction in np.random.default_rng(0).uniform(0, 1, 2000) ** 8:  # many close to 0, some close to 1
        text = percent(float(fraction))
        assert text not in ("0%", "100%") and not text.startswith(("0.0%", "100.")), (fraction, text)
        assert text.startswith(("<", ">")) or abs(float(text.rstrip("%")) / 100 - fraction) <= 0.005
    message = warnings_for([LayerHealth(5, "relu", dead_fraction=1 - 6 / 10_000)])[0].message
    assert message.startswith("layer 5 (relu): 99.9% of units dead") and "100%" not in message


def test_inf_weights_are_warned_by_name_and_leave_no_nan_statistics():
    model = build_model(MLP)
    with torch.no_grad():
        model[3].weight[0, :3] = math.inf
        model[3].bias[1] = math.nan
    layers = network_health(MLP, model, torch.from_numpy(inputs()))
    sick = layers[3]
    assert sick.non_finite == {"weight": (3, 60), "bias": (1, 6)}
    assert (sick.weight_mean, sick.weight_std, sick.bias_mean) == (None, None, None)
    assert layers[1].weight_mean is not None and layers[2].dead_fraction is not None  # before it: measured
    assert all(la.dead_fraction is None and la.saturated_fraction is None for la in layers[3:])  # after: not
    found = warnings_for(layers)
    assert [(w.layer, w.kind) for w in found] == [(4, "non_finite")]
    assert "weight 3 of 60, bias 1 of 6" in found[0].message and "lower the learning rate" in found[0].message
    assert all(v is None or not (isinstance(v, float) and math.isnan(v)) for v in sick.to_dict().values())


def test_health_of_a_snapshot_holding_inf_says_so_instead_of_nan(tmp_path, capsys):
    train_run(tmp_path, 0.01)
    newest = timeline(tmp_path)[-1]
    from engine.network.weights import load_state_dict
    state = load_state_dict(tmp_path / newest.file)
    state["0.weight"] = state["0.weight"].clone()
    state["0.weight"][0, 0, 0, 0] = math.inf
    save_file(state, str(tmp_path / newest.file))
    capsys.readouterr()
    assert main(["health", str(tmp_path), "--step", str(newest.step)]) == 0
    out = capsys.readouterr().out
    assert "warning: layer 1 (conv2d): the snapshot holds inf or NaN values (weight 1 of 36)" in out
    assert "nan" not in out.lower().replace("inf or nan", "") and "no warnings" not in out


def test_the_windows_adapter_reads_one_snapshot_and_agrees_with_health(tmp_path, capsys):
    from engine.inspection.snapshot_health import followed_snapshot_warnings
    from engine.network.weights import load_state_dict
    from engine.run_folder import read_run_log
    from tests.engine.training_data import tiny_arch

    trainer, dataset = train_run(tmp_path, 0.01)
    log = read_run_log(tmp_path)
    entries = timeline(tmp_path)
    older, newest = entries[0], entries[-1]
    assert older.dtype == "bfloat16"  # a retired snapshot reads too
    images = dataset.val.images[:512]
    norms = {s.step: dict(s.gradient_norms) for s in log.snapshots}
    assert followed_snapshot_warnings(tmp_path, tiny_arch(), older.step, images, norms[older.step]) == []
    state = load_state_dict(tmp_path / newest.file)
    state["0.bias"] = torch.full_like(state["0.bias"], -1000.0)  # every conv output negative: the ReLU all dead
    save_file(state, str(tmp_path / newest.file))
    found = followed_snapshot_warnings(tmp_path, tiny_arch(), newest.step, images, norms[newest.step])
    assert [(w.layer, w.kind, w.label) for w in found] == [(2, "dead", "layer 2 (relu)")]
    assert found[0].finding.startswith("100% of units dead") and found[0].advice.startswith("try a lower")
    capsys.readouterr()
    assert main(["health", str(tmp_path)]) == 0  # the CLI, reading the log and the timeline, says the same
    assert f"warning: {found[0].message}" in capsys.readouterr().out
