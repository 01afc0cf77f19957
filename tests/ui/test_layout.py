"""The window's layout on common screens, the legends that hide no data, and overshoot told by more than colour."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from gd_studio.engine.config import RunConfig
from gd_studio.ui.views import ArrowsItem, Caption, elide_lines

MOONS = RunConfig(dataset="moons", dataset_params={"n_samples": 160, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(8,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
                  seed=3, watch="W2[0,0]")


@pytest.fixture(autouse=True)
def _app_fonts_as_users_see_them(qapp, app_look_restored):
    """The app's normal theme and scale (as it starts), put back afterwards."""
    from gd_studio.ui import theme
    from gd_studio.ui.app import NORMAL_SCALE

    theme.apply_theme(QApplication.instance(), "light", NORMAL_SCALE)
    yield


def _laid_out(w, qtbot, size):
    w.resize(*size)
    qtbot.waitUntil(lambda: w.size().toTuple() == size, timeout=3000)
    for _ in range(3):
        QApplication.processEvents()
    return {name: getattr(w, name).plot.height() for name in ("data_view", "weight_view", "lr_view", "step_view")}


@pytest.mark.parametrize("size, least", [((1366, 768), 160), ((1600, 1000), 250)])
def test_normal_view_fits_a_laptop_screen_with_readable_plots(make_window, qtbot, size, least):
    w = make_window(MOONS)
    qtbot.waitUntil(lambda: w.data_view.info is not None, timeout=5000)
    heights = _laid_out(w, qtbot, size)
    assert w.minimumSizeHint().height() <= size[1]
    assert min(heights.values()) >= least, heights
    assert w.size().toTuple() == size
    # the model-and-data panel scrolls instead of stretching the window
    assert w.dock.minimumSizeHint().height() < 200


def test_short_window_compacts_and_a_tall_one_restores(make_window, qtbot):
    w = make_window(MOONS)
    _laid_out(w, qtbot, (1366, 768))
    # at most 2 lines kept (1 below 820 px, issue 12): a caption still grows to the lines its text wraps to
    assert w.weight_view.caption.lines() <= 2 and w.study.narration.compact
    _laid_out(w, qtbot, (1600, 1200))
    assert w.weight_view.caption.lines() == 3 and not w.study.narration.compact
    assert not w.study.narration.title.isHidden()


def test_data_legend_sits_above_the_data(make_window, qtbot):
    """Outside the data either way: in the view's title row where that row has room for it on one line (the plot then
    keeps the strip's height for its data), else in the strip above the data box; never both, never cut."""
    w = make_window(MOONS)
    qtbot.waitUntil(lambda: w.data_view.info is not None and len(w.data_view.legend.items) == 2, timeout=5000)
    pi = w.data_view.plot.getPlotItem()
    head = w.data_view.widget.findChild(QWidget, "headLegend")
    _laid_out(w, qtbot, (1600, 1000))
    assert head.isVisible() and not w.data_view.legend.isVisible()
    data_with_head = pi.vb.sceneBoundingRect().height()
    # in the title row, whole, above the plot
    title = w.data_view.widget.findChild(QLabel, "viewTitle")
    assert head.geometry().right() <= w.data_view.widget.width() and head.width() >= head.sizeHint().width()
    assert head.geometry().bottom() <= w.data_view.plot.geometry().top()
    assert head.geometry().left() > title.geometry().right()
    # a view too narrow for its title and the legend on one row: the strip above the data, as before
    w.views_splitter.widget(0).setSizes([60, 2000])
    qtbot.waitUntil(lambda: w.data_view.legend.isVisible(), timeout=3000)
    assert not head.isVisible()
    # (the plot's own layout takes the strip's row on its next pass)
    qtbot.waitUntil(lambda: w.data_view.legend.sceneBoundingRect().bottom() <= pi.vb.sceneBoundingRect().top() + 1,
                    timeout=3000)
    legend = w.data_view.legend.sceneBoundingRect()
    box = pi.vb.sceneBoundingRect()
    assert legend.height() > 0 and legend.bottom() <= box.top() + 1, (legend, box)
    assert box.left() <= legend.left() and legend.right() <= box.right() + 1
    assert data_with_head > box.height() + 20  # in the title row, the strip's height went to the data
    # and a window that was wide enough for it shrinks as before (the legend never holds its width)
    _laid_out(w, qtbot, (1280, 720))


