"""The app icon: SVG sources, PNG sizes, and the .ico/.icns containers written by packaging/make_icons.py."""
from __future__ import annotations

import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"
sys.path.insert(0, str(ROOT / "packaging"))
import make_icons  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int, int]:
    """(width, height, colour type) from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def ico_entries(data: bytes) -> list[tuple[int, str, bytes]]:
    """(size, "png"|"dib", payload) for every image in a .ico, checking the directory as it goes."""
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1), "not an icon file"
    out = []
    for i in range(count):
        w, h, colours, res, planes, bpp, length, offset = struct.unpack("<BBBBHHII", data[6 + 16 * i: 22 + 16 * i])
        assert w == h and colours == 0 and res == 0 and planes == 1 and bpp == 32
        assert offset + length <= len(data)
        payload = data[offset: offset + length]
        size = w or 256
        if payload[:8] == PNG_SIGNATURE:
            out.append((size, "png", payload))
        else:
            header_size, dib_w, dib_h, _planes, dib_bpp = struct.unpack("<IiiHH", payload[:16])
            assert header_size == 40 and dib_w == size and dib_h == 2 * size and dib_bpp == 32
            mask_row = ((size + 31) // 32) * 4
            assert length == 40 + 4 * size * size + mask_row * size
            out.append((size, "dib", payload))
    return out


def icns_elements(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:4] == b"icns"
    (total,) = struct.unpack(">I", data[4:8])
    assert total == len(data)
    out, pos = [], 8
    while pos < total:
        kind, length = struct.unpack(">4sI", data[pos: pos + 8])
        assert length > 8 and pos + length <= total
        out.append((kind, data[pos + 8: pos + length]))
        pos += length
    assert pos == total
    return out


@pytest.mark.parametrize("name", ["gd-studio.svg", "gd-studio-small.svg"])
def test_svg_sources_are_square_svg(name):
    root = ET.parse(ICONS / name).getroot()
    assert root.tag.endswith("svg")
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert w == h > 0


@pytest.mark.parametrize("size", make_icons.PNG_SIZES)
def test_png_sizes_have_their_dimensions(size):
    width, height, colour = png_size((ICONS / f"gd-studio-{size}.png").read_bytes())
    assert (width, height) == (size, size)
    assert colour == 6, "RGBA, so the rounded corners stay transparent"


def test_ico_lists_every_size_and_parses():
    entries = ico_entries((ICONS / "gd-studio.ico").read_bytes())
    assert [size for size, _, _ in entries] == list(make_icons.ICO_SIZES)
    for size, kind, payload in entries:
        if kind == "png":
            assert png_size(payload)[:2] == (size, size)
    # Small sizes as DIBs: the format every Windows version and resource compiler reads.
    assert {kind for size, kind, _ in entries if size < 256} == {"dib"}


def test_icns_lists_every_size_and_parses():
    elements = icns_elements((ICONS / "gd-studio.icns").read_bytes())
    assert [kind for kind, _ in elements] == [kind for kind, _ in make_icons.ICNS_TYPES]
    expected = dict(make_icons.ICNS_TYPES)
    for kind, payload in elements:
        assert png_size(payload)[:2] == (expected[kind], expected[kind])


def test_qt_reads_the_ico_and_icns(qapp):
    # A second, independent reader: Qt's own ico/icns image plugins.
    from PySide6.QtGui import QImageReader

    for name, count in (("gd-studio.ico", len(make_icons.ICO_SIZES)), ("gd-studio.icns", None)):
        reader = QImageReader(str(ICONS / name))
        assert reader.canRead(), f"{name}: {reader.errorString()}"
        if count is not None:
            assert reader.imageCount() == count
        image = reader.read()
        assert not image.isNull(), f"{name}: {reader.errorString()}"


def test_pngs_match_the_current_svg(qapp):
    """The committed PNGs were rendered from the committed SVGs (re-run packaging/make_icons.py if not)."""
    from PySide6.QtGui import QImage

    renderer = make_icons.Renderer()
    for size in (16, 64):
        stored = QImage(str(ICONS / f"gd-studio-{size}.png")).convertToFormat(QImage.Format.Format_ARGB32)
        fresh = renderer.image(size)
        a, b = bytes(stored.constBits()), bytes(fresh.constBits())
        # Small tolerance: another Qt version may antialias an edge pixel differently.
        mean_diff = sum(abs(x - y) for x, y in zip(a, b)) / len(a)
        assert mean_diff < 3.0, f"{size}px PNG differs from its SVG by {mean_diff:.1f}/255 on average"


def test_ico_and_icns_writers_are_deterministic(qapp):
    renderer = make_icons.Renderer()
    assert make_icons.ico_bytes(renderer, (16, 256)) == make_icons.ico_bytes(renderer, (16, 256))
    assert make_icons.icns_bytes(renderer, ((b"icp4", 16),)) == make_icons.icns_bytes(renderer, ((b"icp4", 16),))
