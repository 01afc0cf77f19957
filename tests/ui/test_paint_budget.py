"""What a frame costs the window, counted rather than timed: each view paints at most once a live frame, a view
whose data did not change is not repainted, and the arrows drawn fast while running show what the calm ones show."""
from __future__ import annotations

import collections
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from gd_studio.engine.config import RunConfig
from gd_studio.live.run import LiveRun
from gd_studio.ui.plots.common import BLUE as BLUE_, ArrowsItem, GatedPlotWidget

MOONS = RunConfig(dataset="moons", dataset_params={"n_samples": 200, "noise": 0.2, "seed": 0}, model="mlp",
                  hidden=(8,), lr=0.3, batch_size=16, seed=0, watch="W2[0,0]")


@pytest.fixture(autouse=True)
def _engine_in_the_worker_thread(monkeypatch):
    # the frames come from the test's own LiveRun; the window's engine stays idle in this process
    monkeypatch.setenv("GD_STUDIO_ENGINE", "thread")


class PaintCounter(QObject):
    """Counts the paint events of each plot's viewport (where a pyqtgraph plot draws)."""

    def __init__(self, window) -> None:
        super().__init__()
        self.counts: collections.Counter = collections.Counter()
        self.plots = {p.viewport(): p.objectName() for p in window.findChildren(GatedPlotWidget)}
        for viewport in self.plots:
            viewport.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and obj in self.plots:
            self.counts[self.plots[obj]] += 1
        return False

    def take(self) -> collections.Counter:
        out, self.counts = self.counts, collections.Counter()
        return out


def drain() -> None:
    """Every event the frame posted (its paints, the layout and scene updates they cause, queued repaints)."""
    app = QApplication.instance()
    for _ in range(6):
        app.sendPostedEvents()
        app.processEvents()


def live_frames(window, config, n: int, steps: int = 3):
    """``n`` frames of a run at full speed, as the worker sends them: running, a few steps apart."""
    run = LiveRun()
    run.configure(config)
    run.running = True
    generation = window.last_snapshot.generation
    for _ in range(n):
        run.step(steps)
        yield replace(run.snapshot(), generation=generation, running=True)


def layout_of(window) -> list:
    """Where each plot and its data area are: a frame that changes them (a caption gaining a line, an axis widening
    for longer tick labels) re-lays out the window, and the views it moved paint again."""
    out = []
    for p in window.findChildren(GatedPlotWidget):
        out.append(p.geometry().getRect())
        out.append(p.getPlotItem().vb.sceneBoundingRect().getRect())
    return out


