"""Hand-set conv filters: written into the built model, and frozen ones bit-identical after training with
AdamW / weight decay / momentum while the other filters change."""

import json

import pytest
import torch

from engine.network.builder import build_model
from engine.config import TrainConfig
from engine.network.kernel_init import FrozenFilters
from engine.training.trainer import Trainer
from models import architecture_file
from models.kernel_library import KERNELS, KERNEL_NAMES
from models.shapes import analyze
from tests.engine.training_data import tiny_dataset


def arch_with(init, frozen=True, kernel=3, channels=1, filters=None):
    return architecture_file.from_dict({
        "format": "convscope.architecture", "version": 2, "name": "hand-set",
        "input": {"channels": channels, "height": 8, "width": 8},
        "layers": [{"type": "conv2d", "out_channels": filters or len(init), "kernel_size": kernel, "padding": "same",
                    "init": init, "frozen_init": frozen},
                   {"type": "relu"}, {"type": "flatten"}, {"type": "linear", "out_features": 3}]})



def test_library_kernels_and_typed_numbers_land_in_the_weights():
    arch = arch_with(["sobel_x", None, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "identity"], frozen=True, channels=2)
    model = build_model(arch)
    w, b = model[0].weight, model[0].bias
    assert torch.equal(w[0, 0], torch.tensor(KERNELS["sobel_x"], dtype=torch.float32))
    assert torch.equal(w[0, 1], w[0, 0])  # a k x k kernel is used for every input channel
    assert torch.equal(w[2, 1], torch.arange(1.0, 10.0).reshape(3, 3))
    assert b[0] == 0 and b[2] == 0 and b[3] == 0
    # the random start is drawn as before: filters left null match a network without init (same seed)
    torch.manual_seed(0)
    a = build_model(arch)
    torch.manual_seed(0)
    c = build_model(arch_with([None] * 4, frozen=False, channels=2))
    assert torch.equal(a[0].weight[1], c[0].weight[1])


def test_a_shorter_list_sets_the_first_filters_and_the_rest_start_as_without_init():
    """Issue 28 item 13: one pick (sobel_x on a 6-filter conv) is a working layer, not "1 entries for 6"."""
    arch = arch_with(["sobel_x"], filters=6, frozen=True, channels=2)
    analysis = analyze(arch)
    assert analysis.is_valid, analysis.errors
    assert analysis.layers[0].frozen == 2 * 3 * 3 + 1 and analysis.total_frozen == 19  # its weights and its bias
    assert analysis.layers[0].params == 6 * (2 * 9 + 1)
    torch.manual_seed(0)
    model = build_model(arch)
    torch.manual_seed(0)
    plain = build_model(arch_with([None], filters=6, frozen=False, channels=2))
    assert torch.equal(model[0].weight[0, 1], torch.tensor(KERNELS["sobel_x"], dtype=torch.float32))
    assert torch.equal(model[0].weight[1:], plain[0].weight[1:]) and model[0].bias[0] == 0
    assert arch.layers[0].frozen_filters() == (0,)


def test_a_5x5_layer_takes_a_library_kernel_centred_and_an_even_one_is_refused():
    model = build_model(arch_with(["laplacian"], kernel=5))
    assert torch.equal(model[0].weight[0, 0, 1:4, 1:4], torch.tensor(KERNELS["laplacian"], dtype=torch.float32))
    assert model[0].weight[0, 0, 0].abs().sum() == 0
    errors = analyze(arch_with(["laplacian"], kernel=4)).errors
    assert errors and "laplacian is 3x3 and fits only odd kernels" in errors[0]


@pytest.mark.parametrize("changes, words", [
    ({"init": ["sobel_x", None, None]}, "init has 3 entries for 2 filters; give at most one per filter"),
    ({"init": ["sobel", None]}, "unknown kernel 'sobel'"),
    ({"init": [[[1, 2], [3, 4]], None]}, "filter 0: 2x2 numbers, but the filter is 1x3x3"),
    ({"init": "sobel_x"}, "expected a list with one entry per filter"),
    ({"frozen_init": 1}, "expected true or false"),
])
def test_bad_init_is_named(changes, words):
    layer = {"type": "conv2d", "out_channels": 2, "kernel_size": 3, **changes}
    text = json.dumps({"format": "convscope.architecture", "version": 2, "input": {"channels": 1, "height": 8,
                       "width": 8}, "layers": [layer]})
    try:
        arch = architecture_file.loads(text)
    except architecture_file.ArchitectureFileError as exc:
        assert words in str(exc) and "layer 1 (conv2d)" in str(exc)
        return
    assert any(words in e for e in analyze(arch).errors)


def test_files_stay_version_1_unless_a_new_field_is_used():
    plain = architecture_file.loads(architecture_file.dumps(arch_with([None, None], frozen=False)))
    data = json.loads(architecture_file.dumps(plain))
    assert data["version"] == 2  # init [null, null] is written: it is not the default
    lenet = json.loads(architecture_file.dumps(architecture_file.load("resources/presets/lenet5.json")))
    assert lenet["version"] == 1 and all("init" not in layer and "frozen_init" not in layer
                                         for layer in lenet["layers"])
    hand = arch_with(["sobel_y", None])
    again = architecture_file.loads(architecture_file.dumps(hand))
    assert again == hand and json.loads(architecture_file.dumps(hand))["version"] == 2


def frozen_unchanged_others_moved(model, start):
    w, b = model[0].weight.detach(), model[0].bias.detach()
    for n in (0, 2):
        assert torch.equal(w[n], start["0.weight"][n]) and b[n].item() == 0.0
    for n in (1, 3):
        assert not torch.equal(w[n], start["0.weight"][n])
    assert not torch.equal(model[3].weight.detach(), start["3.weight"])


@pytest.mark.parametrize("optimizer, extra", [("adam", {"weight_decay": 0.1}),
                                              ("sgd", {"momentum": 0.9, "weight_decay": 0.05})])
def test_frozen_sobel_is_bit_identical_after_training_while_the_others_change(optimizer, extra):
    arch = arch_with(["sobel_x", None, "sobel_y", None])
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=0.05, optimizer=optimizer, seed=1, device="cpu",
                         **extra)
    trainer = Trainer(arch, tiny_dataset(), config)
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    result = trainer.fit()
    assert result.reason == "completed", result
    frozen_unchanged_others_moved(trainer.model, start)


def test_frozen_filters_survive_adamw_decoupled_weight_decay():
    """AdamW shrinks every weight whatever its gradient: only restoring the slices keeps them exact."""
    arch = arch_with(["sobel_x", None, "laplacian", None])
    model = build_model(arch)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.5)
    frozen = FrozenFilters(model, arch)
    data = tiny_dataset()
    for step in range(20):
        x, y = data.train.images[step * 4:step * 4 + 4], data.train.labels[step * 4:step * 4 + 4]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        frozen.restore()
    frozen_unchanged_others_moved(model, start)


def test_unfrozen_hand_set_filters_are_starting_values_that_train():
    arch = arch_with(["sobel_x", None], frozen=False)
    trainer = Trainer(arch, tiny_dataset(), TrainConfig(epochs=1, batch_size=16, learning_rate=0.05, seed=1, device="cpu"))
    trainer.fit()
    assert not torch.equal(trainer.model[0].weight.detach()[0, 0], torch.tensor(KERNELS["sobel_x"]))


def test_every_library_name_is_documented_in_the_field_help():
    from models.layers import Conv2dSpec
    text = Conv2dSpec().fields()["init"].help
    assert all(name in text for name in KERNEL_NAMES)
