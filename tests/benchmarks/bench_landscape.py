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
sub-grid, scaled to the whole grid. "2 halves" splits the grid's rows between two Python threads (one BLAS thread
each): what the second core can buy the wall time. The float32 error is printed against the smallest gap between the
view's contour levels (landscape.contour_levels of the float64 surface): the picture cannot show it.

Last, the window's side (offscreen Qt): what one new surface costs the GUI thread in the loss-surface view (its
update and the plot's paint) with the contour lines the worker computes (landscape.contour_segments), against
the same frame with pyqtgraph's IsocurveItem tracing them in the paint (what the view did before), and what
the segments cost the worker. ``--no-view`` skips it.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from gd_studio.engine import descent, landscape  # noqa: E402
from gd_studio.engine.config import RunConfig  # noqa: E402

GRID = 61
REPEATS = 7
POOL = ThreadPoolExecutor(2)


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
            # the grid's rows in two halves on two Python threads (NumPy and BLAS let go of the GIL): what the
            # second core would buy the wall time, with no BLAS threads spinning on a loaded machine
            halves = (alphas[:GRID // 2], alphas[GRID // 2:])
            w2, _ = timed(lambda: list(POOL.map(lambda h: pl.surface(model, X, y, h, betas, precision="float32"),
                                                halves)))
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
        print(f"    float32, 2 halves   wall {w2 * 1e3:7.1f} ms  (two Python threads, one BLAS thread each)")
        print(f"    float64, 1 thread   wall {w64 * 1e3:7.1f} ms  CPU {c64 * 1e3:7.1f} ms  "
              f"{naive / c64:5.1f}× the naive loop")
        print(f"    float32, threads    wall {wmt * 1e3:7.1f} ms  CPU {cmt * 1e3:7.1f} ms (this thread's)")
        print(f"    float32 error       max {err:.1e} = {err / gap:.1e} of the smallest contour-level gap "
              f"({gap:.2e}); loss {np.min(z64):.3g} to {np.max(z64):.3g}")


def view_frames() -> None:
    """GUI-thread cost of a new surface in the view: segments from the worker against isocurves in the paint."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg

    from gd_studio.live.run import LiveRun
    from gd_studio.live.surface import SurfaceSpec, compute, log_shade
    from gd_studio.ui.offscreen import ensure_app
    from gd_studio.ui.plots.surface_view import LossSurfaceView

    app = ensure_app()
    r = LiveRun()
    r.configure(RunConfig(dataset="moons", dataset_params={"n_samples": 400, "noise": 0.2}, hidden=(16,), lr=0.5,
                          batch_size=0, val_fraction=0.0, seed=0))
    r.step(200)
    print(f"\nthe view, moons MLP 2→16→2, descent + random plane, 600×450 px, offscreen; {load()}")
    for size in (25, 61):
        infos = []
        for _ in range(8):
            r.step(1)
            infos.append(compute(r.session.model, r.session.runner.params, r.slice_X, r.slice_y,
                                 SurfaceSpec("descent_random"), r.surface.path, r.step_count, 0.5, size=size))
        info = infos[-1]
        seg = timed(lambda: landscape.contour_segments(info.alphas, info.betas, log_shade(info.values, info.levels),
                                                       log_shade(info.levels, info.levels)))[1]
        results = {}
        for mode in ("isocurve (before)", "segments (now)"):
            v = LossSurfaceView()
            v.widget.resize(600, 450)
            v.widget.show()
            iso = []
            if mode.startswith("isocurve"):  # the previous drawing: one IsocurveItem a level, traced in the paint
                v.contours.hide()
                for _level in info.levels:
                    c = pg.IsocurveItem(pen=pg.mkPen(255, 255, 255, 150, width=1.0))
                    c.setParentItem(v.image)
                    iso.append(c)
            app.processEvents()
            cpu = []
            for k, frame in enumerate(infos * 2):
                c0 = time.thread_time()
                v.show_surface(frame)
                if iso:
                    img = log_shade(frame.values, frame.levels)
                    for c, level in zip(iso, log_shade(frame.levels, frame.levels)):
                        c.setData(img, float(level))
                v.plot.grab()  # the paint a shown window would do
                if k >= 2:
                    cpu.append(time.thread_time() - c0)
            results[mode] = float(np.median(cpu))
            if not iso:  # a running frame that brings the same surface again (a copy, as from the engine's process)
                import pickle

                same = pickle.loads(pickle.dumps(v.info))
                results["repeat"] = timed(lambda: (v.show_surface(same), app.processEvents()))[1]
            v.widget.close()
        before, now = results["isocurve (before)"], results["segments (now)"]
        print(f"  {size}×{size}: GUI thread per new surface {now * 1e3:6.1f} ms (isocurves in the paint "
              f"{before * 1e3:6.1f} ms: {before / now:4.1f}×); the worker's contour segments {seg * 1e3:5.2f} ms")
        print(f"         a frame bringing the same surface again {results['repeat'] * 1e3:6.3f} ms (before: redrawn, "
              f"as a new one: each pickled frame was a new array)")


def main() -> None:
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    case((16,), 400, 100)
    case((64, 64), 512, 500)
    if "--no-view" not in sys.argv:
        view_frames()
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