def test_each_view_paints_at_most_once_a_live_frame_and_not_at_all_without_new_data(make_window):
    """Frames of a run at full speed: in every frame that leaves the layout as it was, each view paints at most
    once, the views whose data changed exactly once. Its new range is applied before its paint, so no item moves
    inside the paint (which queued a second paint of every frame before), and no glide runs between frames. A
    frame that repeats a view's data (the engine's process hands back the same objects) does not repaint it."""
    w = make_window(MOONS)
    w.resize(1280, 720)
    # the arrows are drawn smooth again once no frame has come for CALM_MS (a paint of its own, by design): on a
    # busy machine a frame of this test can take that long, and that repaint is not the frame's
    w.weight_view.arrows._calm.setInterval(60_000)
    drain()
    counter = PaintCounter(w)
    frames = list(live_frames(w, MOONS, 10))
    plots = w.findChildren(GatedPlotWidget)

    def text_room():  # the room each axis keeps for its tick labels
        return [p.getPlotItem().getAxis("left").width() for p in plots] + \
               [p.getPlotItem().getAxis("bottom").height() for p in plots]

    widths = text_room()
    steady = []
    for i, snap in enumerate(frames):
        before = layout_of(w)
        counter.take()
        w._on_snapshot(snap)
        drain()
        counts = counter.take()
        # a view box gliding between live frames would repaint its view at 60 Hz on its own
        assert w.weight_view.follow.anim.state() != w.weight_view.follow.anim.State.Running
        now = text_room()
        assert all(b >= a - 1e-9 for a, b in zip(widths, now)), (widths, now)  # running: axes never narrow
        widths = now
        if i and layout_of(w) == before:
            steady.append(counts)
            assert max(counts.values(), default=0) <= 1, (i, dict(counts))
            assert counts["lossVsWeightPlot"] == 1 and counts["lossVsStepPlot"] == 1, (i, dict(counts))
    assert len(steady) >= len(frames) // 2, len(steady)  # most frames leave the layout alone
    assert w.last_snapshot is frames[-1]

    # the next frame, as the engine's process hands it on: the region grid and the slice not refreshed (the
    # same objects, see live.host.FrameDelta); the step, the trail and the history new
    last = frames[-1]
    curve_data = w.weight_view.curve.getData()
    again = replace(last, step=last.step + 1, regions=last.regions, confidence=last.confidence,
                    weight=replace(last.weight, trail_w=np.append(last.weight.trail_w[1:], last.weight.current_w),
                                   trail_loss=np.append(last.weight.trail_loss[1:], last.weight.current_loss)))
    w._on_snapshot(again)
    drain()
    counts = counter.take()
    assert counts["dataPlot"] == 0, dict(counts)
    assert counts["lossVsWeightPlot"] == 1 and counts["lossVsStepPlot"] <= 1, dict(counts)
    assert w.weight_view.curve.getData()[0] is curve_data[0]  # the slice's curve was not handed new data
    w._on_snapshot(replace(again, regions=np.ascontiguousarray(last.regions[::-1])))  # a new region grid: drawn
    drain()
    assert counter.take()["dataPlot"] == 1

    # a paused frame lets the axes fit their labels again
    axis = w.weight_view.plot.getPlotItem().getAxis("left")
    assert axis.style["autoReduceTextSpace"] is False
    w._on_snapshot(replace(frames[-1], running=False))
    drain()
    assert axis.style["autoReduceTextSpace"] is True


def _grown(mask: np.ndarray) -> np.ndarray:
    """``mask`` and every pixel next to it (8 neighbours)."""
    out = mask.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            out |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return out


