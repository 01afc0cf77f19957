"""Range-test files in the window (issue 13): File → Open, drop, `gd-studio FILE`, bad files, live files."""
from __future__ import annotations

import json
import math

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

from gd_studio import cli, file_types
from gd_studio.engine import descent, lr_finder, rangefile
from gd_studio.engine.config import RunConfig
from gd_studio.ui import fileopen
from gd_studio.ui.adapters import fmt_lr
from gd_studio.ui.features.range_files import EXPLANATIONS

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 160, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(8,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
                  seed=3, watch="W2[0,0]")


def _repeat(num_iter=60, seeds=(0, 1, 2)):
    s = descent.build(SMALL)
    return lr_finder.repeat_range_test(s.model, s.train, s.initial_params, seeds=seeds, start_lr=1e-5, end_lr=10.0,
                                       num_iter=num_iter, batch_size=32)


def _single(num_iter=60):
    s = descent.build(SMALL)
    return lr_finder.range_test(s.model, s.train, s.initial_params, start_lr=1e-5, end_lr=10.0, num_iter=num_iter,
                                batch_size=32, seed=0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("rt") / "moons.gdrange"
    rangefile.save(_repeat(), path, meta={"model": "MLP 2-8-2 on moons"})
    return path


def _line(plot, name):
    return next(i for i in plot.getPlotItem().items if isinstance(i, pg.InfiniteLine) and i.objectName() == name)


def _run_state(w):
    return (w.config().lr, w.state.range_test, w.step_count, w.lr_view.result)


def test_file_open_shows_curve_band_every_suggestion_and_snippet_and_keeps_the_run(make_window, qtbot, saved,
                                                                                 monkeypatch):
    w = make_window(SMALL)
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 1, timeout=5000)
    before = _run_state(w)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
    w.actionOpenScenario.trigger()  # File → Open… takes any file the app understands
    rf = w.range_files
    assert rf.dock.isVisible() and rf.panel.record is not None
    record = rangefile.load(saved)
    view = rf.panel.view
    assert view.band.isVisible()
    assert view.raw.getData()[0].size > 10 and view.smoothed.getData()[0].size > 10
    rec = _line(view.plot, "recommendedLrMarker")
    steep = _line(view.plot, "steepestLrMarker")
    assert rec.isVisible() and steep.isVisible()
    assert rec.value() == pytest.approx(math.log10(record.suggestions["recommended"]))
    assert "×/÷" in rec.label.toPlainText()  # the seed spread, as for the others
    text = rf.panel.details.text()
    for name in lr_finder.SUGGESTIONS:
        assert f"{name}:" in text and EXPLANATIONS[name] in text
    assert "MLP 2-8-2 on moons" in text and "runs: 3" in text
    assert rf.panel.choice.currentData() == "recommended"
    snippet = rf.panel.snippet.toPlainText()
    assert snippet == rangefile.snippet(record, record.suggestions["recommended"], label="recommended")
    # the run did not change: its LR, its range test, its step and its own loss-vs-LR view
    assert _run_state(w) == before
    # choosing another suggestion, or clicking the curve, changes the snippet's LR
    rf.panel.choice.setCurrentIndex(rf.panel.choice.findData("steepest"))
    assert fmt_lr(record.suggestions["steepest"]) in rf.panel.snippet.toPlainText().splitlines()[0]
    rf.panel._picked(0.0123)
    assert "0.0123" in rf.panel.snippet.toPlainText()
    assert _run_state(w) == before
    # only "Use in the run" hands the file's LR to the run, which then steps with it
    rf.panel.use.click()
    assert w.config().lr == pytest.approx(0.0123)
    w.actionStep.trigger()
    qtbot.waitUntil(lambda: w.step_count == 2, timeout=5000)
    assert w.last_snapshot.history.lr[-1] == pytest.approx(0.0123)


def _drop(w, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)


def test_dropping_a_range_file_opens_it_and_does_not_import_it_as_csv(make_window, qtbot, saved):
    w = make_window(SMALL)
    config = w.config()
    _drop(w, saved)
    assert w.range_files.dock.isVisible() and w.range_files.path == saved
    qtbot.wait(100)
    assert w.config() == config  # not read as a CSV dataset: no rebuild


