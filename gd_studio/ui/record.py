"""Record a scenario as an animation: an unshown window replays it step by step, each step one frame."""
from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Slot

from ..engine.errors import GDStudioError
from .offscreen import ScenarioWindow, ScreenshotError, scenario_window, wait

# --views names: the short name, the scenario panel it is, and its plot widget's objectName
VIEWS = {
    "data": ("data", "dataPlot"),
    "weight": ("loss_vs_weight", "lossVsWeightPlot"),
    "lr": ("loss_vs_lr", "lossVsLrPlot"),
    "step": ("loss_vs_step", "lossVsStepPlot"),
}
_ALIASES = {panel: short for short, (panel, _name) in VIEWS.items()}


class RecordError(GDStudioError):
    """A recording cannot be made as asked (views, steps, a range test that does not start); says why."""


class RecordCancelled(GDStudioError):
    """The recording was cancelled; nothing was written."""


def parse_views(text) -> tuple[str, ...]:
    """'weight,step' → ('weight', 'step'); the panel names of scenario files (loss_vs_weight) work too."""
    if isinstance(text, str):
        parts = [p.strip().lower() for p in text.split(",") if p.strip()]
    else:
        parts = [str(p).strip().lower() for p in text]
    out = []
    for p in parts:
        name = _ALIASES.get(p, p)
        if name not in VIEWS:
            raise RecordError(f"unknown view {p!r}: choose from {', '.join(VIEWS)}")
        if name not in out:
            out.append(name)
    if not out:
        raise RecordError(f"no views given: choose from {', '.join(VIEWS)}")
    return tuple(out)


@dataclass(frozen=True)
class RecordSettings:
    """What to record. Frames: the picture at ``start_step``, then one per step up to ``start_step + steps``
    (or, with ``range_test``, one per range-test step); the last one shown ``hold`` seconds longer."""

    steps: int = 30
    start_step: int = 0
    fps: float = 10.0
    size: tuple[int, int] | None = None
    presentation: bool = False
    views: tuple[str, ...] = ()
    range_test: bool = False
    hold: float = 0.0

    def __post_init__(self) -> None:
        if int(self.steps) < 0 or int(self.start_step) < 0:
            raise RecordError("steps must be 0 or more")
        if not (math.isfinite(self.hold) and 0 <= self.hold <= 60):
            raise RecordError(f"hold {self.hold!r} must be from 0 to 60 seconds")
        object.__setattr__(self, "views", parse_views(self.views) if self.views else ())

    @property
    def hold_frames(self) -> int:
        return int(round(self.hold * self.fps))


@dataclass
class RecordResult:
    path: Path
    frames: int
    size: tuple[int, int]
    last_step: int
    stop_reason: str | None = None
    notes: list[str] = field(default_factory=list)


