"""GD Studio: explore learning rates with live gradient descent and Leslie Smith's LR range test."""
from __future__ import annotations

from importlib import metadata as _metadata

from ._resources import resources_path

try:
    __version__ = _metadata.version("gd-studio")
except _metadata.PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0.1.0"

__all__ = ["__version__", "resources_path"]
