"""Help: a short built-in guide (the arithmetic, the views, the window's shortcuts) and the About text."""

from __future__ import annotations

import html
import platform

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget


GUIDE = """
<h2>ConvScope in five minutes</h2>
<h3>Build</h3>
<p>Drag a layer from the palette onto the canvas (or double-click it); select a block to edit it in the
Inspector. Every block shows its output shape; a block that cannot work turns red with the reason, and
Train says why it is disabled. Undo and Redo cover every edit. The Presets menu loads example networks.
Ctrl+wheel zooms the canvas (the View menu has Fit Network and 100%); hover a block or a setting to read
what it does.</p>
<h3>The arithmetic</h3>
<p>A convolution or pooling layer with kernel <i>k</i>, stride <i>s</i>, padding <i>p</i> and dilation
<i>d</i> turns an input of size <i>n</i> into
<b>floor((n + 2p &minus; d(k &minus; 1) &minus; 1) / s) + 1</b>. A conv layer has
<b>out &times; (in &times; k &times; k) + out</b> parameters (the last term with bias);
a linear layer <b>out &times; in + out</b>. The Inspector substitutes the numbers of the selected layer,
and the summary table adds them up.</p>
<h3>The views</h3>
<ul>
<li><b>Training</b>: the filters of every conv layer, the activation maps of the probe sample (pick it in
the sample browser), its class probabilities, and the loss and accuracy curves.</li>
<li><b>Explainer</b>: one conv or pooling layer stepped through position by position on the probe sample,
and the lessons.</li>
<li><b>Evaluation</b>: the trained network scored on the validation split, the confusion matrix,
galleries of mistakes and explanations.</li>
<li><b>Experiments</b>: one thing of the network varied (pooling, activation, kernel size, ...) over
seeds, the variants' validation curves overlaid and their results in a table.</li>
</ul>
<h3>Data</h3>
<p>The bundled sets work offline: MNIST and Fashion-MNIST samples (grey, 28&times;28) and the
generated colour shapes (RGB, 32&times;32). Downloaded sets and your own files (.npz, IDX, CIFAR-10,
image folders) are listed in docs/datasets.md.</p>
"""


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(shortcut, action) for every action of `window` that has one, as the menus show them."""
    rows = []
    for action in window.findChildren(QAction):
        keys = action.shortcut()
        if keys.isEmpty():
            continue
        name = action.text().replace("&", "").replace("\u25b6", "").strip()
        rows.append((keys.toString(QKeySequence.SequenceFormat.NativeText), name))
    return sorted(set(rows), key=lambda row: row[1].lower())


def guide_html(window: QWidget) -> str:
    rows = "".join(f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(name)}</td></tr>"
                   for keys, name in shortcut_rows(window))
    return GUIDE + f"<h3>Shortcuts</h3><table cellspacing='4'>{rows}</table>"


def about_html() -> str:
    import torch  # here, not at import: the window is up before torch has loaded (gui.engine_loader)

    from engine.project.project_file import app_version
    return (f"<h3>ConvScope {html.escape(app_version())}</h3><p>Build convolutional networks visually, see every "
            "layer's arithmetic, and watch them learn.</p>"
            f"<p>Python {platform.python_version()}, PyTorch {html.escape(torch.__version__)}, "
            f"PySide6 {PYSIDE_VERSION}</p>")


class GuideDialog(QDialog):
    """The guide in a scrollable, non-modal window."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("ConvScope guide")
        self.resize(640, 720)
        self.setMinimumSize(360, 300)  # fixed limits: the layout does not set them on the platform window
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(guide_html(window))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
