"""Loss-surface benchmark, run by hand: `python tests/benchmarks/bench_landscape.py`; prints same-run ratios.

Named bench_*.py so pytest does not collect it. A 61×61 grid of landscape.plane on the moons MLP 2→16→2
with 400 samples (target under 100 ms) and on 2→64→64→2 with 512 samples (target under 500 ms), for three
planes: the descent direction with a filter-normalised random one (every weight moves), the plane through
three points of a run (every weight moves), and two weights of the first layer (the rank-one path).

Each is timed in float32, what the loss-surface view computes, and in float64 (exact to rounding), with
BLAS held to one thread as the window holds it (ui/worker.py: the number that counts), and in float32 with
the library's default threads beside it. Times are medians of several repeats, wall clock and the
thread's CPU time (the machine is shared: CPU time moves less with the load, which is printed before and
after). The reference, measured in the same run, is the naive loop calling model.loss at each point of a
sub-grid, scaled to the whole grid. The float32 error is printed against the smallest gap between the
view's contour levels (landscape.contour_levels of the float64 surface): the picture cannot show it.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from gd_studio.engine import descent, landscape  # noqa: E402
from gd_studio.engine.config import RunConfig  # noqa: E402

GRID = 61
REPEATS = 7


def timed(fn, repeats=REPEATS) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of ``fn`` over ``repeats`` runs after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    return float(np.median(wall)), float(np.median(cpu))


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


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
    print(f"\n{model.describe()}, {X.shape[0]} samples, {GRID}×{GRID} grid (target < {target_ms} ms); {load()}")
    naive = None
    for name, pl in planes.items():
        with threadpool_limits(limits=1, user_api="blas"):
            if naive is None:  # the naive loop is the same for every plane; time it once, on a sub-grid
                sub = alphas[::12]
                c0 = time.thread_time()
                for a in sub:
                    for b in betas:
                        model.loss(pl.point(a, b), X, y)
                naive = (time.thread_time() - c0) * GRID / sub.size
                print(f"  reference: naive loop of model.loss, CPU {naive * 1e3:8.1f} ms")
            w32, c32 = timed(lambda: pl.surface(model, X, y, alphas, betas, precision="float32"))
            w64, c64 = timed(lambda: pl.surface(model, X, y, alphas, betas), repeats=3)
        # default threads: a loaded machine makes OpenBLAS's threads wait on each other, so only three runs
        wmt, cmt = timed(lambda: pl.surface(model, X, y, alphas, betas, precision="float32"), repeats=3)
        z64 = pl.surface(model, X, y, alphas, betas)
        z32 = pl.surface(model, X, y, alphas, betas, precision="float32")
        gap = float(np.min(np.diff(landscape.contour_levels(z64, n=12, log=True))))
        err = float(np.max(np.abs(z32 - z64)))
        # CPU time is what the grid costs an idle core; wall time adds the waits of a shared machine
        verdict = f"CPU {'ok' if c32 * 1e3 < target_ms else 'OVER'}, wall {'ok' if w32 * 1e3 < target_ms else 'OVER'}"
        print(f"  {name}")
        print(f"    float32, 1 thread   wall {w32 * 1e3:7.1f} ms  CPU {c32 * 1e3:7.1f} ms  "
              f"{naive / c32:5.1f}× the naive loop  [{verdict}]")
        print(f"    float64, 1 thread   wall {w64 * 1e3:7.1f} ms  CPU {c64 * 1e3:7.1f} ms  "
              f"{naive / c64:5.1f}× the naive loop")
        print(f"    float32, threads    wall {wmt * 1e3:7.1f} ms  CPU {cmt * 1e3:7.1f} ms (this thread's)")
        print(f"    float32 error       max {err:.1e} = {err / gap:.1e} of the smallest contour-level gap "
              f"({gap:.2e}); loss {np.min(z64):.3g} to {np.max(z64):.3g}")


def main() -> None:
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    case((16,), 400, 100)
    case((64, 64), 512, 500)
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
