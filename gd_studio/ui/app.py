"""Application setup: QApplication, names for QSettings, icon, theme, the main window and the event loop."""
from __future__ import annotations

import sys
from typing import Sequence

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
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("GD Studio")
    icon = _icon()
    if icon is not None:
        app.setWindowIcon(icon)
    return app


def _scenario_config(path):
    """The RunConfig a scenario file describes, or (None, message) when it cannot be used."""
    try:
        from ..engine import scenarios

        return scenarios.load(path), None
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
    scale = theme.presentation_scale(None) if presentation else NORMAL_SCALE
    theme.apply_theme(app, "high_contrast" if presentation else theme_name, scale)
    loaded, problem = (None, None)
    if scenario is not None:
        loaded, problem = _scenario_config(scenario)
    window = MainWindow(config=getattr(loaded, "config", None))
    if hasattr(window, "apply_scenario") and loaded is not None:
        window.apply_scenario(loaded)
    if presentation and hasattr(window, "set_presentation"):
        window.set_presentation(True)
    window.show()
    if problem:
        window.show_message(problem + ". Opened the default run instead.", "error")
    try:
        return int(app.exec())
    finally:
        window.shutdown()


__all__ = ["run_app", "make_app"]
