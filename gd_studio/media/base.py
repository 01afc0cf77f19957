"""The common part of every animation writer: checked frames, a temporary file, an atomic rename."""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ..engine.errors import GDStudioError


class MediaError(GDStudioError):
    """An animation cannot be written (format, frame rate, size, folder, missing encoder); says which."""


def check_fps(fps: float, *, limit: float | None = None, what: str = "the animation") -> float:
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise MediaError(f"frame rate {fps!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise MediaError(f"frame rate {fps!r} must be a number above 0")
    if value > 240:
        raise MediaError(f"frame rate {value:g} is above 240 frames per second")
    if limit is not None and value > limit:
        raise MediaError(f"frame rate {value:g} is too high for {what}: at most {limit:g} frames per second")
    return value


def _usual_mode(path, mode: int) -> None:
    # mkstemp/mkdtemp make private files; the finished animation gets the permissions any new file gets
    mask = os.umask(0o022)
    os.umask(mask)
    try:
        os.chmod(path, mode & ~mask)
    except OSError:
        pass


class ClosesOnExit:
    """``with`` support for a writer: ``close()`` when the block ends normally, ``abort()`` on an exception."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FrameWriter(ClosesOnExit):
    """Takes RGB frames (height × width × 3, uint8) one at a time and streams them to an encoder.

    The output appears at ``path`` only when :meth:`close` succeeds: until then the data goes to a hidden
    temporary file beside it, so a reader never sees half an animation, and :meth:`abort` (a cancel, an
    error, leaving a ``with`` block by an exception) deletes it. Only the frame in hand is held, never the
    whole animation, so memory stays flat however long the recording is.
    """

    format_name = "animation"
    max_fps: float | None = None

    def __init__(self, path, fps: float) -> None:
        self.path = Path(path)
        self.fps = check_fps(fps, limit=self.max_fps, what=self.format_name)
        parent = self.path.parent
        if not parent.is_dir():
            raise MediaError(f"cannot write {self.path}: the folder {parent} does not exist")
        if self.path.is_dir() and not getattr(self, "writes_folder", False):
            raise MediaError(f"cannot write {self.path}: it is a folder")
        self.frames = 0
        self.size: tuple[int, int] | None = None  # (width, height) of the first frame
        self._closed = False
        self._temp = self._make_temp(parent)

    # -- the temporary output ----------------------------------------------------------------------
    def _make_temp(self, parent: Path) -> Path:
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=parent)
        except OSError as exc:
            raise MediaError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        os.close(fd)
        _usual_mode(name, 0o666)
        return Path(name)

    def _discard_temp(self) -> None:
        try:
            self._temp.unlink()
        except FileNotFoundError:
            pass

    def _publish(self) -> None:
        try:
            os.replace(self._temp, self.path)
        except OSError as exc:
            raise MediaError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    # -- frames ------------------------------------------------------------------------------------
    def _checked(self, frame) -> np.ndarray:
        a = np.asarray(frame)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] not in (3, 4):
            raise MediaError(f"frame {self.frames}: expected an RGB uint8 array of shape (height, width, 3), "
                             f"got {a.dtype} {a.shape}")
        if a.shape[2] == 4:
            a = a[:, :, :3]
        h, w = a.shape[:2]
        if h < 2 or w < 2:
            raise MediaError(f"frame {self.frames}: {w}x{h} pixels is too small")
        if self.size is None:
            self.size = (w, h)
        elif self.size != (w, h):
            raise MediaError(f"frame {self.frames} is {w}x{h} pixels; the first frame was "
                             f"{self.size[0]}x{self.size[1]}")
        return a

    def write(self, frame) -> None:
        """Encode one frame; the writer keeps no reference to ``frame`` after this returns."""
        if self._closed:
            raise MediaError(f"{self.path}: the writer is already closed")
        try:
            self._write(self._checked(frame))
        except MediaError:
            self.abort()
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            self.abort()
            raise MediaError(f"cannot write {self.path}: {exc}") from None
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path."""
        if self._closed:
            return self.path
        if self.frames == 0:
            self.abort()
            raise MediaError(f"{self.path}: no frames were recorded")
        try:
            self._finish()
            self._closed = True
            self._publish()
        except MediaError:
            self._closed = False
            self.abort()
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            self._closed = False
            self.abort()
            raise MediaError(f"cannot write {self.path}: {exc}") from None
        return self.path

    def abort(self) -> None:
        """Stop and delete the partial output; the path keeps what it held before (or stays absent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._cancel()
        finally:
            self._discard_temp()

    # -- what each format provides -----------------------------------------------------------------
    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _cancel(self) -> None:
        """Release the encoder without finishing (the temporary output is deleted afterwards)."""
