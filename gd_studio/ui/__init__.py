"""The Qt window of GD Studio: presentation only; everything it computes comes from gd_studio.engine."""
from __future__ import annotations

from . import _qt_compat  # noqa: F401  (first: PySide6 6.12 on Python 3.11 needs it before any Qt call)
from .main_window import MainWindow

__all__ = ["MainWindow"]
