"""Issue 28 item 4: the followed run's health warnings in the window, a line above the live views and a badge on
each canvas block whose layer has one, each saying what to try."""

from __future__ import annotations

import re

from engine.inspection.health import HealthWarning
from gui.document.document_io import DISCARD
from gui.training.health_line import HealthLine
from gui.workspace import Workspace
from models.presets import load_preset
from tests.gui.training.test_child_process import WAIT_MS

LENET = load_preset("lenet5")


def dead(layer: int, share: str = "100%") -> HealthWarning:
    return HealthWarning(layer, "dead", f"layer {layer} (relu)", f"{share} of units dead (0 for every probe input)",
                         "try a lower learning rate, leaky ReLU, batch norm before it, or another initialisation")


def test_the_line_says_since_when_most_serious_first_and_the_canvas_notes_are_by_layer_number(qtbot):
    line = HealthLine(Workspace())
    qtbot.addWidget(line)
    sent = []
    line.health_changed.connect(lambda notes, arch: sent.append((notes, arch)))
    gone = HealthWarning(4, "no_gradient", "layer 4 (conv2d)", "gradient is exactly 0: its parameters no longer "
                         "learn", "look for dead layers after it")
    line.show_health(120, [gone, dead(5)], LENET)  # a screenshot can set this state without training
    assert not line.isHidden() and line.step == 120
    assert line.lines[0] == ("layer 5 (relu): 100% of units dead (0 for every probe input) at step 120 \u2014 try a "
                             "lower learning rate, leaky ReLU, batch norm before it, or another initialisation")
    assert line.lines[1].startswith("layer 4 (conv2d): gradient is exactly 0") and "at step 120" in line.lines[1]
    line.show_health(180, [dead(5, "99.9%"), dead(9, "93%")], LENET)
    assert [text.split(" \u2014 ")[0] for text in line.lines] == [
        "layer 5 (relu): 99.9% of units dead (0 for every probe input) since step 120",
        "layer 9 (relu): 93% of units dead (0 for every probe input) at step 180"]
    notes, arch = sent[-1]
    assert arch is LENET and set(notes) == {5, 9} and "since step 120 \u2014 try a lower learning rate" in notes[5][0]
    assert "\u26a0 layer 5 (relu)" in line.text() and line.toolTip().count("\n") == 1
    line.show_health(240, [dead(9, "93%")], LENET)  # layer 4's and 5's went away: if they come back, afresh
    line.show_health(300, [dead(5), dead(9), dead(11), gone], LENET)
    assert "layer 5 (relu): 100% of units dead (0 for every probe input) at step 300" in line.lines[0]
    assert "and 2 more" in line.text() and line.toolTip().count("\n") == 3
    line.show_health(360, [], LENET)
    assert line.isHidden() and line.lines == [] and sent[-1] == ({}, LENET)


def test_canvas_badges_follow_the_notes_while_the_network_is_the_one_they_describe(window):
    canvas = window.canvas
    notes = {5: ("100% of units dead since step 120 \u2014 try a lower learning rate",)}
    canvas.show_health(notes, window.network.architecture)
    assert canvas.block_view(4).health == notes[5]  # layer 5 of the summary table is block index 4
    assert [i for i in range(len(window.network)) if canvas.block_view(i).health] == [4]
    tip = canvas.tooltip_text(4)
    assert "Health of the run" in tip and "100% of units dead since step 120" in tip and "lower learning rate" in tip
    assert "Health" not in canvas.tooltip_text(3)
    window.editor.remove(0)  # an edit: the notes describe another network now
    assert not any(canvas.block_view(i).health for i in range(len(window.network)))
    window.undo_stack.undo()
    assert canvas.block_view(4).health == notes[5]
    canvas.show_health({}, None)
    assert not any(canvas.block_view(i).health for i in range(len(window.network)))


def train(qtbot, window, **settings):
    panel = window.training_panel
    panel.set_config(panel.config().replace(optimizer="sgd", batch_size=256, snapshot_interval=0.0, **settings))
    window.train_action.trigger()


def test_sgd_at_lr_5_badges_the_dead_layers_and_names_them_and_a_healthy_run_shows_none(qtbot, window):
    panel, health, canvas = window.training_panel, window.live_views.health, window.canvas
    with qtbot.waitSignal(panel.dataset_changed, timeout=WAIT_MS):
        panel.select_dataset("mnist")
    window.document.ask_unsaved_changes = lambda: DISCARD
    train(qtbot, window, learning_rate=5.0, epochs=3)
    qtbot.waitUntil(lambda: bool(health.lines), timeout=WAIT_MS)
    badged = [i for i in range(len(window.network)) if canvas.block_view(i).health]
    named = {int(m.group(1)) for m in (re.match(r"layer (\d+) \((\w+)\)", text) for text in health.lines) if m}
    assert badged and named == {i + 1 for i in badged} and not health.isHidden()  # numbered as the summary table
    assert all(f"layer {i + 1} ({window.network.layers[i].TYPE})" in "\n".join(health.lines) for i in badged)
    assert all(" \u2014 " in text and ("try" in text or "lower the learning rate" in text) for text in health.lines)
    qtbot.waitUntil(lambda: not window.session.is_running, timeout=WAIT_MS)

    window.training.ask_continue_training = lambda: "fresh"
    train(qtbot, window, learning_rate=0.01, epochs=2)
    qtbot.waitUntil(lambda: health.step is not None and health.step > 0, timeout=WAIT_MS)
    assert health.lines == [] and health.isHidden()
    assert not any(canvas.block_view(i).health for i in range(len(window.network)))
    qtbot.waitUntil(lambda: not window.session.is_running, timeout=WAIT_MS)
