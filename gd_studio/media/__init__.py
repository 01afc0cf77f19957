"""Animation writers (GIF, MP4, PNG folder) fed with NumPy RGB frames; Qt-free, so scripts can use them."""
from __future__ import annotations

import os
from pathlib import Path

from .base import FrameWriter, MediaError, check_fps
from .gif import GifWriter
from .mp4 import INSTALL_HINT, Mp4Writer, mp4_available
from .pngdir import PngFolderWriter
from .threaded import ThreadedWriter

FORMATS = ("gif", "mp4", "png")
_SUFFIXES = {".gif": "gif", ".mp4": "mp4"}


def format_for(path) -> str:
    """'gif', 'mp4' or 'png' (a folder of frames) from how ``path`` is written; MediaError otherwise.

    A name ending in a path separator, an existing folder, or a name without an extension is a folder.
    """
    text = os.fspath(path)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir() or not p.suffix:
        return "png"
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise MediaError(f"{text}: unknown animation format {p.suffix!r}; use .gif, .mp4 or a folder "
                         "name ending in / for PNG frames")
    return fmt


def check_output(path, fps: float, fmt: str | None = None) -> str:
    """Everything about an output that can be checked before rendering: format, encoder, folder, fps.

    Returns the format: ``fmt`` when given, else the one the name says.
    """
    if fmt is None:
        fmt = format_for(path)
    elif fmt not in FORMATS:
        raise MediaError(f"unknown animation format {fmt!r}: use one of {', '.join(FORMATS)}")
    cls = writer_class(fmt)
    check_fps(fps, limit=cls.max_fps, what=cls.format_name)
    if fmt == "mp4" and not mp4_available():
        from .mp4 import _av

        _av()  # raises the install hint when PyAV is missing
        raise MediaError("MP4 needs the H.264 encoder libx264, which this PyAV build lacks")
    parent = Path(os.fspath(path).rstrip("/" + os.sep) or ".").parent
    if not parent.is_dir():
        raise MediaError(f"cannot write {path}: the folder {parent} does not exist")
    return fmt


def writer_class(fmt: str) -> type[FrameWriter]:
    return {"gif": GifWriter, "mp4": Mp4Writer, "png": PngFolderWriter}[fmt]


def open_writer(path, fps: float, fmt: str | None = None) -> FrameWriter:
    """A writer for ``path`` in the format its name says (or ``fmt``)."""
    fmt = fmt or format_for(path)
    return writer_class(fmt)(Path(os.fspath(path).rstrip("/" + os.sep) or "."), fps)


__all__ = ["FrameWriter", "GifWriter", "Mp4Writer", "PngFolderWriter", "ThreadedWriter", "MediaError", "FORMATS", "INSTALL_HINT",
           "format_for", "check_output", "open_writer", "writer_class", "mp4_available", "check_fps"]
