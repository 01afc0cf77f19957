"""Window benchmarks, run by hand (not collected by pytest): prints numbers measured in the same run.

    python tests/benchmarks/bench_ui.py            # offscreen
    xvfb-run -a python tests/benchmarks/bench_ui.py --display

For the one-weight parabola, the moons MLP and the digits MLP, at full speed:
1. event-loop latency: a 10 ms QTimer probe; how late each tick fires (p50 / p99); target p99 < 20 ms;
2. redraw rate: snapshots drawn per second by the views (target ≥ 50);
3. engine speed inside the app vs headless (descent.Runner.step in a plain loop, same config): ≥ 0.7×;
then, counted rather than timed: the window thread's CPU time a frame and how often each plot painted a frame;
each also with the engine stepping in the worker's thread instead of its own process (GD_STUDIO_ENGINE=thread,
the design before: the reference, measured in the same run).
4. with --replay: the window's side alone, load-robust: the same recorded frames of a run at full speed (each a fixed
   number of steps apart, about what headless stepping takes in a 60th of a second on a quiet machine) handed to the window one by one
   with the engine idle; the window thread's CPU time a frame (its apply, its paints, by view) and its paints;
5. with --startup: time to window shown, from process start: a fresh interpreter is launched with subprocess, and the
   parent measures from just before Popen to the child's line printed on the event loop's first turn
   after window.show() (and to the first drawn snapshot). Asks < 2 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _config(name: str):
    from gd_studio.engine.config import RunConfig

    if name == "small":
        return RunConfig(dataset="moons", dataset_params={"n_samples": 400, "noise": 0.2, "seed": 0}, model="mlp",
                         hidden=(16,), lr=0.1, batch_size=32, seed=0, watch="W2[0,0]")
    if name == "parabola":
        return RunConfig(dataset="line", dataset_params={"n_samples": 200, "noise": 0.1, "seed": 0},
                         model="one_weight", loss="mse", lr=0.05, batch_size=32, seed=0, watch="w",
                         val_fraction=0.0)  # ~100k steps/s: keep clear of the engine's val-history limit
    return RunConfig(dataset="digits", model="mlp", hidden=(32,), lr=0.05, batch_size=64, seed=0,
                     watch="W2[0,0]")


def headless_steps_per_second(config, seconds: float = 2.0) -> float:
    from gd_studio.engine import descent

    runner = descent.build(config).runner
    for _ in range(50):  # warm up
        runner.step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            runner.step()
        n += 100
    return n / (time.perf_counter() - t0)


def _shown_window(app, config):
    """The window at the size of a 1080p screen's first window, shown, once its first frame is drawn (or 10 s)."""
    from gd_studio.ui import MainWindow

    w = MainWindow(config=config)
    w.resize(1500, 940)
    w.show()
    deadline = time.perf_counter() + 10
    while w.last_snapshot is None and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    return w


