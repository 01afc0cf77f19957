"""Application setup: QApplication, names for QSettings, icon, theme, the main window and the event loop."""
from __future__ import annotations

import sys
from typing import Sequence

from ..engine.errors import GDStudioError

NORMAL_SCALE = 1.25  # the everyday font scale: readable from a few metres (presentation mode goes higher)


def _icon():
    from PySide6.QtGui import QIcon

    from .. import resources_path

    try:
        path = resources_path("icons", "gd-studio.svg")
    except FileNotFoundError:
        return None
    return QIcon(str(path)) if path.is_file() else None


def make_app(argv: Sequence[str] | None = None):
    """The QApplication (reused if one exists), named so QSettings finds the user's preferences."""
    from PySide6.QtWidgets import QApplication

    from . import settings

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    if getattr(make_app, "collector", None) is None:
        # Python's cyclic GC may otherwise run in the worker thread and destroy Qt objects there while
        # the GUI thread holds the GIL and waits on a Qt lock those objects hold: a deadlock seen in
        # practice. pyqtgraph's collector turns automatic GC off and collects in the GUI thread instead.
        from pyqtgraph.util.garbage_collector import GarbageCollector

        make_app.collector = GarbageCollector(interval=1.0)
    from . import fileopen  # issue 16: catch macOS open-file events that arrive before the window
    fileopen.install(app)
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("GD Studio")
    icon = _icon()
    if icon is not None:
        app.setWindowIcon(icon)
    return app


_ASK_FIRST = object()


def _scenario_config(path):
    """The RunConfig a scenario file describes, or (None, message) when it cannot be used."""
    from ..engine import scenarios

    try:
        return scenarios.load(path), None
    except scenarios.DataOutsideFolderError:
        return _ASK_FIRST, None  # the window's scenario controller asks before reading the data
    except Exception as exc:  # noqa: BLE001 - the window opens anyway and says why
        return None, f"Scenario {path}: {exc}"


def run_app(argv: Sequence[str] | None = None, *, scenario=None, presentation: bool = False) -> int:
    """Open the window and run the event loop; returns the exit code."""
    from . import theme
    from .main_window import MainWindow

    app = make_app(argv)
    try:
        from . import settings

        theme_name = settings.theme_name()
    except Exception:  # noqa: BLE001 - unreadable preferences must not stop the app from opening
        theme_name = theme.DEFAULT_THEME
    # the user's theme first: presentation mode (F5) switches from it and back to it
    theme.apply_theme(app, theme_name, NORMAL_SCALE)
    loaded, problem = (None, None)
    if scenario is not None:
        loaded, problem = _scenario_config(scenario)
    window = MainWindow(config=getattr(loaded, "config", None))  # the default run while it asks
    _restore_layout(window)
    from . import fileopen  # issue 16: files from Finder (QFileOpenEvent) and the CLI's bare FILE
    fileopen.install(app, window)
    if loaded is not None:
        window.scenarios.open(scenario)
    if presentation:
        window.presentation.set_presentation(True)
    window.show()
    if problem:
        window.show_message(problem + ". Opened the default run instead.", "error")
    try:
        return int(app.exec())
    finally:
        _save_layout(window)
        window.shutdown()


def _restore_layout(window) -> None:
    from . import settings

    try:
        settings.restore_window(window)
    except Exception:  # noqa: BLE001 - a damaged layout must not stop the app from opening
        pass


def _save_layout(window) -> None:
    """Remember geometry and toolbar/dock layout: the normal view's, even when closed while presenting."""
    from . import settings

    try:
        if window.presentation.active:
            window.presentation.set_presentation(False)
        settings.save_window(window)
    except Exception:  # noqa: BLE001 - preferences are a convenience
        pass


class ScreenshotError(GDStudioError):
    """--screenshot could not render: the message says which file or which step."""


def _wait(app, condition, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.003)
    app.processEvents()
    return bool(condition())


def render_screenshot(scenario_path, out_path, *, steps: int = 0, presentation: bool = False,
                      size: tuple[int, int] | None = None, allow_outside_data: bool = False) -> int:
    """Open ``scenario_path`` in a window that is never shown, take ``steps`` steps through the real worker
    (one command, so the same frames every time), and save the window as a PNG at ``out_path``; returns 0.

    Problems (the scenario, the output file, a run that does not build) raise a GDStudioError subclass.
    """
    import os
    from pathlib import Path

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from ..engine import scenarios
    from . import theme
    from .export import ExportError, _atomic_write, _image_bytes

    # ScenarioError names the file and the place; a data file outside the scenario's folder needs consent
    scenario = scenarios.load(scenario_path, allow_outside_folder=allow_outside_data)
    out = Path(out_path)
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: the folder {out.parent} does not exist")
    if QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # render without a screen, and never show a window
    from . import qt_messages

    qt_messages.install()  # before the QApplication: the offscreen plugin talks as soon as it loads
    app = make_app()
    from . import settings
    from .main_window import MainWindow

    before = theme.applied_theme(app)
    theme.apply_theme(app, settings.theme_name(), NORMAL_SCALE)
    window = MainWindow(config=scenario.config)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    # a real screen's size: the window's layout must fit it (a taller grab would show what no screen can)
    wanted = tuple(size) if size else ((1920, 1080) if presentation else (1600, 1000))
    window.resize(*wanted)
    try:
        window.show()
        applied = []
        window.scenarios.scenarioApplied.connect(applied.append)
        errors = []
        window.messageShown.connect(lambda kind, text: errors.append(text) if kind == "error" else None)
        window.scenarios.path = Path(scenario_path)
        window.scenarios.apply(scenario)
        if not _wait(app, lambda: bool(applied) or bool(errors), 20.0) or not applied:
            # the window may report one failure more than once (banner and status): say it once
            raise ScreenshotError(f"{scenario_path}: the run did not build "
                                  f"({'; '.join(dict.fromkeys(errors)) or 'timed out'})")
        target = int(scenario.pre_run) + int(steps)
        _wait(app, lambda: window.step_count >= scenario.pre_run, 60.0)
        if steps:
            window.controller.stepRequested.emit(int(steps))
        if not _wait(app, lambda: window.step_count >= target or (
                window.last_snapshot is not None and window.last_snapshot.stop_reason), 120.0):
            raise ScreenshotError(f"{scenario_path}: step {target} was not reached in time")
        if presentation:
            window.presentation.set_presentation(True)
            window.showNormal()  # offscreen "maximised" is the virtual screen's size, not the one asked for
            window.resize(*wanted)
        _wait(app, lambda: False, 0.3)  # layouts and the last frame settle
        if window.banner.kind == "info":
            window.banner.hide()  # a passing note ("Presentation mode: …") does not belong on a slide
            _wait(app, lambda: False, 0.1)
        image = window.grab().toImage()
        _atomic_write(out, _image_bytes(image, "PNG", out))
    finally:
        window.close()
        window.shutdown()
        theme.apply_theme(app, before[0], before[1])
    return 0


__all__ = ["run_app", "make_app", "render_screenshot", "ScreenshotError"]
