"""The loss-surface view's labels, read from pyqtgraph's own layout of them: tick labels (the colour bar's too) that
overlap or leave the plot, axis titles cut at its edges, and a map squeezed into a strip."""
from __future__ import annotations

from PySide6.QtGui import QImage, QPainter


def _texts(axis, painter):
    specs = axis.generateDrawSpecs(painter)
    if specs is None:
        return []
    return [(axis.mapRectToScene(rect), text) for rect, _flags, text in specs[2]]


def surface_problems(w) -> list[str]:
    """What is wrong with the window's loss-surface view as laid out now (nothing when it is hidden)."""
    view = getattr(w, "surface_view", None)
    if view is None or not view.plot.isVisible():
        return []
    plot = view.plot
    pi = plot.getPlotItem()
    # the scene area the plot shows, a pixel of slack for rounding
    shown = plot.mapToScene(plot.viewport().rect()).boundingRect().adjusted(-1, -1, 1, 1)
    out = []
    scratch = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(scratch)
    try:
        axes = {"left axis": pi.getAxis("left"), "bottom axis": pi.getAxis("bottom"),
                "colour bar": view.colorbar.axis}
        for name, axis in axes.items():
            texts = _texts(axis, painter)
            if name == "colour bar" and len(texts) < 2:
                out.append(f"colour bar: {len(texts)} labels ({[t for _r, t in texts]})")
            for rect, text in texts:
                if not shown.contains(rect):
                    out.append(f"{name}: tick label {text!r} cut at the plot's edge")
            for i, (a, ta) in enumerate(texts):
                for b, tb in texts[i + 1:]:
                    if a.adjusted(0.5, 0.5, -0.5, -0.5).intersects(b):
                        out.append(f"{name}: tick labels {ta!r} and {tb!r} overlap")
        for name, axis in (("left axis", pi.getAxis("left")), ("bottom axis", pi.getAxis("bottom")),
                           ("colour bar", view.colorbar.getAxis("left"))):
            label = axis.label
            if axis.isVisible() and label.isVisible() and label.toPlainText():
                m = label.document().documentMargin()  # blank room around the text, inside its rect
                rect = label.mapRectToScene(label.boundingRect().adjusted(m, m, -m, -m))
                if not shown.contains(rect):
                    out.append(f"{name}: title {label.toPlainText()!r} cut at the plot's edge")
    finally:
        painter.end()
    box = pi.vb.sceneBoundingRect()
    if box.height() > 0 and not 0.4 <= box.width() / box.height() <= 2.5:
        out.append(f"the map is a strip: {box.width():.0f}×{box.height():.0f} px")
    return out
