"""Links the Training tab's activation maps to the probe sample: the unit under the mouse frames its receptive field."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from gui.views.activation_view import ActivationView
from models.architecture import Architecture
from models.shapes import Analysis
from models.unit_fields import UnitFields


class ReceptiveFieldLink(QObject):
    """Feeds the view the probe sample (`show_probe`) and, for each unit it announces, that unit's field: on the
    sample, and on the enlarged map when that is the unit's own layer or an earlier one.

    The fields are the network's as it is now (`set_architecture`, every edit); a map whose shown shape is not
    the one the network would make (maps of a run before an edit) gets no frame rather than a wrong one. Each
    hover is one look-up and a little arithmetic (models.unit_fields, shared with the Explainer): nothing grows with
    the run."""

    def __init__(self, view: ActivationView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._fields: UnitFields | None = None
        self._shown_size: tuple[int, int] | None = None  # the sample's shown now
        self._unit: tuple[str, int, int] | None = None  # the unit last announced
        self._dataset = None
        view.unit_hovered.connect(self._on_unit_hovered)
        view.map_selected.connect(self._on_map_selected)

    def set_architecture(self, arch: Architecture, analysis: Analysis | None = None) -> None:
        """The network the maps come from; `analysis` is analyze(arch) when already at hand."""
        self._fields = UnitFields(arch, analysis)

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
        fields, number = self._fields, self._number(layer)
        fits = fields is not None and self._shown_size == fields.input_size  # the sample is the size it takes
        self._view.show_receptive_field(fields.unit_box(number, row, col, self._view.map_shape(layer))
                                        if fits and number is not None else None)  # type: ignore[union-attr]
        self._frame_detail()

    @Slot(str, int)
    def _on_map_selected(self, _layer: str, _channel: int) -> None:
        self._frame_detail()

    def _frame_detail(self) -> None:
        """The last unit's field on the enlarged map, when that map is of its layer or an earlier one."""
        shown = self._view.detail()
        if self._unit is None or shown is None or self._fields is None:
            return
        layer, row, col = self._unit
        upper, lower = self._number(layer), self._number(shown[0])
        field = None
        if upper is not None and lower is not None:
            field = self._fields.between(lower, upper)
        self._view.show_detail_field(field.unit_box(row, col) if field is not None else None)

    def _number(self, layer: str) -> int | None:
        """The layer number of `layer` if the maps shown for it are the shape the network makes now."""
        fields = self._fields
        if fields is None:
            return None
        number = fields.number(layer)
        return number if number is not None and fields.makes(number, self._view.map_shape(layer)) else None
