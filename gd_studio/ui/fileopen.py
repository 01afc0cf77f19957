"""Opening files handed to the app: macOS's QFileOpenEvent (Finder, Dock) and the command line's bare FILE."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject

from ..engine.errors import GDStudioError, then
from ..engine.fileio import check_regular
from ..file_types import describe, file_type_of

# kind -> how the window opens it (the kinds come from gd_studio.file_types). Each opener reports its own
# problems in the window (e.g. a corrupt scenario) and returns whether the file was opened.
OPENERS: dict[str, Callable[[object, Path], bool]] = {
    "scenario": lambda window, path: bool(window.scenarios.open(path)),
    "range_test": lambda window, path: bool(window.range_files.open(path)),
}


def open_file(window, path) -> bool:
    """Open ``path`` in ``window`` by its type; a file the app does not open, or one that is not there,
    gets a message in the window and changes nothing."""
    path = Path(path)
    ft = file_type_of(path)
    if ft is None or ft.kind not in OPENERS:
        window.show_message(f"{path}: GD Studio opens {describe()} files, not this one. Nothing was changed.",
                            "error")
        return False
    try:
        check_regular(path)  # "no such file", or a FIFO/folder/device named like one: says which
    except GDStudioError as exc:
        window.show_message(then(exc, "Nothing was changed."), "error")
        return False
    return OPENERS[ft.kind](window, path)


def uninstall(app) -> None:
    """Stop listening for open-file events (tests; the app keeps its handler for its lifetime)."""
    handler = getattr(app, "_gd_file_open_handler", None)
    if handler is not None and handler.listening:
        app.removeEventFilter(handler)
        handler.listening = False


_AT_START: list[Path] = []


def open_at_start(*paths) -> None:
    """Files to open as soon as the window exists (the command line's FILE of a kind the window opens late)."""
    _AT_START.extend(Path(p) for p in paths)


class FileOpenHandler(QObject):
    """Application event filter for QEvent.FileOpen; files that arrive before a window exists wait for one."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.window = None
        self.listening = False
        self.pending: list[Path] = []
        self.opened: list[Path] = []

    def attach(self, window) -> None:
        self.window = window
        pending, self.pending = self.pending, []
        for path in pending:
            self._open(path)

    def _open(self, path: Path) -> None:
        if open_file(self.window, path):
            self.opened.append(path)
            self.window.raise_()
            self.window.activateWindow()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.FileOpen:
            name = event.file() or event.url().toLocalFile()
            if not name:
                return False
            path = Path(name)
            if self.window is None:
                self.pending.append(path)
            else:
                self._open(path)
            return True
        return False


def install(app, window=None, *, listen: bool | None = None) -> FileOpenHandler:
    """The one handler of ``app`` (created on first call), attached to ``window`` when given.

    ``listen`` (default: on macOS only) installs it as the application's event filter. Only macOS sends
    QFileOpenEvent (Finder, the Dock, ``open FILE``); elsewhere files come on the command line, and an
    application-wide filter would cost a Python call for every event of every widget.
    """
    handler = getattr(app, "_gd_file_open_handler", None)
    if handler is None:
        handler = FileOpenHandler(app)
        app._gd_file_open_handler = handler
    if (sys.platform == "darwin" if listen is None else listen) and not handler.listening:
        app.installEventFilter(handler)
        handler.listening = True
    handler.pending.extend(_AT_START)
    _AT_START.clear()
    if window is not None:
        handler.attach(window)
    return handler
