"""The inspector: the selected layer's hyperparameters as editors, and its arithmetic, warnings and error."""

from __future__ import annotations

import html
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from gui.builder.field_editors import FieldEditor, make_editor
from gui.builder.form_widgets import section_heading
from gui.builder.layer_style import display_name, shape_text
from gui.builder.network_editor import NetworkEditor
from models import graph
from models.layers import ACTIVATIONS, LAYER_TYPES, NODE_TYPES, LayerSpec, UnsupportedLayerError, is_merge
from models.receptive_field import FORMULA, LayerField, receptive_fields
from models.shapes import LayerAnalysis
from models.validation import SpecValueError, coerce


def _label(object_name: str, wrap: bool = True, rich: bool = True) -> QLabel:
    """A rich label's text is HTML with every message escaped; left to guess (AutoText), Qt shows an escaped
    message without tags as plain text, "&#x27;" and all. A plain one shows its text as it is."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _pair(h: int, w: int) -> str:
    return str(h) if h == w else f"{h}x{w}"


def _frozen(frozen: int) -> str:
    """The hand-set frozen part of a parameter count (conv2d frozen_init), which training never moves."""
    return f" ({frozen:,} frozen)" if frozen else ""


class Inspector(QScrollArea):
    """Shows the layer selected in the network, or the input (dataset shape and totals) when none is.

    Each editor change is checked with `models.validation.coerce` and applied as one undoable replace;
    consecutive changes of one field merge into one undo step until the selection changes.
    """

    def __init__(self, editor: NetworkEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._editor, self._network = editor, editor.network
        self._caption = "custom input"
        self._shown: tuple[int | None, str] | None = None
        self._session = 0  # bumps on every rebuild, so edits merge only within one visit of a layer
        self._editors: dict[str, FieldEditor] = {}
        self.type_combo: QComboBox | None = None

        body = QWidget()
        body.setObjectName("inspectorBody")
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(14, 12, 14, 12)
        self._layout.setSpacing(8)
        self.title_label = _label("inspectorTitle")
        self.summary_label = _label("inspectorSummary", rich=False)
        self._form_host = QWidget()
        self.problem_label = _label("problemLabel", rich=False)  # the editor's refusal, unescaped
        self.shape_label = _label("detailLabel")
        self.formula_label = _label("formulaLabel")
        self.params_label = _label("detailLabel")
        self.warning_label = _label("warningLabel")
        self.error_label = _label("errorLabel")
        self._numbers_heading = self._heading("Arithmetic")
        self._field_heading = self._heading("Receptive field")
        self.field_label = _label("formulaLabel")  # the selected layer's receptive field, formula with its numbers
        for widget in (self.title_label, self.summary_label, self._form_host, self.problem_label,
                       self._heading("Shape"), self.shape_label, self._numbers_heading, self.formula_label,
                       self.params_label, self._field_heading, self.field_label, self.warning_label,
                       self.error_label):
            self._layout.addWidget(widget)
        self._layout.addStretch(1)
        self.setWidget(body)
        self._network.changed.connect(self._on_network_changed)
        self._network.selection_changed.connect(self._on_selection_changed)
        self._refresh()

    _heading = staticmethod(section_heading)

    # -- public -------------------------------------------------------------------------------------------
    def set_input_caption(self, caption: str) -> None:
        self._caption = caption
        self._shown = None
        self._refresh()

    def editor_for(self, field: str) -> FieldEditor:
        """The editor widget of a field of the selected layer."""
        return self._editors[field]

    @property
    def fields(self) -> list[str]:
        return list(self._editors)

    # -- model events -------------------------------------------------------------------------------------
    def _on_network_changed(self, _architecture: object) -> None:
        self._refresh()

    def _on_selection_changed(self, _index: int | None) -> None:
        self._refresh()

    def _refresh(self) -> None:
        index = self._network.selected
        spec = self._network.layers[index] if index is not None else None
        key = (index, spec.TYPE if spec else "input")
        if key != self._shown:
            self._shown = key
            self._rebuild_form(index, spec)
        if spec is None:
            self._show_input()
        else:
            for name, value in spec.values().items():
                self._editors[name].set_value(value)
            self._show_layer(index, spec)  # type: ignore[arg-type]

    # -- building -----------------------------------------------------------------------------------------
    def _rebuild_form(self, index: int | None, spec: LayerSpec | None) -> None:
        self._session += 1
        self._editors, self.type_combo = {}, None
        self.problem_label.clear()
        self.problem_label.hide()
        host = QWidget()
        form = QFormLayout(host)
        form.setContentsMargins(0, 4, 0, 4)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        if spec is not None and spec.TYPE in ACTIVATIONS:
            self.type_combo = QComboBox()
            for key in ACTIVATIONS:
                self.type_combo.addItem(display_name(key), key)
            self.type_combo.setCurrentIndex(ACTIVATIONS.index(spec.TYPE))
            self.type_combo.setToolTip("Replace this activation by another kind")
            self.type_combo.currentIndexChanged.connect(self._on_type_chosen)
            form.addRow("Function", self.type_combo)
        if spec is not None:
            for name, info in spec.fields().items():
                editor = make_editor(info, fallback=getattr(spec, "kernel_size", 1))
                editor.set_value(getattr(spec, name))
                editor.edited.connect(partial(self._on_field_edited, name))
                label = QLabel(info.label)
                label.setToolTip(info.help)
                if editor.full_width:  # its label above, the field across the form: typed JSON needs the room
                    form.addRow(label)
                    form.addRow(editor)
                else:
                    form.addRow(label, editor)
                self._editors[name] = editor
        old = self._layout.replaceWidget(self._form_host, host)
        self._form_host.hide()
        self._form_host.deleteLater()  # later: this may run inside a signal of one of its widgets
        del old
        self._form_host = host
        host.setVisible(form.rowCount() > 0)

    def _show_input(self) -> None:
        analysis = self._network.analysis
        self.title_label.setText(f"Input \u00b7 {html.escape(self._caption)}")
        self.summary_label.setText("The input shape follows the dataset; choose another dataset in the "
                                   "training panel to change it.")
        self.shape_label.setText(f"channels x height x width = <b>{shape_text(analysis.input_shape)}</b>")
        self._numbers_heading.setText("NETWORK")
        self.formula_label.clear()
        self.formula_label.hide()
        self._show_field(None)
        self.params_label.setText(f"Layers: <b>{len(self._network)}</b><br>"
                                  f"Total parameters: <b>{analysis.total_params:,}</b>"
                                  f"{_frozen(analysis.total_frozen)}<br>"
                                  f"Total mult-adds: <b>{analysis.total_macs:,}</b>")
        self._set_messages(analysis.warnings, analysis.first_error)

    def _show_layer(self, index: int, spec: LayerSpec) -> None:
        la = self._network.analysis.layers[index]
        self.title_label.setText(f"{display_name(spec.TYPE)} \u00b7 layer {la.index}")
        self.summary_label.setText(NODE_TYPES[spec.TYPE].SUMMARY)
        self.shape_label.setText(self._shape_text(la))
        if la.output_shape is None:
            formula = "" if la.error else "Unknown: an earlier layer has an error."
        else:
            formula = "<br>".join(html.escape(line) for line in la.formula) or "Shape unchanged, no parameters."
        self.formula_label.setText(formula)
        self.formula_label.setVisible(bool(formula))
        self._numbers_heading.setText("ARITHMETIC")
        if la.output_shape is not None:
            self.params_label.setText(f"Weights {la.weights:,} \u00b7 biases {la.biases:,} \u00b7 "
                                      f"<b>params {la.params:,}</b>{_frozen(la.frozen)}<br>Mult-adds {la.macs:,}")
        else:
            self.params_label.clear()
        self._show_field(self._field_of(index))
        self._set_messages(la.warnings, la.error)

    def _shape_text(self, la: LayerAnalysis) -> str:
        """'in -> out'; in a graph, where each input comes from (a merge's branches, one line each)."""
        arch = self._network.architecture
        out = f"<b>{shape_text(la.output_shape)}</b>"
        if not arch.is_graph:
            return f"{shape_text(la.input_shape)} \u2192 {out}"
        shapes = la.input_shapes or (None,) * len(la.sources)
        lines = [f"{html.escape(graph.source_label(s, arch))}: {shape_text(shape)}"
                 for s, shape in zip(la.sources, shapes)]
        heading = "Inputs" if is_merge(arch.layers[la.index - 1]) or len(lines) > 1 else "Input"
        return f"{heading}<br>" + "<br>".join(f"\u2022 {line}" for line in lines) + f"<br>\u2192 {out}"

    def _field_of(self, index: int) -> LayerField | None:
        """The layer's receptive field, or None where models has no rule yet (a graph's merges, in some versions)."""
        try:
            return receptive_fields(self._network.architecture, self._network.analysis)[index]
        except UnsupportedLayerError:
            return None

    def _show_field(self, field: LayerField | None) -> None:
        """What one unit of the layer sees of the input, then the recurrence with this layer's numbers."""
        shown = field is not None and field.receptive_field is not None
        self._field_heading.setVisible(shown)
        self.field_label.setVisible(shown)
        if field is None or field.receptive_field is None:
            self.field_label.clear()
            return
        h, w = field.receptive_field
        lines = [html.escape(line) for line in field.formula]
        if field.jump is not None and field.start is not None:
            (jh, jw), (sh, sw) = field.jump, field.start
            lead = (f"One unit sees <b>{h}x{w}</b> input pixels; neighbours are {_pair(jh, jw)} pixel(s) apart; "
                    f"the first is centred on pixel ({sh:g}, {sw:g}).")
            lines.insert(0, html.escape(FORMULA))
        else:
            lead = f"One unit sees <b>{html.escape(field.text())}</b> input pixels."
        self.field_label.setText("<br>".join([lead, *lines]))

    def _set_messages(self, warnings: tuple[str, ...], error: str | None) -> None:
        self.warning_label.setText("<br>".join(f"\u26a0 {html.escape(w)}" for w in warnings))
        self.warning_label.setVisible(bool(warnings))
        self.error_label.setText(f"\u2716 {html.escape(error)}" if error else "")
        self.error_label.setVisible(bool(error))
        self.params_label.setVisible(bool(self.params_label.text()))

    # -- edits --------------------------------------------------------------------------------------------
    def _on_field_edited(self, name: str, value: object) -> None:
        index = self._network.selected
        if index is None:
            return
        spec = self._network.layers[index]
        info = spec.fields()[name]
        try:
            value = coerce(info, value)
        except SpecValueError as exc:
            self.problem_label.setText(f"{info.label}: {exc}")
            self.problem_label.show()
            return
        self.problem_label.hide()
        self._editor.replace(index, spec.replace(**{name: value}), text=f"Change {info.label.lower()}",
                             merge_key=(index, name, self._session))

    def _on_type_chosen(self, combo_index: int) -> None:
        index = self._network.selected
        if index is None or self.type_combo is None:
            return
        spec, cls = self._network.layers[index], LAYER_TYPES[self.type_combo.itemData(combo_index)]
        kept = {name: value for name, value in spec.values().items() if name in cls.__dataclass_fields__}
        self._editor.replace(index, cls(**kept), text=f"Change activation to {display_name(cls.TYPE)}")
