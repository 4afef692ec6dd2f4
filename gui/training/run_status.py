"""The training dock's run status: a progress bar, the progress line (epoch, step, speed, time left) and the
outcome of the run, or what the network holds between runs."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget
from gui.views.message_label import MessageLabel

from engine.config import TrainConfig
from engine.events import COMPLETED, DIVERGED, FAILED, STOPPED, BatchEnded, TrainingFinished

_OUTCOME_ICONS = {COMPLETED: "\u2714", STOPPED: "\u25a0", DIVERGED: "\u26a0", FAILED: "\u2716"}
UNTRAINED = "Not trained yet."
# The first batches carry the start-up (threads, allocation, a paused run's wait): the rate over one Step gave
# "4:14:20 left". No time left is promised before this many steps.
ETA_AFTER_STEPS = 20


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _label(object_name: str) -> QLabel:
    label = MessageLabel()
    label.setObjectName(object_name)
    return label


class RunStatus(QWidget):
    """`bar`, `progress` and `outcome` (QLabel) show one run at a time; the owner feeds them its events."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setObjectName("runProgress")
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p%")
        self.progress = _label("progressLabel")
        self.outcome = _label("outcomeLabel")
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for widget in (self.bar, self.progress, self.outcome):
            layout.addWidget(widget)
        self.bar.setValue(0)
        self.progress.setText(UNTRAINED)
        self.outcome.hide()

    # -- a run ---------------------------------------------------------------------------------------------
    def started(self, outcome_text: str, continued_from: tuple[int, int] | None = None) -> None:
        self.bar.setValue(0)
        self.progress.setText("Starting\u2026" if continued_from is None else
                              f"Continuing from step {continued_from[0]:,} (epoch {continued_from[1]})\u2026")
        self.set_outcome("running", outcome_text)

    def show_progress(self, event: BatchEnded | None, config: TrainConfig, *, paused: bool, waiting: bool = False,
                      finished: TrainingFinished | None = None,
                      continued_from: tuple[int, int] | None = None) -> None:
        """The progress line for the latest batch (during the run), or for the run's end (`finished`).
        `continued_from`: (step, epoch) of the history the run continues; the line says both numberings."""
        if event is None:
            if finished is not None:
                self.progress.setText("No batch was trained.")
            elif waiting:  # the log says it sits paused before its first batch (--paused, or Step from idle)
                self.progress.setText("Paused before the first batch")
            return
        if isinstance(event.batches_per_epoch, float) and math.isnan(event.batches_per_epoch):
            # A RunWriter loop that did not say how many batches an epoch has: no total to measure against.
            step = finished.step if finished is not None and finished.step > 0 else event.step
            self.progress.setText(("Paused \u00b7 " if paused else "") + f"Epoch {event.epoch} \u00b7 step {step:,}")
            return
        total = max(1, config.epochs * event.batches_per_epoch)
        done = (event.epoch - 1) * event.batches_per_epoch + event.batch
        step, epoch = event.step, event.epoch
        if finished is not None and finished.step > 0:  # the run's last step: the log samples its batches
            step, epoch = finished.step, (finished.step - 1) // event.batches_per_epoch + 1
        if finished is None:
            self.bar.setValue(round(1000 * done / total))
        rate = [f"{event.samples_per_second:,.0f} samples/s"]
        if finished is None and not paused and event.step >= ETA_AFTER_STEPS and event.samples_per_second > 0:
            left = (total - done) * config.batch_size / event.samples_per_second
            rate.append(f"{format_duration(left)} left")
        prefix = "Paused \u00b7 " if paused else ""
        if continued_from is None:
            line = f"Epoch {epoch} of {config.epochs} \u00b7 step {step:,} of {total:,}"
        else:  # the run's own numbers drive the bar and the time left; the overall ones match the curves
            line = (f"{'Continued' if finished else 'Continuing'}: epoch {epoch} of {config.epochs} of this run "
                    f"(epoch {epoch + continued_from[1]} overall) \u00b7 step {step:,} of {total:,} "
                    f"({step + continued_from[0]:,} overall)")
        self.progress.setText(f"{prefix}{line}\n" + " \u00b7 ".join(rate))

    def finished(self, result: TrainingFinished, last: BatchEnded | None, config: TrainConfig,
                 continued_from: tuple[int, int] | None = None) -> None:
        if result.reason == COMPLETED:
            self.bar.setValue(self.bar.maximum())
        self.show_progress(last, config, paused=False, finished=result, continued_from=continued_from)
        text = result.message[:1].upper() + result.message[1:]
        self.set_outcome(result.reason, f"{_OUTCOME_ICONS.get(result.reason, '')}  {text}")

    # -- between runs --------------------------------------------------------------------------------------
    def show_loaded(self, text: str | None) -> None:
        """What the network holds (e.g. weights from an opened project); None: untrained. The outcome of an
        earlier run goes: it was about other weights."""
        self.bar.setValue(1000 if text else 0)
        self.progress.setText(text or UNTRAINED)
        self.outcome.hide()

    def show_untrained(self, text: str, *, keep_outcome: bool) -> None:
        self.bar.setValue(0)
        self.progress.setText(text)
        if not keep_outcome:
            self.outcome.hide()

    # -- the outcome line ----------------------------------------------------------------------------------
    def set_outcome(self, state: str, text: str) -> None:
        self.outcome.setText(text)
        self.outcome.setProperty("outcome", state)  # style.qss colours it by state
        self.outcome.style().unpolish(self.outcome)
        self.outcome.style().polish(self.outcome)
        self.outcome.show()

    def add_note(self, note: str) -> None:
        """Say why the run ended (e.g. the network was replaced) above the outcome."""
        state, text = self.outcome_state()
        self.set_outcome(state or STOPPED, f"{note}.\n{text}" if text else note)

    def outcome_state(self) -> tuple[str, str]:
        """(state, text): running/completed/stopped/diverged/failed, or ('', '') if hidden."""
        if self.outcome.isHidden():
            return "", ""
        return str(self.outcome.property("outcome")), self.outcome.text()
