"""The headless command line: suggestions, JSON/CSV output, determinism, one-line errors."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from gd_studio import __version__
from gd_studio.cli import main
from gd_studio.engine import descent, lr_finder
from gd_studio.engine.config import RunConfig

RT = ["range-test", "--dataset", "moons", "--samples", "200", "--model", "mlp", "--hidden", "16,16",
      "--activation", "tanh", "--loss", "cross_entropy", "--start-lr", "1e-5", "--end-lr", "10",
      "--iters", "60", "--batch-size", "32", "--seed", "0"]


def test_range_test_prints_suggestions_and_is_deterministic(capsys):
    assert main(RT) == 0
    first = capsys.readouterr().out
    assert main(RT) == 0
    assert capsys.readouterr().out == first
    for name in ("steepest", "valley", "minimum/10", "base_lr", "max_lr", "stopped:"):
        assert name in first


def test_range_test_json_matches_the_engine(tmp_path, capsys):
    out = tmp_path / "rt.json"
    curve = tmp_path / "rt.csv"
    assert main([*RT, "--json", str(out), "--csv", str(curve)]) == 0
    data = json.loads(out.read_text())
    assert {"lrs", "losses", "smoothed", "suggestions", "stop_reason"} <= set(data)
    # the same run through the scripting API gives the same numbers
    cfg = RunConfig(dataset="moons", dataset_params={"n_samples": 200, "noise": 0.2, "seed": 0,
                                                     "n_classes": 3},
                    hidden=(16, 16), batch_size=32, seed=0)
    s = descent.build(cfg)
    r = lr_finder.range_test(s.model, s.train, s.initial_params, start_lr=1e-5, end_lr=10, num_iter=60,
                             batch_size=32, seed=0)
    assert data["lrs"] == r.lrs.tolist() and data["losses"] == r.losses.tolist()
    assert data["suggestions"]["steepest"] == r.suggestions["steepest"]
    with open(curve, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["lr", "loss", "smoothed"] and len(rows) == len(r.lrs) + 1
    assert float(rows[1][1]) == r.losses[0]


def test_json_to_stdout_is_pure_json(capsys):
    assert main([*RT, "--json", "-"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert 1e-5 <= data["suggestions"]["steepest"] <= 10
    assert "steepest" in captured.err


def test_repeats_report_a_spread(capsys):
    assert main([*RT, "--repeats", "3"]) == 0
    assert "×/÷" in capsys.readouterr().out


def test_train_summary_and_json(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--dataset", "moons", "--lr", "0.3", "--steps", "50", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "batch loss" in text and "after 50 steps" in text
    data = json.loads(out.read_text())
    assert len(data["history"]["loss"]) == 50 and all(math.isfinite(v) for v in data["history"]["loss"])


def test_train_divergence_exits_nonzero_with_reason(capsys):
    code = main(["train", "--dataset", "line", "--model", "one_weight", "--loss", "mse", "--no-standardize",
                 "--batch-size", "0", "--lr", "5", "--steps", "200"])
    assert code == 1
    assert "diverged at step" in capsys.readouterr().out


def test_suggest_on_a_recorded_curve(tmp_path, capsys):
    x = np.linspace(-6, 1, 80)
    loss = 1.0 - 0.5 * np.tanh((x + 2.5) / 0.6) + np.exp(3 * (x - 0.5))
    path = tmp_path / "curve.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lr", "loss"])
        w.writerows(zip(10 ** x, loss))
        w.writerow(["20", "nan"])  # a diverged tail is handled, not an error
    assert main(["suggest", str(path)]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if "steepest" in ln)
    assert abs(math.log10(float(line.split()[-1])) - (-2.5)) < 0.15


@pytest.mark.parametrize("argv,fragment", [
    (["range-test", "--start-lr", "-1"], "--start-lr"),
    (["range-test", "--start-lr", "1", "--end-lr", "0.1"], "must be above --start-lr"),
    (["range-test", "--hidden", ""], "hidden layer sizes"),
    (["range-test", "--validate", "2"], "--validate: '2' must be at least 4"),
    (["range-test", "--validate", "lots"], "--validate: 'lots' is not a whole number"),
    (["train", "--lr", "inf"], "finite"),
    (["train", "--data", "/no/such/file.csv"], "file.csv"),
    (["train", "--dataset", "moons", "--loss", "mse"], "mse is for regression"),
    (["suggest", "/no/such/curve.csv"], "curve.csv"),
    # a bare word is a FILE or a COMMAND since `gd-studio FILE.gdscenario` exists (issue 16): the message says both
    (["bogus"], "neither a command (range-test, train, suggest) nor a file"),
])
def test_bad_input_is_one_line_on_stderr(argv, fragment, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gd-studio: error:") and fragment in lines[0]
    assert "Traceback" not in captured.err


def test_bad_csv_file_via_module_entry_point(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    done = subprocess.run([sys.executable, "-m", "gd_studio", "train", "--data", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "bad.csv" in done.stderr and "line 3" in done.stderr


def test_version():
    done = subprocess.run([sys.executable, "-m", "gd_studio", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"gd-studio {__version__}"


def test_range_test_validate_prints_and_writes_both_recommendations(tmp_path, capsys):
    out = tmp_path / "rt.json"
    assert main([*RT, "--validate", "80", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["recommended"] == data["suggestions"]["recommended"]
    v = data["validation"]
    assert v["budget"] == 80 and v["steps"] == 20 and v["curve_pick"] == data["recommended"]
    assert v["candidates"] == pytest.approx([data["recommended"] * f for f in lr_finder.VALIDATION_FACTORS])
    # the pick is the engine's, from the CLI's own session (same start, seed, held-out split)
    cfg = RunConfig(dataset="moons", dataset_params={"n_samples": 200, "noise": 0.2, "seed": 0, "n_classes": 3},
                    hidden=(16, 16), batch_size=32, seed=0)
    s = descent.build(cfg)
    direct = lr_finder.validated_recommendation(s.model, s.train, s.initial_params, data["suggestions"], 80,
                                                val_ds=s.val, seed=0, batch_size=32)
    assert data["recommended_validated"] == direct.recommended == pytest.approx(direct.best_lr / 2)
    assert v["scores"] == direct.scores.tolist()
    assert "recommended_validated" in text and "5 trainings of 20 steps" in text and "← best" in text


def test_range_test_validate_defaults_to_the_train_commands_budget(capsys):
    assert main([*RT, "--validate", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["validation"]["budget"] == 500 and data["validation"]["steps"] == 125
    assert data["recommended_validated"] is not None