def in_app(config, seconds: float = 3.0, engine: str = "process") -> dict:
    from PySide6.QtCore import QElapsedTimer, QTimer

    from gd_studio.ui.app import NORMAL_SCALE, make_app
    from gd_studio.ui import theme

    app = make_app([])
    theme.apply_theme(app, "light", NORMAL_SCALE)
    os.environ["GD_STUDIO_ENGINE"] = engine
    w = _shown_window(app, config)
    lateness: list[float] = []
    frames: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setTimerType(probe.timerType().PreciseTimer)
    probe.setInterval(10)
    last = [0]

    def tick():
        now = clock.elapsed()
        lateness.append(max(0.0, now - last[0] - 10.0))
        last[0] = now

    probe.timeout.connect(tick)
    w.snapshotApplied.connect(lambda s: frames.append(time.perf_counter()))
    paints = PaintCounter(w)
    w.start()
    t_start = time.perf_counter()
    while w.step_count == 0 and time.perf_counter() - t_start < 5:
        app.processEvents()
    from PySide6.QtCore import QEventLoop

    step0, t0 = w.step_count, time.perf_counter()
    cpu0 = time.thread_time()  # this (the window's) thread only
    clock.start()
    probe.start()
    frames.clear()
    paints.counts.clear()
    loop = QEventLoop()  # the real event loop, as in the app, not a processEvents() spin
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    probe.stop()
    steps = w.step_count - step0
    elapsed = time.perf_counter() - t0
    cpu = time.thread_time() - cpu0
    counts = dict(paints.counts)
    draw = sorted(w._draw_times)
    w.close()
    lat = sorted(lateness)
    return {
        "steps_per_sec": steps / elapsed,
        "fps": len(frames) / elapsed,
        "lat_p50": lat[len(lat) // 2] if lat else float("nan"),
        "lat_p99": lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan"),
        "lat_max": lat[-1] if lat else float("nan"),
        "probe_ticks": len(lat),
        "draw_ms_p50": 1000 * statistics.median(draw) if draw else float("nan"),
        # what a frame costs the window's thread, counted rather than timed by the wall clock: its CPU time (the
        # views' data, their paint, the rest of the window) and how often each plot painted
        "cpu_ms_per_frame": 1000 * cpu / max(len(frames), 1),
        "cpu_share": cpu / elapsed,
        "paints_per_frame": {k: v / max(len(frames), 1) for k, v in sorted(counts.items())},
    }


REPLAY_STEPS = {"parabola": 1000, "small": 340, "digits": 190}  # steps between recorded frames


def replay(config, frames: int = 120, steps_per_frame: int = 100, profiler=None) -> dict:
    """The window's CPU time a frame on recorded frames (no engine competing): apply, paint by view, the rest."""
    from dataclasses import replace

    from gd_studio.live.run import LiveRun
    from gd_studio.ui.app import NORMAL_SCALE, make_app
    from gd_studio.ui import theme
    from gd_studio.ui.plots.common import GatedPlotWidget

    app = make_app([])
    theme.apply_theme(app, "light", NORMAL_SCALE)
    by_view: dict[str, float] = {}
    original = GatedPlotWidget.paintEvent

    def timed(self, ev):  # (set before the window is built: PySide looks a virtual's override up once)
        t0 = time.thread_time()
        try:
            return original(self, ev)
        finally:
            by_view[self.objectName()] = by_view.get(self.objectName(), 0.0) + time.thread_time() - t0

    GatedPlotWidget.paintEvent = timed
    os.environ["GD_STUDIO_ENGINE"] = "thread"
    w = _shown_window(app, config)
    run = LiveRun()
    run.configure(config)
    run.running = run.fast = True
    gen = w.last_snapshot.generation
    snaps, snap_cpu = [], 0.0
    for _ in range(frames + 20):
        run.step(steps_per_frame)
        t0 = time.thread_time()
        snaps.append(replace(run.snapshot(), generation=gen, running=True))
        snap_cpu += time.thread_time() - t0
    paints = PaintCounter(w)
    apply = total = 0.0
    try:
        for i, snap in enumerate(snaps):
            if i == 20:  # warmed up: count from here
                paints.counts.clear()
                by_view.clear()
                apply = total = 0.0
                if profiler is not None:
                    profiler.enable()
            t0 = time.thread_time()
            w._on_snapshot(snap)
            t1 = time.thread_time()
            for _ in range(3):
                app.sendPostedEvents()
                app.processEvents()
            t2 = time.thread_time()
            apply += t1 - t0
            total += t2 - t0
    finally:
        GatedPlotWidget.paintEvent = original
        if profiler is not None:
            profiler.disable()
    w.close()
    n = frames
    return {"snapshot_ms": 1000 * snap_cpu / len(snaps), "apply_ms": 1000 * apply / n, "total_ms": 1000 * total / n,
            "paint_ms": {k: 1000 * v / n for k, v in sorted(by_view.items())},
            "paints_per_frame": {k: v / n for k, v in sorted(paints.counts.items())}}


class PaintCounter:
    """Counts paint events of every plot's viewport (an event filter: the paint code itself is untouched)."""

    def __init__(self, window) -> None:
        from PySide6.QtCore import QEvent, QObject

        from gd_studio.ui.plots.common import GatedPlotWidget

        self.counts: dict[str, int] = {}
        names = {p.viewport(): p.objectName() for p in window.findChildren(GatedPlotWidget)}
        paint = QEvent.Type.Paint
        counts = self.counts

        class Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
                if event.type() == paint and obj in names:
                    counts[names[obj]] = counts.get(names[obj], 0) + 1
                return False

        self.filter = Filter()
        for viewport in names:
            viewport.installEventFilter(self.filter)


CHILD = r"""
import sys, time
sys.path.insert(0, {root!r})
from PySide6.QtCore import QTimer
from gd_studio.ui.app import make_app, run_app
app = make_app([])
def shown():
    from PySide6.QtWidgets import QApplication
    wins = [w for w in QApplication.topLevelWidgets() if w.objectName() == "gdStudioMainWindow"]
    w = wins[0]
    print("shown", w.isVisible(), flush=True)
    def first(_s):
        print("frame", flush=True)
        QTimer.singleShot(0, w.close)
    if w.last_snapshot is not None:
        first(None)
    else:
        w.snapshotApplied.connect(first)
QTimer.singleShot(0, shown)
sys.exit(run_app([]))
"""


def startup_time(repeats: int = 3) -> list[tuple[float, float]]:
    out = []
    env = dict(os.environ)
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT))], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env)
        shown = frame = float("nan")
        for line in proc.stdout:
            if line.startswith("shown"):
                shown = time.perf_counter() - t0
            elif line.startswith("frame"):
                frame = time.perf_counter() - t0
        proc.wait(30)
        out.append((shown, frame))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--display", action="store_true", help="use the real (or Xvfb) display, not offscreen")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--configs", default="parabola,small,digits")
    ap.add_argument("--replay", action="store_true",
                    help="only the window's CPU time a frame on recorded frames (no engine running: load-robust)")
    ap.add_argument("--startup", action="store_true", help="also time the window's start from a fresh process")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the run with the engine in the worker's thread (the reference it is compared with)")
    args = ap.parse_args()
    if not args.display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, platform "
          f"{os.environ.get('QT_QPA_PLATFORM', 'default')}, load average {os.getloadavg()[0]:.1f}")
    if args.replay:
        short = {"lossVsWeightPlot": "weight", "lossVsStepPlot": "step", "dataPlot": "data", "lossVsLrPlot": "lr"}
        for name in args.configs.split(","):
            config = _config(name)
            # fixed, so runs compare whatever the load: ~headless steps/s on a quiet machine over 60
            per_frame = REPLAY_STEPS.get(name, 100)
            r = replay(config, steps_per_frame=per_frame)
            paint = ", ".join(f"{short.get(k, k)} {v:.2f}" for k, v in r["paint_ms"].items())
            painted = ", ".join(f"{short.get(k, k)} {v:.2f}" for k, v in r["paints_per_frame"].items())
            print(f"[{name}] {per_frame} steps a frame; window thread CPU a frame {r['total_ms']:.1f} ms (apply "
                  f"{r['apply_ms']:.1f}; paint ms by view: {paint}); paints a frame: {painted}; "
                  f"engine CPU a snapshot {r['snapshot_ms']:.2f} ms")
        return
    modes = [("engine process", "process")] + ([] if args.no_reference else [("reference: engine thread", "thread")])
    for name in args.configs.split(","):
        config = _config(name)
        headless = headless_steps_per_second(config)
        print(f"\n[{name}] {config.model} {config.hidden if config.model == 'mlp' else ''} on {config.dataset}, "
              f"batch {config.batch_size}; headless {headless:,.0f} steps/s")
        for label, on in modes:
            r = in_app(config, args.seconds, engine=on)
            ok = (r["lat_p99"] < 20, r["fps"] >= 50, r["steps_per_sec"] / headless >= 0.7)
            print(f"  {label:24s} probe lateness p50 {r['lat_p50']:5.1f} ms, p99 {r['lat_p99']:6.1f} ms "
                  f"({r['probe_ticks']} ticks) | {r['fps']:4.0f} frames/s ({r['draw_ms_p50']:.1f} ms a draw) | "
                  f"in app {r['steps_per_sec']:,.0f} steps/s = {r['steps_per_sec'] / headless:.2f}× headless"
                  f"   targets p99<20 ms {'✓' if ok[0] else '✗'}, ≥50 fps {'✓' if ok[1] else '✗'}, "
                  f"≥0.7× {'✓' if ok[2] else '✗'}")
            short = {"lossVsWeightPlot": "weight", "lossVsStepPlot": "step", "dataPlot": "data",
                     "lossVsLrPlot": "lr"}
            painted = ", ".join(f"{short.get(k, k)} {v:.2f}" for k, v in r["paints_per_frame"].items())
            print(f"  {'':24s} window thread: {r['cpu_ms_per_frame']:.1f} ms CPU a frame, "
                  f"{100 * r['cpu_share']:.0f}% of a core; paints a frame: {painted}")
    if args.startup:
        times = startup_time()
        print("\ntime to window shown, from process start (subprocess; 3 launches):")
        for shown, frame in times:
            print(f"  shown {shown:.2f} s, first frame drawn {frame:.2f} s")
        print(f"  median shown {statistics.median(t[0] for t in times):.2f} s   (target < 2 s)")


if __name__ == "__main__":
    main()