class _ProgressInbox(QObject):
    """Counts range-test progress reports in the GUI thread (a queued connection from the worker)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(object)
    def take(self, _progress) -> None:
        self.count += 1


def _container(widget):
    from PySide6.QtWidgets import QSplitter

    while widget.parentWidget() is not None and not isinstance(widget.parentWidget(), QSplitter):
        widget = widget.parentWidget()
    return widget


def frame_target(sw: ScenarioWindow, views: tuple[str, ...], size: tuple[int, int] | None):
    """The widget to grab: the window, or (with ``views``) the area holding just those views.

    The other views and the window's bars and docks are hidden, and the window is resized until that
    area is ``size``, so a two-view recording is the size asked for with the views as large as they go.
    """
    if not views:
        return None
    from PySide6.QtWidgets import QDockWidget, QToolBar, QWidget

    w = sw.window
    for short, (panel, _name) in VIEWS.items():
        w.scenarios.set_panel_visible(panel, short in views)
    w.menuBar().hide()
    w.statusBar().hide()
    for bar in w.findChildren(QToolBar):
        bar.hide()
    for dock in w.findChildren(QDockWidget):
        dock.hide()
    plots = []
    for short in views:
        plot = w.findChild(QWidget, VIEWS[short][1])
        if plot is None:
            raise RecordError(f"the {short} view ({VIEWS[short][1]}) is not in this window")
        plots.append(_container(plot))
    target = plots[0]
    if len(plots) > 1:
        target = target.parentWidget()
        while target is not None and not all(target.isAncestorOf(p) for p in plots):
            target = target.parentWidget()
    if size:
        sw.fit(target, size)
    return target


def _step_frames(sw: ScenarioWindow, settings: RecordSettings, target, result: RecordResult) -> Iterator:
    if settings.start_step:
        sw.advance(settings.start_step)
        if sw.step < settings.start_step:
            raise RecordError(f"{sw.source}: the run stopped at step {sw.step} ({sw.stop_reason}), before "
                              f"step {settings.start_step}")
    yield sw.grab(target)
    for _ in range(settings.steps):
        if sw.stop_reason:
            result.notes.append(f"the run stopped ({sw.stop_reason}); the recording ends at step {sw.step}")
            break
        sw.advance(1)
        yield sw.grab(target)
    result.last_step = sw.step
    result.stop_reason = sw.stop_reason


def _range_test_frames(sw: ScenarioWindow, target, result: RecordResult, cancelled) -> Iterator:
    w = sw.window
    worker = w.controller.worker
    inbox = _ProgressInbox()
    worker.rangeTestProgress.connect(inbox.take)  # after the window's own slot: the views draw first
    gate = threading.Event()
    worker.frame_gate = gate  # every step is sent, and the next waits until its frame is taken
    errors = []
    w.messageShown.connect(lambda kind, text: errors.append(text) if kind == "error" else None)
    yield sw.grab(target)
    w.start_range_test()
    if not w.range_test_busy:
        raise RecordError(f"{sw.source}: the range test did not start ({'; '.join(errors) or 'no reason given'})")
    taken = 0
    try:
        while True:
            if cancelled():
                return
            if not wait(sw.app, lambda: inbox.count > taken or not w.range_test_busy, 120.0):
                raise ScreenshotError(f"{sw.source}: the range test stalled after {taken} steps")
            if inbox.count > taken:
                taken = inbox.count
                yield sw.grab(target)
                gate.set()
            else:
                break
        if w.range_test_result is None:
            raise RecordError(f"{sw.source}: the range test failed ({'; '.join(errors) or 'no result'})")
        yield sw.grab(target)  # the finished curve with its steepest-slope marker
    finally:
        worker.frame_gate = None
        gate.set()
    result.last_step = taken
    result.stop_reason = w.range_test_result.stop_reason


def frames(sw: ScenarioWindow, settings: RecordSettings, result: RecordResult,
           cancelled: Callable[[], bool] = lambda: False) -> Iterator[np.ndarray]:
    """The animation's frames as RGB arrays; each is valid until the next one is asked for."""
    target = frame_target(sw, settings.views, settings.size)
    source = (_range_test_frames(sw, target, result, cancelled) if settings.range_test
              else _step_frames(sw, settings, target, result))
    last = None
    for rgb, image in source:
        last = (rgb, image)
        yield rgb
    for _ in range(settings.hold_frames if last is not None else 0):
        yield last[0]


def expected_frames(settings: RecordSettings, range_test_steps: int = 100) -> int:
    """Frames a recording makes when the run does not stop early (for a progress bar)."""
    body = range_test_steps + 2 if settings.range_test else settings.steps + 1
    return body + settings.hold_frames


def record(out_path, settings: RecordSettings, *, scenario_path=None, scenario=None, fmt: str | None = None,
           progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] | None = None,
           use_theme: bool = True) -> RecordResult:
    """Render ``scenario`` (a file or a loaded Scenario) frame by frame into ``out_path``.

    GIF, MP4 or a PNG folder, by the name's extension or ``fmt``. The file appears only when complete;
    ``cancelled()`` returning True (polled every frame) or any error leaves no partial output and raises
    RecordCancelled or a GDStudioError subclass.
    """
    from .. import media
    from ..engine import scenarios

    cancelled = cancelled or (lambda: False)
    fmt = media.check_output(out_path, settings.fps, fmt)  # before any rendering: bad names fail at once
    if scenario is None:
        scenario = scenarios.load(scenario_path)
    total = expected_frames(settings, _range_test_iters(scenario))
    writer = media.ThreadedWriter(media.open_writer(out_path, settings.fps, fmt))
    result = RecordResult(path=writer.path, frames=0, size=(0, 0), last_step=0)
    try:
        with scenario_window(scenario_path, scenario=scenario, size=settings.size,
                             presentation=settings.presentation, use_theme=use_theme) as sw:
            for rgb in frames(sw, settings, result, cancelled):
                if cancelled():
                    raise RecordCancelled(f"recording cancelled: {writer.path} was not written")
                writer.write(rgb)
                if progress is not None:
                    progress(writer.frames, max(total, writer.frames))
            if cancelled():
                raise RecordCancelled(f"recording cancelled: {writer.path} was not written")
        writer.close()
        result.frames = writer.frames
        result.size = writer.size or (0, 0)
    except BaseException:
        writer.abort()
        raise
    return result


def _range_test_iters(scenario) -> int:
    rt = getattr(scenario, "range_test", None)
    return int(rt.num_iter) if rt is not None else 100


__all__ = ["RecordSettings", "RecordResult", "RecordError", "RecordCancelled", "VIEWS", "parse_views", "record",
           "frames", "frame_target", "expected_frames"]
