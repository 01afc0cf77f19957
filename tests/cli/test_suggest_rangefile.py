"""`gd-studio suggest FILE` on a .gdrange range-test file, as on a recorded CSV."""
from __future__ import annotations

import json

import numpy as np

from gd_studio.cli import main
from gd_studio.engine import lr_finder, rangefile
from gd_studio.engine.config import RunConfig
from gd_studio.engine.descent import build


def _session():
    return build(RunConfig(dataset="moons", hidden=(8,)))


def test_suggest_reads_a_range_file_like_a_csv(tmp_path, capsys):
    s = _session()
    r = lr_finder.range_test(s.model, s.train, s.initial_params, 1e-4, 10, 60)
    path = r.save(tmp_path / "run.gdrange")
    assert main(["suggest", str(path), "--json", str(tmp_path / "out.json")]) == 0
    out = capsys.readouterr().out
    assert f"suggestions for {path} ({r.lrs.size} points)" in out
    assert f"steepest    {r.suggestions['steepest']:.3g}" in out
    assert json.loads((tmp_path / "out.json").read_text())["suggestions"] == r.suggestions

    # the same curve as a CSV gives the same suggestions
    csv_path = tmp_path / "run.csv"
    csv_path.write_text("lr,loss\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(r.lrs, r.losses)))
    assert main(["suggest", str(csv_path), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["suggestions"] == r.suggestions


def test_suggest_on_repeats_shows_the_spread(tmp_path, capsys):
    s = _session()
    rep = lr_finder.repeat_range_test(s.model, s.train, s.initial_params, seeds=(0, 1, 2), start_lr=1e-4,
                                      end_lr=10, num_iter=60)
    path = rep.save(tmp_path / "rep.gdrange")
    assert main(["suggest", str(path)]) == 0
    out = capsys.readouterr().out
    assert "median of 3 runs" in out and "×/÷" in out


def test_a_broken_range_file_is_one_line_naming_the_place(tmp_path, capsys):
    s = _session()
    r = lr_finder.range_test(s.model, s.train, s.initial_params, 1e-4, 10, 30)
    doc = rangefile.to_document(r)
    doc["curve"]["losses"][4] = "x"
    path = tmp_path / "bad.gdrange"
    path.write_text(json.dumps(doc))
    assert main(["suggest", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: $.curve.losses[4]: expected a number" in err
    # a JSON file with another name is still recognised, not misread as CSV
    other = tmp_path / "curve.json"
    other.write_text(json.dumps({"lrs": list(np.geomspace(1e-3, 1, 10))}))
    assert main(["suggest", str(other)]) == 2
    assert "not a GD Studio range-test file" in capsys.readouterr().err