def test_caption_elides_to_its_lines_and_keeps_the_whole_text():
    c = Caption("", lines=2)
    c.resize(200, c.height())
    text = "the quick brown fox jumps over the lazy dog " * 8
    c.setText(text)
    assert c.text() == text and c.elided and c.toolTip() == text
    shown, cut = elide_lines(text, c.font(), 200, 2)
    assert cut and shown.count("\n") == 1 and shown.endswith("…")
    c.setText("short")
    assert not c.elided and c.toolTip() == ""


def test_captions_never_break_a_line_after_a_slash():
    """The weight view read "whole network: 2/" above "λ_max = 0.98" at 720p: a symbol cut in two."""
    c = Caption("")
    text = "Along W2[0,0]: 2/λ = 65.34; whole network: 2/λ_max = 0.98, this LR is 0.1× that; r·dL/dW2[0,0]"
    widths = range(60, 420, 3)
    wrapped = [elide_lines(text, c.font(), width, 20)[0] for width in widths]
    assert all(not row.endswith("/") for shown in wrapped for row in shown.split("\n"))
    # and the text is all there, slash and all, once the lines are joined again
    assert all("".join(shown.split()) == "".join(text.split()) for shown in wrapped if "…" not in shown)


class _Recorder:
    """Stands in for QPainter: records the pen of every line and the brush of every arrow head."""

    def __init__(self):
        self.lines, self.heads = [], []
        self._pen = self._brush = None

    def transform(self):
        return QTransform()

    def save(self): ...

    def restore(self): ...

    def resetTransform(self): ...  # noqa: N802

    def setRenderHint(self, *a): ...  # noqa: N802

    def setPen(self, pen):  # noqa: N802
        self._pen = pen

    def setBrush(self, brush):  # noqa: N802
        self._brush = brush

    def drawPath(self, path):  # noqa: N802
        # shafts are drawn without a brush, heads (closed triangles) with one
        if self._brush == Qt.BrushStyle.NoBrush:
            self.lines.append(self._pen.style())
        else:
            self.heads.append(self._brush)


def test_overshoot_arrows_differ_by_more_than_colour(qtbot):
    arrows = ArrowsItem()
    arrows.setArrows(np.array([0.0, 100.0, 200.0]), np.array([0.0, 50.0, 0.0]), np.array([False, True]))
    rec = _Recorder()
    arrows.paint(rec)
    assert len(rec.lines) == len(rec.heads) == 2  # one path per style and fade level, not per part
    assert rec.lines[0] == Qt.PenStyle.SolidLine and rec.lines[1] != Qt.PenStyle.SolidLine  # dashed shaft
    down, up = (b.color() if hasattr(b, "color") else b for b in rec.heads)
    assert down.name() != "#ffffff" and up.name() == "#ffffff"  # filled head, open head


def test_weight_legend_names_the_overshoot_style(make_window):
    w = make_window(MOONS)
    labels = [label.text for _sample, label in w.weight_view.legend.items]
    assert any("rose" in t and "dashed" in t for t in labels)


def test_arrows_paint_on_a_real_painter_and_reach_their_tips(qtbot):
    from PySide6.QtGui import QImage, QPainter

    arrows = ArrowsItem()
    xs, ys = np.array([10.0, 150.0, 60.0]), np.array([20.0, 120.0, 180.0])
    arrows.setArrows(xs, ys, np.array([False, True]))
    img = QImage(200, 200, QImage.Format.Format_ARGB32)
    img.fill(0xFFFFFFFF)
    p = QPainter(img)
    arrows.paint(p)
    p.end()
    # the head of each arrow sits at its tip: the pixels just before the tips are painted
    for (x0, y0), (x1, y1) in zip(zip(xs[:-1], ys[:-1]), zip(xs[1:], ys[1:])):
        d = np.hypot(x1 - x0, y1 - y0)
        tx, ty = x1 - 4 * (x1 - x0) / d, y1 - 4 * (y1 - y0) / d
        assert img.pixelColor(int(round(tx)), int(round(ty))).name() != "#ffffff"


