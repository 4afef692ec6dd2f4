"""File > Export...: every format written through the dialog's worker thread and read back; disabled formats; errors."""

from __future__ import annotations

import csv
import importlib.util
import io
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtGui import QImage
from shiboken6 import isValid

from engine.network.builder import build_model
from engine.export.torch_formats import load_torchscript
from engine.metrics import MetricsHistory
from engine.network.weights import load_state_dict
from gui.document.export_dialog import NO_HISTORY, NO_WEIGHTS, STALE_WEIGHTS, ExportDialog
from engine.export.formats import FORMATS, ExportFormat, ExportOption
from gui.document.export_worker import ExportRunner, file_stem
from models.presets import load_preset
from models.shapes import analyze

ARCH = load_preset("lenet5")
HISTORY = MetricsHistory(batches=[(1, 1, 2.3, 0.1), (2, 1, 1.9, 0.4)], epochs=[(1, 2, 2.1, 0.25, 1.8, 0.45)])
WEIGHT_FORMATS = ["state-dict", "safetensors", "torchscript", "onnx", "python", "filters-png"]


@pytest.fixture(scope="module")
def weights() -> dict[str, torch.Tensor]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        return {name: t.detach().clone() for name, t in build_model(ARCH).state_dict().items()}


@pytest.fixture
def runner(qtbot):
    runner = ExportRunner()
    yield runner
    assert runner.wait(30_000)


@pytest.fixture
def make_dialog(qtbot, tmp_path, runner):
    def make(weights=None, history=HISTORY, arch=ARCH) -> ExportDialog:
        dialog = ExportDialog(arch, weights, history, tmp_path, "lenet_5", runner)
        dialog.ask_output_path = lambda *_: pytest.fail("unexpected file dialog")
        dialog.confirm_overwrite = lambda *_: pytest.fail("unexpected question about replacing files")
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog
    return make


def export(qtbot, dialog: ExportDialog, key: str, path: Path | None = None) -> list[Path]:
    dialog.select_format(key)
    if path is not None:
        dialog.path_edit.setText(str(path))
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as blocker:
        dialog.export_button.click()
        assert dialog.is_busy and dialog.progress.isVisible() and not dialog.format_combo.isEnabled()
    # Closed on success (the window's dialog also deletes itself on close).
    assert not isValid(dialog) or (not dialog.isVisible() and not dialog.is_busy)
    return blocker.args[0]


def reference_output(weights, x: torch.Tensor) -> torch.Tensor:
    model = build_model(ARCH)
    model.load_state_dict(weights)
    with torch.no_grad():
        return model.eval()(x)


EXAMPLE = torch.rand(2, *ARCH.input.as_tuple(), generator=torch.Generator().manual_seed(0))


def check_state_dict(paths, weights):
    state = load_state_dict(paths[0])
    assert state.keys() == weights.keys() and all(torch.equal(state[k], weights[k]) for k in state)


def check_torchscript(paths, weights):
    with torch.no_grad():
        out = load_torchscript(paths[0])(EXAMPLE)
    torch.testing.assert_close(out, reference_output(weights, EXAMPLE))