def _ink(item: ArrowsItem, live: bool) -> np.ndarray:
    """Where ``item`` puts colour on a white 200×200 image (its data: 0..10 on both axes)."""
    img = QImage(200, 200, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setWorldTransform(p.worldTransform().fromScale(20, 20))
    item.live = live
    item.paint(p)
    p.end()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(200, img.bytesPerLine() // 4, 4)
    return (arr[:, :200, :3].min(axis=2) < 235)


def test_arrows_drawn_fast_cover_what_the_calm_arrows_cover(qapp):
    """While running, each fade level's solid arrows are one filled outline (shaft quads, heads): the same arrows
    as the calm picture's stroked shafts and outlined heads, and where two arrows of one level cross, filled."""
    item = ArrowsItem()
    # 18 arrows, 3 to a fade level: the first three cross (the first and the third at (5, 5)); one rose
    x = np.concatenate([[1.0, 9.0, 1.0, 9.0], np.linspace(8.0, 2.0, 15)])
    y = np.concatenate([[1.0, 9.0, 9.0, 1.0], 2.0 + 0.3 * np.sin(np.arange(15.0)) + np.arange(15.0) * 0.1])
    up = np.zeros(18, bool)
    up[9] = True
    item.setArrows(x, y, up)
    assert item.count() == 18
    calm, fast = _ink(item, False), _ink(item, True)
    assert calm.sum() > 1000
    # the fast picture draws inside the calm one (which adds an antialiased fringe and round caps) ...
    assert (fast & ~calm).sum() <= 0.02 * fast.sum()
    # ... and misses none of it by more than a pixel
    assert (calm & ~_grown(fast)).sum() <= 0.03 * calm.sum()
    assert fast[99:101, 99:101].all()  # the crossing at (5, 5): filled, not a hole


def test_a_running_view_keeps_its_axes_through_sgd_jitter_and_never_loses_the_box(qtbot, monkeypatch):
    """At a minimum, SGD's steps jitter: each frame's box moves a little and shrinks and widens. While running the
    view widens to take in the jitter and closes in at most twice a second, so its axes (re-rendered on every
    range change) stay still for most frames; the box is in view in every frame. Paused, each frame is fitted."""
    from gd_studio.ui.plots import common

    clock = [100.0]
    monkeypatch.setattr(common.time, "monotonic", lambda: clock[0])
    pw = common.new_plot("jitterPlot")
    qtbot.addWidget(pw)
    pw.resize(420, 300)
    pw.show()
    follow = common.FollowRange(pw.getPlotItem().vb, pad=0.08, fill=0.4)
    rng = np.random.default_rng(0)
    changes = 0
    for _ in range(100):  # two seconds at 50 frames a second
        clock[0] += 0.02
        c = 2.0 + 0.01 * rng.standard_normal()
        top = 0.0739 + 0.0005 * rng.random()
        before = follow.range
        follow.fit(c - 0.07, c + 0.07, 0.0738, top, live=True)
        changes += follow.range is not before
        r = follow.range
        assert r.left() <= c - 0.07 and c + 0.07 <= r.right() and r.top() <= 0.0738 and top <= r.bottom()
        assert follow.anim.state() != follow.anim.State.Running  # frames this close: no glide
    assert changes <= 20, changes



def test_a_new_surface_paints_the_loss_surface_view_once_even_when_its_axes_widen(qtbot, monkeypatch):
    """Paused frames, each a new loss surface over a new window whose tick labels change width ("−1" to "−0.05",
    a colour bar reaching below 0.1): the view sizes its axes for the new labels with the new range, before the
    paint, so each frame paints it once (an axis widened inside the paint re-laid out the plot and painted it again).
    The main window settles every plot after a frame (its range applied before the paint): so does this test."""
    from gd_studio.live.surface import SurfacePath, SurfaceSpec, compute
    from gd_studio.ui.plots import common
    from gd_studio.ui.plots.surface_view import LossSurfaceView

    clock = [100.0]  # a second between frames: the arrow is drawn calm, no repaint queued for later
    monkeypatch.setattr(common.time, "monotonic", lambda: clock[0])
    valley = RunConfig(dataset="valley", dataset_params={"n_samples": 200, "noise": 0.3, "seed": 0}, model="linear",
                       loss="mse", lr=0.45, batch_size=0, seed=0, watch="W1[0,0]")
    run = LiveRun()
    run.configure(valley)
    model, p = run.session.model, run.session.runner.params
    path = SurfacePath()
    path.add(0, p)
    view = LossSurfaceView()
    qtbot.addWidget(view.widget)
    view.widget.resize(600, 450)
    view.widget.show()
    counts = collections.Counter()

    class Count(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                counts["paint"] += 1
            return False

    counter = Count()
    view.plot.viewport().installEventFilter(counter)
    pi = view.plot.getPlotItem()
    axes = [pi.getAxis("left"), pi.getAxis("bottom"), view.colorbar.axis]

    def room():
        return [a.width() if a.orientation in ("left", "right") else a.height() for a in axes]

    widened = 0
    for k, span in enumerate((1.0, 0.06, 3.0, 0.013, 25.0, 0.2)):
        clock[0] += 1.0
        info = compute(model, p, run.slice_X, run.slice_y, SurfaceSpec("weights", ("W1[0,0]", "W1[1,0]"), span=span),
                       path, 0, 0.45, size=21)
        before = room()
        drain()
        counts.clear()
        view.show_surface(info)
        view.plot.settle(False)
        drain()
        widened += room() != before
        if k:
            assert counts["paint"] == 1, (span, before, room(), dict(counts))
    assert widened >= 2, "the axes never changed their room: the case is not exercised"


def test_the_lr_line_hands_the_plot_the_ends_of_its_level_runs_only(qapp):
    """A constant LR over 8,000 history rows was a dotted line through 8,000 points (a third of the loss-vs-step
    view's paint): the plot gets the ends of each run of equal LRs, which is the same line; a schedule that changes
    every step keeps every point, and a step change keeps both sides of the step."""
    from gd_studio.live.snapshot import History
    from gd_studio.ui.plots.step_view import LossVsStepView, level_runs

    steps = np.arange(1.0, 8001.0)
    lr = np.full(steps.size, 0.05)
    lr[5000:] = 0.01  # one live change
    x, y = level_runs(steps, lr)
    assert x.tolist() == [1.0, 5000.0, 5001.0, 8000.0] and y.tolist() == [0.05, 0.05, 0.01, 0.01]
    np.testing.assert_array_equal(np.interp(steps, x, y), lr)  # the same polyline at every step
    cyclic = 0.05 + 0.04 * np.sin(steps / 50.0)
    assert level_runs(steps, cyclic)[0].size == steps.size

    view = LossVsStepView()
    loss = 1.0 / np.sqrt(steps)
    view.show_history(History(steps=steps, loss=loss, lr=lr, val_steps=np.zeros(0), val_loss=np.zeros(0)))
    assert len(view.lr_curve.getData()[0]) == 4


def _grab(plot) -> np.ndarray:
    img = plot.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(), -1).copy()


def test_trail_dots_draw_what_a_scatter_plot_item_draws_without_its_per_point_records(qtbot, tmp_path):
    """The steps on the loss-vs-weight view: the same pixels as pyqtgraph's ScatterPlotItem (same symbol image, same
    order where points overlap), set from two arrays without a record per point; restyled (presentation mode's
    sizes) they follow; an SVG export draws every point as a vector symbol."""
    import pyqtgraph as pg

    from gd_studio.ui import export
    from gd_studio.ui.plots.common import DotsItem, new_plot

    rng = np.random.default_rng(1)
    x = np.cumsum(rng.standard_normal(201)) * 0.1
    y = x ** 2 + 0.1 * rng.standard_normal(201)
    x[7] = np.nan  # dropped, as ScatterPlotItem does not draw it
    shots, items = [], []
    for cls in (pg.ScatterPlotItem, DotsItem):
        pw = new_plot("dotsPlot")
        qtbot.addWidget(pw)
        pw.resize(420, 320)
        item = cls(size=9, brush=pg.mkBrush(BLUE_), pen=pg.mkPen("#FFFFFF", width=1))
        pw.getPlotItem().addItem(item)
        item.setData(x=x, y=y)
        pw.getPlotItem().vb.setRange(xRange=(-2.0, 1.0), yRange=(-0.5, 3.0), padding=0)
        pw.show()
        QApplication.processEvents()
        shots.append(_grab(pw))
        items.append((pw, item))
    assert (shots[0] != shots[1]).sum() == 0
    (spw, scatter), (dpw, dots) = items
    assert len(dots.data) == 0 and len(dots) == 200  # no per-point records; the NaN point left out
    for item in (scatter, dots):
        item.setSize(14)
        item.setPen(pg.mkPen("#000000", width=2))
    QApplication.processEvents()
    assert (_grab(spw) != _grab(dpw)).sum() == 0
    svgs = [export.export_svg(pw, tmp_path / f"{i}.svg").read_text() for i, pw in enumerate((spw, dpw))]
    assert svgs[1].count("<path") == svgs[0].count("<path") >= 200  # every point a vector symbol, as before


def test_a_frame_that_widens_an_axis_paints_its_view_once_and_as_a_fresh_paint_would(make_window):
    """The loss grows by orders of magnitude (a divergence): the weight view's loss axis needs wider tick labels.
    Measured inside the paint, the axis widened there, the plot re-laid out and the view painted 3 times in that
    frame; now the axis is drawn (and sized, and the layout settled) before the paint: one paint a frame, and the
    picture is the one a paint from scratch gives."""
    w = make_window(MOONS)
    w.resize(1280, 720)
    w.weight_view.arrows._calm.setInterval(60_000)  # (its calm repaint is not the frame's; see above)
    drain()
    counter = PaintCounter(w)
    frames = list(live_frames(w, MOONS, 4))
    for snap in frames[:3]:
        w._on_snapshot(snap)
        drain()
    last = frames[3]
    axis = w.weight_view.plot.getPlotItem().getAxis("left")
    widened = 0
    for k, scale in enumerate((1e3, 1e6, 1e9)):
        wv = last.weight
        grown = replace(wv, curve_loss=wv.curve_loss * scale, trail_loss=wv.trail_loss * scale,
                        current_loss=wv.current_loss * scale)
        before = axis.width()
        counter.take()
        w._on_snapshot(replace(last, weight=grown, step=last.step + k + 1))
        drain()
        counts = counter.take()
        widened += axis.width() > before + 1
        assert counts["lossVsWeightPlot"] == 1, (scale, dict(counts))
    assert widened >= 2  # the frames did widen the axis
    plot = w.weight_view.plot
    shown = _grab(plot)
    for name in ("left", "bottom", "right"):
        a = plot.getPlotItem().getAxis(name)
        a.picture = None  # drawn from scratch by the paint
        a.update()
    assert (_grab(plot) != shown).sum() == 0


def test_the_validation_loss_is_drawn_one_point_a_pixel_column(qtbot):
    """A long digits run has thousands of validation points drawn with a dashed wide pen (costly per point): the
    plot draws one mean a pixel column of it."""
    from gd_studio.live.snapshot import History
    from gd_studio.ui.plots.step_view import LossVsStepView

    view = LossVsStepView()
    qtbot.addWidget(view.widget)
    view.widget.resize(700, 400)
    view.widget.show()
    steps = np.arange(1.0, 8001.0)
    rng = np.random.default_rng(0)
    loss = 1.0 / np.sqrt(steps) + 0.05 * rng.random(steps.size)
    vs = steps[::3]
    view.show_history(History(steps=steps, loss=loss, lr=np.full(steps.size, 0.05), val_steps=vs,
                              val_loss=1.0 / np.sqrt(vs)))
    QApplication.processEvents()
    px = view.plot.getPlotItem().vb.width()
    assert 300 < px < 700
    drawn_val = len(view.val.getData()[0])
    assert drawn_val <= 1.5 * px, (drawn_val, px)  # (2,667 points handed)


def _thinned_history(rng):
    """A run's history as the engine keeps it (engine.descent.History): older rows every 16th step, the last
    4,096 steps every step; a noisy training loss."""
    from gd_studio.live.snapshot import History

    steps = np.concatenate([np.arange(16.0, 60000.0, 16.0), np.arange(60000.0, 64096.0)])
    loss = 1.0 / np.sqrt(steps) + 0.04 * rng.random(steps.size)
    return History(steps=steps, loss=loss, lr=np.full(steps.size, 0.05), val_steps=np.zeros(0),
                   val_loss=np.zeros(0))


def test_the_training_loss_is_drawn_from_each_pixel_columns_extremes_and_looks_the_same(qtbot, monkeypatch):
    """pyqtgraph's downsampling assumes evenly spaced steps; a history is dense only for its last 4,096 steps, so
    they were drawn at dozens of points a pixel column (3,000 points, 3 ms a paint). The curve now gets, of what
    pyqtgraph's downsampling gives, each device pixel column's lowest and highest point: a few points a column, the
    same band (the same extremes in every column) and the same picture as pyqtgraph's own curve; an export, every
    point."""
    import pyqtgraph as pg

    from gd_studio.ui.plots.common import PixelColumnCurve
    from gd_studio.ui.plots import step_view

    h = _thinned_history(np.random.default_rng(0))
    shots, views = [], []
    for plain in (True, False):
        # first pyqtgraph's own item with the same options: the picture to match
        monkeypatch.setattr(step_view, "PixelColumnCurve", pg.PlotDataItem if plain else PixelColumnCurve)
        view = step_view.LossVsStepView()
        qtbot.addWidget(view.widget)
        view.widget.resize(700, 400)
        view.widget.show()
        view.show_history(h)
        QApplication.processEvents()
        shots.append(_grab(view.plot))
        views.append(view)
    plain, columns = views
    vb = columns.plot.getPlotItem().vb
    px = vb.width()
    full_x, full_y = plain.train.getData()  # what pyqtgraph's downsampling gives
    x, y = columns.train.getData()  # what the curve draws
    assert len(full_x) > 4 * px  # the dense part: the case is exercised
    assert len(x) <= 2 * px + 2, (len(x), px)
    assert x[-1] == full_x[-1] and y[-1] == full_y[-1]  # the line ends at the last step's loss
    rect = vb.viewRect()
    col = lambda v: np.floor((v - rect.left()) / (rect.width() / px))  # noqa: E731
    for c in np.unique(col(full_x)):
        assert y[col(x) == c].min() == full_y[col(full_x) == c].min()
        assert y[col(x) == c].max() == full_y[col(full_x) == c].max()
    # the same picture but for a few pixels of the lines between columns (they join a column's extreme to the
    # next one's rather than its last point to the next one's first)
    differ = (shots[0] != shots[1]).reshape(shots[0].shape[0], -1, 4).any(axis=2)
    assert differ.sum() <= 0.005 * differ.size, differ.sum()
    # an export (twice the size, for slides) gets every point: the image pyqtgraph's own curve gives; then the
    # screen's columns again
    from gd_studio.ui import export

    images = []
    for view in views:
        img = export.render_image(view.plot, 2.0)
        images.append(np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).copy())
    assert (images[0] != images[1]).sum() == 0
    assert len(columns.train.getData()[0]) == len(x)
    # a HiDPI screen: the columns are its device pixels (a line of half-pixel columns showed gaps in its band)
    monkeypatch.setattr(columns.plot, "devicePixelRatioF", lambda: 2.0)
    columns.train.updateItems(styleUpdate=False)
    assert 2 * px + 2 < len(columns.train.getData()[0]) <= 4 * px + 2


def test_column_extremes_keeps_each_columns_lowest_and_highest_point_in_order():
    from gd_studio.ui.plots.common import column_extremes

    x = np.array([0.1, 0.2, 0.3, 0.9, 1.5, 2.1, 2.2, 2.3, 2.4])
    y = np.array([5.0, 1.0, 9.0, 3.0, 4.0, 2.0, 8.0, 0.0, 7.0])
    # column 0: lowest 0.2, highest 0.3; column 1 one point; column 2: highest 2.2, lowest 2.3; first and last kept
    assert column_extremes(x, y, 0.0, 1.0).tolist() == [0, 1, 2, 4, 6, 7, 8]
    assert column_extremes(x[:2], y[:2], 0.0, 1.0).tolist() == [0, 1]
    assert column_extremes(x, y, 0.0, 0.01).tolist() == list(range(9))  # a point a column: all kept


def test_a_running_windows_captions_keep_their_height_until_the_run_stops(make_window):
    """A view's caption whose text wrapped to one line more or less every few frames (the loss-vs-weight view's
    2/λ numbers, 6 or 7 lines in a digits run) re-laid out the views' grid and resized and repainted three plots,
    a dozen times in 120 frames. While the run goes each caption keeps the most lines it needed; the frame that
    says the run stopped lets it fit its text again."""
    w = make_window(MOONS)
    w.resize(1280, 720)
    w.weight_view.arrows._calm.setInterval(60_000)
    drain()
    frames = list(live_frames(w, MOONS, 5))
    for snap in frames[:2]:  # (the first frames grow the narration's texts: growing re-lays out, as it should)
        w._on_snapshot(snap)
        drain()
    cap = w.weight_view.caption
    normal = cap.height()
    cap.setText(cap.text() + " " + " ".join(["a longer caption"] * 40))  # the text of a frame wraps to more lines
    drain()
    tall = cap.height()
    assert tall > normal
    w._on_snapshot(frames[2])  # the view's own, shorter text again: the caption keeps its height
    drain()
    assert cap.height() == tall
    before = layout_of(w)
    w._on_snapshot(frames[3])
    drain()
    assert cap.height() == tall and layout_of(w) == before
    w._on_snapshot(replace(frames[4], running=False))
    drain()
    assert cap.height() == normal
