"""Engine benchmark, run by hand: `python tests/benchmarks/bench_engine.py`; prints times and same-run ratios.

Named bench_*.py so pytest does not collect it. Measures, for an MLP 2→64→64→2 (tanh, cross-entropy):
one SGD step (loss_and_grad + update) at batch 64 and 10,000 against PyTorch's CPU time for the same
step when torch is importable; a 100-step LR range test at batch 64; and a 201-point weight_slice of a
first-layer and a last-layer weight on 1,000 samples against a naive broadcast over all 201 parameter
vectors. Every figure is the best of several repeats (the least disturbed by the rest of the machine).
"""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from gd_studio.engine import datasets, lr_finder, models, optimizers  # noqa: E402

HIDDEN = (64, 64)


def best_time(fn, *, min_total=0.2, repeats=7) -> float:
    """Seconds per call: calls are batched so each repeat lasts ≳ min_total/repeats, best repeat wins."""
    fn()  # warm up (allocations, BLAS thread pools, torch kernels)
    number, t = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        t = time.perf_counter() - start
        if t >= min_total / repeats:
            break
        number *= 2
    times = [t]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append(time.perf_counter() - start)
    return min(times) / number


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} µs"
    return f"{seconds * 1e3:8.2f} ms"


def numpy_step(model, p, X, y):
    opt = optimizers.make("sgd", model.n_params)
    state = {"p": p.copy()}

    def step():
        _, g = model.loss_and_grad(state["p"], X, y)
        state["p"] = opt.step(state["p"], g, 1e-3)

    return step


def torch_step(torch, model, p, X, y, dtype):
    """The same network, weights and data in torch: forward, cross-entropy, backward, SGD update."""
    layers = []
    for W, b in model.unpack(p):
        lin = torch.nn.Linear(W.shape[0], W.shape[1]).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b.copy()))
        layers += [lin, torch.nn.Tanh()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    Xt = torch.from_numpy(X).to(dtype)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    loss_fn = torch.nn.functional.cross_entropy

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(Xt), yt)
        loss.backward()
        opt.step()

    with torch.no_grad():  # the two implementations agree before we time them
        ours = model.loss(p, X, y)
        theirs = float(loss_fn(net(Xt.double() if dtype == torch.float64 else Xt), yt))
    return step, ours, theirs


def naive_slice(model, p, X, y, index, offsets):
    """Reference: all 201 parameter vectors, full forward pass for each, batched by broadcasting."""
    P = np.repeat(p[None, :], offsets.size, axis=0)
    P[:, index] += offsets
    a = X[None, :, :]
    last = len(model.layers) - 1
    for number, layer in enumerate(model.layers):
        W = P[:, layer.w_start:layer.w_stop].reshape(-1, layer.fan_in, layer.fan_out)
        z = a @ W + P[:, layer.w_stop:layer.b_stop][:, None, :]
        a = z if number == last else np.tanh(z)
    return model.per_sample_loss(a, y).mean(axis=-1)


def main() -> None:
    print(f"GD Studio engine benchmark — Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs")
    big = datasets.make("moons", n_samples=10_000, noise=0.2, seed=0)
    big, _, _ = datasets.standardize(big)
    model = models.make("mlp", 2, 2, hidden=HIDDEN, activation="tanh", loss="cross_entropy")
    p = model.init_params(0)
    print(f"model: {model.describe()}\n")
    try:
        import torch
    except ImportError:
        torch = None
        print("torch: not importable — PyTorch comparisons skipped\n")
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")

    print("One SGD step (loss_and_grad + update)")
    for batch in (64, 10_000):
        X, y = big.X[:batch], big.y[:batch]
        ours = best_time(numpy_step(model, p, X, y))
        line = f"  batch {batch:>6,}: GD Studio {fmt(ours)}"
        if torch is not None:
            for dtype, label in ((torch.float64, "float64"), (torch.float32, "float32")):
                step, loss_ours, loss_theirs = torch_step(torch, model, p, X, y, dtype)
                if dtype == torch.float64 and abs(loss_ours - loss_theirs) > 1e-9 * abs(loss_ours):
                    raise SystemExit(f"torch and GD Studio disagree on the loss: {loss_theirs} vs {loss_ours}")
                theirs = best_time(step)
                line += f" | torch {label} {fmt(theirs)} (ours/torch = {ours / theirs:5.2f})"
        print(line)

    print("\nLR range test, 100 steps at batch 64 (1e-7 → 10)")
    small = datasets.make("moons", n_samples=1_000, noise=0.2, seed=0)
    small, _, _ = datasets.standardize(small)
    result = lr_finder.range_test(model, small, p, num_iter=100, batch_size=64)
    rt = best_time(lambda: lr_finder.range_test(model, small, p, num_iter=100, batch_size=64), repeats=5)
    step_only = best_time(numpy_step(model, p, small.X[:64], small.y[:64]))
    print(f"  {fmt(rt)} per test ({len(result.lrs)} steps recorded, {result.stop_reason}); "
          f"target < 50 ms: {'yes' if rt < 0.05 else 'NO'}")
    print(f"  overhead over {len(result.lrs)} bare SGD steps: ×{rt / (step_only * len(result.lrs)):.2f}")

    print("\nweight_slice, 201 offsets on 1,000 samples (vs naive broadcast of all 201 parameter vectors)")
    try:
        from gd_studio.engine import landscape
    except ImportError:
        print("  landscape not available yet — skipped")
        return
    X, y = small.X, small.y
    offsets = np.linspace(-3.0, 3.0, 201)
    for label, name in (("first-layer weight", "W1[0,5]"), ("last-layer weight", "W3[7,1]")):
        index = model.index_of(name)
        fast = landscape.weight_slice(model, p, X, y, index, offsets)
        ref = naive_slice(model, p, X, y, index, offsets)
        err = float(np.max(np.abs(fast - ref) / np.maximum(np.abs(ref), 1e-300)))
        t_fast = best_time(lambda: landscape.weight_slice(model, p, X, y, index, offsets), repeats=5)
        t_ref = best_time(lambda: naive_slice(model, p, X, y, index, offsets), repeats=3)
        print(f"  {label:18} {name:8}: {fmt(t_fast)} | naive {fmt(t_ref)} (naive/ours = ×{t_ref / t_fast:5.1f}; "
              f"max rel. diff {err:.1e})")


if __name__ == "__main__":
    main()
