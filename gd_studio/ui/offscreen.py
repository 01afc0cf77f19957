"""A scenario opened in a main window that is never shown: what screenshots and recordings render from."""
from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path

import numpy as np

from ..engine.errors import GDStudioError

NORMAL_SIZE = (1600, 1000)
PRESENTATION_SIZE = (1920, 1080)


class ScreenshotError(GDStudioError):
    """A screenshot or recording could not render: the message says which file or which step."""


def offscreen_platform(width: int, height: int, dpr: float = 1.0) -> str:
    """A QT_QPA_PLATFORM value: the offscreen plugin with one ``width``×``height`` screen (logical pixels) at
    device pixel ratio ``dpr`` (the plugin's own screen is 800×800, smaller than any screen the app supports)."""
    import json
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), "gd-studio-screens")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"screen-{width}x{height}@{dpr:g}.json")
    screen = {"name": f"screen{width}x{height}", "x": 0, "y": 0, "width": int(width), "height": int(height),
              "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": float(dpr)}
    text = json.dumps({"screens": [screen]})
    try:
        with open(path, encoding="utf-8") as f:
            same = f.read() == text
    except OSError:
        same = False
    if not same:  # written once, atomically: parallel processes may ask for the same screen
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    return f"offscreen:configfile={path}"


def ensure_app(screen: tuple[int, int] | None = None, dpr: float | None = None):
    """The QApplication; without one yet, an offscreen one (with a ``screen``-sized screen: the window's layout
    and presentation scale follow the screen), so nothing is ever shown on a screen.

    ``dpr`` (else QT_SCALE_FACTOR from the environment) renders at that device pixel ratio: the same layout in
    logical pixels, drawn with ``dpr``× as many pixels (fonts, lines and markers crisp, not scaled up).
    """
    from PySide6.QtWidgets import QApplication

    from .app import make_app

    if QApplication.instance() is None:
        if dpr:
            # (the offscreen plugin's own "dpr" sets the screen's ratio but not its windows': grabs stay 1×)
            os.environ["QT_SCALE_FACTOR"] = f"{float(dpr):g}"
        if screen:
            try:
                factor = float(os.environ.get("QT_SCALE_FACTOR") or 1.0)
            except ValueError:
                factor = 1.0
            # Qt divides the screen's pixels by QT_SCALE_FACTOR: give it that many more, for a screen-sized layout
            os.environ["QT_QPA_PLATFORM"] = offscreen_platform(round(screen[0] * factor), round(screen[1] * factor))
        else:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from . import qt_messages

    qt_messages.install()  # before the QApplication: the offscreen plugin talks as soon as it loads
    return make_app()


