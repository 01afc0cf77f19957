"""MP4 (H.264, yuv420p, moov atom first) through PyAV, the optional ``gd-studio[video]`` extra."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .base import FrameWriter, MediaError

INSTALL_HINT = "MP4 needs the optional video encoder: pip install 'gd-studio[video]' (PyAV); GIF and PNG work without it"


def _av():
    try:
        import av
    except ImportError:
        raise MediaError(INSTALL_HINT) from None
    return av


def mp4_available() -> bool:
    """True when PyAV and its H.264 encoder are installed."""
    try:
        av = _av()
    except MediaError:
        return False
    return "libx264" in av.codecs_available


class Mp4Writer(FrameWriter):
    """Writes an H.264 MP4 that PowerPoint, Keynote, Google Slides and browsers play.

    Those players want 4:2:0 chroma (yuv420p), even width and height, and the index (moov atom) at the
    front of the file ("faststart") so a browser starts before the whole file has arrived. An odd-sized
    frame gets its last column or row repeated to make it even, so nothing of the picture is lost.
    Keyframes every two seconds let a slide player seek; CRF 18 keeps thin plot lines and text sharp.
    """

    format_name = "MP4"
    max_fps = 120.0

    def __init__(self, path, fps: float, *, crf: int = 18, preset: str = "veryfast") -> None:
        av = _av()
        if "libx264" not in av.codecs_available:
            raise MediaError("MP4 needs the H.264 encoder libx264, which this PyAV build lacks; "
                             "pip install --force-reinstall 'gd-studio[video]' brings a build with it")
        self._avmod = av
        super().__init__(path, fps)
        self.crf, self.preset = int(crf), str(preset)
        self._container = None
        self._stream = None

    def _open(self, w: int, h: int) -> None:
        av = self._avmod
        rate = Fraction(self.fps).limit_denominator(1001)
        self._container = av.open(str(self._temp), mode="w", format="mp4",
                                  container_options={"movflags": "+faststart"})
        s = self._container.add_stream("libx264", rate=rate)
        s.width, s.height = w + (w % 2), h + (h % 2)
        s.pix_fmt = "yuv420p"
        s.options = {"crf": str(self.crf), "preset": self.preset, "g": str(max(1, round(2 * self.fps))),
                     "profile": "high"}
        s.codec_context.time_base = 1 / rate
        self._stream = s

    def _write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self._container is None:
            self._open(w, h)
        if w % 2 or h % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        vf = self._avmod.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf.pts = self.frames
        vf.time_base = self._stream.codec_context.time_base
        self._container.mux(self._stream.encode(vf))

    def _finish(self) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.close()
        self._container = None

    def _cancel(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the partial file is deleted anyway
                pass
            self._container = None
