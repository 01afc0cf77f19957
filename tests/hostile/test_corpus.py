"""Every hostile file through every entry point: a typed error, one stderr line naming file and place, no
traceback, bounded time and memory (endless inputs run in a capped subprocess)."""
from __future__ import annotations

import re
import tracemalloc

import pytest

from gd_studio.cli import main
from gd_studio.engine import datasets, scenarios
from gd_studio.engine.datasets import DatasetError
from gd_studio.engine.scenarios import ScenarioError

from hostile_corpus import CURVES, DATASETS, SCENARIO_ONLY, Case, limited_run

IN_PROCESS_PEAK = 64 << 20  # bytes traced while handling one small hostile file


def _names(path) -> str:
    return re.escape(str(path))


def _one_error_line(err: str, path, where: str) -> None:
    assert "Traceback" not in err and "Warning" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gd-studio: error: "), err
    assert re.search(_names(path), lines[0]), (path, lines[0])
    assert re.search(where, lines[0]), (where, lines[0])


def _traced(call):
    tracemalloc.start()
    try:
        call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def _refusal(call, error) -> str:
    """The message of the ``error`` that ``call()`` raises, which must come within the in-process memory budget."""
    info = None

    def run():
        nonlocal info
        with pytest.raises(error) as info:
            call()

    assert _traced(run) < IN_PROCESS_PEAK
    return str(info.value)


# ------------------------------------------------------------------------------------------- load_csv

@pytest.mark.parametrize("case", [c for c in DATASETS if not c.endless], ids=repr)
def test_load_csv(tmp_path, case: Case):
    path = case.make(tmp_path)
    message = _refusal(lambda: datasets.load_csv(path), DatasetError)
    assert str(path) in message and re.search(where := case.where, message), (where, message)


@pytest.mark.parametrize("case", [c for c in DATASETS if c.endless], ids=repr)
def test_load_csv_refuses_endless_files_at_once(tmp_path, case: Case):
    # in a subprocess: code that reads without limits would hang on the FIFO or fill memory
    path = case.make(tmp_path)
    code = ("import sys\nfrom gd_studio.engine import datasets\n"
            "try:\n    datasets.load_csv(sys.argv[1])\nexcept datasets.DatasetError as e:\n"
            "    print(e, file=sys.stderr); sys.exit(2)\n")
    import subprocess
    import sys

    from hostile_corpus import MEMORY_LIMIT, ROOT, TIMEOUT

    import resource
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=ROOT, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT,) * 2))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert str(path) in done.stderr and re.search(case.where, done.stderr)


# ------------------------------------------------------------------------------------ range-test --data

@pytest.mark.parametrize("case", [c for c in DATASETS if not c.endless], ids=repr)
def test_range_test_data(tmp_path, case: Case, capsys):
    path = case.make(tmp_path)
    assert main(["range-test", "--data", str(path), "--iters", "5"]) == 2
    captured = capsys.readouterr()
    _one_error_line(captured.err, path, case.where)
    assert captured.out == ""


@pytest.mark.parametrize("case", [c for c in DATASETS if c.endless], ids=repr)
def test_range_test_data_endless(tmp_path, case: Case):
    path = case.make(tmp_path)
    done = limited_run(["range-test", "--data", str(path), "--iters", "5"], tmp_path)
    assert done.returncode == 2
    _one_error_line(done.stderr, path, case.where)


# --------------------------------------------------------------------------------------------- suggest

@pytest.mark.parametrize("case", [c for c in CURVES if not c.endless], ids=repr)
def test_suggest(tmp_path, case: Case, capsys):
    path = case.make(tmp_path)
    peak = _traced(lambda: main(["suggest", str(path)]))
    captured = capsys.readouterr()
    _one_error_line(captured.err, path, case.where)
    assert captured.out == "" and peak < IN_PROCESS_PEAK


@pytest.mark.parametrize("case", [c for c in CURVES if c.endless], ids=repr)
def test_suggest_endless(tmp_path, case: Case):
    path = case.make(tmp_path)
    done = limited_run(["suggest", str(path)], tmp_path)
    assert done.returncode == 2
    _one_error_line(done.stderr, path, case.where)


# ------------------------------------------------------------------------------- scenarios.load, --screenshot

def _scenario_cases():
    """Scenario files, plus each hostile dataset as a scenario's data file (kept in the scenario's folder)."""
    from hostile_corpus import _with_data

    cases = list(SCENARIO_ONLY)
    for c in DATASETS:
        if c.name in ("missing", "folder", "empty", "header_only", "mixed_separators", "one_column",
                      "duplicate_names", "fifo", "nul_bytes", "not_text", "long_field", "no_newline"):
            # what the header check at load already sees
            cases.append(Case(f"data_{c.name}", _with_data(f"{c.name}.gdscenario", c.make),
                              r"config\.data_path: .*" + c.where, endless=c.endless))
    return cases


SCENARIOS = _scenario_cases()


@pytest.mark.parametrize("case", [c for c in SCENARIOS if not c.endless], ids=repr)
def test_scenarios_load(tmp_path, case: Case):
    path = case.make(tmp_path)
    message = _refusal(lambda: scenarios.load(path), ScenarioError)
    assert message.startswith(str(path)) and re.search(case.where, message), (case.where, message)


# Every scenario file, and a few of the data files (the rest take the same path as scenarios.load): each
# is a subprocess that starts Qt, so the list is kept to what a second path could get wrong.
SCREENSHOT_CASES = [c for c in SCENARIOS if not c.name.startswith("data_")
                    or c.name in ("data_fifo", "data_mixed_separators", "data_missing", "data_not_text")]


@pytest.mark.parametrize("case", SCREENSHOT_CASES, ids=repr)
def test_screenshot(tmp_path, case: Case):
    path = case.make(tmp_path)
    out = tmp_path / "shot.png"
    done = limited_run(["--scenario", str(path), "--screenshot", str(out)], tmp_path)
    assert done.returncode == 2
    _one_error_line(done.stderr, path, case.where)
    assert not out.exists()


def test_screenshot_of_a_run_that_cannot_build_says_so_once(tmp_path):
    # the header is fine, a cell further down is not: found when the data is read, reported once
    from hostile_corpus import _with_data

    make = _with_data("cell.gdscenario", DATASETS[[c.name for c in DATASETS].index("text_feature")].make)
    path = make(tmp_path)
    done = limited_run(["--scenario", str(path), "--screenshot", str(tmp_path / "shot.png")], tmp_path)
    assert done.returncode == 2
    _one_error_line(done.stderr, tmp_path / "text.csv", r"line 3, column 'b': text 'four'")


def test_screenshot_of_a_model_too_big_for_its_csv_is_reported_once(tmp_path):
    # the model's size depends on the CSV's columns, so the window's build finds it; the window reports a
    # failed build in more than one place, and the command line must still print it once
    from hostile_corpus import scenario_text

    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    path = tmp_path / "big.gdscenario"
    path.write_text(scenario_text(data_path="d.csv", dataset_params={}, model="mlp", hidden=[4096, 4096]))
    done = limited_run(["--scenario", str(path), "--screenshot", str(tmp_path / "shot.png")], tmp_path)
    assert done.returncode == 2
    _one_error_line(done.stderr, path, r"the run did not build")
    assert done.stderr.count("too large for live training") == 1, done.stderr
