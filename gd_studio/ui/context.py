"""What a feature module gets from the window instead of the window: state, worker, actions, named views and intents.

A feature (ui/features/*, the record dialog, the key router, presentation mode) is installed with one
FeatureContext. It holds the one owner of the UI state (AppState), the worker controller, the action registry, the
widgets a feature may show things in (the four views, the panel, the speed box, the menus and toolbars), the
window's intents as plain callables (show a message, set the LR, rebuild, run n steps, start, pause, cancel) and the
window's events as signals. ``parent`` is the main window as a QMainWindow: the parent of a feature's dialogs and
docks, used through Qt's public QMainWindow API only (addDockWidget, centralWidget), never for the window's own
attributes. tests/test_layers.py keeps features from reaching into another object's private names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QComboBox, QMainWindow, QMenu, QSplitter, QToolBar

from .actions import ActionRegistry
from .panels.model_data import ModelDataPanel
from .state import AppState
from .worker import WorkerController


@dataclass(frozen=True)
class Views:
    """The window's four live views, by the names the window gives them."""

    data_view: Any
    weight_view: Any
    lr_view: Any
    step_view: Any

    def all(self) -> tuple:
        return (self.data_view, self.weight_view, self.lr_view, self.step_view)


@dataclass(frozen=True)
class FeatureContext:
    state: AppState
    worker: WorkerController
    actions: ActionRegistry
    views: Views
    panel: ModelDataPanel
    parent: QMainWindow  # dialogs' parent and docks' host (QMainWindow API only)
    speed: QComboBox  # the speed ladder
    views_splitter: QSplitter  # the grid of views (features add views to it)
    menus: dict[str, QMenu]  # "File", "Run", "View", "Help"
    toolbars: dict[str, QToolBar]  # "controls", "compare"
    # the window's intents
    show_message: Callable[..., None]
    set_lr: Callable[[float], None]
    apply_config: Callable[..., None]
    run_steps: Callable[[int], None]
    start: Callable[[], None]
    pause: Callable[[], None]
    cancel: Callable[[], None]
    # what the window shows now (read when asked: these change)
    last_snapshot: Callable[[], Any]
    config_info: Callable[[], Any]
    closing: Callable[[], bool]
    # the window's events
    snapshot_applied: SignalInstance
    config_applied: SignalInstance
    range_test_finished: SignalInstance
    message_shown: SignalInstance

    def step_count(self) -> int:
        snap = self.last_snapshot()
        return 0 if snap is None else int(snap.step)


__all__ = ["FeatureContext", "Views"]
