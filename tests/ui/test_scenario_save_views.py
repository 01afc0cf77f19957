"""Saving a scenario keeps the sharpness and loss-surface views it shows: Ctrl+S, then Ctrl+O, gives the same views."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from gd_studio.engine import scenarios
from gd_studio.engine.config import RunConfig

ROOT = Path(__file__).resolve().parents[2]
VALLEY = ROOT / "resources" / "scenarios" / "09-momentum-in-a-narrow-valley.gdscenario"
SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 80, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(4,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.3, batch_size=0,
                  seed=2, watch="W1[0,0]")


@pytest.fixture(autouse=True)
def _engine_in_the_worker_thread(monkeypatch):
    monkeypatch.setenv("GD_STUDIO_ENGINE", "thread")  # no child process to start: these tests stay cheap


def _open(qtbot, w, path):
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000) as got:
        assert w.scenarios.open(path)
    return got.args[0]


def _save_with_ctrl_s(w, monkeypatch, path) -> dict:
    """File → Save scenario as a person does it: the action, the file dialog answered with ``path``."""
    from gd_studio.ui.features import scenarios as feature

    monkeypatch.setattr(feature.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    w.scenarios.actionSaveScenario.trigger()
    assert path.is_file(), "the scenario was not saved"
    return json.loads(path.read_text(encoding="utf-8"))


def _off(w):
    """Another plane in the chooser and the surface view off, as a person may leave them before opening a file."""
    box = w.landscape_views.chooser
    box.kind.setCurrentIndex(box.kind.findData("path"))
    box.seed.setValue(11)
    w.actionShowLossSurface.setChecked(False)
    assert w.surface_view.widget.isHidden()


def _plane(w):
    box = w.landscape_views.chooser
    return box.kind.currentData(), box.first.currentData(), box.second.currentData(), box.seed.value()


def test_saving_the_valley_unchanged_keeps_its_surface_and_reopens_with_it(make_window, qtbot, tmp_path, monkeypatch):
    w = make_window()
    original = _open(qtbot, w, VALLEY)
    assert w.actionShowLossSurface.isChecked()
    data = _save_with_ctrl_s(w, monkeypatch, tmp_path / "valley.gdscenario")
    assert data["loss_surface"] == original.loss_surface.to_dict()  # plane, weights, seed, span 0.5, grid 61
    assert "sharpness" not in data

    _off(w)  # what the window shows now is not the file's: opening it must bring the surface back
    again = _open(qtbot, w, tmp_path / "valley.gdscenario")
    assert again.loss_surface == original.loss_surface
    assert w.actionShowLossSurface.isChecked() and not w.surface_view.widget.isHidden()
    assert _plane(w) == ("weights", "W1[0,0]", "W1[1,0]", 0)


def test_a_plane_chosen_by_hand_and_the_sharpness_view_survive_save_and_open(make_window, qtbot, tmp_path,
                                                                                monkeypatch):
    """The tester's repro: scenario 09, "two random directions" with seed 5, Ctrl+S, Ctrl+O."""
    w = make_window()
    _open(qtbot, w, VALLEY)
    box = w.landscape_views.chooser
    box.kind.setCurrentIndex(box.kind.findData("random"))
    box.seed.setValue(5)
    w.actionShowSharpness.setChecked(True)
    data = _save_with_ctrl_s(w, monkeypatch, tmp_path / "random.gdscenario")
    surface = data["loss_surface"]
    assert (surface["plane"], surface["weights"], surface["seed"], surface["grid"]) == ("random", [], 5, 61)
    assert surface["span"] > 0
    assert data["sharpness"] == {"every": 10, "subset": None}

    _off(w)
    w.actionShowSharpness.setChecked(False)
    _open(qtbot, w, tmp_path / "random.gdscenario")  # Ctrl+O routes a scenario file here
    assert w.actionShowLossSurface.isChecked() and w.actionShowSharpness.isChecked()
    assert _plane(w)[0] == "random" and _plane(w)[3] == 5
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.kind == "random", timeout=10000)

    # saved again from the reopened scene: the same surface settings (the round trip is a fixed point)
    _save_with_ctrl_s(w, monkeypatch, tmp_path / "again.gdscenario")
    assert scenarios.load(tmp_path / "again.gdscenario").loss_surface == scenarios.load(
        tmp_path / "random.gdscenario").loss_surface


