"""Sharpness benchmark, run by hand: `python tests/benchmarks/bench_curvature.py`; prints same-run ratios.

Named bench_*.py so pytest does not collect it. On the moons MLP 2→64→64→2 (tanh, cross-entropy, 400
samples, full batch, η = 0.5): the time of one gradient evaluation (loss_and_grad), one exact
Hessian-vector product, a cold sharpness estimate (Lanczos from a random vector) and a warm-started one
(from the previous estimate's vector), averaged over the estimates of a 600-step run taken every 10
steps. The targets: warm ≤ 10 gradient evaluations, cold ≤ 40.
"""
from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from gd_studio.engine import descent, hessian  # noqa: E402
from gd_studio.engine.config import RunConfig  # noqa: E402


def best_time(fn, repeats=7, number=20) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append(time.perf_counter() - start)
    return min(times) / number


def main() -> None:
    config = RunConfig(dataset="moons", dataset_params={"n_samples": 400, "noise": 0.2}, hidden=(64, 64),
                       lr=0.5, batch_size=0, val_fraction=0.0, seed=0)
    session = descent.build(config)
    model, runner = session.model, session.runner
    X, y = runner.train.X, runner.train.y
    print(f"{model.describe()}, {X.shape[0]} samples; Python {platform.python_version()}, NumPy {np.__version__}")
    p0 = runner.params
    grad_t = best_time(lambda: model.loss_and_grad(p0, X, y))
    op = model.hessian_operator(p0, X, y)
    v = np.random.default_rng(0).standard_normal(model.n_params)
    hvp_t = best_time(lambda: op(v))
    setup_t = best_time(lambda: model.hessian_operator(p0, X, y))
    print(f"gradient evaluation (best) {grad_t * 1e3:7.3f} ms")
    print(f"Hessian-vector product     {hvp_t * 1e3:7.3f} ms  = {hvp_t / grad_t:5.2f} gradients "
          f"(+ {setup_t / grad_t:.2f} once per point for the forward/backward pass it reuses)")

    # the ratios compare like with like: gradient evaluations timed at the same points of the run, in the
    # same way (single calls, averaged), as the estimates
    cold_times, warm_times, cold_its, warm_its, gaps, grad_times = [], [], [], [], [], []
    previous = None
    for step in range(0, 601):
        if step % 10 == 0:
            p = runner.params
            for _ in range(5):
                start = time.perf_counter()
                model.loss_and_grad(p, X, y)
                grad_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            cold = hessian.sharpness(model, p, X, y)
            cold_times.append(time.perf_counter() - start)
            cold_its.append(cold.iterations)
            if previous is not None:
                start = time.perf_counter()
                warm = hessian.sharpness(model, p, X, y, v0=previous.vector)
                warm_times.append(time.perf_counter() - start)
                warm_its.append(warm.iterations)
                gaps.append(abs(warm.value - cold.value) / abs(cold.value))
                previous = warm
            else:
                previous = cold
        runner.step()
    cold_t, warm_t = float(np.mean(cold_times)), float(np.mean(warm_times))
    grad_t = float(np.mean(grad_times))
    print(f"gradient evaluation, averaged over the run  {grad_t * 1e3:7.3f} ms")
    print(f"cold estimate (random start)  {cold_t * 1e3:7.2f} ms = {cold_t / grad_t:5.1f} gradients "
          f"(target ≤ 40), {np.mean(cold_its):.1f} products on average")
    print(f"warm estimate (every 10 steps) {warm_t * 1e3:6.2f} ms = {warm_t / grad_t:5.1f} gradients "
          f"(target ≤ 10), {np.mean(warm_its):.1f} products on average")
    print(f"warm vs cold estimate: largest relative difference {max(gaps):.1e} over {len(gaps)} estimates")


if __name__ == "__main__":
    main()
