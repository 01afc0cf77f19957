"""Loss-surface benchmark, run by hand: `python tests/benchmarks/bench_landscape.py`; prints same-run ratios.

Named bench_*.py so pytest does not collect it. A 61×61 grid of landscape.plane on the moons MLP 2→16→2
with 400 samples (target under 100 ms) and on 2→64→64→2 with 512 samples (target under 500 ms), for three
planes: the descent direction with a filter-normalised random one (every weight moves), the plane
through three points of a run (every weight moves), and two weights of the first layer (the rank-one
path), each also in float32 (the coarse preview). The reference, measured in the same run, is the naive loop calling model.loss at each grid point; a
second one is the floor for a plane that moves every weight, one tanh per hidden unit per grid point.
Set OPENBLAS_NUM_THREADS=1 on a shared or small machine: OpenBLAS's default threading made the
64-wide products 7× slower on a loaded 2-core box, which swamps everything else.
"""
from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from gd_studio.engine import descent, landscape  # noqa: E402
from gd_studio.engine.config import RunConfig  # noqa: E402

GRID = 61


def best_time(fn, repeats=5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def case(hidden, n_samples, target_ms) -> None:
    config = RunConfig(dataset="moons", dataset_params={"n_samples": n_samples, "noise": 0.2}, hidden=hidden,
                       lr=0.5, batch_size=0, val_fraction=0.0, seed=0)
    session = descent.build(config)
    model, runner = session.model, session.runner
    X, y = runner.train.X, runner.train.y
    start = runner.params
    runner.run(50)
    now = runner.params
    runner.run(150)
    end = runner.params
    alphas = np.linspace(-1.0, 1.0, GRID)
    betas = np.linspace(-1.0, 1.0, GRID)
    planes = {
        "descent + random": landscape.descent_random_plane(model, now, X, y, seed=0),
        "path (start, now, end)": landscape.path_plane(start, now, end, model=model),
        "two weights, W1[0,0] & W1[1,3]": landscape.weights_plane(model, now, "W1[0,0]", "W1[1,3]"),
    }
    print(f"\n{model.describe()}, {X.shape[0]} samples, {GRID}×{GRID} grid (target < {target_ms} ms)")
    # the floor for a plane that moves every weight: one tanh per hidden unit, sample and grid point
    units = GRID * GRID * X.shape[0] * sum(hidden)
    block = np.random.default_rng(0).normal(size=1 << 17)
    floor_t = best_time(lambda: [np.tanh(block, out=block) for _ in range(units // block.size)])
    print(f"  floor: tanh of every hidden unit    {floor_t * 1e3:8.1f} ms")
    naive_t = None
    for name, pl in planes.items():
        t = best_time(lambda: pl.surface(model, X, y, alphas, betas))
        if naive_t is None:  # the naive loop is the same for every plane; time it once, on a sub-grid
            sub = alphas[::12]
            start_t = time.perf_counter()
            for a in sub:
                for b in betas:
                    model.loss(pl.point(a, b), X, y)
            naive_t = (time.perf_counter() - start_t) * GRID / sub.size
            print(f"  naive loop of model.loss          {naive_t * 1e3:8.1f} ms")
        verdict = "ok" if t * 1e3 < target_ms else "OVER"
        print(f"  {name:33s} {t * 1e3:8.1f} ms  {naive_t / t:6.1f}× faster than the loop, "
              f"{t / floor_t:4.1f}× the floor  [{verdict}]")
        t32 = best_time(lambda: pl.surface(model, X, y, alphas, betas, precision="float32"))
        print(f"  {'  the same in float32 (preview)':33s} {t32 * 1e3:8.1f} ms  {t / t32:6.1f}× faster than float64")


def main() -> None:
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}")
    case((16,), 400, 100)
    case((64, 64), 512, 500)


if __name__ == "__main__":
    main()
