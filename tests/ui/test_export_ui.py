"""File → Export in the window: PNG and SVG of every view, CSV of the run and the range test, clipboard, PyTorch."""
from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QApplication

from gd_studio.engine.config import RunConfig
from gd_studio.ui import export
from gd_studio.ui.features.exports import VIEWS

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=16,
                  seed=2, watch="W1[0,1]", schedule="step", schedule_params={"step_size": 50, "gamma": 0.5})


def _ran(qtbot, w, n=30):
    w.controller.stepRequested.emit(n)
    qtbot.waitUntil(lambda: w.step_count == n and not w.last_snapshot.running, timeout=10000)


def test_every_view_exports_png_and_svg(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    _ran(qtbot, w)
    for key in VIEWS:
        png = w.exports.export_view(key, "png", tmp_path / f"{key}.png")
        image = QImage(str(png))
        assert not image.isNull(), key
        plot = w.exports.plot(key)
        assert image.width() >= 2 * plot.width()  # high DPI: several pixels per screen pixel
        svg = w.exports.export_view(key, "svg", tmp_path / f"{key}.svg")
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg"), key
        assert w.findChild(QAction, f"actionExportPng{''.join(p.capitalize() for p in key.split('_'))}")


def test_run_and_range_test_csv_have_the_promised_columns(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    _ran(qtbot, w, 25)
    path = w.exports.export_run_csv(tmp_path / "run.csv")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert tuple(rows[0].keys()) == export.RUN_HISTORY_COLUMNS
    assert [int(r["step"]) for r in rows] == list(range(1, 26))
    assert any(r["val_loss"] for r in rows)  # validation every 10 steps
    assert float(rows[-1]["loss"]) == pytest.approx(w.last_snapshot.loss)

    assert w.exports.export_range_test_csv(tmp_path / "none.csv") is None  # no test yet: said, not raised
    assert w.messages[-1][0] == "error" and "range test" in w.messages[-1][1]
    w.panel.rt_iters.setValue(30)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=15000):
        w.actionRangeTest.trigger()
    path = w.exports.export_range_test_csv(tmp_path / "rt.csv")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert {"lr", "loss", "smoothed"} <= set(rows[0])
    assert len(rows) == len(w.range_test_result.lrs)


def test_export_errors_go_to_the_banner(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    assert w.exports.export_view("loss_vs_step", "png", tmp_path / "missing" / "x.png") is None
    kind, text = w.messages[-1]
    assert kind == "error" and "missing" in text
    assert w.banner.isVisible()


def test_copy_images_and_pytorch_code_to_the_clipboard(make_window, qtbot):
    w = make_window(SMALL)
    _ran(qtbot, w, 5)
    image = w.exports.copy_view("loss_vs_weight")
    assert image is not None and not image.isNull()
    assert not QApplication.clipboard().image().isNull()
    assert not w.exports.copy_window().isNull()
    w.set_lr(0.03)
    code = w.exports.copy_pytorch()
    assert QApplication.clipboard().text() == code
    assert "torch.optim.SGD" in code and "lr=0.03" in code and "StepLR" in code
    kind, text = w.messages[-1]
    assert kind == "info" and "PyTorch" in text


def test_run_csv_is_read_by_the_worker_thread_even_while_running(make_window, qtbot, tmp_path, monkeypatch):
    """The worker's thread is the only one that touches the run: the export asks it (a queued command) and
    waits for its answer, instead of reading the LiveRun from the GUI thread after pausing it."""
    import threading

    from gd_studio.live.run import LiveRun

    monkeypatch.setenv("GD_STUDIO_ENGINE", "thread")  # the engine in this process, so its reader is observable
    readers = []
    original = LiveRun.history_columns

    def spy(self):
        readers.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(LiveRun, "history_columns", spy)
    w = make_window(SMALL)
    _ran(qtbot, w, 12)
    # a pace the history keeps whole: at full speed a slow export under load came after more steps than the
    # history keeps at full resolution (older steps are thinned), and the steps were no longer 1, 2, 3, … (flaky)
    w.scenarios.set_speed(200.0)
    w.start()
    qtbot.waitUntil(lambda: w.step_count > 20, timeout=10000)
    path = w.exports.export_run_csv(tmp_path / "run.csv")
    assert readers and threading.main_thread().ident not in readers
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    steps = [int(r["step"]) for r in rows]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) > 20  # the whole run, in order, paused
    assert not w.controller.worker.running


def test_thinning_note_names_the_steps_a_long_history_left_out():
    from gd_studio.ui.features.exports import thinning_note

    assert thinning_note([1, 2, 3, 4]) == "" and thinning_note([]) == "" and thinning_note([7]) == ""
    note = thinning_note([4, 8, 12, 13, 14, 15])
    assert "6 of the run's 15 steps" in note and "every step from 12 on" in note and "before that one step in 4" in note


def test_a_long_runs_csv_says_its_older_steps_are_thinned(make_window, qtbot, tmp_path):
    """After 10,000 steps the history keeps the last 4,096 whole and older ones thinned: the CSV was saved with
    "Saved the run history" and nothing else, as if it held every step."""
    w = make_window(RunConfig(dataset="line", dataset_params={"n_samples": 50, "noise": 0.1, "seed": 0},
                              model="one_weight", loss="mse", lr=0.05, batch_size=0, seed=0, watch="w",
                              val_fraction=0.0))
    _ran(qtbot, w, 10_000)
    messages = []
    w.messageShown.connect(lambda kind, text: messages.append(text))
    path = w.exports.export_run_csv(tmp_path / "run.csv")
    steps = [int(r["step"]) for r in csv.DictReader(path.read_text(encoding="utf-8").splitlines())]
    assert steps[-1] == 10_000 and len(steps) < 10_000
    # the history's last 4,096 steps are whole, and the thinned part's last one (5,904, even) joins them
    i = steps.index(5_904)
    assert steps[i:] == list(range(5_904, 10_001)) and steps[i - 1] == 5_902
    assert "every step from 5,904 on" in messages[-1]
    assert f"{len(steps):,} of the run's 10,000 steps" in messages[-1] and "one step in 2 " in messages[-1]