def wait(app, condition, timeout: float) -> bool:
    """Run the event loop until ``condition()`` holds or ``timeout`` seconds pass; returns whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.002)
    app.processEvents()
    return bool(condition())


def settle(app) -> None:
    """Deliver the posted layout and paint requests, so a grab shows the last data in its final layout."""
    for _ in range(3):
        app.sendPostedEvents()
        app.processEvents()


class ScenarioWindow:
    """An unshown MainWindow running ``scenario``, stepped on request; frames come from :meth:`grab`."""

    def __init__(self, app, window, scenario, source: str, out_size: tuple[int, int] | None = None) -> None:
        self.app, self.window, self.scenario, self.source = app, window, scenario, source
        self.out_size = out_size  # frames come out this size, whatever the window could shrink to
        self._snapshots = 0
        window.snapshotApplied.connect(self._count)

    def _count(self, _snap) -> None:
        self._snapshots += 1

    @property
    def step(self) -> int:
        return self.window.step_count

    @property
    def stop_reason(self) -> str | None:
        snap = self.window.last_snapshot
        return None if snap is None else snap.stop_reason

    def advance(self, n: int, timeout: float = 120.0) -> bool:
        """Take ``n`` steps through the window's worker (one command) and wait for their snapshot.

        False when the run stopped (diverged) before all of them were taken.
        """
        if n <= 0:
            return True
        target = self.step + int(n)
        seen = self._snapshots
        self.window.controller.stepRequested.emit(int(n))
        if not wait(self.app, lambda: self._snapshots > seen and (self.step >= target or bool(self.stop_reason)),
                    timeout):
            raise ScreenshotError(f"{self.source}: step {target} was not reached in time")
        return self.step >= target

    def switch(self, scenario_path, timeout: float = 60.0, max_pre_run: int | None = None) -> None:
        """Open another scenario in this window, as a person does (its run built, its pre-run taken: at most
        ``max_pre_run`` steps of it, for a quick look)."""
        import dataclasses

        from ..engine import scenarios

        scenario = scenarios.load(scenario_path)
        if max_pre_run is not None and scenario.pre_run > max_pre_run:
            scenario = dataclasses.replace(scenario, pre_run=int(max_pre_run))
        applied = []
        w = self.window
        w.scenarios.scenarioApplied.connect(applied.append)
        try:
            w.scenarios.path = Path(scenario_path)
            w.scenarios.apply(scenario)
            if not wait(self.app, lambda: bool(applied), 20.0):
                raise ScreenshotError(f"{scenario_path}: the run did not build")
            # the new run's pictures (its scene's axes are applied with them), its pre-run taken: the step count
            # alone is the old run's until the new one's first frame (re-opening the scenario shown, whose
            # count already passed its pre-run, returned at once and the next steps went to the old run)
            def new_run() -> bool:
                snap = w.last_snapshot
                return snap is not None and snap.generation == getattr(w, "_generation", None)

            if not wait(self.app, lambda: new_run() and (w.step_count >= scenario.pre_run
                                                         or bool(w.last_snapshot.stop_reason)), timeout):
                raise ScreenshotError(f"{scenario_path}: the pre-run did not finish")
        finally:
            w.scenarios.scenarioApplied.disconnect(applied.append)
        self.scenario, self.source = scenario, str(scenario_path)
        settle(self.app)

    def settle_layout(self, equal_rows: bool = True) -> None:
        """``equal_rows=False`` keeps the splitters as the window laid them out (the repeat-render test: the window
        as a person sees it, its layout a function of the data alone)."""
        settle(self.app)
        if equal_rows and share_rows(self.window):
            settle(self.app)
        # the loss surface framed for its map as laid out: a new shape sends the plane again (after a short pause,
        # landscape_views), and the picture must be the grid that follows, not the one framed for the last shape
        surface = getattr(self.window, "surface_view", None)
        if surface is not None and surface.widget.isVisible() and not surface.in_shape():
            wait(self.app, lambda: surface.in_shape() and (surface.info is None or surface.info.refined), 10.0)
            settle(self.app)
        # every axis drawn from the final size and text, not from a picture cached at an earlier layout
        from .plots.common import GatedPlotWidget

        # (no repaint asked: the grab that follows draws them; a settle that painted every frame twice cost more)
        plots = [p for p in self.window.findChildren(GatedPlotWidget) if p.isVisible()]
        resized = [plot.refresh_axes(text_space=True, repaint=False) for plot in plots]
        if any(resized):
            settle(self.app)
            for plot in plots:  # the axes' new sizes moved the data boxes: labels and ticks for those
                plot.refresh_axes(repaint=False)

    def hide_notes(self) -> None:
        banner = self.window.banner
        if banner.kind == "info" and not banner.isHidden():
            banner.hide()  # a passing note ("Presentation mode: …") does not belong on a slide

    def grab(self, widget=None, equal_rows: bool = True):
        """(rgb, image): the widget (default the window) as an RGB array viewing ``image``'s pixels.

        The array shares memory with the QImage, so keep ``image`` while the array is in use.
        """
        from PySide6.QtCore import QSize, Qt
        from PySide6.QtGui import QImage

        self.hide_notes()
        self.settle_layout(equal_rows)
        image = (widget or self.window).grab().toImage()
        dpr = image.devicePixelRatio()
        # at a device pixel ratio of 2 the picture has twice the pixels each way: kept, that is what HiDPI is for
        want = (round(self.out_size[0] * dpr), round(self.out_size[1] * dpr)) if self.out_size else None
        if want and (image.width(), image.height()) != want:
            # the layout needed more room than asked: scale down to the size asked for
            image = image.scaled(QSize(*want), Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
            image.setDevicePixelRatio(dpr)
        image = image.convertToFormat(QImage.Format.Format_RGB888)
        return qimage_rgb(image), image

    def fit(self, widget, size: tuple[int, int]) -> None:
        """Resize the window until ``widget`` is ``size``; if the layout cannot shrink that far, to the
        smallest size of the same shape it can, which :meth:`grab` scales down to ``size``."""
        w = self.window
        want = size
        for _ in range(6):
            settle(self.app)
            dw, dh = want[0] - widget.width(), want[1] - widget.height()
            if not dw and not dh:
                return
            w.resize(w.width() + dw, w.height() + dh)
            settle(self.app)
            if (widget.width(), widget.height()) == tuple(want):
                return
            # not reached: the layout's minimum; keep the shape and grow both sides to clear it
            s = max(widget.width() / size[0], widget.height() / size[1], 1.0)
            want = (math.ceil(size[0] * s), math.ceil(size[1] * s))


def share_rows(window) -> bool:
    """The views' rows (and the views in each row) share the room equally, as in a fresh window: a splitter keeps
    the sizes of earlier scenes (a view hidden and shown again gets its old width back), and a rendering shows
    the scene, not the history of the window it was drawn in."""
    from PySide6.QtWidgets import QSplitter

    grid = getattr(window, "views_splitter", None)
    if not isinstance(grid, QSplitter):
        return False
    splitters = [grid] + [grid.widget(i) for i in range(grid.count()) if isinstance(grid.widget(i), QSplitter)]
    changed = False
    for split in splitters:
        shown = [i for i in range(split.count()) if not split.widget(i).isHidden()]
        total = sum(split.sizes())
        if shown and total > 0:
            want = [total // len(shown) if i in shown else 0 for i in range(split.count())]
            if split.sizes() != want:
                split.setSizes(want)
                changed = True
    # on a short screen the rows follow their captions' heights (Presentation.balance_rows): a function of
    # the captions, applied last, or the rows would depend on whether a caption changed since the last frame
    presentation = getattr(window, "presentation", None)
    if presentation is not None and presentation.balance_rows():
        changed = True
    # presenting, a scene's two views side by side have widths of their own (Presentation.lecture_widths)
    if presentation is not None and presentation.lecture_widths():
        changed = True
    return changed


def qimage_rgb(image) -> np.ndarray:
    """An RGB888 QImage's pixels as a (height, width, 3) uint8 array, without copying them."""
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, : 3 * w].reshape(h, w, 3)


