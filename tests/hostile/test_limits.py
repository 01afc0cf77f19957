"""Big files and long runs: streaming CSV memory, header-first rejection, flat memory over many steps, caps."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from gd_studio.cli import main
from gd_studio.engine import datasets, fileio
from gd_studio.engine.datasets import DatasetError

ROWS, COLS = 60_000, 8  # ~10 MB of text: the 200 MB file of the report, scaled down


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((ROWS, COLS))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path_factory.mktemp("big") / "big.csv"
    with open(path, "w") as fh:
        fh.write(",".join(f"x{j}" for j in range(COLS)) + ",label\n")
        body = np.column_stack([X, y])
        np.savetxt(fh, body, delimiter=",", fmt=["%.17g"] * COLS + ["%d"])
    return path, X, y


def _peak(call):
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_streaming_load_peaks_under_three_times_the_float64_data(big_csv):
    path, X, y = big_csv
    ds, peak = _peak(lambda: datasets.load_csv(path))
    assert np.array_equal(ds.X, X) and np.array_equal(ds.y, y)
    data_bytes = ROWS * (COLS + 1) * 8
    print(f"\nload_csv of {path.stat().st_size / 1e6:.1f} MB: peak {peak / 1e6:.1f} MB = "
          f"{peak / data_bytes:.2f}x the float64 data")
    assert peak <= 3 * data_bytes


def test_suggest_rejects_a_bad_header_after_reading_only_the_header(tmp_path, capsys):
    path = tmp_path / "wrong.csv"
    with open(path, "w") as fh:
        fh.write("step,value\n")
        fh.write("".join(f"{i},{i * 0.5}\n" for i in range(400_000)))  # ~6 MB after a wrong header
    small = tmp_path / "small.csv"
    small.write_text("step,value\n1,2\n")
    main(["suggest", str(small)])  # first imports and parser set-up are not what is measured
    capsys.readouterr()
    code, peak = _peak(lambda: main(["suggest", str(path)]))
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}, line 1: needs columns named lr and loss" in err
    assert peak < 1_000_000  # the 64 KiB sample and the reader, not the file


def test_train_keeps_flat_memory_over_many_steps(capsys):
    argv = ["train", "--dataset", "line", "--model", "one_weight", "--samples", "64", "--batch-size", "8",
            "--lr", "0.01", "--val-fraction", "0"]
    _, short = _peak(lambda: main(argv + ["--steps", "2000"]))
    _, long = _peak(lambda: main(argv + ["--steps", "20000"]))
    out = capsys.readouterr().out
    assert "steps       20000" in out
    print(f"\ntrain peak: 2,000 steps {short / 1e3:.0f} kB, 20,000 steps {long / 1e3:.0f} kB")
    assert long < 1.5 * short + 200_000  # 18,000 more step records would be ~8 MB


def test_train_json_history_is_the_runners_thinned_history(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["train", "--dataset", "line", "--model", "one_weight", "--samples", "64", "--lr", "0.01",
                 "--steps", "10000", "--json", str(out)]) == 0
    import json

    data = json.loads(out.read_text())
    steps = data["history"]["step"]
    assert data["steps"] == 10000 and steps[-1] == 10000 and len(steps) <= 8192
    assert steps == sorted(steps) and data["history_stride"] >= 1


def test_the_size_cap_names_the_file_and_the_setting(tmp_path, monkeypatch):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "1,2,0\n3,4,1\n" * 200_000)  # 2.4 MB
    monkeypatch.setenv(fileio.LIMIT_ENV, "1")
    with pytest.raises(DatasetError, match=rf"{path}: 2\.4 MB is more than the 1\.0 MB .*{fileio.LIMIT_ENV}"):
        datasets.load_csv(path)
    monkeypatch.setenv(fileio.LIMIT_ENV, "3")
    assert datasets.load_csv(path).n_samples == 400_000
    monkeypatch.setenv(fileio.LIMIT_ENV, "lots")
    with pytest.raises(fileio.FileAccessError, match=f"{fileio.LIMIT_ENV}='lots': must be a number"):
        datasets.load_csv(path)


def test_a_file_growing_past_the_cap_while_read_is_stopped(tmp_path):
    # st_size can lie (files in /proc say 0): the reader counts what it reads
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n")
    with pytest.raises(DatasetError, match=rf"d\.csv: 5,000 bytes is more than the 1,000 bytes .*{fileio.LIMIT_ENV}"):
        _read_capped(path)


def _read_capped(path):
    with fileio.open_regular(path, error=DatasetError, limit=1000, what="a CSV file") as fh:
        import os

        os.truncate(path, 0)
        with open(path, "w") as grow:
            grow.write("x" * 5000)
        return fh.read()


def test_standardize_names_the_column_and_warns_nothing():
    X = np.array([[1.0, 1e308], [2.0, -1e308], [3.0, 1e308]])
    ds = datasets.Dataset(X, np.array([0.0, 1.0, 2.0]), "regression", ("a", "b"), name="big", source="big.csv")
    out, mean, std = datasets.standardize(ds)  # pytest turns any RuntimeWarning into an error
    assert np.all(np.isfinite(out.X)) and np.isfinite(std).all()
    huge = datasets.Dataset(np.array([[1.0, 1.7e308], [2.0, -1.7e308], [3.0, 1.7e308]]), np.array([0.0, 1.0, 2.0]),
                            "regression",
                            ("a", "b"), name="huge", source="huge.csv")
    with pytest.raises(DatasetError, match=r"huge\.csv, column 'b'"):
        datasets.standardize(huge)