def check_onnx(paths, weights):
    import onnx
    import onnxruntime
    onnx.checker.check_model(onnx.load(str(paths[0])), full_check=True)
    session = onnxruntime.InferenceSession(str(paths[0]), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": EXAMPLE.numpy()})  # a batch of 2: the batch axis is dynamic
    np.testing.assert_allclose(out, reference_output(weights, EXAMPLE).numpy(), rtol=1e-4, atol=1e-5)


def check_python(paths, weights):
    source, tensors = paths
    assert tensors == source.with_suffix(".safetensors")
    spec = importlib.util.spec_from_file_location(source.stem, source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with torch.no_grad():
        out = module.load()(EXAMPLE)
    torch.testing.assert_close(out, reference_output(weights, EXAMPLE))


def check_filters(paths, weights):
    assert [p.name for p in paths] == ["layer1_conv2d_filters.png", "layer4_conv2d_filters.png"]
    assert all(p.parent.name == "lenet_5_filters" for p in paths)
    assert all(not QImage(str(p)).isNull() for p in paths)


CHECKS = {"state-dict": check_state_dict, "safetensors": check_state_dict, "torchscript": check_torchscript,
          "onnx": check_onnx, "python": check_python, "filters-png": check_filters}


@pytest.mark.parametrize("key", WEIGHT_FORMATS)
def test_weight_formats_are_written_off_the_gui_thread_and_load_back(qtbot, make_dialog, weights, tmp_path, key):
    dialog = make_dialog(weights)
    paths = export(qtbot, dialog, key)
    fmt = next(f for f in FORMATS if f.key == key)
    written = paths[0].parent if fmt.is_folder else paths[0]
    assert written == tmp_path / fmt.name.format(stem="lenet_5")  # the suggested name, in the folder given
    CHECKS[key](paths, weights)


def test_metrics_csv_reads_back(qtbot, make_dialog, tmp_path):
    (path,) = export(qtbot, make_dialog(), "metrics-csv")
    assert path == tmp_path / "lenet_5_metrics.csv"
    assert MetricsHistory.from_csv(path.read_text()) == HISTORY


def test_summaries_need_no_weights(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    (md,) = export(qtbot, dialog, "summary-md")
    text = md.read_text()
    assert text.startswith("# LeNet-5") and f"{analyze(ARCH).total_params:,}" in text
    (table,) = export(qtbot, make_dialog(), "summary-csv", tmp_path / "table")  # the suffix is added
    assert table == tmp_path / "table.csv"
    rows = list(csv.reader(io.StringIO(table.read_text())))
    assert len(rows) >= len(ARCH.layers) + 1


def test_without_weights_the_weight_formats_are_disabled_with_the_reason(make_dialog):
    dialog = make_dialog(weights=None, history=MetricsHistory())
    model = dialog.format_combo.model()
    for row, fmt in enumerate(FORMATS):
        item = model.item(row)
        expected = NO_WEIGHTS if fmt.key in WEIGHT_FORMATS else NO_HISTORY if fmt.key == "metrics-csv" else ""
        assert dialog.reason(fmt.key) == expected
        assert item.isEnabled() == (not expected)
        assert (expected in item.toolTip()) if expected else not item.toolTip()
    assert dialog.fmt.key == "summary-md"  # the first format that can be written
    assert dialog.reason_label.isVisible() and NO_WEIGHTS in dialog.reason_label.text()
    dialog.select_format("onnx")  # not reachable by clicking; refused if forced
    assert not dialog.export() and not dialog.is_busy


def test_weights_from_another_network_are_stale(make_dialog, weights):
    edited = ARCH.with_layers((replace(ARCH.layers[0], out_channels=8),) + ARCH.layers[1:])
    dialog = make_dialog(weights, arch=edited)
    assert dialog.reason("onnx") == STALE_WEIGHTS and dialog.is_available("summary-md")


def test_an_export_error_stays_in_the_dialog(qtbot, make_dialog, weights, tmp_path):
    dialog = make_dialog(weights)
    dialog.select_format("onnx")
    dialog.path_edit.setText(str(tmp_path / "missing" / "net.onnx"))
    with qtbot.waitSignal(dialog._runner.failed, timeout=30_000):
        assert dialog.export()
    assert dialog.isVisible() and not dialog.is_busy and dialog.format_combo.isEnabled()
    message = dialog.message_label.text()
    assert message.startswith("Export failed:") and "does not exist" in message and "missing" in message
    assert not (tmp_path / "missing").exists()


def test_the_path_follows_the_format_and_the_chooser(make_dialog, weights, tmp_path):
    dialog = make_dialog(weights)
    dialog.select_format("onnx")
    assert dialog.path_edit.text() == str(tmp_path / "lenet_5.onnx")
    dialog.select_format("safetensors")
    assert dialog.path_edit.text() == str(tmp_path / "lenet_5.safetensors")
    chosen = tmp_path / "elsewhere" / "model.safetensors"
    asked = []
    dialog.ask_output_path = lambda fmt, current: asked.append((fmt.key, current)) or chosen
    dialog.browse_button.click()
    assert asked == [("safetensors", tmp_path / "lenet_5.safetensors")] and dialog.output_path() == chosen


def test_cancel_is_ignored_while_busy(qtbot, make_dialog):
    dialog = make_dialog()
    with qtbot.waitSignal(dialog.exported, timeout=30_000):
        dialog.export()
        dialog.reject()
        assert dialog.isVisible()


def test_the_runner_writes_on_a_pool_thread_and_reports_on_the_gui_thread(qtbot, runner, tmp_path):
    threads = {}

    def write(arch, weights, history, out, normalization):
        threads["write"] = threading.current_thread()
        return [out]

    fmt = ExportFormat("probe", "Probe", "{stem}.txt", (".txt",), "", write)
    runner.exported.connect(lambda _paths: threads.setdefault("report", threading.current_thread()))
    with qtbot.waitSignal(runner.exported, timeout=30_000) as blocker:
        runner.start(fmt, ARCH, None, HISTORY, tmp_path / "x.txt")
        assert runner.is_busy
        with pytest.raises(RuntimeError, match="already running"):
            runner.start(fmt, ARCH, None, HISTORY, tmp_path / "y.txt")
    assert blocker.args == [[tmp_path / "x.txt"]] and not runner.is_busy
    assert threads["write"] is not threading.main_thread() and threads["report"] is threading.main_thread()


def test_an_unexpected_exception_becomes_a_message(qtbot, runner, tmp_path):
    def write(*_args):
        raise ZeroDivisionError("boom")

    fmt = ExportFormat("probe", "Probe", "{stem}.txt", (".txt",), "", write)
    with qtbot.waitSignal(runner.failed, timeout=30_000) as blocker:
        runner.start(fmt, ARCH, None, HISTORY, tmp_path / "x.txt")
    assert blocker.args == [f"{tmp_path / 'x.txt'}: the Probe export failed unexpectedly (ZeroDivisionError: boom)"]


def test_a_format_declares_its_options_and_the_dialog_passes_them_to_the_writer(qtbot, tmp_path, runner):
    received = {}

    def write(arch, weights, history, out, normalization, layer, mode):
        received.update(layer=layer, mode=mode)
        out.write_text(f"{layer} {mode}")
        return [out]

    layer = ExportOption("layer", "Layer", 1, "which layer (1 = the first)", minimum=1, maximum=len(ARCH.layers))
    mode = ExportOption("mode", "Mode", "grid", "how to lay them out", choices=("grid", "row"))
    probe = ExportFormat("probe", "Probe", "{stem}.txt", (".txt",), "", write, options=(layer, mode))
    plain = ExportFormat("plain", "Plain", "{stem}.md", (".md",), "", lambda a, w, h, out, n: [out])
    dialog = ExportDialog(ARCH, None, HISTORY, tmp_path, "lenet_5", runner, formats=(plain, probe))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.options_box.isVisible()  # the first format takes none
    dialog.select_format("probe")
    spin, combo = dialog.option_editor("layer"), dialog.option_editor("mode")
    assert dialog.options_box.isVisible() and spin.isVisible() and (spin.minimum(), spin.maximum()) == (1, 12)
    assert spin.value() == 1 and combo.currentText() == "grid"
    spin.setValue(4)
    combo.setCurrentText("row")
    with qtbot.waitSignal(dialog.exported, timeout=30_000) as blocker:
        dialog.export_button.click()
    assert received == {"layer": 4, "mode": "row"} and blocker.args[0][0].read_text() == "4 row"


def test_the_onnx_opset_is_an_option_with_the_old_default(qtbot, make_dialog, weights, tmp_path):
    import onnx
    dialog = make_dialog(weights)
    dialog.select_format("onnx")
    assert dialog.option_values() == {"opset": 17, "input": "pixels"}
    dialog.option_editor("opset").setValue(18)
    (path,) = export(qtbot, dialog, "onnx")
    assert [o.version for o in onnx.load(str(path)).opset_import if o.domain == ""] == [18]


def test_file_stem_is_a_module_name():
    assert file_stem("LeNet-5") == "lenet_5" and file_stem("3 layers!") == "net_3_layers" and file_stem("") == "network"


def test_export_from_the_window_reports_the_path_in_the_status_bar(qtbot, window, weights, tmp_path):
    window.document.state.restore(HISTORY, weights)
    window.document.ask_save_path = lambda: tmp_path / "digits.convscope"
    window.document.save()
    dialog = window.show_export_dialog()
    dialog.ask_output_path = lambda *_: pytest.fail("unexpected file dialog")
    assert dialog.is_available("state-dict") and dialog.isModal()
    paths = export(qtbot, dialog, "state-dict")
    assert paths == [tmp_path / "digits.pt"]
    assert window.statusBar().currentMessage() == f"Exported {paths[0]}"
    qtbot.waitUntil(lambda: not isValid(dialog))  # WA_DeleteOnClose: a closed dialog does not linger
    check_state_dict(paths, weights)


def test_an_existing_file_is_replaced_only_when_the_user_agrees(qtbot, make_dialog, tmp_path):
    target = tmp_path / "lenet_5_summary.md"
    target.write_text("my notes")
    dialog = make_dialog()
    asked = []
    dialog.confirm_overwrite = lambda paths: asked.append(paths) or False
    dialog.select_format("summary-md")
    assert not dialog.export()
    assert asked == [[target]] and not dialog.is_busy and target.read_text() == "my notes"
    assert "Nothing exported" in dialog.message_label.text() and dialog.isVisible()
    dialog.confirm_overwrite = lambda paths: asked.append(paths) or True
    assert export(qtbot, dialog, "summary-md") == [target]
    assert "| # | Layer |" in target.read_text()


def test_the_python_export_also_asks_about_its_weights_file_and_a_filter_folder_about_its_files(make_dialog, weights,
                                                                                               tmp_path):
    (tmp_path / "lenet_5.safetensors").write_bytes(b"old")
    (tmp_path / "lenet_5_filters").mkdir()
    dialog = make_dialog(weights)
    dialog.select_format("python")
    assert dialog.existing_targets() == [tmp_path / "lenet_5.safetensors"]
    dialog.select_format("filters-png")
    assert dialog.existing_targets() == []  # an empty folder loses nothing
    (tmp_path / "lenet_5_filters" / "layer1_conv2d_filters.png").write_bytes(b"old")
    assert dialog.existing_targets() == [tmp_path / "lenet_5_filters"]
    dialog.select_format("onnx")
    assert dialog.existing_targets() == []


def test_a_file_the_save_dialog_already_confirmed_is_not_asked_about_again(qtbot, make_dialog, tmp_path):
    chosen = tmp_path / "table.csv"
    chosen.write_text("old")
    dialog = make_dialog()
    dialog.select_format("summary-csv")
    dialog.ask_output_path = lambda *_: chosen  # the platform dialog asked "Replace?" itself
    dialog.browse_button.click()
    assert export(qtbot, dialog, "summary-csv") == [chosen] and chosen.read_text() != "old"