def _no_time_throttle(window) -> None:
    # live plots refit their axes at most every 0.3 s so they do not jitter; a rendering is not live, and
    # its pictures must follow from the data alone, not from how long each frame took
    from .plots.common import ArrowsItem, GatedPlotWidget

    for plot in window.findChildren(GatedPlotWidget):
        for r in getattr(plot, "sticky", ()):
            r.min_interval = 0.0
            r.hysteresis = False  # the axes follow from the last frame's data, not from the frames before it
            r.animate = False  # and are where they end, not where a glide is at the moment of the grab
        for item in plot.getPlotItem().items:
            if isinstance(item, ArrowsItem):
                item.CALM_MS = 0  # always antialiased: frames in quick succession are a live run's matter


@contextlib.contextmanager
def scenario_window(scenario_path=None, *, scenario=None, size=None, presentation: bool = False,
                    use_theme: bool = True, timeout: float = 60.0, allow_outside_data: bool = False):
    """Open a scenario (a file, or a loaded Scenario) in a window that is never shown, built and pre-run.

    ``use_theme`` applies the user's saved theme for the time of the rendering (the command line); the
    window's export dialog renders in the look the app already has, so the visible window is untouched.
    """
    from PySide6.QtCore import Qt

    from ..engine import scenarios
    from . import theme

    if scenario is None:
        # ScenarioError names the file and the place; a data file outside the scenario's folder needs consent
        scenario = scenarios.load(scenario_path, allow_outside_folder=allow_outside_data)
    source = str(scenario_path) if scenario_path is not None else (scenario.title or "the scenario")
    wanted = tuple(size) if size else (PRESENTATION_SIZE if presentation else NORMAL_SIZE)
    app = ensure_app(wanted)
    from . import settings
    from .app import NORMAL_SCALE
    from .main_window import MainWindow

    before = theme.applied_theme(app)
    # a style sheet costs about a second: apply the user's theme only if it is not the look already
    restore = presentation or (use_theme and before != (theme.get_theme(settings.theme_name()), NORMAL_SCALE))
    if use_theme and restore:
        theme.apply_theme(app, settings.theme_name(), NORMAL_SCALE)
    from .worker import engine_in_thread

    with engine_in_thread():
        window = MainWindow(config=scenario.config)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    # a real screen's size: the window's layout must fit it (a taller grab would show what no screen can)
    wanted = tuple(size) if size else (PRESENTATION_SIZE if presentation else NORMAL_SIZE)
    window.resize(*wanted)
    try:
        window.show()
        _no_time_throttle(window)
        applied = []
        window.scenarios.scenarioApplied.connect(applied.append)
        errors = []
        window.messageShown.connect(lambda kind, text: errors.append(text) if kind == "error" else None)
        if scenario_path is not None:
            window.scenarios.path = Path(scenario_path)
        window.scenarios.apply(scenario)
        if not wait(app, lambda: bool(applied) or bool(errors), 20.0) or not applied:
            # the window may report one failure more than once (banner and status): say it once
            raise ScreenshotError(f"{source}: the run did not build "
                                  f"({'; '.join(dict.fromkeys(errors)) or 'timed out'})")
        if not wait(app, lambda: window.step_count >= scenario.pre_run
                    or bool(window.last_snapshot and window.last_snapshot.stop_reason), timeout):
            raise ScreenshotError(f"{source}: the scenario's {scenario.pre_run} pre-run steps did not finish")
        if presentation:
            window.presentation.set_presentation(True)
            window.showNormal()  # offscreen "maximised" is the virtual screen's size, not the one asked for
            window.resize(*wanted)
        sw = ScenarioWindow(app, window, scenario, source, out_size=wanted if size else None)
        if size:
            sw.fit(window, wanted)
        wait(app, lambda: False, 0.3)  # layouts and the first frame settle
        yield sw
    finally:
        window.close()
        window.shutdown()
        # delete it now: an export from the running app (and every recording) would otherwise leave its
        # ~1,200 widgets alive, and each later font or palette change polishes them all again
        from PySide6.QtCore import QCoreApplication, QEvent

        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if restore:
            theme.apply_theme(app, before[0], before[1])


__all__ = ["offscreen_platform", "ScenarioWindow", "ScreenshotError", "scenario_window", "ensure_app", "wait", "settle", "qimage_rgb"]
