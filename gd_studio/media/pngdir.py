"""A folder of numbered PNG frames (frame_00000.png, …) for editors and slide tools that import sequences."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .base import FrameWriter, MediaError, _usual_mode

FRAME_NAME = "frame_{:05d}.png"
_OURS = re.compile(r"frame_\d{5,}\.png")


class PngFolderWriter(FrameWriter):
    """Writes the frames into a hidden folder beside ``path`` and renames it into place on close.

    An existing ``path`` is replaced only if it is empty or holds nothing but frames from an earlier
    recording; any other folder is left alone, with an error saying why.
    """

    format_name = "PNG frames"
    writes_folder = True

    def __init__(self, path, fps: float) -> None:
        from PIL import Image

        self._Image = Image
        path = Path(path)
        if path.exists():
            if not path.is_dir():
                raise MediaError(f"cannot write frames to {path}: it is a file, not a folder")
            strangers = [p.name for p in path.iterdir() if not _OURS.fullmatch(p.name)]
            if strangers:
                raise MediaError(f"cannot write frames to {path}: the folder holds other files "
                                 f"({', '.join(sorted(strangers)[:3])}); choose an empty or new folder")
        super().__init__(path, fps)

    def _make_temp(self, parent: Path) -> Path:
        try:
            temp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".partial", dir=parent))
        except OSError as exc:
            raise MediaError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        _usual_mode(temp, 0o777)
        return temp

    def _discard_temp(self) -> None:
        shutil.rmtree(self._temp, ignore_errors=True)

    def _write(self, frame: np.ndarray) -> None:
        if self.frames >= 10**6:
            raise MediaError(f"{self.path}: more than a million frames")
        name = f"frame_{self.frames:0{max(5, len(str(self.frames)))}d}.png"
        # compress_level 6 (Pillow's default) and no optimize pass: same frame, same bytes, quickly
        self._Image.fromarray(np.ascontiguousarray(frame), "RGB").save(self._temp / name, "PNG", compress_level=6)

    def _finish(self) -> None:
        pass

    def _publish(self) -> None:
        old = None
        try:
            if self.path.exists():
                # a folder cannot be replaced in one step: move the old one aside, then put the new one in
                old = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".old", dir=self.path.parent))
                os.rmdir(old)
                os.replace(self.path, old)
            os.replace(self._temp, self.path)
        except OSError as exc:
            if old is not None and old.exists() and not self.path.exists():
                os.replace(old, self.path)
            raise MediaError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
