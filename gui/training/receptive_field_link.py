"""Links the Training tab's activation maps to the probe sample: the unit under the mouse frames its receptive field."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from gui.views.activation_view import ActivationView
from models.architecture import Architecture
from models.receptive_field import LayerField, field_between, receptive_fields
from models.shapes import Analysis, analyze


class ReceptiveFieldLink(QObject):
    """Feeds the view the probe sample (`show_probe`) and, for each unit it announces, that unit's field: on the
    sample, and on the enlarged map when that is the unit's own layer or an earlier one.

    The fields are the network's as it is now (`set_architecture`, every edit); a map whose shown shape is not
    the one the network would make (maps of a run before an edit) gets no frame rather than a wrong one. Each
    hover is one look-up and a little arithmetic: nothing grows with the run."""

    def __init__(self, view: ActivationView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._arch: Architecture | None = None
        self._analysis: Analysis | None = None
        self._fields: dict[str, tuple[LayerField, tuple[int, ...]]] = {}  # by snapshot label: field, output shape
        self._input_size: tuple[int, int] | None = None  # the network's
        self._shown_size: tuple[int, int] | None = None  # the sample's shown now
        self._unit: tuple[str, int, int] | None = None  # the unit last announced
        self._dataset = None
        view.unit_hovered.connect(self._on_unit_hovered)
        view.map_selected.connect(self._on_map_selected)

    def set_architecture(self, arch: Architecture, analysis: Analysis | None = None) -> None:
        """The network the maps come from; `analysis` is analyze(arch) when already at hand."""
        analysis = analysis if analysis is not None else analyze(arch)
        self._arch, self._analysis = arch, analysis
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
        self._unit = (layer, row, col)
        known = self._current(layer)
        fits = self._shown_size == self._input_size  # the sample is of the size the network takes
        self._view.show_receptive_field(known.unit_box(row, col) if known is not None and known.on_grid and fits
                                        else None)
        self._frame_detail()

    @Slot(str, int)
    def _on_map_selected(self, _layer: str, _channel: int) -> None:
        self._frame_detail()

    def _frame_detail(self) -> None:
        """The last unit's field on the enlarged map, when that map is of its layer or an earlier one."""
        shown = self._view.detail()
        if self._unit is None or shown is None or self._arch is None or self._analysis is None:
            return
        layer, row, col = self._unit
        upper, lower = self._current(layer), self._current(shown[0])
        field = None
        if upper is not None and lower is not None and lower.index <= upper.index:
            field = field_between(self._arch, self._analysis, lower.index, upper.index)
        self._view.show_detail_field(field.unit_box(row, col) if field is not None else None)

    def _current(self, layer: str) -> LayerField | None:
        """The field of `layer` if the maps shown for it are the shape the network makes now."""
        known = self._fields.get(layer)
        return known[0] if known is not None and known[1] == self._view.map_shape(layer) else None
