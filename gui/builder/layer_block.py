"""How one block of the canvas chain looks: its content (`BlockView`), its height and its painting."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from gui.builder.layer_style import INPUT_COLOR, display_name, group_color, hyperparameter_text, params_text, shape_text
from models.layers import NODE_TYPES, LayerSpec
from models.shapes import LayerAnalysis

BLOCK_HEIGHT = 58.0
RADIUS = 8.0
PAD_X = 16.0
ERROR_COLOR = QColor("#dc2626")
WARNING_COLOR = QColor("#f59e0b")
HEALTH_COLOR = QColor("#e11d48")  # the run's health (dead units, blown-up weights), apart from the amber shape warnings
ACCENT = QColor("#2563eb")
TEXT = QColor("#0f172a")
MUTED = QColor("#64748b")
BORDER = QColor("#d5dbe5")


@dataclass(frozen=True)
class BlockView:
    """What a block shows. `kind` is 'input', 'layer', 'merge' (a graph's add or concat), 'output' or
    'placeholder'."""

    kind: str
    title: str
    detail: str = ""
    shape: str = ""
    footer: str = ""
    footer_right: str = ""
    accent: str = "#64748b"
    error: str | None = None
    warnings: tuple[str, ...] = ()
    unknown: bool = False  # after an error: shape cannot be inferred
    health: tuple[str, ...] = ()  # the followed run's health warnings of this layer, each with what to try


def layer_view(spec: LayerSpec, la: LayerAnalysis) -> BlockView:
    unknown = la.error is None and la.output_shape is None
    return BlockView(
        "layer", display_name(spec.TYPE), hyperparameter_text(spec),
        "error" if la.error else shape_text(la.output_shape),
        f"{la.index} \u00b7 {NODE_TYPES[spec.TYPE].GROUP}",
        "\u2014" if (unknown or la.error) else params_text(la.params),
        group_color(spec.TYPE), la.error, la.warnings, unknown)


MERGE_HEIGHT = 34.0
MERGE_SIGNS = {"add": "+", "concat": "\u2225"}  # the sum; channels stacked side by side


def merge_view(spec: LayerSpec, la: LayerAnalysis) -> BlockView:
    """A merge as a small block showing its output shape; with an error it is a full block, so the message that
    names both branches has room."""
    if la.error:
        return layer_view(spec, la)
    sign = MERGE_SIGNS.get(spec.TYPE, "")
    return BlockView("merge", f"{sign} {display_name(spec.TYPE)}".strip(), "", shape_text(la.output_shape),
                     str(la.index), accent=group_color(spec.TYPE), warnings=la.warnings,
                     unknown=la.output_shape is None)


def input_view(shape: tuple[int, ...], caption: str) -> BlockView:
    return BlockView("input", "Input", caption, shape_text(shape), "follows the dataset", accent=INPUT_COLOR)


def output_view(shape: tuple[int, ...] | None, problem: str | None = None) -> BlockView:
    """The output pill; `problem` (e.g. 10 scores for a 2-class dataset) flags it red, the text is its tooltip."""
    if shape is not None and len(shape) == 1:
        detail = f"\u26a0 {shape[0]} scores" if problem else f"{shape[0]} scores"
        return BlockView("output", "Output", detail, shape_text(shape), error=problem)
    return BlockView("output", "Output", "\u26a0" if problem else "", shape_text(shape), unknown=shape is None,
                     error=problem)


def fonts(base: QFont) -> tuple[QFont, QFont, QFont]:
    """(title, body, small) fonts derived from the widget font."""
    title, body, small = QFont(base), QFont(base), QFont(base)
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    title.setPointSizeF(size * 1.05)
    title.setWeight(QFont.Weight.DemiBold)
    small.setPointSizeF(size * 0.85)
    return title, body, small


def block_height(view: BlockView, width: float, base: QFont) -> float:
    if view.kind == "output":
        return 34.0
    if view.kind == "merge":
        return MERGE_HEIGHT
    if not view.error:
        return BLOCK_HEIGHT
    small = fonts(base)[2]
    text = QFontMetricsF(small).boundingRect(QRectF(0, 0, width - 2 * PAD_X, 1000),
                                             Qt.TextFlag.TextWordWrap, view.error)
    return BLOCK_HEIGHT + text.height() + 10


def _rounded(rect: QRectF, radius: float) -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    return path


def paint_block(p: QPainter, rect: QRectF, view: BlockView, base: QFont, selected: bool = False) -> None:
    if view.kind == "output":
        _paint_output(p, rect, view, base)
        return
    if view.kind == "merge":
        _paint_merge(p, rect, view, base, selected)
        return
    title_font, body_font, small_font = fonts(base)
    dark = view.kind == "input"
    path = _rounded(rect, RADIUS)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if view.kind == "placeholder":
        p.setPen(QPen(QColor("#94a3b8"), 1.5, Qt.PenStyle.DashLine))
        p.setBrush(QColor(255, 255, 255, 160))
        p.drawPath(path)
        p.setFont(body_font)
        p.setPen(MUTED)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, view.title)
        p.restore()
        return
    # Soft shadow, then the card.
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(15, 23, 42, 18))
    p.drawPath(_rounded(rect.translated(0, 2), RADIUS))
    fill = QColor(INPUT_COLOR) if dark else (QColor("#fef2f2") if view.error else
                                             QColor("#eff6ff") if selected else QColor("#ffffff"))
    p.setBrush(fill)
    p.drawPath(path)
    # Group stripe along the left edge, clipped to the card's rounded corners.
    if not dark:
        p.save()
        p.setClipPath(path)
        p.fillRect(QRectF(rect.left(), rect.top(), 5, rect.height()), QColor(view.accent))
        p.restore()
    if view.error:
        border = QPen(ERROR_COLOR, 2)
    elif selected:
        border = QPen(ACCENT if not dark else QColor("#60a5fa"), 2.5)
    else:
        border = QPen(BORDER if not dark else QColor(INPUT_COLOR), 1)
    if view.unknown:
        border.setStyle(Qt.PenStyle.DashLine)
    p.setPen(border)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(_rounded(rect.adjusted(0.5, 0.5, -0.5, -0.5), RADIUS))

    text_color = QColor("#f8fafc") if dark else (MUTED if view.unknown else TEXT)
    muted = QColor("#94a3b8") if dark else MUTED
    left, right = rect.left() + PAD_X + (0 if dark else 4), rect.right() - PAD_X
    row1 = QRectF(left, rect.top() + 8, right - left, 24)
    row2 = QRectF(left, rect.top() + 31, right - left, 18)
    # Row 1: name, hyperparameters, output shape on the right.
    p.setFont(title_font)
    p.setPen(text_color)
    title_width = QFontMetricsF(title_font).horizontalAdvance(view.title)
    p.drawText(row1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, view.title)
    p.setFont(title_font)
    shape_color = ERROR_COLOR if view.error else (muted if view.unknown else text_color)
    p.setPen(shape_color)
    p.drawText(row1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, view.shape)
    shape_width = QFontMetricsF(title_font).horizontalAdvance(view.shape)
    if view.detail:
        p.setFont(body_font)
        p.setPen(muted if not dark else QColor("#cbd5e1"))
        detail_rect = QRectF(left + title_width + 10, row1.top(), right - left - title_width - shape_width - 24,
                             row1.height())
        elided = QFontMetricsF(body_font).elidedText(view.detail, Qt.TextElideMode.ElideRight, detail_rect.width())
        p.drawText(detail_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
    # Row 2: index and group, parameter count.
    p.setFont(small_font)
    p.setPen(muted)
    p.drawText(row2, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, view.footer)
    p.drawText(row2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, view.footer_right)
    if view.error:
        p.setPen(ERROR_COLOR)
        error_rect = QRectF(left, rect.top() + BLOCK_HEIGHT, right - left, rect.height() - BLOCK_HEIGHT - 6)
        p.drawText(error_rect, Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap, view.error)
    if view.warnings:
        _paint_warning_badge(p, warning_badge_rect(rect), small_font)
    if view.health:
        _paint_health_badge(p, health_badge_rect(rect, bool(view.warnings)), small_font)
    p.restore()


def warning_badge_rect(rect: QRectF) -> QRectF:
    """The amber '!' marker straddling the block's top-right corner."""
    return QRectF(rect.right() - 11, rect.top() - 9, 20, 20)


def health_badge_rect(rect: QRectF, beside_warning: bool) -> QRectF:
    """The rose 'health' pill on the block's top edge, left of the amber '!' when the block has one too."""
    right = rect.right() - (36 if beside_warning else 12)
    return QRectF(right - 52, rect.top() - 9, 52, 18)


def _paint_health_badge(p: QPainter, badge: QRectF, font: QFont) -> None:
    p.setPen(QPen(QColor("#ffffff"), 2))
    p.setBrush(HEALTH_COLOR)
    p.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
    bold = QFont(font)
    bold.setBold(True)
    p.setFont(bold)
    p.setPen(QColor("#ffffff"))
    p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "\u26a0 health")


