"""The animation writers without Qt: every format decodes to the frames given, atomically, in flat memory."""
from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gd_studio import media
from gd_studio.media import GifWriter, MediaError, Mp4Writer, PngFolderWriter

av = pytest.importorskip("av", reason="MP4 tests need PyAV (the test extra installs it)")


def synthetic(n: int, w: int = 160, h: int = 120, start: int = 0):
    """Plot-like frames: white, a moving marker, a growing line, a few flat colours (exact in a palette)."""
    for i in range(start, start + n):
        a = np.full((h, w, 3), 255, np.uint8)
        a[10:14, :] = (0, 114, 178)
        x = 5 + (7 * i) % (w - 20)
        a[40:50, x:x + 10] = (213, 94, 0)
        a[h - 20, : min(w, 2 + 3 * i)] = (0, 0, 0)
        a[60 + i % 20, 20] = (0, 158, 115)
        yield a


def gif_frames(path: Path) -> tuple[list[np.ndarray], list[int]]:
    frames, durations = [], []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")))
            durations.append(im.info["duration"])
    return frames, durations


def png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------------------------------------ GIF
def test_gif_decodes_to_the_same_frames_and_loops(tmp_path):
    src = list(synthetic(12))
    out = tmp_path / "a.gif"
    with GifWriter(out, 10) as w:
        for f in src:
            w.write(f)
    frames, durations = gif_frames(out)
    assert len(frames) == 12 and frames[0].shape == (120, 160, 3)
    for got, want in zip(frames, src):
        np.testing.assert_array_equal(got, want)  # ≤ 255 colours: the palette is exact
    assert durations == [100] * 12
    with Image.open(out) as im:
        assert im.info.get("loop") == 0
    assert leftovers(tmp_path) == []


def test_gif_stores_only_what_changed(tmp_path):
    # a whole frame per step would be ~12 × 2 KB; changed rectangles and transparent unchanged pixels are far less
    src = list(synthetic(40, 320, 240))
    with GifWriter(tmp_path / "a.gif", 10) as w:
        for f in src:
            w.write(f)
    with GifWriter(tmp_path / "first.gif", 10) as w:
        w.write(src[0])
    one = (tmp_path / "first.gif").stat().st_size
    assert (tmp_path / "a.gif").stat().st_size < 0.6 * 40 * one


def test_gif_bytes_are_deterministic_and_timing_exact(tmp_path):
    for name in ("a.gif", "b.gif"):
        with GifWriter(tmp_path / name, 30) as w:
            for f in synthetic(9):
                w.write(f)
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()
    _, durations = gif_frames(tmp_path / "a.gif")
    # 30 fps in hundredths of a second: 3, 3, 4, … and 9 frames last exactly 0.3 s
    assert durations == [30, 40, 30, 30, 40, 30, 30, 40, 30] and sum(durations) == 300


def test_gif_merges_identical_frames_into_a_longer_one(tmp_path):
    a, b = list(synthetic(2))
    with GifWriter(tmp_path / "a.gif", 10) as w:
        for f in (a, a, a, b):
            w.write(f)
        assert w.frames == 4
    frames, durations = gif_frames(tmp_path / "a.gif")
    assert len(frames) == 2 and durations == [300, 100]
    np.testing.assert_array_equal(frames[1], b)


def test_gif_quantises_many_colours_closely(tmp_path):
    ramp = np.zeros((64, 300, 3), np.uint8)
    ramp[..., 0] = np.linspace(0, 255, 300, dtype=np.uint8)[None, :]
    ramp[..., 1] = np.linspace(0, 255, 64, dtype=np.uint8)[:, None]
    with GifWriter(tmp_path / "a.gif", 5) as w:
        w.write(ramp)
    (got,), _ = gif_frames(tmp_path / "a.gif")
    assert np.abs(got.astype(int) - ramp).mean() < 3


