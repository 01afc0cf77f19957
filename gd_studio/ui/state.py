"""AppState: the one owner of the window's state (config with the live LR, busy state, range-test result, look).

Widgets show it (they connect to its change signals) and send intents to the window, which updates the
state and commands the worker; nothing else keeps a copy. ``config`` is always the configuration the next
step uses: the live LR is part of it, so reset, reseed, a scenario or a CSV import rebuild from it.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from ..engine.config import RunConfig

IDLE, RUN, RANGE_TEST, VALIDATION = "idle", "run", "range test", "validation"
BUSY_STATES = (IDLE, RUN, RANGE_TEST, VALIDATION)


class AppState(QObject):
    """Plain values with change signals; lives in the GUI thread."""

    configChanged = Signal(object)  # RunConfig (a rebuild, or any field but the LR)
    lrChanged = Signal(float)  # the live LR (also part of config)
    busyChanged = Signal(str)  # one of BUSY_STATES
    rangeTestChanged = Signal(object)  # (result, repeat) or None
    themeChanged = Signal(str)
    presentationChanged = Signal(bool)

    def __init__(self, config: RunConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._config = config
        self._busy = IDLE
        self._range_test: tuple | None = None
        self._theme = ""
        self._presentation = False

    # -- the run's configuration ----------------------------------------------------------------------
    @property
    def config(self) -> RunConfig:
        return self._config

    @property
    def lr(self) -> float:
        return float(self._config.lr)

    def set_config(self, config: RunConfig) -> None:
        if config == self._config:
            return
        lr_changed = config.lr != self._config.lr
        self._config = config
        self.configChanged.emit(config)
        if lr_changed:
            self.lrChanged.emit(float(config.lr))

    def set_lr(self, lr: float) -> None:
        lr = float(lr)
        if not math.isfinite(lr) or lr == self._config.lr:
            return
        self._config = self._config.replace(lr=lr)
        self.lrChanged.emit(lr)

    # -- what the app is doing --------------------------------------------------------------------------
    @property
    def busy(self) -> str:
        return self._busy

    def set_busy(self, busy: str) -> None:
        if busy not in BUSY_STATES:
            raise ValueError(f"busy state {busy!r}: choose one of {', '.join(BUSY_STATES)}")
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    # -- the last range test --------------------------------------------------------------------------
    @property
    def range_test(self) -> tuple | None:
        """(result, repeat) of the last finished range test of this run, or None."""
        return self._range_test

    def set_range_test(self, result, repeat=None) -> None:
        self._range_test = None if result is None else (result, repeat)
        self.rangeTestChanged.emit(self._range_test)

    def suggestions(self) -> dict:
        if self._range_test is None:
            return {}
        result, repeat = self._range_test
        src = repeat if repeat is not None else result
        return dict(getattr(src, "suggestions", None) or {})

    # -- the look ---------------------------------------------------------------------------------------
    @property
    def theme(self) -> str:
        return self._theme

    def set_theme(self, name: str) -> None:
        if name != self._theme:
            self._theme = name
            self.themeChanged.emit(name)

    @property
    def presentation(self) -> bool:
        return self._presentation

    def set_presentation(self, on: bool) -> None:
        if bool(on) != self._presentation:
            self._presentation = bool(on)
            self.presentationChanged.emit(self._presentation)


__all__ = ["AppState", "IDLE", "RUN", "RANGE_TEST", "VALIDATION", "BUSY_STATES"]