def test_views_turned_off_are_not_saved_and_reopen_off(make_window, qtbot, tmp_path, monkeypatch):
    w = make_window()
    _open(qtbot, w, VALLEY)
    w.actionShowLossSurface.setChecked(False)
    data = _save_with_ctrl_s(w, monkeypatch, tmp_path / "plain.gdscenario")
    assert "loss_surface" not in data and "sharpness" not in data
    w.actionShowLossSurface.setChecked(True)
    _open(qtbot, w, tmp_path / "plain.gdscenario")
    assert not w.actionShowLossSurface.isChecked() and w.surface_view.widget.isHidden()


def test_a_surface_turned_on_outside_any_scene_is_saved_in_its_plane(make_window, qtbot, tmp_path, monkeypatch):
    w = make_window(SMALL)
    w.actionShowLossSurface.setChecked(True)
    box = w.landscape_views.chooser
    box.kind.setCurrentIndex(box.kind.findData("weights"))
    box.first.setCurrentIndex(box.first.findData("W1[0,1]"))
    box.second.setCurrentIndex(box.second.findData("W2[0,0]"))
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.refined
                    and w.surface_view.info.labels == ("W1[0,1]", "W2[0,0]"), timeout=10000)
    shown = w.surface_view.info
    data = _save_with_ctrl_s(w, monkeypatch, tmp_path / "mine.gdscenario")
    surface = data["loss_surface"]
    assert (surface["plane"], surface["weights"], surface["grid"]) == ("weights", ["W1[0,1]", "W2[0,0]"], 61)
    # the window it showed: reopened at the same step, the saved span asks for no more than it drew
    cx, cy = shown.current
    assert 0 < surface["span"] <= min(cx - shown.alphas[0], shown.alphas[-1] - cx, cy - shown.betas[0],
                                      shown.betas[-1] - cy)

    _off(w)
    _open(qtbot, w, tmp_path / "mine.gdscenario")
    assert w.actionShowLossSurface.isChecked() and _plane(w)[:3] == ("weights", "W1[0,1]", "W2[0,0]")
    qtbot.waitUntil(lambda: w.surface_view.info is not None and w.surface_view.info.refined
                    and w.surface_view.info.labels == ("W1[0,1]", "W2[0,0]"), timeout=10000)
    again = w.surface_view.info
    assert again.step == shown.step == 0
    # the reach the file asks for, around the same point (the map's own shape may widen one side: one scale)
    span, (cx, cy) = surface["span"], again.current
    assert again.alphas[0] <= cx - span + 1e-12 and again.alphas[-1] >= cx + span - 1e-12
    assert again.betas[0] <= cy - span + 1e-12 and again.betas[-1] >= cy + span - 1e-12


def test_a_plane_of_one_weight_twice_is_refused_with_a_message_and_no_file(make_window, qtbot, tmp_path, monkeypatch):
    w = make_window(SMALL)
    w.actionShowLossSurface.setChecked(True)
    box = w.landscape_views.chooser
    box.kind.setCurrentIndex(box.kind.findData("weights"))
    box.second.setCurrentIndex(box.second.findData(box.first.currentData()))
    assert w.scenarios.save(tmp_path / "twice.gdscenario") is None
    assert not (tmp_path / "twice.gdscenario").exists()
    kind, text = w.messages[-1]
    assert kind == "error" and "loss_surface.weights" in text and "not saved" in text, text
