"""Encode in a background thread while the next frame renders: a writer behind a two-frame queue."""
from __future__ import annotations

import queue
import threading

import numpy as np

from .base import ClosesOnExit, FrameWriter, MediaError

_STOP = object()


class ThreadedWriter(ClosesOnExit):
    """Wraps a FrameWriter so ``write`` returns as soon as the frame is copied into a bounded queue.

    Rendering holds the GIL most of the time, encoding (x264, Pillow's quantiser and PNG compressor) mostly
    does not, so on two cores the two overlap. The queue holds at most ``depth`` frames: memory stays flat,
    and a slow encoder makes the renderer wait rather than pile frames up. An encoder error surfaces at the
    next ``write`` or at ``close``; ``abort`` stops the thread and deletes the partial output.
    """

    def __init__(self, writer: FrameWriter, depth: int = 2) -> None:
        self.writer = writer
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
        self._error: BaseException | None = None
        self._aborted = threading.Event()
        self.frames = 0
        self._thread = threading.Thread(target=self._run, name="gd-studio-encoder", daemon=True)
        self._thread.start()

    @property
    def path(self):
        return self.writer.path

    @property
    def size(self):
        return self.writer.size

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None or self._aborted.is_set():
                continue  # drain: the producer must never block on a dead consumer
            try:
                self.writer.write(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the producer's thread
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, None
            self.abort()
            raise exc

    def write(self, frame) -> None:
        self._raise()
        if self._aborted.is_set():
            raise MediaError(f"{self.path}: the writer was cancelled")
        # the caller may reuse its buffer (a grabbed QImage's pixels) once this returns
        self._queue.put(np.array(frame, dtype=np.uint8, copy=True))
        self.frames += 1

    def _join(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def close(self):
        self._join()
        self._raise()
        return self.writer.close()

    def abort(self) -> None:
        self._aborted.set()
        self._join()
        self.writer.abort()
