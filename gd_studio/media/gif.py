"""Animated GIF, streamed: each frame stores only the rectangle that changed, with its own palette."""
from __future__ import annotations

import struct

import numpy as np

from .base import FrameWriter, MediaError


def _pillow():
    try:
        from PIL import GifImagePlugin, Image
    except ImportError:  # pragma: no cover - Pillow is a core dependency
        raise MediaError("GIF needs Pillow: pip install pillow") from None
    return Image, GifImagePlugin


class GifWriter(FrameWriter):
    """Writes a looping GIF frame by frame.

    Pillow's own multi-frame GIF save keeps every frame until the end; here the container (header,
    loop extension, trailer) is written directly and Pillow encodes one frame at a time, so only the
    previous frame is kept (to find what changed). Plots change in a small part of the picture from one
    step to the next: a frame stores the bounding box of the changed pixels, quantised to an adaptive
    palette of at most 255 colours (octree: ten times faster than median cut, and as good on flat plot
    colours; no dithering: flat colours stay flat, and the bytes are the same for the same frames), with pixels that did not change marked transparent so they compress to
    almost nothing. A frame identical to the one before only lengthens that one's display time.
    """

    format_name = "GIF"
    # GIF delays are whole hundredths of a second, and browsers slow anything under 2/100 s to 1/10 s
    max_fps = 50.0

    def __init__(self, path, fps: float, *, loop: bool = True) -> None:
        self._Image, self._Gif = _pillow()
        super().__init__(path, fps)
        self.loop = bool(loop)
        self._fh = open(self._temp, "wb")  # noqa: SIM115 - closed in _finish/_cancel
        self._prev: np.ndarray | None = None
        self._pending = None  # (P image, offset, transparency index or None, first frame index, frame count)

    def _delay_cs(self, first: int, count: int) -> int:
        # rounding the running time (not each frame) keeps a 30 fps GIF at 30 fps: 3, 3, 4, 3, 3, 4, …
        return round(100 * (first + count) / self.fps) - round(100 * first / self.fps)

    def _write(self, frame: np.ndarray) -> None:
        Image = self._Image
        h, w = frame.shape[:2]
        if self._prev is None:
            self._write_header(w, h)
            self._prev = np.empty((h, w, 3), np.uint8)
            box = (0, 0, w, h)
            unchanged = None
        else:
            changed = np.any(frame != self._prev, axis=2)
            rows = np.flatnonzero(changed.any(axis=1))
            if rows.size == 0:  # same picture: the previous frame just stays longer
                p = self._pending
                self._pending = (p[0], p[1], p[2], p[3], p[4] + 1)
                return
            cols = np.flatnonzero(changed.any(axis=0))
            box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
            unchanged = ~changed[box[1]:box[3], box[0]:box[2]]
            if not unchanged.any():
                unchanged = None
        x0, y0, x1, y1 = box
        crop = Image.fromarray(np.ascontiguousarray(frame[y0:y1, x0:x1]), "RGB")
        q = crop.quantize(colors=255, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        index = np.asarray(q)
        used = int(index.max()) + 1
        palette = q.getpalette()[: 3 * used]
        transparency = None
        if unchanged is not None:
            index = index.copy()
            transparency = used  # a palette entry no pixel uses: what was there before shows through
            index[unchanged] = transparency
            palette = palette + [0, 0, 0]
        image = Image.fromarray(index, "P")
        image.putpalette(palette)
        np.copyto(self._prev, frame)
        self._flush_pending()
        self._pending = (image, (x0, y0), transparency, self.frames, 1)

    def _write_header(self, w: int, h: int) -> None:
        if w > 65535 or h > 65535:
            raise MediaError(f"{w}x{h} pixels is too large for a GIF (at most 65535 per side)")
        fh = self._fh
        # logical screen with no global colour table: every frame carries its own palette
        fh.write(b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0))
        if self.loop:
            fh.write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00")

    def _flush_pending(self) -> None:
        if self._pending is None:
            return
        image, offset, transparency, first, count = self._pending
        self._pending = None
        params = {"duration": 10 * self._delay_cs(first, count), "disposal": 1, "include_color_table": True}
        if transparency is not None:
            params["transparency"] = transparency
        for chunk in self._Gif.getdata(image, offset=offset, **params):
            self._fh.write(chunk)

    def _finish(self) -> None:
        self._flush_pending()
        self._fh.write(b";")
        self._fh.close()
        self._prev = None

    def _cancel(self) -> None:
        self._pending = None
        self._prev = None
        self._fh.close()
