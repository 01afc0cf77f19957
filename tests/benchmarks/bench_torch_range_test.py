"""gd_studio.torch benchmark, run by hand: `python tests/benchmarks/bench_torch_range_test.py`.

What does the range test cost beyond the training steps it takes? For an MLP 64→128→128→10 on the bundled
digits (batch 64, SGD with momentum, 100 steps, one CPU thread) it times ``range_test`` (snapshot and
restore, LR per group, finiteness checks, the divergence watch, smoothing and suggestions) against a bare
loop doing the same 100 forward/backward/step calls, timed back to back in the same run.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import torch  # noqa: E402

from gd_studio.engine import datasets  # noqa: E402
from gd_studio.torch import range_test  # noqa: E402

STEPS = 100


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved(a, b, repeats=15) -> tuple[float, float, float]:
    """Best times of a and b, and the median ratio b/a over back-to-back pairs (a shared machine's load
    changes from second to second; a pair sees nearly the same load)."""
    a(), b()
    pairs = [(timed(a), timed(b)) for _ in range(repeats)]
    ratios = sorted(tb / ta for ta, tb in pairs)
    return min(p[0] for p in pairs), min(p[1] for p in pairs), ratios[len(ratios) // 2]


def main() -> None:
    torch.set_num_threads(1)
    ds, _, _ = datasets.standardize(datasets.make("digits"))
    X = torch.tensor(ds.X, dtype=torch.float32)
    y = torch.tensor(ds.y, dtype=torch.long)
    batches = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 64 * (STEPS + 1), 64) if i + 64 <= len(X)]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = {k: v.clone() for k, v in model.state_dict().items()}

    def bare():
        model.load_state_dict(start)
        for i in range(STEPS + 1):  # the range test also takes one batch before its first step
            x, t = batches[i % len(batches)]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), t).backward()
            if i < STEPS:
                opt.step()
        opt.state.clear()

    def finder():
        # end_lr low enough that no run stops early: both sides take all STEPS steps
        range_test(model, opt, loss_fn, batches, start_lr=1e-5, end_lr=1e-2, num_iter=STEPS, progress=False)

    t_bare, t_finder, ratio = interleaved(bare, finder)
    print(f"bare loop        {t_bare * 1e3:8.1f} ms for {STEPS} steps (best)")
    print(f"range_test       {t_finder * 1e3:8.1f} ms for {STEPS} steps (best)")
    print(f"ratio            {ratio:8.2f} × the bare loop (median of back-to-back pairs)")


if __name__ == "__main__":
    main()
