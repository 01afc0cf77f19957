"""Export: PNG at the promised size, SVG that parses, CSV that round-trips exactly, typed errors."""
from __future__ import annotations

import csv
import math
import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gd_studio.engine.errors import GDStudioError
from gd_studio.ui import export as ex


@dataclass(frozen=True)
class FakeStepRecord:
    """Stand-in with the attributes of gd_studio.engine.descent.StepRecord."""

    step: int
    epoch: int
    lr: float
    loss: float
    grad_norm: float
    watched_value: float
    watched_grad: float
    update_norm: float
    val_loss: float | None


@dataclass(frozen=True)
class FakeRangeTest:
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    val_losses: np.ndarray | None


@pytest.fixture
def plot(qtbot):
    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    pw.resize(320, 240)
    pw.setTitle("loss vs step")
    pw.addLegend()
    pw.plot([0, 1, 2, 3], [3.0, 1.0, 2.0, 0.5], pen="b", symbol="s", name="train")
    pw.addItem(pg.InfiniteLine(1.5, label="lr"))
    return pw


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_png_is_scaled_and_decodes(plot, tmp_path):
    base = pg.exporters.ImageExporter(plot.getPlotItem()).getTargetRect()
    out = ex.export_png(plot, tmp_path / "view.png", scale=2.0)
    assert out == tmp_path / "view.png"
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == (round(base.width() * 2), round(base.height() * 2))
    # 2x pixels at 192 dpi: prints at the on-screen size.
    assert abs(image.dotsPerMeterX() * 0.0254 - 192) < 1
    # Also from a PlotItem, at another scale.
    small = QImage(str(ex.export_png(plot.getPlotItem(), tmp_path / "item.png", scale=1.5)))
    assert small.width() == round(base.width() * 1.5)


def test_png_has_the_plot_background(plot, tmp_path):
    plot.setBackground("#FFFFFF")
    image = QImage(str(ex.export_png(plot, tmp_path / "white.png", scale=1.0)))
    assert image.pixelColor(1, 1).name() == "#ffffff"


def test_svg_parses(plot, tmp_path):
    out = ex.export_svg(plot, tmp_path / "view.svg")
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findall(".//{http://www.w3.org/2000/svg}path")


def test_svg_path_closing_is_made_explicit():
    assert ex._explicit_close("M0,0 L4,0 L4,3 L0,3 L0,0 Z") == "M0,0 L4,0 L4,3 L0,3 L0,0 L0,0"
    assert ex._explicit_close("M1,1 L2,2Z M5,5 L6,6 Z") == "M1,1 L2,2 L1,1 M5,5 L6,6 L5,5"
    assert ex._explicit_close("M1,1 L2,2") == "M1,1 L2,2"


def test_svg_export_leaves_pyqtgraph_unpatched(plot, tmp_path):
    module = sys.modules["pyqtgraph.exporters.SVGExporter"]
    before = module.correctCoordinates
    ex.export_svg(plot, tmp_path / "a.svg")
    assert module.correctCoordinates is before


def test_clipboard_gets_the_widget_image(plot, qtbot):
    image = ex.copy_image_to_clipboard(plot)
    assert not image.isNull()
    clip = QApplication.clipboard().image()
    assert (clip.width(), clip.height()) == (image.width(), image.height())
    scaled = ex.copy_image_to_clipboard(plot, scale=2.0)
    base = pg.exporters.ImageExporter(plot.getPlotItem()).getTargetRect()
    assert scaled.width() == round(base.width() * 2)


def test_csv_round_trips_exactly(tmp_path):
    awkward = [0.1, 1 / 3, 2.0**-1074, 1e308, -0.0, 123456789.123456789, math.pi, float(np.float32(0.1))]
    cols = {"step": list(range(len(awkward))), "value": awkward, "text": ["a,b", 'q"uote', "", "x", "y", "z", "é", "w"]}
    out = ex.write_csv(tmp_path / "exact.csv", cols)
    rows = _read_csv(out)
    assert rows[0] == ["step", "value", "text"]
    assert [int(r[0]) for r in rows[1:]] == cols["step"]
    back = [float(r[1]) for r in rows[1:]]
    assert back == awkward
    assert math.copysign(1.0, back[4]) == -1.0
    assert [r[2] for r in rows[1:]] == cols["text"]