# ------------------------------------------------------------------------------------------------ MP4
def test_mp4_is_h264_yuv420p_faststart_and_decodes(tmp_path):
    src = list(synthetic(15, 161, 121))  # odd sizes: players want even ones
    out = tmp_path / "a.mp4"
    with Mp4Writer(out, 25) as w:
        for f in src:
            w.write(f)
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: browsers play before the end arrives
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        assert (s.width, s.height) == (162, 122)
        assert float(s.average_rate) == 25
        decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(decoded) == 15
    for got, want in ((decoded[0], src[0]), (decoded[-1], src[-1])):
        assert np.abs(got[:121, :161].astype(int) - want).mean() < 4
    assert leftovers(tmp_path) == []


def test_mp4_without_pyav_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # import av now raises ImportError
    with pytest.raises(MediaError, match=r"gd-studio\[video\]"):
        Mp4Writer(tmp_path / "a.mp4", 10)
    with pytest.raises(MediaError, match=r"gd-studio\[video\]"):
        media.check_output(tmp_path / "a.mp4", 10)
    assert not media.mp4_available()
    assert list(tmp_path.iterdir()) == []
    media.check_output(tmp_path / "a.gif", 10)  # GIF needs nothing extra


# ------------------------------------------------------------------------------------------ PNG folder
def test_png_folder_holds_numbered_exact_frames(tmp_path):
    src = list(synthetic(7))
    out = tmp_path / "frames"
    with media.open_writer(str(out) + "/", 10) as w:
        for f in src:
            w.write(f)
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{i:05d}.png" for i in range(7)]
    for name, want in zip(names, src):
        np.testing.assert_array_equal(png(out / name), want)
    # a second recording replaces the frames of the first, atomically
    with media.open_writer(out, 10, "png") as w:
        w.write(src[0])
    assert sorted(p.name for p in out.iterdir()) == ["frame_00000.png"]
    assert leftovers(tmp_path) == []


def test_png_folder_never_overwrites_other_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(MediaError, match="holds other files"):
        PngFolderWriter(out, 10)
    assert (out / "notes.txt").read_text() == "keep me"


# --------------------------------------------------------------------------------- atomic, cancel, errors
@pytest.mark.parametrize("name", ["a.gif", "a.mp4", "frames/"])
def test_cancel_and_errors_leave_no_partial_output(tmp_path, name):
    target = tmp_path / name.rstrip("/")
    w = media.open_writer(tmp_path / name, 10, media.format_for(str(tmp_path / name)))
    for f in synthetic(3):
        w.write(f)
    assert leftovers(tmp_path)  # the work in progress is hidden beside the target
    w.abort()
    assert not target.exists() and leftovers(tmp_path) == []
    # an exception inside the with block: same, and an existing file is kept as it was
    if name.endswith(".gif"):
        target.write_bytes(b"previous")
    with pytest.raises(RuntimeError):
        with media.open_writer(tmp_path / name, 10, media.format_for(str(tmp_path / name))) as w:
            for f in synthetic(3):
                w.write(f)
            raise RuntimeError("renderer failed")
    assert leftovers(tmp_path) == []
    if name.endswith(".gif"):
        assert target.read_bytes() == b"previous"
    else:
        assert not target.exists()


def test_bad_frames_and_settings_are_clear_errors(tmp_path):
    with pytest.raises(MediaError, match="unknown animation format '.avi'"):
        media.format_for(tmp_path / "a.avi")
    for fps in (0, -1, float("nan"), "x"):
        with pytest.raises(MediaError, match="frame rate"):
            GifWriter(tmp_path / "a.gif", fps)
    with pytest.raises(MediaError, match="at most 50"):
        media.check_output(tmp_path / "a.gif", 60)
    with pytest.raises(MediaError, match="does not exist"):
        GifWriter(tmp_path / "no" / "a.gif", 10)
    w = GifWriter(tmp_path / "a.gif", 10)
    with pytest.raises(MediaError, match="uint8"):  # and the writer is aborted: no partial file
        w.write(np.zeros((10, 10, 3), np.float32))
    w = GifWriter(tmp_path / "a.gif", 10)
    w.write(np.zeros((10, 12, 3), np.uint8))
    with pytest.raises(MediaError, match="first frame was 12x10"):
        w.write(np.zeros((10, 14, 3), np.uint8))
    with pytest.raises(MediaError, match="no frames"):
        GifWriter(tmp_path / "b.gif", 10).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert media.format_for(str(tmp_path / "out") + "/") == "png"


