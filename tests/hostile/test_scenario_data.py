"""A scenario's data file: found beside the scenario (not in the working folder), checked at load, and never
read outside the scenario's folder without consent."""
from __future__ import annotations

import json
import os

import pytest

from gd_studio.cli import main
from gd_studio.engine import descent, scenarios
from gd_studio.engine.scenarios import DataOutsideFolderError, ScenarioError

from hostile_corpus import limited_run, scenario_text

CSV = "a,b,y\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


def _scene(folder, data_path, name="s.gdscenario", **config):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(scenario_text(data_path=data_path, dataset_params={}, **config), encoding="utf-8")
    return path


def test_relative_data_path_is_resolved_against_the_scenarios_folder(tmp_path, monkeypatch):
    (tmp_path / "lecture").mkdir()
    (tmp_path / "lecture" / "data.csv").write_text(CSV)
    (tmp_path / "data.csv").write_text("decoy,y\n1,0\n2,1\n")  # what the working folder would find
    path = _scene(tmp_path / "lecture", "data.csv")
    monkeypatch.chdir(tmp_path)
    scene = scenarios.load(path)
    assert scene.data_file == tmp_path / "lecture" / "data.csv" and scene.data_file.is_absolute()
    assert scene.outside_folder is False and scene.source == str(path)
    assert descent.load_dataset(scene.config).feature_names == ("a", "b")


def test_subfolders_of_the_scenarios_folder_are_inside(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text(CSV)
    assert scenarios.load(_scene(tmp_path, "data/d.csv")).outside_folder is False


def test_outside_the_folder_is_refused_until_allowed(tmp_path):
    (tmp_path / "shared.csv").write_text(CSV)
    path = _scene(tmp_path / "scenes", "../shared.csv")
    with pytest.raises(DataOutsideFolderError) as info:
        scenarios.load(path)
    assert info.value.data_path == tmp_path / "shared.csv" and info.value.scenario_path == path
    assert str(path) in str(info.value) and "--allow-outside-data" in str(info.value)
    scene = scenarios.load(path, allow_outside_folder=True)
    assert scene.outside_folder is True and scene.data_file == tmp_path / "shared.csv"


def test_an_outside_file_is_not_even_opened_before_consent(tmp_path, monkeypatch):
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: (opened.append(str(p)), real_open(p, *a, **k))[1])
    path = _scene(tmp_path / "scenes", "/etc/passwd")
    with pytest.raises(DataOutsideFolderError):
        scenarios.load(path)
    assert opened == [str(path)]


def test_a_symlink_inside_the_folder_that_leads_outside_counts_as_outside(tmp_path):
    (tmp_path / "elsewhere.csv").write_text(CSV)
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "d.csv").symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(DataOutsideFolderError):
        scenarios.load(_scene(tmp_path / "scenes", "d.csv"))


def test_save_stores_a_data_file_inside_the_folder_relative_to_it(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "d.csv").write_text(CSV)
    scene = scenarios.load(_scene(tmp_path / "a", "d.csv"))
    moved = tmp_path / "b"
    moved.mkdir()
    (moved / "d.csv").write_text(CSV)
    saved = scenarios.save(scene, moved / "copy.gdscenario")
    assert json.loads(saved.read_text())["config"]["data_path"] == str(tmp_path / "a" / "d.csv")
    again = scenarios.save(scene, tmp_path / "a" / "copy.gdscenario")
    assert json.loads(again.read_text())["config"]["data_path"] == "d.csv"
    assert scenarios.load(again) == scene


def test_the_cli_asks_for_a_flag_to_read_outside(tmp_path, capsys):
    (tmp_path / "shared.csv").write_text(CSV)
    path = _scene(tmp_path / "scenes", "../shared.csv")
    out = tmp_path / "shot.png"
    assert main(["--scenario", str(path), "--screenshot", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "outside the scenario's folder" in err and "--allow-outside-data" in err
    done = limited_run(["--scenario", str(path), "--screenshot", str(out), "--allow-outside-data",
                        "--size", "800x600"], tmp_path)
    assert done.returncode == 0 and done.stderr == "" and out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("change, where", [
    ({"dataset_params": {"n_samples": 10**12}}, r"config\.dataset_params: number of samples"),
    ({"dataset_params": {"noise": -1}}, r"config\.dataset_params: noise"),
    ({"dataset": "circles", "dataset_params": {"factor": 2.0}}, r"config\.dataset_params: factor"),
    ({"dataset": "line", "dataset_params": {}, "loss": "cross_entropy"}, r"config\.loss"),
    ({"model": "one_weight"}, r"config\.model: one weight"),
])
def test_every_value_is_checked_at_load(tmp_path, change, where):
    path = tmp_path / "v.gdscenario"
    path.write_text(scenario_text(**change), encoding="utf-8")
    with pytest.raises(ScenarioError, match=where):
        scenarios.load(path)


@pytest.mark.parametrize("field, value", [("start_lr", 5e3), ("end_lr", 1e308)])
def test_range_test_rates_are_checked_at_load(tmp_path, field, value):
    data = json.loads(scenario_text())
    data["range_test"] = {"start_lr": 1e-5, "end_lr": 1e4 if field == "start_lr" else 1.0, "num_iter": 20,
                          field: value}
    path = tmp_path / "rt.gdscenario"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"range_test\.{field}: .*above the largest supported value"):
        scenarios.load(path)
