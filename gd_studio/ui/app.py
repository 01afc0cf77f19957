"""Application setup: QApplication, names for QSettings, icon, theme, the main window and the event loop."""
from __future__ import annotations

import os
import sys
from typing import Sequence

from .offscreen import ScreenshotError  # noqa: F401 - its historical home

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


FIRST_RUN_SPEED = 10.0  # steps per second until the user or a scenario picks another


def run_app(argv: Sequence[str] | None = None, *, scenario=None, presentation: bool = False,
            stop_requests: list[int] | None = None) -> int:
    """Open the window and run the event loop; returns the exit code.

    ``stop_requests`` collects SIGINT/SIGTERM noted while the window was being built (cli holds them from before
    Qt is imported): the window then closes as soon as its loop runs.
    """
    from . import theme
    from .main_window import MainWindow

    app = make_app(argv)
    from . import worker

    if worker.engine_in_process():
        from ..live import host

        try:
            host.start_engine_server()  # from this thread, so its engines ignore Ctrl+C from birth
        except Exception:  # noqa: BLE001 - the worker starts it (or falls back to its thread) as before
            pass
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
    # a first run a person can follow (F: full speed); a scenario's own speed, opened below, wins
    window.scenarios.set_speed(FIRST_RUN_SPEED)
    _restore_layout(window)
    from . import fileopen  # issue 16: files from Finder (QFileOpenEvent) and the CLI's bare FILE
    fileopen.install(app, window)
    if loaded is not None:
        window.scenarios.open(scenario)
    window.show()
    if presentation:
        # once shown: a window manager maximises a mapped window, and presentation mode fills the screen
        window.presentation.set_presentation(True)
    if problem:
        window.show_message(problem + ". Opened the default run instead.", "error")
    from .stop_signals import closing_on_signals

    code = 1
    try:
        # app.quit also ends a modal dialog's loop (a file dialog left open in the terminal's Ctrl+C)
        with closing_on_signals(window, lambda: (window.close(), app.quit()), pending=stop_requests):
            code = int(app.exec())
        return code
    finally:
        _save_layout(window)
        if not window.shutdown():
            # The worker thread is inside a call that cannot be interrupted (the engine's process still starting
            # on a machine under heavy load). Destroying its QThread would abort the process ("Destroyed while
            # thread is still running", SIGABRT); the layout is saved, and the engine's process ends on its own
            # when this one's end closes its pipe, so leave now with the exit status the window gave.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


def _restore_layout(window) -> None:
    """The saved geometry and layout, if the window then fits a screen; else the size fitted to this screen
    (a layout saved on a 4K monitor must not open off the edges of a 720p projector)."""
    from . import settings

    try:
        settings.restore_window(window)
        window.presentation.relayout_after_restore()  # the short-screen layout from this screen, not the saved one
    except Exception:  # noqa: BLE001 - a damaged layout must not stop the app from opening
        pass
    if not window.fits_screen():
        window.fit_to_screen()


def _save_layout(window) -> None:
    """Remember geometry and toolbar/dock layout: the normal view's, even when closed while presenting."""
    from . import settings

    try:
        if window.presentation.active:
            window.presentation.set_presentation(False)
        settings.save_window(window)
    except Exception:  # noqa: BLE001 - preferences are a convenience
        pass


def render_screenshot(scenario_path, out_path, *, steps: int = 0, presentation: bool = False,
                      size: tuple[int, int] | None = None, allow_outside_data: bool = False) -> int:
    """Open ``scenario_path`` in a window that is never shown, take ``steps`` steps through the real worker
    (one command, so the same frames every time), and save the window as a PNG at ``out_path``; returns 0.

    Problems (the scenario, the output file, a run that does not build) raise a GDStudioError subclass.
    """
    from pathlib import Path

    from .export import ExportError, _atomic_write, _image_bytes
    from .offscreen import scenario_window, wait

    out = Path(out_path)
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: the folder {out.parent} does not exist")
    with scenario_window(scenario_path, size=size, presentation=presentation,
                         allow_outside_data=allow_outside_data) as sw:
        sw.advance(int(steps))
        wait(sw.app, lambda: False, 0.3)  # layouts and the last frame settle
        _rgb, image = sw.grab()
        _atomic_write(out, _image_bytes(image, "PNG", out))
    return 0


__all__ = ["run_app", "make_app", "render_screenshot", "ScreenshotError"]
