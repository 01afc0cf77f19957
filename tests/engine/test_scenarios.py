"""Scenario files: round trip, bundled scenarios, and clear errors for every kind of bad file."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from gd_studio.engine import descent, landscape, lr_finder, scenarios
from gd_studio.engine.config import RunConfig
from gd_studio.engine.errors import GDStudioError
from gd_studio.engine.scenarios import (
    EXTENSION,
    FORMAT_VERSION,
    PANELS,
    RangeTestSettings,
    Scenario,
    ScenarioError,
    dumps,
    load,
    loads,
    save,
)


def _scenario(**changes) -> Scenario:
    base = dict(
        title="Too big a learning rate",
        caption="Watch it zig-zag: w ← w − r·dL/dw",
        config=RunConfig(dataset="line", dataset_params={"n_samples": 50, "noise": 0.1, "slope": 2.0},
                         model="one_weight", hidden=(), loss="mse", lr=0.8, batch_size=0, seed=3, watch="w",
                         standardize=False, val_fraction=0.0),
        panels=("data", "loss_vs_weight", "narration"),
        ranges={"loss_vs_weight": (-1.0, 4.0, 0.0, 6.0), "loss_vs_step": None},
        pre_run=2,
        steps=15,
        speed=1.5,
        range_test=RangeTestSettings(start_lr=1e-5, end_lr=3.0, num_iter=50, mode="linear", highlight="recommended"),
    )
    base.update(changes)
    return Scenario(**base)


def _valid_dict() -> dict:
    return json.loads(dumps(_scenario()))


def _error_for(tmp_path: Path, text: str | bytes, name: str = "lecture" + EXTENSION) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load(path)
    message = str(info.value)
    assert name in message
    assert "Traceback" not in message
    return message


# ------------------------------------------------------------------------------------------- round trip


def test_save_load_round_trip_gives_an_identical_scenario(tmp_path):
    original = _scenario()
    path = save(original, tmp_path / ("zigzag" + EXTENSION))
    again = load(path)
    assert again == original
    assert again.config == original.config
    assert again.config.to_dict() == original.config.to_dict()
    assert dumps(again) == dumps(original)


def test_round_trip_keeps_floats_bit_for_bit(tmp_path):
    lr = 0.1 + 0.2  # 0.30000000000000004: shortest repr round-trips exactly
    original = _scenario(config=_scenario().config.replace(lr=lr, optimizer="adam",
                                                            optimizer_params={"betas": [0.8, 0.95]}))
    again = load(save(original, tmp_path / ("x" + EXTENSION)))
    assert again.config.lr == lr
    assert again.config.optimizer_params == {"betas": [0.8, 0.95]}


def test_dumps_is_stable_indented_and_in_file_order():
    text = dumps(_scenario())
    assert text == dumps(_scenario())
    assert text.endswith("}\n")
    assert text.startswith('{\n  "version": 1,\n  "title": ')
    data = json.loads(text)
    assert list(data) == ["version", "title", "caption", "config", "panels", "ranges", "pre_run", "steps",
                          "speed", "range_test"]
    assert list(data["config"]) == list(RunConfig().to_dict())
    assert '"panels": ["data", "loss_vs_weight", "narration"]' in text  # short lists on one line
    assert "w ← w − r·dL/dw" in text  # UTF-8 kept readable, not \\u-escaped


def test_minimal_file_gets_the_documented_defaults():
    data = {"version": 1, "title": "Minimal", "config": RunConfig().to_dict()}
    scene = loads(json.dumps(data))
    assert scene.caption == ""
    assert scene.panels == PANELS
    assert scene.ranges == {}
    assert (scene.pre_run, scene.steps, scene.speed, scene.range_test) == (0, 0, None, None)
    assert scene.version == FORMAT_VERSION


def test_range_test_defaults_and_null_range():
    data = _valid_dict()
    data["range_test"] = {"start_lr": 1e-6, "end_lr": 1, "num_iter": 80}
    data["ranges"] = {"loss_vs_lr": [1e-6, 1.0, 0, 2]}
    scene = loads(json.dumps(data))
    assert scene.range_test == RangeTestSettings(start_lr=1e-6, end_lr=1.0, num_iter=80)
    assert scene.range_test.mode == "exp" and scene.range_test.highlight == "steepest"
    assert scene.ranges == {"loss_vs_lr": (1e-6, 1.0, 0.0, 2.0)}


def test_int_written_for_a_float_setting_is_accepted():
    data = _valid_dict()
    data["config"]["lr"] = 1  # JSON writers drop the .0
    data["config"]["val_fraction"] = 0
    data["speed"] = 2
    scene = loads(json.dumps(data))
    assert scene.config.lr == 1.0 and isinstance(scene.config.lr, float)
    assert scene.speed == 2.0


# ---------------------------------------------------------------------------------------- atomic saving


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / ("a" + EXTENSION)
    target.write_text("old contents", encoding="utf-8")
    save(_scenario(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    assert load(target) == _scenario()


def test_failed_save_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / ("a" + EXTENSION)
    save(_scenario(title="Old"), target)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scenarios.os, "replace", broken_replace)
    with pytest.raises(ScenarioError, match=r"cannot write .*a\.gdscenario: No space left on device"):
        save(_scenario(title="New"), target)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    assert load(target).title == "Old"


def test_save_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        save(_scenario(), tmp_path / "nope" / ("a" + EXTENSION))


@pytest.mark.skipif(os.name != "posix", reason="umask is POSIX")
def test_saved_file_gets_normal_permissions(tmp_path):
    path = save(_scenario(), tmp_path / ("a" + EXTENSION))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# -------------------------------------------------------------------------------------------- bad files


def test_corrupt_json_names_line_and_column(tmp_path):
    message = _error_for(tmp_path, '{\n  "version": 1,\n  "title" "x"\n}')
    assert "line 3, column 11" in message
    assert "not valid JSON" in message


def test_truncated_file_says_it_ends_early(tmp_path):
    text = dumps(_scenario())
    message = _error_for(tmp_path, text[: len(text) // 2])
    assert "ends early" in message and "truncated" in message
    assert "line " in message and "column " in message


@pytest.mark.parametrize("text, expected", [
    ("", "the file is empty"),
    ("   \n", "the file is empty"),
    ("[1, 2]", "expected a JSON object at the top level, got a list"),
    ('"scenario"', "got a string"),
    ('{"title": "x"}', "missing field 'version'"),
])
def test_not_a_scenario(tmp_path, text, expected):
    assert expected in _error_for(tmp_path, text)


def test_undecodable_bytes(tmp_path):
    message = _error_for(tmp_path, b'{"version": 1,\n "title": "\xff\xfe"}')
    assert "not UTF-8 text: byte 0xff at line 2, column 12" in message


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / ("bom" + EXTENSION)
    path.write_bytes(b"\xef\xbb\xbf" + dumps(_scenario()).encode("utf-8"))
    assert load(path) == _scenario()


def test_missing_file_folder_and_huge_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"missing\.gdscenario: no such file"):
        load(tmp_path / ("missing" + EXTENSION))
    with pytest.raises(ScenarioError, match="is a folder"):
        load(tmp_path)
    big = tmp_path / ("big" + EXTENSION)
    big.write_bytes(b" " * (scenarios.MAX_FILE_BYTES + 1))
    with pytest.raises(ScenarioError, match="too large"):
        load(big)


@pytest.mark.parametrize("version", [2, 3, 99])
def test_future_version_is_refused_with_a_clear_message(tmp_path, version):
    data = _valid_dict()
    data["version"] = version
    data["something_new"] = {"from": "the future"}  # a newer format may add fields: the version wins
    message = _error_for(tmp_path, json.dumps(data))
    assert f"made by a newer GD Studio (format {version}); this version reads format 1" in message


@pytest.mark.parametrize("version, expected", [
    (0, "format 0 does not exist"),
    ("1", 'version: expected a whole number, got "1"'),
    (1.0, "version: expected a whole number, got 1.0"),
    (True, "version: expected a whole number, got true"),
])
def test_bad_version(tmp_path, version, expected):
    data = _valid_dict()
    data["version"] = version
    assert expected in _error_for(tmp_path, json.dumps(data))


def _mutated(mutate) -> str:
    data = _valid_dict()
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.pop("title"), "missing field title"),
    (lambda d: d.pop("config"), "missing field config"),
    (lambda d: d["config"].pop("lr"), "config: missing field config.lr"),
    (lambda d: [d["config"].pop("lr"), d["config"].pop("seed")], "missing fields config.lr, config.seed"),
    (lambda d: d.update(capton="x"), "unknown field capton (did you mean caption?)"),
    (lambda d: d["config"].update(lerning_rate=0.1), "unknown field config.lerning_rate"),
    (lambda d: d["range_test"].update(stop_lr=1),
     "unknown field range_test.stop_lr (did you mean range_test.start_lr?)"),
    (lambda d: d.update(title=3), "title: expected a string, got 3"),
    (lambda d: d.update(title="  "), "title: must not be empty"),
    (lambda d: d.update(config=[]), "config: expected an object, got a list"),
    (lambda d: d["config"].update(lr="fast"), 'config.lr: expected a number, got "fast"'),
    (lambda d: d["config"].update(lr=True), "config.lr: expected a number, got true"),
    (lambda d: d["config"].update(seed=1.5), "config.seed: expected a whole number, got 1.5"),
    (lambda d: d["config"].update(hidden=[16, "x"]), "config.hidden: expected a list of whole numbers"),
    (lambda d: d["config"].update(standardize="yes"), 'config.standardize: expected true or false, got "yes"'),
    (lambda d: d["config"].update(data_path=5), "config.data_path: expected a string or null, got 5"),
    (lambda d: d["config"].update(dataset_params={"noise": {"a": 1}}),
     "config.dataset_params.noise: expected a number, string, true/false or null, got an object"),
    (lambda d: d.update(panels="data"), "panels: expected a list of panel names"),
    (lambda d: d.update(panels=["data", 3]), "panels[1]: expected a panel name, got 3"),
    (lambda d: d.update(panels=["data", "plot3d"]), "panels[1]: unknown panel 'plot3d'"),
    (lambda d: d.update(panels=["data", "data"]), "panels[1]: 'data' is listed twice"),
    (lambda d: d.update(panels=[]), "panels: name at least one of"),
    (lambda d: d.update(ranges={"loss_vs_weight": [0, 1, 2]}),
     "ranges.loss_vs_weight: expected [xmin, xmax, ymin, ymax]"),
    (lambda d: d.update(ranges={"loss_vs_weight": [1, 0, 0, 1]}),
     "ranges.loss_vs_weight: xmin (1) must be less than xmax (0)"),
    (lambda d: d.update(ranges={"loss_vs_lr": [0, 1, 0, 1]}),
     "ranges.loss_vs_lr: learning rates are drawn on a log axis"),
    (lambda d: d.update(ranges={"narration": [0, 1, 0, 1]}), "ranges.narration: unknown view 'narration'"),
    (lambda d: d.update(steps=-1), "steps: must be a whole number from 0 to"),
    (lambda d: d.update(pre_run="3"), 'pre_run: expected a whole number, got "3"'),
    (lambda d: d.update(speed=0), "speed: steps per second must be above 0"),
    (lambda d: d.update(range_test=[]), "range_test: expected an object or null, got a list"),
    (lambda d: d["range_test"].update(end_lr=1e-9), "range_test.end_lr: must be above start_lr"),
    (lambda d: d["range_test"].update(start_lr=-1), "range_test.start_lr: must be a positive, finite learning rate"),
    (lambda d: d["range_test"].update(num_iter=2), "range_test.num_iter: must be a whole number from 5"),
    (lambda d: d["range_test"].update(mode="cubic"), "range_test.mode: unknown mode 'cubic'"),
    (lambda d: d["range_test"].update(highlight="best"), "range_test.highlight: unknown suggestion 'best'"),
])
def test_wrong_fields_and_types_name_the_place(tmp_path, mutate, expected):
    message = _error_for(tmp_path, _mutated(mutate))
    assert expected in message


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["config"].update(lr=-0.5), "config.lr: must be positive, got -0.5"),
    (lambda d: d["config"].update(lr=1e9), "config.lr: 1e+09 is above the largest supported value"),
    (lambda d: d["config"].update(model="transformer"), "config.model: unknown kind 'transformer'"),
    (lambda d: d["config"].update(batch_size=-2), "config.batch_size: must be a whole number"),
    (lambda d: d["config"].update(val_fraction=0.95), "config.val_fraction: must be in [0, 0.9)"),
    (lambda d: d["config"].update(dataset="imagenet"), "config.dataset: unknown dataset 'imagenet'"),
])
def test_bad_values_from_run_config_validation_name_the_file_and_field(tmp_path, mutate, expected):
    message = _error_for(tmp_path, _mutated(mutate))
    assert expected in message


def test_bad_optimizer_and_schedule_settings_are_caught_at_load(tmp_path):
    message = _error_for(tmp_path, _mutated(lambda d: d["config"].update(optimizer="momentum",
                                                                          optimizer_params={"momentum": 1.5})))
    assert "config.optimizer_params" in message and "momentum" in message
    message = _error_for(tmp_path, _mutated(lambda d: d["config"].update(schedule="step", schedule_params={})))
    assert "config.schedule_params" in message and "step_size" in message


def test_unknown_dataset_setting_is_caught_at_load(tmp_path):
    message = _error_for(tmp_path, _mutated(lambda d: d["config"]["dataset_params"].update(slop=2)))
    assert "config.dataset_params.slop: dataset 'line' takes no such setting" in message


@pytest.mark.parametrize("text, expected", [
    ('{"version": 1, "version": 1}', "the key 'version' appears twice"),
    ('{"version": NaN}', "NaN is not allowed"),
    ('{"version": 1, "title": "x", "config": {"lr": Infinity}}', "Infinity is not allowed"),
])
def test_json_oddities(tmp_path, text, expected):
    assert expected in _error_for(tmp_path, text)


def test_loads_names_its_source_and_errors_are_gdstudio_errors():
    with pytest.raises(ScenarioError, match=r"^clipboard: the file is empty$") as info:
        loads("", source="clipboard")
    assert isinstance(info.value, GDStudioError) and isinstance(info.value, ValueError)
    with pytest.raises(ScenarioError, match=r"^<string>: not valid JSON at line 1, column 1"):
        loads("nonsense")


def test_constructing_a_bad_scenario_in_code_raises_scenario_error():
    with pytest.raises(ScenarioError, match="panels\\[0\\]: unknown panel"):
        _scenario(panels=("3d",))
    with pytest.raises(ScenarioError, match="ranges.data: expected"):
        _scenario(ranges={"data": "wide"})
    with pytest.raises(ScenarioError, match="range_test.num_iter"):
        RangeTestSettings(num_iter=0)
    with pytest.raises(ScenarioError, match="expected a Scenario"):
        dumps({"title": "x"})


# ------------------------------------------------------------------------------------------- playlists


def test_playlist_is_natural_name_order_and_skips_other_files(tmp_path):
    for name in ["10-last", "2-second", "1-first", "B-upper", "a-lower"]:
        save(_scenario(title=name), tmp_path / (name + EXTENSION))
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    (tmp_path / (".hidden" + EXTENSION)).write_text("{}", encoding="utf-8")
    (tmp_path / ("folder" + EXTENSION)).mkdir()
    names = [p.name for p in scenarios.playlist(tmp_path)]
    assert names == [n + EXTENSION for n in ["1-first", "2-second", "10-last", "a-lower", "B-upper"]]


def test_playlist_of_a_missing_folder_or_a_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such folder"):
        scenarios.playlist(tmp_path / "missing")
    file = tmp_path / "f.txt"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(ScenarioError, match="is not a folder"):
        scenarios.playlist(file)
    assert scenarios.playlist(tmp_path) == []


# -------------------------------------------------------------------------------------------- bundled


BUNDLED = scenarios.bundled()


def test_bundled_scenarios_are_numbered_for_keys_1_to_9():
    names = [p.name for p in BUNDLED]
    assert 7 <= len(names) <= 10  # keys 1–9 open the first nine; the tenth is one Page Down from the ninth
    assert [n[:3] for n in names] == [f"{i:02d}-" for i in range(1, len(names) + 1)]
    assert all(n.endswith(EXTENSION) for n in names)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_scenario_loads_and_is_saved_canonically(path):
    scene = load(path)
    assert scene.title and scene.caption
    assert path.read_text(encoding="utf-8") == dumps(scene)  # regenerated with dumps, nothing hand-edited
    if "r·dL/dw" in scene.caption or "dy/dx" in scene.caption:
        assert "+ r·dL/dw" not in scene.caption  # the article's sign typo stays quoted, never taught


def _one_weight_thresholds(session):
    lam = landscape.curvature(session.model, session.initial_params, session.train.X, session.train.y, 0)
    return landscape.lr_thresholds(lam)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_scenario_runs_ten_steps(path):
    scene = load(path)
    session = descent.build(scene.config)
    assert session.notes == []  # e.g. a watched weight the model lacks would be noted and replaced
    assert session.model.param_names[session.model.index_of(scene.config.watch)] == scene.config.watch
    records = [session.runner.step() for _ in range(10)]
    assert all(r is not None for r in records), session.runner.stop_reason
    assert all(math.isfinite(r.loss) for r in records)
    # Same config, same frames: a second build replays bit for bit.
    again = descent.build(scene.config)
    assert [again.runner.step() for _ in range(10)] == records


def _losses(path, n):
    scene = load(path)
    session = descent.build(scene.config)
    records = session.runner.run(n)
    return scene, session, records


def _by_prefix(prefix):
    return next(p for p in BUNDLED if p.name.startswith(prefix))


def test_one_weight_scenarios_show_what_their_captions_promise():
    good, session, records = _losses(_by_prefix("01-"), 20)
    osc, div = _one_weight_thresholds(session)
    assert good.config.lr == pytest.approx(0.3 * osc, rel=0.01)
    assert records[-1].loss < 0.05 * records[0].loss
    assert all(b.loss < a.loss for a, b in zip(records, records[1:]))

    small, session, records = _losses(_by_prefix("02-"), 100)
    assert small.config.lr == pytest.approx(0.01 * osc, rel=0.01)
    assert all(b.loss < a.loss for a, b in zip(records, records[1:]))
    grads = [r.watched_grad for r in records]
    assert all(g > 0 for g in grads)  # never reaches the minimum: no crossing

    big, session, records = _losses(_by_prefix("03-"), 15)
    assert osc < big.config.lr < div
    grads = [r.watched_grad for r in records]
    assert all(a * b < 0 for a, b in zip(grads, grads[1:]))  # crosses the minimum at every step
    assert all(b.loss < a.loss for a, b in zip(records, records[1:]))  # … and still converges

    diverging, session, records = _losses(_by_prefix("04-"), 12)
    assert diverging.config.lr > div
    assert all(b.loss > a.loss for a, b in zip(records, records[1:]))


def test_range_test_scenario_finds_a_steepest_point_inside_its_range():
    scene = load(_by_prefix("05-"))
    rt = scene.range_test
    assert rt is not None and rt.highlight == "steepest"
    session = descent.build(scene.config)
    result = lr_finder.range_test(session.model, session.train, session.initial_params, start_lr=rt.start_lr,
                                  end_lr=rt.end_lr, num_iter=rt.num_iter, mode=rt.mode,
                                  batch_size=scene.config.batch_size, seed=scene.config.seed)
    steepest = result.suggestions["steepest"]
    assert steepest is not None and rt.start_lr < steepest < rt.end_lr


def test_a_scenario_may_highlight_the_recommended_lr(tmp_path):
    """issue 10: the rate the app proposes can be the one a lesson points at."""
    doc = _mutated(lambda d: d["range_test"].update(highlight="recommended"))
    path = tmp_path / "rec.gdscenario"
    path.write_text(doc)
    assert scenarios.load(path).range_test.highlight == "recommended"


@pytest.mark.parametrize("name", ["valley", "minimum/10", "base_lr", "max_lr", None])
def test_a_highlight_the_view_cannot_show_is_refused_with_what_it_does(tmp_path, name):
    """The loss-vs-LR view always marks the steepest and the recommended LR: a file naming another one, or none,
    would promise a picture it does not get (the field was read and then ignored)."""
    doc = _mutated(lambda d: d["range_test"].update(highlight=name))
    path = tmp_path / "hl.gdscenario"
    path.write_text(doc)
    with pytest.raises(ScenarioError, match=r"range_test\.highlight: the loss-vs-LR view always marks the steepest "
                                            r"and the recommended LR first") as err:
        scenarios.load(path)
    assert str(path.name) in str(err.value) and "leave the field out" in str(err.value)
    with pytest.raises(ScenarioError, match="cannot single out"):
        RangeTestSettings(highlight=name)
