"""The Experiments tab as a person uses it: pick what to vary, see the variants, run, read curves and table,
reopen the folder."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt

from gui.document.document_io import DISCARD
from models.architecture import Architecture
from tests.engine.training_data import tiny_arch, write_tiny_npz

WAIT_MS = 120_000


@pytest.fixture
def experiments(qtbot, window, tmp_path):
    data = write_tiny_npz(tmp_path / "tiny.npz")
    window.document.ask_unsaved_changes = lambda: DISCARD
    arch = tiny_arch()
    window.editor.set_architecture(Architecture(arch.name, arch.input, arch.layers), "tiny")
    panel = window.training_panel
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset(str(data))
    panel.set_config(panel.config().replace(batch_size=32, learning_rate=0.01, device="cpu", threads=1))
    window.tabs.setCurrentWidget(window.experiments)
    return window.experiments


def test_variants_are_listed_and_a_bad_value_is_named(qtbot, experiments):
    tab = experiments
    assert tab.preview.count() == 3 and tab.preview.item(0).text().startswith("pooling none: ")
    tab.what_box.setCurrentIndex(tab.what_box.findData("activation"))
    assert [tab.preview.item(i).text().split(":")[0] for i in range(3)] == [
        "activation relu", "activation tanh", "activation sigmoid"]
    tab.values_edit.setText("relu, swish")
    tab.values_edit.editingFinished.emit()
    assert "'swish' is not a activation value" in tab.status_label.text() and not tab.run_button.isEnabled()


def test_every_kind_of_variation_offers_values_that_list_variants(qtbot, experiments):
    # A kind added to models.experiment.VARY without default values here raised KeyError when chosen.
    tab = experiments
    for i in range(tab.what_box.count()):
        tab.what_box.setCurrentIndex(i)
        what = tab.what_box.currentData()
        if tab.preview.count():
            assert tab.preview.count() >= 2, what
        else:  # a variation this network cannot take is named (tiny_arch pools after its last conv)
            assert tab.status_label.text().startswith('Cannot run: field "vary"'), what


@pytest.mark.slow
def test_run_fills_curves_and_table_then_reopens(qtbot, window, experiments, tmp_path):
    tab = experiments
    tab.values_edit.setText("none, max")
    tab.values_edit.editingFinished.emit()
    tab.seeds_edit.setText("0, 1")
    tab.epochs_box.setValue(2)
    out = tmp_path / "exp"
    tab.ask_output_folder = lambda: str(out)
    with qtbot.waitSignal(tab._runner.finished, timeout=WAIT_MS):
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert tab.status_label.text().startswith("Done: 4 runs")
    headers = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())]
    assert headers[:4] == ["Variant", "Seed", "Parameters", "Mult-adds"]
    assert tab.table.rowCount() == 4 and tab.table.item(0, 0).text() == "pooling none"
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert tab.table.item(3, 2).text() == f"{int(rows[3]['params']):,}"
    assert set(tab.curves.lines) == {"pooling none", "pooling max"} and set(tab.curves.bands) == set(tab.curves.lines)
    assert all(not band.path().isEmpty() for band in tab.curves.bands.values())  # the band is drawn
    x, y = tab.curves.lines["pooling max"].getData()
    assert list(x) == [1.0, 2.0]
    assert y[1] == pytest.approx((float(rows[2]["final_val_accuracy"]) + float(rows[3]["final_val_accuracy"])) / 2)
    tab.results = []
    assert tab.open_folder(out) and tab.table.rowCount() == 4 and set(tab.curves.lines) == {"pooling none",
                                                                                              "pooling max"}
    assert not tab.open_folder(tmp_path) and "not an experiment folder" in tab.status_label.text()


def _wider(architecture: Architecture) -> Architecture:
    """The variant with its first conv layer's filters doubled (the edit a user types into the JSON)."""
    layers = list(architecture.layers)
    first = next(i for i, layer in enumerate(layers) if layer.TYPE == "conv2d")
    layers[first] = layers[first].replace(out_channels=layers[first].out_channels * 2)
    return Architecture(architecture.name, architecture.input, tuple(layers))


def test_an_edited_variant_is_listed_run_and_recorded(qtbot, window, experiments, tmp_path):
    from models import architecture_file
    from models.shapes import analyze

    tab = experiments
    tab.values_edit.setText("none, max")
    tab.values_edit.editingFinished.emit()
    original = tab.variants()[1].architecture
    tab.ask_variant_architecture = lambda label, arch: _wider(arch)
    assert tab.edit_variant(1)
    edited = tab.variants()[1].architecture
    assert edited == _wider(original) and tab.variants()[0].architecture != edited
    assert tab.preview.item(1).text().startswith(f"pooling max (edited): {analyze(edited).total_params:,} params")
    tab.epochs_box.setValue(1)
    out = tmp_path / "exp"
    tab.ask_output_folder = lambda: str(out)
    with qtbot.waitSignal(tab._runner.finished, timeout=WAIT_MS):
        assert tab.start()
    with open(out / "results.csv") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    assert int(rows["pooling max"]["params"]) == analyze(edited).total_params
    folder = next(p for p in out.iterdir() if p.is_dir() and "max" in p.name)
    assert architecture_file.load(folder / "architecture.json").layers == edited.layers
    window.editor.set_architecture(original, "another network")  # edits of the old network's variants go
    assert not tab.edited and "(edited)" not in tab.preview.item(1).text()


def test_the_variant_editor_keeps_only_a_network_that_works(qtbot, experiments):
    from gui.experiments.variant_editor import VariantEditor
    from models import architecture_file

    variant = experiments.variants()[0]
    editor = VariantEditor(variant.label, variant.architecture)
    qtbot.addWidget(editor)
    editor.text.setPlainText("{not json")
    editor.accept()
    assert editor.edited is None and editor.error_label.text().startswith("Not kept:")
    data = architecture_file.to_dict(variant.architecture)
    data["layers"][0]["kernel_size"] = 99  # larger than the input: the layer is named
    import json
    editor.text.setPlainText(json.dumps(data))
    editor.accept()
    assert editor.edited is None and "layer 1" in editor.error_label.text()
    editor.text.setPlainText(architecture_file.dumps(_wider(variant.architecture)))
    editor.accept()
    assert editor.edited == _wider(variant.architecture) and editor.result() == editor.DialogCode.Accepted
