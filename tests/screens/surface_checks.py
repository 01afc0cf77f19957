"""The loss-surface view's labels, read from pyqtgraph's own layout of them: tick labels (the colour bar's too) that
overlap or leave the plot, axis titles cut at its edges, and a map squeezed into a strip."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPainter


def _texts(axis, painter):
    specs = axis.generateDrawSpecs(painter)
    if specs is None:
        return []
    return [(axis.mapRectToScene(rect), text) for rect, _flags, text in specs[2]]


def overlaps(texts) -> list:
    return [(ta, tb) for i, (a, ta) in enumerate(texts) for b, tb in texts[i + 1:]
            if a.adjusted(0.5, 0.5, -0.5, -0.5).intersects(b)]


def gaps(texts) -> tuple:
    """The distinct gaps between the labelled values (one for evenly spaced labels; () for labels that are no
    plain numbers)."""
    try:
        values = sorted(float(t.replace("\u2212", "-")) for _r, t in texts)
    except ValueError:
        return ()
    return tuple(sorted({round(b - a, 9) for a, b in zip(values, values[1:])}))


def tick_sweep_problems(axis, name: str, painter, factor: float = 1.6, coarse: int = 40, fine: int = 30) -> list[str]:
    """An axis's labels at its size now over spans from 1/``factor`` to ``factor`` times its span (its low end
    kept): evenly spaced and apart at every span, the spans where the spacing changes looked at closely. One frame's
    span passes only if its labels are right; a mix of two spacings (issue 14: "0.2 0.40.50.6 … 1.41.5" under the
    surface, presenting at 720p, three steps back) showed only on spans a few tenths of a per cent wide beside each
    change of spacing, which a frame lands in or not with the screen's fonts and sizes. Restores the axis's range."""
    lo, hi = axis.range
    if not axis.isVisible() or not hi > lo:
        return []
    span = hi - lo

    def look(top: float) -> tuple[str | None, tuple]:
        axis.setRange(lo, top)
        texts = _texts(axis, painter)
        spacings, overlapping = gaps(texts), overlaps(texts)
        if len(spacings) > 1:
            return f"{name}: labels at two spacings over {lo:.4g} to {top:.4g}: {[t for _r, t in texts]}", spacings
        if overlapping:
            return (f"{name}: tick labels {overlapping[0][0]!r} and {overlapping[0][1]!r} overlap over {lo:.4g} to "
                    f"{top:.4g}", spacings)
        return None, spacings

    try:
        tops = lo + span * np.geomspace(1 / factor, factor, coarse)
        seen = [look(float(top)) for top in tops]
        found = [p for p, _g in seen]
        for i in range(coarse - 1):
            if seen[i][1] != seen[i + 1][1]:  # the spacing changes between these two spans: every span between
                found += [look(float(top))[0] for top in np.linspace(tops[i], tops[i + 1], fine)[1:-1]]
    finally:
        axis.setRange(lo, hi)
    return [p for p in found if p is not None][:1]


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
            out += [f"{name}: tick labels {ta!r} and {tb!r} overlap" for ta, tb in overlaps(texts)]
        out += tick_sweep_problems(pi.getAxis("bottom"), "bottom axis", painter)
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
