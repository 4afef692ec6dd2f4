"""Links the Training tab's activation maps to the probe sample: the unit under the mouse frames its receptive field."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from gui.views.activation_view import ActivationView
from models.architecture import Architecture
from models.receptive_field import LayerField, receptive_fields
from models.shapes import Analysis, analyze


class ReceptiveFieldLink(QObject):
    """Feeds the view the probe sample (`show_probe`) and, for each unit it announces, that unit's field.

    The fields are the network's as it is now (`set_architecture`, every edit); a map whose shown shape is not
    the one the network would make (maps of a run before an edit) gets no frame rather than a wrong one. Each
    hover is one look-up and a little arithmetic: nothing grows with the run."""

    def __init__(self, view: ActivationView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._fields: dict[str, tuple[LayerField, tuple[int, ...]]] = {}  # by snapshot label: field, output shape
        self._input_size: tuple[int, int] | None = None  # the network's
        self._shown_size: tuple[int, int] | None = None  # the sample's shown now
        self._dataset = None
        view.unit_hovered.connect(self._on_unit_hovered)

    def set_architecture(self, arch: Architecture, analysis: Analysis | None = None) -> None:
        """The network the maps come from; `analysis` is analyze(arch) when already at hand."""
        analysis = analysis if analysis is not None else analyze(arch)
        self._input_size = (arch.input.height, arch.input.width)
        self._fields = {la.label: (field, la.output_shape) for la, field in
                        zip(analysis.layers, receptive_fields(arch, analysis)) if la.output_shape is not None}

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset

    def show_probe(self, index: int) -> None:
        """Show validation sample `index` beside the maps (they are its activations); nothing when out of range."""
        dataset = self._dataset
        if dataset is None or not 0 <= index < len(dataset.val.labels):
            self._shown_size = None
            self._view.show_input(None)
            return
        image = dataset.to_uint8(dataset.val.images_at(index))
        self._shown_size = image.shape[:2]
        self._view.show_input(image)

    @Slot(str, int, int)
    def _on_unit_hovered(self, layer: str, row: int, col: int) -> None:
        known = self._fields.get(layer)
        if known is None or not known[0].on_grid or known[1] != self._view.map_shape(layer) \
                or self._shown_size != self._input_size:
            self._view.show_receptive_field(None)
            return
        self._view.show_receptive_field(known[0].unit_box(row, col))
