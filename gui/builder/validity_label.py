"""The status bar's verdict on the network: valid (input -> output, parameters) or the first error."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gui.builder.layer_style import parameters_text, shape_text
from models.network import Network

MAX_WIDTH_PX = 720  # a long reason is elided: it must not widen the window


class ValidityLabel(QLabel):
    """Follows `network`: "Valid · 1x28x28 -> 10 · 61,706 parameters", or the first error (full text as tip), or
    why training cannot start on a valid network (`set_training_problem`)."""

    def __init__(self, network: Network) -> None:
        super().__init__()
        self.setObjectName("validityLabel")
        self._network = network
        self._problem: str | None = None
        network.changed.connect(self._on_network_changed)
        self._on_network_changed(None)

    def set_training_problem(self, reason: str | None) -> None:
        """Why Train is off although the network may be valid (a class-count mismatch with the dataset): then the
        label says that instead of "Valid"."""
        self._problem = reason
        self._on_network_changed(None)

    def _on_network_changed(self, _architecture: object) -> None:
        analysis = self._network.analysis
        valid = analysis.is_valid and not self._problem
        if analysis.is_valid and self._problem:
            reason = f"Cannot train: {self._problem}"
            self.setText(self.fontMetrics().elidedText(f"\u26a0 {shape_text(analysis.input_shape)} \u2192 "
                                                       f"{shape_text(analysis.output_shape)} \u00b7 {reason}",
                                                       Qt.TextElideMode.ElideRight, MAX_WIDTH_PX))
        elif analysis.is_valid:
            reason = ""
            self.setText(f"\u2714 Valid \u00b7 {shape_text(analysis.input_shape)} \u2192 "
                         f"{shape_text(analysis.output_shape)} \u00b7 "
                         f"{parameters_text(analysis.total_params, analysis.total_frozen)}")
        else:
            reason = analysis.first_error or "The network has no layers: add some from the palette."
            self.setText(self.fontMetrics().elidedText(f"\u2716 {reason}", Qt.TextElideMode.ElideRight, MAX_WIDTH_PX))
        self.setToolTip(reason)
        self.setProperty("valid", valid)
        self.style().unpolish(self)  # the style sheet colours by the `valid` property
        self.style().polish(self)
