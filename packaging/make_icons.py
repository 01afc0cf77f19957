"""Render the app icon's PNG sizes, .ico and .icns from the SVG sources in resources/icons (build-time tool)."""
from __future__ import annotations

import argparse
import io
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICON_DIR = ROOT / "resources" / "icons"
NAME = "gd-studio"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# Below this size the detailed drawing turns to mush; a simplified drawing keeps the shape readable.
SMALL_UNTIL = 32
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types that hold PNG data, with their pixel size (the @2x types are retina variants).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
    (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512),
)


def _qt():
    # Offscreen so the tool runs on build machines without a display.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication

    # A QApplication (not QGuiApplication) so that a test process can go on to create widgets.
    app = QApplication.instance() or QApplication([sys.argv[0]])
    return app, QBuffer, QByteArray, QIODevice, Qt, QImage, QPainter, QSvgRenderer


class Renderer:
    """Renders the icon at any size, picking the small or detailed drawing."""

    def __init__(self, icon_dir: Path = ICON_DIR):
        (self._app, self._QBuffer, self._QByteArray, self._QIODevice, self._Qt, self._QImage,
         self._QPainter, QSvgRenderer) = _qt()
        self._big = QSvgRenderer(str(icon_dir / f"{NAME}.svg"))
        small_path = icon_dir / f"{NAME}-small.svg"
        self._small = QSvgRenderer(str(small_path)) if small_path.exists() else self._big
        for renderer, path in ((self._big, icon_dir / f"{NAME}.svg"), (self._small, small_path)):
            if not renderer.isValid():
                raise SystemExit(f"make_icons: cannot parse SVG {path}")
        self._cache: dict[int, object] = {}

    def image(self, size: int):
        """A straight (non-premultiplied) ARGB32 QImage of size x size."""
        if size not in self._cache:
            QImage, QPainter = self._QImage, self._QPainter
            img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
            img.fill(self._Qt.GlobalColor.transparent)
            painter = QPainter(img)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            (self._small if size <= SMALL_UNTIL else self._big).render(painter)
            painter.end()
            self._cache[size] = img.convertToFormat(QImage.Format.Format_ARGB32)
        return self._cache[size]

    def png(self, size: int) -> bytes:
        data = self._QByteArray()
        buffer = self._QBuffer(data)
        buffer.open(self._QIODevice.OpenModeFlag.WriteOnly)
        if not self.image(size).save(buffer, "PNG"):
            raise SystemExit(f"make_icons: Qt could not encode a {size}px PNG")
        buffer.close()
        return bytes(data.data())

    def bgra_rows(self, size: int) -> list[bytes]:
        """Top-down rows of BGRA bytes (QImage ARGB32 is BGRA in memory on little-endian machines)."""
        img = self.image(size)
        raw = bytes(img.constBits())
        stride = img.bytesPerLine()
        rows = [raw[y * stride: y * stride + 4 * size] for y in range(size)]
        if sys.byteorder == "big":  # ARGB32 is stored as A,R,G,B there
            rows = [bytes(b for i in range(0, len(r), 4) for b in r[i:i + 4][::-1]) for r in rows]
        return rows


def ico_bytes(renderer: Renderer, sizes=ICO_SIZES) -> bytes:
    """A Windows .ico: 32-bit DIB entries below 256 px (every Windows reads those), PNG at 256 px."""
    images = []
    for size in sizes:
        if size >= 256:
            images.append(renderer.png(size))
            continue
        rows = renderer.bgra_rows(size)
        header = struct.pack("<IiiHHIIiiII", 40, size, 2 * size, 1, 32, 0, 0, 0, 0, 0, 0)
        pixels = b"".join(reversed(rows))  # DIBs are stored bottom-up
        # The AND mask is ignored for 32-bit images but must be present: 1 bit per pixel, rows padded to 4 bytes.
        mask = bytes(((size + 31) // 32) * 4 * size)
        images.append(header + pixels + mask)
    out = io.BytesIO()
    out.write(struct.pack("<HHH", 0, 1, len(images)))
    offset = 6 + 16 * len(images)
    for size, data in zip(sizes, images):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        out.write(struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset))
        offset += len(data)
    for data in images:
        out.write(data)
    return out.getvalue()


def icns_bytes(renderer: Renderer, types=ICNS_TYPES) -> bytes:
    """A macOS .icns holding PNG elements (readable by macOS 10.7 and later)."""
    elements = b""
    for kind, size in types:
        data = renderer.png(size)
        elements += kind + struct.pack(">I", 8 + len(data)) + data
    return b"icns" + struct.pack(">I", 8 + len(elements)) + elements


def build(out_dir: Path = ICON_DIR, icon_dir: Path = ICON_DIR) -> list[Path]:
    renderer = Renderer(icon_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in PNG_SIZES:
        path = out_dir / f"{NAME}-{size}.png"
        path.write_bytes(renderer.png(size))
        written.append(path)
    for path, data in ((out_dir / f"{NAME}.ico", ico_bytes(renderer)),
                       (out_dir / f"{NAME}.icns", icns_bytes(renderer))):
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ICON_DIR, help="output folder (default: resources/icons)")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
