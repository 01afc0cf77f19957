"""The Qt window of GD Studio: presentation only; everything it computes comes from gd_studio.engine."""
from __future__ import annotations

from .main_window import MainWindow

__all__ = ["MainWindow"]