def test_csv_none_nan_inf_numpy(tmp_path):
    out = ex.write_csv(
        tmp_path / "special.csv",
        {"a": np.array([1.5, np.nan, np.inf]), "b": [None, np.float64(2.5), np.int64(7)]},
    )
    rows = _read_csv(out)
    assert rows[1] == ["1.5", ""]
    assert math.isnan(float(rows[2][0])) and float(rows[2][1]) == 2.5
    assert float(rows[3][0]) == math.inf and rows[3][1] == "7"


def test_run_history_csv_has_the_promised_columns(tmp_path):
    records = [
        FakeStepRecord(i, i // 3, 0.1 / (i + 1), 1.0 / (i + 7), 0.3 * i, 1.2 - 0.1 * i, 0.84 / (i + 1),
                       0.042 * i, None if i % 2 else 0.5 + i / 9)
        for i in range(7)
    ]
    cols = ex.run_history_columns(records)
    assert tuple(cols) == ex.RUN_HISTORY_COLUMNS == (
        "step", "epoch", "lr", "loss", "val_loss", "grad_norm", "watched_value", "watched_grad", "update_norm",
    )
    rows = _read_csv(ex.write_run_csv(tmp_path / "run.csv", records))
    assert tuple(rows[0]) == ex.RUN_HISTORY_COLUMNS
    assert len(rows) == 1 + len(records)
    for rec, row in zip(records, rows[1:]):
        got = dict(zip(rows[0], row))
        assert int(got["step"]) == rec.step and int(got["epoch"]) == rec.epoch
        for name in ("lr", "loss", "grad_norm", "watched_value", "watched_grad", "update_norm"):
            assert float(got[name]) == getattr(rec, name)
        assert (got["val_loss"] == "") if rec.val_loss is None else (float(got["val_loss"]) == rec.val_loss)


def test_run_history_rejects_records_without_fields():
    with pytest.raises(ex.ExportError, match="step record 0"):
        ex.run_history_columns([object()])


def test_range_test_csv(tmp_path):
    lrs = np.geomspace(1e-7, 10, 25)
    losses = np.linspace(2.3, 0.4, 25) + np.sin(np.arange(25)) / 7
    result = FakeRangeTest(lrs, losses, losses * 0.99, None)
    cols = ex.range_test_columns(result)
    assert list(cols) == ["lr", "loss", "smoothed"]
    rows = _read_csv(ex.write_range_test_csv(tmp_path / "rt.csv", result))
    assert rows[0] == ["lr", "loss", "smoothed"]
    assert [float(r[0]) for r in rows[1:]] == lrs.tolist()
    assert [float(r[1]) for r in rows[1:]] == losses.tolist()
    with_val = FakeRangeTest(lrs, losses, losses, losses + 0.1)
    assert list(ex.range_test_columns(with_val)) == ["lr", "loss", "smoothed", "val_loss"]


def test_errors_name_the_path(plot, tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "out.csv"
    for call in (
        lambda p: ex.write_csv(p, {"a": [1]}),
        lambda p: ex.export_png(plot, p),
        lambda p: ex.export_svg(plot, p),
    ):
        with pytest.raises(ex.ExportError) as info:
            call(missing)
        assert str(missing) in str(info.value)
        assert isinstance(info.value, GDStudioError) and isinstance(info.value, ValueError)
    with pytest.raises(ex.ExportError, match="folder"):
        ex.write_csv(tmp_path, {"a": [1]})
    with pytest.raises(ex.ExportError, match="differ in length"):
        ex.write_csv(tmp_path / "x.csv", {"a": [1, 2], "b": [1]})
    with pytest.raises(ex.ExportError, match="no columns"):
        ex.write_csv(tmp_path / "x.csv", {})
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_permission_error_names_the_path(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ex.ExportError, match=str(locked / "a.csv")):
            ex.write_csv(locked / "a.csv", {"a": [1]})
    finally:
        locked.chmod(0o700)


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.csv"
    ex.write_csv(target, {"a": [1.0]})
    before = target.read_bytes()

    def broken_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ex.os, "replace", broken_replace)
    with pytest.raises(ex.ExportError, match="Permission denied"):
        ex.write_csv(target, {"a": [2.0]})
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]  # no temporary file left behind
