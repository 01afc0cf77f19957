"""HiDPI (issue 12): at device pixel ratio 2 the plots are drawn with twice the pixels, not scaled up: pictures twice
the logical size, the ball twice as wide in pixels, axis lines with full-strength pixels (not blurred into two
half-grey ones). In its own process: the ratio is fixed when Qt starts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
import numpy as np
from gd_studio.ui.offscreen import ensure_app, scenario_window, qimage_rgb
app = ensure_app((1280, 720), dpr=2.0)
from PySide6.QtGui import QImage
out = {"screen_dpr": app.primaryScreen().devicePixelRatio()}
with scenario_window(sys.argv[1], size=(1280, 720), use_theme=False) as sw:
    sw.advance(3)
    rgb, image = sw.grab()
    out["window"] = [image.width(), image.height()]
    wv = sw.window.weight_view
    plot = wv.plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    out["plot"] = [plot.width(), plot.height(), plot.devicePixelRatio()]
    out["plot_logical"] = [wv.plot.width(), wv.plot.height()]
    px = qimage_rgb(plot).astype(int)
    np.save(sys.argv[2], px)
    vb = wv.plot.getPlotItem().vb.sceneBoundingRect()
    out["vb"] = [vb.left(), vb.top(), vb.width(), vb.height()]
    out["ball_size"] = float(wv.current.opts["size"])
print(json.dumps(out))
"""


def test_plots_render_crisp_at_device_pixel_ratio_2(tmp_path):
    arr = tmp_path / "plot.npy"
    run = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "resources/scenarios/03-too-big-overshooting.gdscenario"),
                          str(arr)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, run.stderr[-2000:]
    r = json.loads(lines[-1])
    assert r["screen_dpr"] == 2.0
    assert r["window"] == [2560, 1440]  # the picture asked for at 1280×720, with twice the pixels each way
    w, h, dpr = r["plot"]
    assert dpr == 2.0 and [w, h] == [2 * r["plot_logical"][0], 2 * r["plot_logical"][1]]
    px = np.load(arr)
    # the ball (Okabe-Ito orange with a black rim): twice its logical size across, in pixels
    orange = (np.abs(px - np.array([230, 159, 0])).sum(axis=2) < 60)
    ys, xs = np.nonzero(orange)
    assert xs.size, "no ball"
    across = xs.max() - xs.min() + 1
    assert 2 * r["ball_size"] - 10 <= across <= 2 * r["ball_size"] + 2, (across, r["ball_size"])
    # the left axis line, crossed at the data box's middle: a crisp line has pixels at the line's full strength;
    # a 1× picture scaled up smears its one dark pixel into two or three half-grey ones
    left, top, _bw, bh = r["vb"]
    row = px[int(2 * (top + bh / 2)), int(2 * left) - 6:int(2 * left) + 3]
    darkness = 255 - row.mean(axis=1)
    # (crisp: one or two pixels at ~220; the same plot drawn at 1× and scaled up: 56, 168, 169, 61)
    assert darkness.max() >= 180 and (darkness > 30).sum() <= 2, darkness.round()
