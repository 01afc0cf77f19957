"""CSV benchmark, run by hand: `python tests/benchmarks/bench_csv.py [MB]`; prints times, peaks and ratios.

Writes a numeric CSV of about MB megabytes (default 50), then measures datasets.load_csv against
NumPy's own C parser (np.loadtxt) on the same file in the same run: wall time and traced peak memory,
each also as a multiple of the data's float64 size. Named bench_*.py so pytest does not collect it.
"""
from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from gd_studio.engine import datasets  # noqa: E402

COLS = 8


def measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 50.0
    rows = int(megabytes * 1e6 / (COLS * 21 + 2))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.csv"
        rng = np.random.default_rng(0)
        X = rng.standard_normal((rows, COLS))
        with open(path, "w") as fh:
            fh.write(",".join(f"x{j}" for j in range(COLS)) + ",label\n")
            np.savetxt(fh, np.column_stack([X, X[:, 0] > 0]), delimiter=",", fmt=["%.17g"] * COLS + ["%d"])
        data = rows * (COLS + 1) * 8
        print(f"{path.stat().st_size / 1e6:.1f} MB, {rows:,} rows × {COLS + 1} columns "
              f"({data / 1e6:.1f} MB as float64)")
        _, t_ref, p_ref = measure(lambda: np.loadtxt(path, delimiter=",", skiprows=1))
        ds, t, p = measure(lambda: datasets.load_csv(path))
        assert np.array_equal(ds.X, X)
        print(f"np.loadtxt          {t_ref:6.2f} s   peak {p_ref / 1e6:7.1f} MB ({p_ref / data:.2f}× data)")
        print(f"datasets.load_csv   {t:6.2f} s   peak {p / 1e6:7.1f} MB ({p / data:.2f}× data)")
        print(f"ratio load_csv / loadtxt: time {t / t_ref:.2f}, peak memory {p / p_ref:.2f}")


if __name__ == "__main__":
    main()