def _paint_warning_badge(p: QPainter, badge: QRectF, font: QFont) -> None:
    p.setPen(QPen(QColor("#ffffff"), 2))
    p.setBrush(WARNING_COLOR)
    p.drawEllipse(badge)
    bold = QFont(font)
    bold.setBold(True)
    p.setFont(bold)
    p.setPen(QColor("#ffffff"))
    p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")


def _paint_output(p: QPainter, rect: QRectF, view: BlockView, base: QFont) -> None:
    title_font, body_font, _ = fonts(base)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(ERROR_COLOR, 2) if view.error else QPen(QColor("#cbd5e1"), 1))
    p.setBrush(QColor("#fef2f2") if view.error else QColor("#f1f5f9"))
    p.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    inner = rect.adjusted(PAD_X + 4, 0, -PAD_X - 4, 0)
    p.setFont(title_font)
    p.setPen(MUTED)
    p.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, view.title)
    p.setPen(TEXT if not view.unknown else MUTED)
    p.drawText(inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, view.shape)
    if view.detail:
        p.setFont(body_font)
        p.setPen(ERROR_COLOR if view.error else MUTED)
        p.drawText(inner, Qt.AlignmentFlag.AlignCenter, view.detail)
    p.restore()


def _paint_merge(p: QPainter, rect: QRectF, view: BlockView, base: QFont, selected: bool) -> None:
    title_font, _, small_font = fonts(base)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(15, 23, 42, 18))
    p.drawRoundedRect(rect.translated(0, 2), rect.height() / 2, rect.height() / 2)
    pen = QPen(ACCENT, 2.5) if selected else QPen(QColor(view.accent), 1.5)
    if view.unknown:
        pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.setBrush(QColor("#eff6ff") if selected else QColor("#ffffff"))
    p.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
    inner = rect.adjusted(PAD_X, 0, -PAD_X, 0)
    p.setFont(title_font)
    p.setPen(TEXT)
    p.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, view.title)
    p.setPen(MUTED if view.unknown else TEXT)
    p.drawText(inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, view.shape)
    title_width = QFontMetricsF(title_font).horizontalAdvance(view.title + view.shape)
    footer_width = QFontMetricsF(small_font).horizontalAdvance(view.footer)
    if title_width + footer_width + 24 < inner.width():  # the layer number only where it fits between them
        p.setFont(small_font)
        p.setPen(MUTED)
        p.drawText(inner, Qt.AlignmentFlag.AlignCenter, view.footer)
    if view.warnings:
        _paint_warning_badge(p, warning_badge_rect(rect), small_font)
    p.restore()


def paint_connector(p: QPainter, top: QPointF, bottom: QPointF) -> None:
    """A vertical arrow from one block's bottom to the next block's top."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor("#94a3b8")
    p.setPen(QPen(color, 1.6))
    p.drawLine(top, QPointF(bottom.x(), bottom.y() - 5))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    head = QPainterPath(bottom)
    head.lineTo(bottom.x() - 5, bottom.y() - 7)
    head.lineTo(bottom.x() + 5, bottom.y() - 7)
    head.closeSubpath()
    p.drawPath(head)
    p.restore()


def paint_insertion_marker(p: QPainter, left: QPointF, width: float) -> None:
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(ACCENT, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(left, QPointF(left.x() + width, left.y()))
    p.setBrush(QColor("#ffffff"))
    p.setPen(QPen(ACCENT, 2.5))
    for x in (left.x(), left.x() + width):
        p.drawEllipse(QPointF(x, left.y()), 4.5, 4.5)
    p.restore()