def _plot_rects(w):
    from PySide6.QtCore import QPoint

    out = {}
    for name in ("data_view", "weight_view", "lr_view", "step_view"):
        plot = getattr(w, name).plot
        if plot.isVisible():
            p = plot.mapTo(w, QPoint(0, 0))
            out[name] = (p.x(), p.y(), plot.width(), plot.height())
    return out


def test_a_message_banner_lies_over_the_views_and_never_moves_them(make_window, qtbot):
    """Issue 12: a banner pushed every plot down ~45 px and back when it went; it is an overlay now."""
    w = make_window(MOONS)
    _laid_out(w, qtbot, (1280, 720))
    w.banner.hide()
    QApplication.processEvents()
    before = _plot_rects(w)
    w.show_message("A long warning that wraps onto two lines in a narrow window, so its height is not one line: "
                   "the plots must stay exactly where they are while it shows. " * 2, "warning", 0)
    QApplication.processEvents()
    assert w.banner.isVisible() and w.banner.height() > 40
    assert _plot_rects(w) == before
    # over the top of the views, the whole text readable (its label as tall as its wrapped lines)
    assert w.banner.parentWidget() is w.centralWidget() and w.banner.y() <= 8
    label = w.banner.label
    assert label.heightForWidth(label.width()) <= label.height() + 1
    w.banner.hide()
    QApplication.processEvents()
    assert _plot_rects(w) == before


def test_step_legend_lists_the_validation_loss_only_when_drawn(qtbot):
    """Issue 12: the loss-vs-step legend said "validation loss" for runs without a validation split (a third entry that
    took a legend row from a projector's plot); it lists what is drawn, in the same order."""
    from gd_studio.live.snapshot import History
    from gd_studio.ui.plots.step_view import LossVsStepView

    v = LossVsStepView()
    qtbot.addWidget(v.widget)
    names = lambda: [label.text for _sample, label in v.legend.items]  # noqa: E731
    steps = np.arange(1.0, 6.0)
    none = np.array([], dtype=np.float64)
    v.show_history(History(steps=steps, loss=1 / steps, lr=np.full(5, 0.1), val_steps=none, val_loss=none))
    assert names() == ["batch loss", "LR (right axis)"]
    v.show_history(History(steps=steps, loss=1 / steps, lr=np.full(5, 0.1), val_steps=np.array([5.0]),
                           val_loss=np.array([0.3])))
    assert names() == ["batch loss", "validation loss", "LR (right axis)"]
    v.show_history(History(steps=steps, loss=1 / steps, lr=np.full(5, 0.1), val_steps=np.array([5.0]),
                           val_loss=np.array([0.3])))  # the same frame again: listed once
    assert names().count("validation loss") == 1
    v.clear()  # a new run
    assert "validation loss" not in names()


def test_grid_keeps_one_level_of_lines_between_the_labelled_ones(qtbot):
    """Issue 12: a projector-sized plot drew pyqtgraph's third tick level, a grid line every ~10 px in front of the
    data; the theme keeps the labelled lines and one level between them."""
    import pyqtgraph as pg

    from gd_studio.ui import theme

    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    pi = pw.getPlotItem()
    pi.showGrid(x=True, y=True, alpha=0.3)
    pw.resize(1800, 900)
    pw.show()
    qtbot.waitExposed(pw)
    pi.vb.setRange(xRange=(0, 10), yRange=(0, 1), padding=0)
    axis = pi.getAxis("bottom")
    levels = lambda: axis.tickValues(0.0, 10.0, axis.geometry().width())  # noqa: E731
    drawn = lambda: sum(len(v) for i, (_s, v) in enumerate(levels()) if i <= axis.style["maxTickLevel"])  # noqa: E731
    assert len(levels()) == 3  # pyqtgraph's own: labelled, and two levels between (every 0.1 on 1800 px)
    before = drawn()
    theme.style_plot(pw, theme.get_theme("high_contrast"), 2.0)
    assert axis.style["maxTickLevel"] == 1
    assert drawn() < before / 3  # every 0.5 instead of every 0.1


