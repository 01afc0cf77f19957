"""The window asks before a scenario reads a file outside its folder, and No keeps everything as it was."""
from __future__ import annotations

import pytest

from gd_studio.engine.scenarios import ScenarioError
from gd_studio.ui import data_consent

from hostile_corpus import scenario_text

CSV = "a,b,y\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


@pytest.fixture
def outside(tmp_path):
    (tmp_path / "shared.csv").write_text(CSV)
    (tmp_path / "scenes").mkdir()
    path = tmp_path / "scenes" / "s.gdscenario"
    path.write_text(scenario_text(data_path="../shared.csv", dataset_params={}), encoding="utf-8")
    return path


def test_declining_refuses_and_names_the_file(outside):
    asked = []
    with pytest.raises(ScenarioError, match=r"shared\.csv is outside its folder and reading it was declined"):
        data_consent.load_scenario(None, outside, question=lambda parent, problem: asked.append(problem) or False)
    assert asked and asked[0].data_path == outside.parent.parent / "shared.csv"


def test_agreeing_loads_and_says_where_the_data_comes_from(outside):
    scene = data_consent.load_scenario(None, outside, question=lambda parent, problem: True)
    assert scene.outside_folder
    assert data_consent.describe(scene) == f"Data: {outside.parent.parent / 'shared.csv'} (outside the scenario's folder)"


def test_the_question_defaults_to_no(qtbot, outside, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    seen = {}

    def fake_exec(box):
        seen["default"] = box.defaultButton() is box.button(QMessageBox.StandardButton.No)
        seen["text"] = box.text()
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    with pytest.raises(ScenarioError):
        data_consent.load_scenario(None, outside)
    assert seen["default"] and "shared.csv" in seen["text"]


def test_opening_the_window_with_such_a_scenario_asks_too(qtbot, outside, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gd_studio.ui import app as app_module

    asked = []

    def decline(parent, problem):
        asked.append(problem.data_path)
        return False

    monkeypatch.setattr(data_consent, "ask", decline)
    monkeypatch.setattr(data_consent.load_scenario, "__defaults__", (decline,))

    def close_soon():
        for top in QApplication.topLevelWidgets():
            if top.objectName() == "gdStudioMainWindow":
                top.close()

    QTimer.singleShot(800, close_soon)
    assert app_module.run_app([], scenario=str(outside)) == 0
    assert asked == [outside.parent.parent / "shared.csv"]


def test_the_window_says_which_file_a_scenario_reads(make_window, qtbot, tmp_path):
    (tmp_path / "d.csv").write_text(CSV)
    path = tmp_path / "s.gdscenario"
    path.write_text(scenario_text(data_path="d.csv", dataset_params={}), encoding="utf-8")
    w = make_window()
    shown = []
    w.messageShown.connect(lambda kind, text: shown.append((kind, text)))
    assert w.scenarios.open(path)
    assert ("info", f"Data: {tmp_path / 'd.csv'} (beside the scenario)") in shown
