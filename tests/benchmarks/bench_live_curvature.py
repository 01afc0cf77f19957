"""What the live sharpness and loss surface cost a running window: steps per second with them against without.

Run by hand: ``python tests/benchmarks/bench_live_curvature.py``. A LiveRun steps as the worker does while
running (snapshots at 30 per second), after the first snapshot; the ratio compares runs in the same process, so a busy machine
affects both alike.
"""
from __future__ import annotations

import time

from gd_studio.engine.config import RunConfig
from gd_studio.live.run import LiveRun
from gd_studio.live.surface import SurfaceSpec

CONFIGS = {
    "moons MLP 2→16→2, 400 samples, full batch": RunConfig(
        dataset="moons", dataset_params={"n_samples": 400, "noise": 0.2}, model="mlp", hidden=(16,),
        activation="tanh", loss="cross_entropy", lr=0.5, batch_size=0, seed=0, val_fraction=0.0),
    "moons MLP 2→64→64→2, 512 samples, batch 32": RunConfig(
        dataset="moons", dataset_params={"n_samples": 640, "noise": 0.2}, model="mlp", hidden=(64, 64),
        activation="tanh", loss="cross_entropy", lr=0.05, batch_size=32, seed=0),
}
SECONDS = 3.0
FRAME = 1.0 / 30.0


def steps_per_second(config, surface: bool, sharpness: bool) -> float:
    r = LiveRun()
    r.configure(config)
    if surface:
        r.set_surface(SurfaceSpec("descent_random"))
    if not sharpness:
        r.sharpness.tracker = None  # the measurement off: what the run cost before
    r.running = True
    r.snapshot()  # the first surface and the cold estimate happen once (a stall of ~0.1–0.6 s): time what follows
    t_end = time.perf_counter() + SECONDS
    steps = 0
    while time.perf_counter() < t_end:
        steps += r.step(1_000_000, deadline=time.perf_counter() + FRAME)
        r.snapshot()
    return steps / SECONDS


def main() -> None:
    for name, cfg in CONFIGS.items():
        base = steps_per_second(cfg, False, False)
        sharp = steps_per_second(cfg, False, True)
        both = steps_per_second(cfg, True, True)
        print(f"{name}: {base:,.0f} steps/s without; with sharpness {sharp / base:.2f}×, "
              f"with sharpness and the loss surface {both / base:.2f}×")


if __name__ == "__main__":
    main()