def test_the_lr_axis_of_the_step_view_draws_no_second_grid(qtbot):
    """Issue 12: the loss-vs-step view's right (LR) axis drew grid lines of its own between the loss axis's, a double
    mesh on a projector; only the loss axis draws horizontal grid lines."""
    from gd_studio.ui import theme
    from gd_studio.ui.plots.step_view import LossVsStepView

    v = LossVsStepView()
    qtbot.addWidget(v.widget)
    for name, scale in (("light", 1.25), ("high_contrast", 2.0)):
        theme.style_plot(v.plot, theme.get_theme(name), scale)
        pi = v.plot.getPlotItem()
        assert pi.getAxis("right").grid is False and pi.getAxis("left").grid, name


def test_weight_header_ends_the_caption_where_the_title_row_is_too_narrow(qtbot):
    """Issue 12: the loss-vs-weight header "|Δw| 0.236 · Δloss −0.0135" sat in the title row's free room and elided to
    "…" in a narrow view (three views in a row at 720p); where the row cannot hold the widest header it ends the
    caption (which wraps) instead, and a wide view keeps it in the title row. Where it goes follows from the width."""
    from gd_studio.live.snapshot import WeightView
    from gd_studio.ui.plots.weight_view import LossVsWeightView

    cw = np.linspace(-3, 3, 61)
    view = WeightView(name="w", curve_w=cw, curve_loss=cw ** 2, trail_w=np.array([2.0, -1.2]),
                      trail_loss=np.array([4.0, 1.44]), trail_step=np.array([0, 1]),
                      trail_batch_loss=np.array([4.0, 1.44]), current_w=-1.2, current_loss=1.44, curvature=2.0,
                      oscillate_lr=0.5, diverge_lr=1.0, lr=0.8, axis_label="w")
    v = LossVsWeightView()
    qtbot.addWidget(v.widget)
    v.widget.resize(320, 400)
    v.widget.show()
    qtbot.waitExposed(v.widget)
    v.show_view(view)
    header = v._step_text(view.trail_w, view.trail_loss)
    assert header.startswith("|Δw| 3.2")
    qtbot.waitUntil(lambda: not v.header_inline)
    assert v.step_label.text() == "" and header in v.caption.text() and not v.caption.elided
    assert "…" not in QLabel.text(v.step_label)
    v.widget.resize(900, 400)  # room for it: back in the title row, the caption without it
    qtbot.waitUntil(lambda: v.header_inline)
    assert v.step_label.text() == header and QLabel.text(v.step_label) == header
    assert header not in v.caption.text()
    v.widget.resize(320, 400)
    qtbot.waitUntil(lambda: not v.header_inline)
    assert header in v.caption.text()


def test_a_short_window_leaves_the_last_step_to_the_equation(make_window, qtbot):
    """Issue 12 (plots under ~200 px at 720p): a short window's loss-vs-weight caption leaves out the last step's values
    (the step-by-step equation writes them, the header gives |Δw|); its tooltip keeps the whole text, and a tall window
    shows it again."""
    w = make_window(MOONS)
    _laid_out(w, qtbot, (1600, 1000))
    start = w.step_count
    w.run_steps(3)
    qtbot.waitUntil(lambda: w.step_count >= start + 3 and not w.last_snapshot.running, timeout=10000)
    cap = w.weight_view.caption
    qtbot.waitUntil(lambda: "Last step" in cap.text(), timeout=3000)
    assert not cap.toolTip()
    _laid_out(w, qtbot, (1280, 720))
    assert "Last step" not in cap.text() and "Last step" in cap.toolTip(), (cap.text(), cap.toolTip())
    _laid_out(w, qtbot, (1600, 1000))
    assert "Last step" in cap.text() and not cap.toolTip()