def test_a_bad_file_gets_one_line_naming_file_and_json_path_and_keeps_the_previous_view(make_window, qtbot,
                                                                                       saved, tmp_path):
    w = make_window(SMALL)
    assert fileopen.open_file(w, saved)
    shown = w.range_files.panel.record
    doc = json.loads(saved.read_text())
    doc["curve"]["losses"][3] = "x"
    bad = tmp_path / "broken.gdrange"
    bad.write_text(json.dumps(doc))
    before = _run_state(w)
    assert not fileopen.open_file(w, bad)
    kind, text = w.messages[-1]
    assert kind == "error" and "\n" not in text
    assert "broken.gdrange" in text and "$.curve.losses[3]" in text
    assert w.range_files.panel.record is shown and w.range_files.path == saved
    assert _run_state(w) == before
    (tmp_path / "empty.gdrange").write_text("")
    assert not fileopen.open_file(w, tmp_path / "empty.gdrange")
    assert w.messages[-1][0] == "error" and "empty.gdrange" in w.messages[-1][1]
    assert w.range_files.panel.record is shown
    (tmp_path / "noise.gdrange").write_bytes(bytes(range(128, 256)) * 8)
    assert not fileopen.open_file(w, tmp_path / "noise.gdrange")
    kind, text = w.messages[-1]  # a question, then the sentence after it: it read "a range-test file?. The …"
    assert kind == "error" and text.endswith("is it a range-test file? The previous view is kept."), text


def test_a_live_file_is_followed_as_it_grows_and_left_when_done(make_window, qtbot, tmp_path):
    w = make_window(SMALL)
    full = _single(80)
    path = tmp_path / "live.gdrange"

    def write(n, running):
        part = lr_finder.RangeTestResult(**{**{f: getattr(full, f) for f in full.__dataclass_fields__},
                                            "lrs": full.lrs[:n], "losses": full.losses[:n],
                                            "smoothed": full.smoothed[:n], "suggestions": {}})
        meta = {"live": {"running": True, "run": 0, "runs": 1, "step": n - 1, "num_iter": 80}} if running else {}
        rangefile.save(part if running else full, path, meta=meta)

    write(20, True)
    assert fileopen.open_file(w, path)
    rf = w.range_files
    assert rf.watching
    assert rf.panel.view.raw.getData()[0].size == 20
    write(50, True)
    qtbot.waitUntil(lambda: rf.panel.view.raw.getData()[0].size == 50, timeout=3000)
    assert rf.watching
    write(80, False)
    qtbot.waitUntil(lambda: not rf.watching, timeout=3000)
    assert rf.panel.view.raw.getData()[0].size == full.lrs.size
    assert "finished" in w.messages[-1][1]


def test_gd_studio_file_routes_a_range_file_to_the_window(saved, monkeypatch):
    assert file_types.file_type_of(saved).kind == "range_test"
    assert file_types.file_type_of("X.GDRANGE").kind == "range_test"
    assert ".gdrange" in file_types.describe() and "*.gdrange" in file_types.dialog_filter()
    assert "range_test" in fileopen.OPENERS
    calls = []
    monkeypatch.setattr(cli, "_open_window", lambda args: calls.append(list(args.open_files)) or 0)
    assert cli.main([str(saved)]) == 0
    assert calls == [[str(saved)]]


def test_a_file_written_by_the_pytorch_range_test_opens_in_the_window(make_window, qtbot, tmp_path):
    torch = pytest.importorskip("torch", reason='PyTorch is not installed (pip install "gd-studio[torch]")')
    from gd_studio.torch import range_test

    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 4, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32, shuffle=True,
                                       generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    path = tmp_path / "torch.gdrange"
    r = range_test(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.CrossEntropyLoss(), data,
                   start_lr=1e-4, end_lr=10, num_iter=40, progress=False, stream_to=path)
    w = make_window(SMALL)
    assert fileopen.open_file(w, path)
    rf = w.range_files
    assert not rf.watching  # finished: nothing to follow
    assert rf.panel.record.suggestions == r.suggestions
    assert "param_groups" in rf.panel.snippet.toPlainText()


def test_a_range_file_from_the_command_line_opens_once_the_window_exists(make_window, saved):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    handler = fileopen.install(app, listen=False)  # the app's one handler, shared by every test
    seen = len(handler.opened)
    fileopen.open_at_start(saved)  # what `gd-studio FILE.gdrange` does before the window is built
    w = make_window(SMALL)
    try:
        fileopen.install(app, w, listen=False)
        assert handler.opened[seen:] == [saved]
        assert w.range_files.path == saved and w.range_files.dock.isVisible()
    finally:
        del handler.opened[seen:]  # later tests look at what they opened themselves
