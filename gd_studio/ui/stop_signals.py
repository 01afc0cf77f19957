"""Ctrl+C in the terminal and SIGTERM (logout, `kill`) close the window as its close button does.

Qt's event loop runs in C++, so a Python signal handler alone would wait for the next Python call (a timer, a
frame) and then raise KeyboardInterrupt inside whatever slot ran: a traceback and a window that stays open.
The C-level handler writes the signal number to a socket (signal.set_wakeup_fd); a QSocketNotifier wakes the
event loop at once and the window is closed normally: layout saved, engine process stopped, exit status 0.
"""
from __future__ import annotations

import contextlib
import signal
import socket
from typing import Callable, Iterator

from PySide6.QtCore import QSocketNotifier, QTimer

STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)


@contextlib.contextmanager
def closing_on_signals(parent, close: Callable[[], object], pending: list[int] | None = None) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM call ``close()`` from the event loop (``parent`` owns the notifier).

    Everything is put back on exit (handlers, wakeup fd), so tests and embedders keep their own handling.
    ``pending``: signals noted before (while the window was built); any of them closes it once the loop runs.
    Outside the main thread Python cannot install handlers: then nothing changes.
    """
    try:
        reader, writer = socket.socketpair()
    except OSError:
        yield
        return
    previous: dict[int, object] = {}
    old_fd = None
    notifier = None
    try:
        for s in (reader, writer):
            s.setblocking(False)
        try:
            old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
            for sig in STOP_SIGNALS:
                # a Python handler must be set for the wakeup byte to be written; the work happens in _readable
                previous[sig] = signal.signal(sig, lambda *_: None)
        except ValueError:  # not the main thread
            yield
            return

        def readable() -> None:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if any(b in STOP_SIGNALS for b in data):
                close()

        notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, parent)
        notifier.activated.connect(readable)
        if pending and any(s in STOP_SIGNALS for s in pending):
            QTimer.singleShot(0, parent, close)
        yield
    finally:
        if notifier is not None:
            notifier.setEnabled(False)
            notifier.deleteLater()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if old_fd is not None:
            signal.set_wakeup_fd(old_fd)
        reader.close()
        writer.close()