# ------------------------------------------------------------------------------------------------ memory
def test_gif_and_png_memory_stays_flat_over_many_frames(tmp_path):
    # 150 frames of 640×360 are ~100 MB if held; streamed, the writer keeps one previous frame (~0.7 MB)
    for name in ("a.gif", "frames/", "threaded.gif"):
        w = media.open_writer(tmp_path / name, 30, media.format_for(str(tmp_path / name)))
        if name.startswith("threaded"):  # the recorder's way: a two-frame queue to an encoder thread
            w = media.ThreadedWriter(w)
        tracemalloc.start()
        try:
            for f in synthetic(150, 640, 360):
                w.write(f)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        w.close()
        assert peak < 8e6, f"{name}: peak {peak / 1e6:.1f} MB while writing"


def _rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_mp4_memory_stays_flat_over_many_frames(tmp_path):
    with Mp4Writer(tmp_path / "a.mp4", 30) as w:
        for f in synthetic(60, 640, 360):
            w.write(f)
        warm = _rss()  # the encoder's look-ahead buffers are full by now
        for f in synthetic(240, 640, 360, start=60):
            w.write(f)
        grown = _rss() - warm
    # holding the 240 frames would take 166 MB
    assert grown < 25e6, f"RSS grew {grown / 1e6:.1f} MB over 240 frames"


def test_media_imports_no_qt():
    probe = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
            raise ImportError('media must not import ' + name)
sys.meta_path.insert(0, Block())
import gd_studio.media, gd_studio.media.gif, gd_studio.media.mp4, gd_studio.media.pngdir
print('ok')
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_gif_and_png_work_in_the_frozen_build(tmp_path):
    """The PyInstaller build leaves some modules out (packaging/qtfilter.py): GIF and PNG must not need them."""
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "packaging"))
    try:
        import qtfilter
    finally:
        sys.path.pop(0)
    assert "PIL" not in qtfilter.EXCLUDED_MODULES
    probe = """
import sys
import numpy as np
blocked = set(sys.argv[2:])
class Block:
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + '.') for b in blocked):
            raise ImportError('left out of the frozen build: ' + name)
sys.meta_path.insert(0, Block())
from gd_studio import media
out = sys.argv[1]
for name in ('a.gif', 'frames/'):
    with media.open_writer(out + '/' + name, 10, media.format_for(out + '/' + name)) as w:
        for i in range(3):
            f = np.full((20, 30, 3), 255, np.uint8)
            f[5, i] = 0
            w.write(f)
print('ok')
"""
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path), *qtfilter.EXCLUDED_MODULES], cwd=root,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert (tmp_path / "a.gif").stat().st_size > 0 and len(list((tmp_path / "frames").iterdir())) == 3


def test_threaded_writer_reports_encoder_errors_and_cleans_up(tmp_path):
    w = media.ThreadedWriter(GifWriter(tmp_path / "a.gif", 10))
    w.write(np.zeros((10, 12, 3), np.uint8))
    w.write(np.zeros((10, 14, 3), np.uint8))  # wrong size: fails in the encoder thread
    with pytest.raises(MediaError, match="first frame was 12x10"):
        for _ in range(5):
            w.write(np.zeros((10, 12, 3), np.uint8))
        w.close()
    assert list(tmp_path.iterdir()) == []
    # the caller's buffer may change once write returns: the queued frame is a copy
    src = list(synthetic(4))
    buf = np.empty_like(src[0])
    with media.ThreadedWriter(GifWriter(tmp_path / "b.gif", 10)) as w:
        for f in src:
            buf[...] = f
            w.write(buf)
            buf[...] = 0
    for got, want in zip(gif_frames(tmp_path / "b.gif")[0], src):
        np.testing.assert_array_equal(got, want)
