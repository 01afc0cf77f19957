"""Suggestion benchmark, run by hand: how good a learning rate each range-test rule picks on real training.

    python tests/benchmarks/bench_suggestions.py            # score every rule (seconds; uses the cache)
    python tests/benchmarks/bench_suggestions.py --build    # rebuild the ground truth (~30 s on one core)
    python tests/benchmarks/bench_suggestions.py --validate # also what validated_recommendation buys (~2 min)
    python tests/benchmarks/bench_suggestions.py --torch    # also the PyTorch tasks (needs torch; --build: ~5 min)
    python tests/benchmarks/bench_suggestions.py --cv       # recommended's family and leave-one-task-out

Named bench_*.py so pytest does not collect it.

Protocol. Each task is a dataset (standardised, split 75/25 into training and validation with a fixed
seed), a model with fixed initial weights, an optimizer, a batch size and a training budget (steps).

- Ground truth: constant-LR training from those weights for the budget at every LR of a log grid
  (8 per decade, 1e-5 … 10^1.5), with 10 data-order seeds (3 for the PyTorch tasks); the final
  validation loss, averaged over the seeds (a diverged run, NaN/inf, counts as infinite). Cached in
  data/suggestions_ground_truth.json. (It had 3 seeds at first; the best grid LR re-measured with fresh
  seeds then scored ~1.02 against it, the size of the margins being compared.)
- Range tests: the engine's ``range_test`` (1e-7 … 10, 100 steps, exponential) from the same weights
  with 5 data-order seeds (0-4, disjoint from the ground truth's 100-102). They are cheap, so they
  are rerun on every scoring, always with the current engine.
- Score of a suggested LR: regret = validation loss at that LR (interpolated in log lr between grid
  points, nearest grid point next to a diverged one) ÷ the best grid LR's. A failure is no suggestion,
  or a suggestion where training diverges or ends no better than the initial weights.
- Other libraries' rules (fastai minimum/steep/valley/slide, torch-lr-finder, Lightning) are re-stated
  from their published formulas and fed the same runs as they would record them: the loss before each
  update, their own EMA smoothing and stop rule, on a run continued until the loss is NaN/inf.
- PyTorch tasks (``--torch``): the same protocol with torch models and optimizers; the range test is a
  plain loop run until NaN/inf or 1e6× the first loss, and our rules read it through ``suggest_all``
  like any recorded curve.
- Per rule: median regret over all (task, seed) pairs (failures count as infinite regret), the share
  within 20 % of the best (regret ≤ 1.2), failures, and the seed spread: the geometric standard
  deviation of the suggested LR over the 5 seeds (×/÷), median over tasks.

Validated recommendation (``--validate``): lr_finder.validated_recommendation on every range test, at
shares of the task's budget from 5 % to 100 %, with data-order seeds 7 (and 8) disjoint from both the
range tests' and the ground truth's, picked on the same validation split the ground truth scores (as a
user would pick); its floor (the whole grid trained with fresh seeds), the carry-over exponent's
sensitivity and leave-one-task-out. ``--cv`` adds the curve-only ceiling: every rule times the constant
that suits it best with hindsight, and the same search left-one-task-out.

Held-out tasks and cross-validation. ``recommended`` was first designed on the DEV tasks only; the
HELD-OUT ones were fixed in this file before any rule was tuned and are reported separately. Its
constants were then chosen over all tasks including PyTorch (``--cv --torch``: the family member with
the lowest geometric mean of per-task median regret and no failures), after the first choice did badly
on the PyTorch tasks. Because that choice saw every task, ``--cv`` also reports leave-one-task-out:
the member chosen on the other tasks, scored on the one left out. That pooled number is the estimate
for a task the rule has never seen.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from gd_studio.engine import datasets, lr_finder, models, optimizers  # noqa: E402
from gd_studio.engine.sampling import BatchSampler  # noqa: E402

CACHE = Path(__file__).resolve().parent / "data" / "suggestions_ground_truth.json"
GRID = 10 ** np.linspace(-5.0, 1.5, 53)  # 8 per decade
# 10 seeds: with 3, the ground truth's own noise set a floor of ~1.02 on median regret (the best grid LR
# re-measured with 3 fresh seeds scored 1.021 against it), larger than the margin the target asks about
GT_SEEDS = tuple(range(100, 110))
TORCH_GT_SEEDS = (100, 101, 102)  # a PyTorch task's grid takes minutes per seed
RT_SEEDS = (0, 1, 2, 3, 4)
RT_KW = dict(start_lr=1e-7, end_lr=10.0, num_iter=100, mode="exp")
BAND = 1.2


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str
    model: str
    optimizer: str
    batch_size: int
    budget: int
    hidden: tuple = ()
    activation: str = "tanh"
    n_samples: int = 600
    noise: float = 0.2
    heldout: bool = False


TASKS = (
    # dev: the rule was designed on these
    Task("moons·mlp·sgd", "moons", "mlp", "sgd", 32, 300, (16,), "tanh", noise=0.2),
    Task("spiral·mlp·adam", "spiral", "mlp", "adam", 32, 400, (32,), "relu", noise=0.2),
    Task("iris·softmax·sgd", "iris", "logistic", "sgd", 16, 300),
    Task("sine·mlp·momentum (noisy regression)", "sine", "mlp", "momentum", 32, 400, (16,), "tanh", noise=0.3),
    Task("digits·softmax·adam", "digits", "logistic", "adam", 64, 300),
    Task("circles·mlp·momentum", "circles", "mlp", "momentum", 128, 300, (16,), "tanh", noise=0.1),
    Task("line·linear·sgd (noisy regression)", "line", "linear", "sgd", 16, 200, n_samples=400, noise=1.0),
    # held out: fixed before tuning, scored separately
    # (blobs·softmax·momentum stood here; its best LR beat the initial weights by 1 %, so every rule
    # "failed" on noise: replaced by moons·softmax before any rule was chosen)
    Task("moons·softmax·momentum", "moons", "logistic", "momentum", 64, 200, noise=0.2, heldout=True),
    Task("xor·mlp·adam", "xor", "mlp", "adam", 32, 300, (16,), "tanh", noise=0.2, heldout=True),
    Task("digits·mlp·sgd", "digits", "mlp", "sgd", 64, 300, (32,), "relu", heldout=True),
    Task("sine·mlp·sgd (noisy regression)", "sine", "mlp", "sgd", 16, 400, (32,), "tanh", noise=0.5, heldout=True),
    Task("moons·mlp·adam", "moons", "mlp", "adam", 128, 300, (16,), "relu", noise=0.3, heldout=True),
    Task("iris·mlp·momentum", "iris", "mlp", "momentum", 16, 200, (8,), "tanh", heldout=True),
)


def task_key(t: Task) -> str:
    blob = json.dumps(asdict(t), sort_keys=True) + json.dumps([GRID[0], GRID[-1], GRID.size, GT_SEEDS])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def setup(t: Task):
    """(model, train, val, initial params): the same for every rule and every LR of a task."""
    kw = {} if t.dataset in ("iris", "digits") else dict(n_samples=t.n_samples, noise=t.noise, seed=0)
    ds = datasets.make(t.dataset, **kw)
    train, val = datasets.train_val_split(ds, 0.25, seed=0)
    train, mean, std = datasets.standardize(train)
    val, _, _ = datasets.standardize(val, mean, std)
    model = models.make(t.model, train.n_features, train.n_outputs, hidden=t.hidden or (16,),
                        activation=t.activation)
    return model, train, val, model.init_params(1)


def train_final_val(model, train, val, p0, optimizer: str, lr: float, steps: int, batch_size: int,
                    seed: int) -> float:
    """Validation loss after ``steps`` constant-LR steps; inf when the run diverges."""
    opt = optimizers.make(optimizer, model.n_params)
    sampler = BatchSampler(train.n_samples, batch_size, seed)
    p = p0.copy()
    X, y = train.X, train.y
    limit = 1e6 * max(model.loss(p0, X, y), 1e-12)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            idx = sampler.next()
            loss, g = model.loss_and_grad(p, X[idx], y[idx])
            if not (math.isfinite(loss) and loss < limit):
                return math.inf
            p = opt.step(p, g, lr)
            if not np.isfinite(p).all():
                return math.inf
        v = float(model.loss(p, val.X, val.y))
    return v if math.isfinite(v) else math.inf


def build(tasks=TASKS) -> dict:
    cache = load_cache()
    out = {"grid": GRID.tolist(), "seeds": list(GT_SEEDS), "tasks": dict(cache.get("tasks", {}))}
    t_all = time.perf_counter()
    for t in tasks:
        key = task_key(t)
        if t.name in out["tasks"] and out["tasks"][t.name].get("key") == key:
            continue
        t0 = time.perf_counter()
        model, train, val, p0 = setup(t)
        vals = [[train_final_val(model, train, val, p0, t.optimizer, float(lr), t.budget, t.batch_size, s)
                 for lr in GRID] for s in GT_SEEDS]
        out["tasks"][t.name] = {
            "key": key,
            "initial_val": float(model.loss(p0, val.X, val.y)),
            "val": [[None if not math.isfinite(v) else v for v in row] for row in vals],
        }
        print(f"  {t.name:<40} {time.perf_counter() - t0:6.1f} s", flush=True)
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps(out, indent=None, separators=(",", ":")))
    print(f"ground truth built in {time.perf_counter() - t_all:.0f} s -> {CACHE}")
    return out


def load_cache() -> dict:
    try:
        return json.loads(CACHE.read_text())
    except (OSError, ValueError):
        return {}


# -- the reference finders, re-stated from their published formulas -------------------------------------
# They record the loss *before* each update (ours records it after, on the next batch), so their curve is
# ours shifted by one step: the initial loss at the first LR. They smooth with a causal EMA and stop on
# their own rule, so they get a range test that ran on until the loss was no longer finite.
def _debiased_ema(y, beta=0.98):
    out, avg = [], 0.0
    for i, v in enumerate(y):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta ** (i + 1)))
    return np.array(out)


def _stop_when(sm, factor):
    """Length of the curve a finder keeps: it stops once sm > factor × its best (that point recorded)."""
    best = math.inf
    for i, v in enumerate(sm):
        best = min(best, v)
        if i > 0 and v > factor * best:
            return i + 1
    return len(sm)


def fastai_curve(lrs, raw, num_it=100):
    sm = _debiased_ema(raw)
    n = _stop_when(sm, 4.0)
    lrs, sm = lrs[:n], sm[:n]
    return lrs[num_it // 10:-5], sm[num_it // 10:-5]


def fastai_minimum(lrs, raw):
    x, y = fastai_curve(lrs, raw)
    return float(x[np.argmin(y)]) / 10 if y.size else None


def fastai_steep(lrs, raw):
    x, y = fastai_curve(lrs, raw)
    if y.size < 2:
        return None
    g = np.diff(y) / np.diff(np.log(x))
    return float(x[np.argmin(g)])


def fastai_valley(lrs, raw):
    x, y = fastai_curve(lrs, raw)
    n = y.size
    if n < 2:
        return None
    # longest strictly decreasing subsequence ending at each point, O(n²) as published
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if y[i] < y[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(x[idx])


def fastai_slide(lrs, raw, lr_diff=15, thresh=0.005):
    x, y = fastai_curve(lrs, raw)
    if y.size < lr_diff + 1:
        return None
    g = np.gradient(y)
    r, l_ = -1, -1 - lr_diff
    found = float(x[l_])
    while l_ >= -y.size and abs(g[r] - g[l_]) > thresh:
        found = float(x[l_])
        r -= 1
        l_ -= 1
    return found


def torch_lr_finder(lrs, raw, smooth_f=0.05, diverge_th=5.0):
    sm = [raw[0]]
    for v in raw[1:]:
        sm.append(smooth_f * v + (1 - smooth_f) * sm[-1])
    sm = np.array(sm)
    n = _stop_when(sm, diverge_th)
    x, y = lrs[:n][10:-5], sm[:n][10:-5]
    if y.size < 2:
        return None
    return float(x[np.argmin(np.gradient(y))])


def lightning(lrs, raw):
    sm = _debiased_ema(raw)
    n = _stop_when(sm, 4.0)
    x, y = lrs[:n][10:-1], sm[:n][10:-1]
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if y.size < 2:
        return None
    return float(x[np.argmin(np.gradient(y, np.log10(x)))])


REFERENCE = {
    "fastai minimum": fastai_minimum,
    "fastai steep": fastai_steep,
    "fastai valley": fastai_valley,
    "fastai slide": fastai_slide,
    "torch-lr-finder": torch_lr_finder,
    "Lightning": lightning,
}
ANCHORS = ("fastai minimum", "fastai valley", "torch-lr-finder", "Lightning")


# -- scoring ----------------------------------------------------------------------------------------------
def gt_curve(entry) -> np.ndarray:
    vals = np.array([[math.inf if v is None else v for v in row] for row in entry["val"]])
    return vals.mean(axis=0)  # any diverged seed makes the mean infinite, as it should


def loss_at(lr, grid, curve) -> float:
    if lr is None or not math.isfinite(lr) or lr <= 0:
        return math.inf
    x, gx = math.log10(lr), np.log10(grid)
    if x <= gx[0]:
        return float(curve[0])
    if x > gx[-1]:
        return math.inf
    j = int(np.searchsorted(gx, x))
    a, b = curve[j - 1], curve[j]
    t = (x - gx[j - 1]) / (gx[j] - gx[j - 1])
    if not (math.isfinite(a) and math.isfinite(b)):
        return float(a if t < 0.5 else b)
    return float(math.exp((1 - t) * math.log(a) + t * math.log(b)))


def curves_for(t: Task):
    """Range tests for every seed: (ours, stopped by our rule) and (theirs, run on to NaN/inf)."""
    model, train, val, p0 = setup(t)
    ours, full = [], []
    for s in RT_SEEDS:
        ours.append(lr_finder.range_test(model, train, p0, seed=s, batch_size=t.batch_size,
                                         optimizer=t.optimizer, **RT_KW))
        r = lr_finder.range_test(model, train, p0, seed=s, batch_size=t.batch_size, optimizer=t.optimizer,
                                 diverge_factor=1e300, **RT_KW)
        shifted = np.concatenate([[r.initial_loss], r.losses[:-1]])
        full.append((np.array(r.lrs), shifted))
    return ours, full


def extra_rules(res) -> dict:
    """Candidate rules looked at while designing ``recommended`` (on the dev tasks)."""
    s = res.suggestions
    out = {}
    mn = None if s.get("minimum/10") is None else s["minimum/10"] * 10
    for c in (2, 3, 4, 5, 6, 8):
        out[f"minimum/{c}"] = None if mn is None else mn / c
    st, mx = s.get("steepest"), s.get("max_lr")
    out["√(steepest·max_lr)"] = None if st is None or mx is None else math.sqrt(st * mx)
    blow, _ = _blow_and_min(res)
    for c in (5, 10, 20):
        out[f"blowup/{c}"] = None if blow is None else blow / c
        for d in (3, 5, 8):
            out[f"blowup/{c} else min/{d}"] = (blow / c if blow is not None
                                                else None if mn is None else mn / d)
            out[f"√(blowup/{c}·min/{d})"] = (math.sqrt(blow / c * mn / d) if blow and mn
                                             else (blow / c if blow else (mn / d if mn else None)))
    return out


def collect(tasks, cache, with_extra=False):
    """rows[rule][task] = list of suggested LRs, one per seed (None when none)."""
    picks: dict[str, dict[str, list]] = {}
    for t in tasks:
        ours, full = curves_for(t)
        for res in ours:
            sug = dict(res.suggestions)
            if with_extra:
                sug.update(extra_rules(res))
            for k, v in sug.items():
                picks.setdefault(k, {}).setdefault(t.name, []).append(v)
        for name, fn in REFERENCE.items():
            for lrs, raw in full:
                picks.setdefault(name, {}).setdefault(t.name, []).append(fn(lrs, raw))
    return picks


def score(picks, tasks, cache):
    grid = np.array(cache["grid"])
    table = {}
    for rule, per_task in picks.items():
        regrets, spreads, fails = [], [], 0
        for t in tasks:
            entry = cache["tasks"][t.name]
            curve = gt_curve(entry)
            best = float(np.min(curve))
            for lr in per_task[t.name]:
                v = loss_at(lr, grid, curve)
                bad = not math.isfinite(v) or v >= entry["initial_val"]
                fails += bad
                regrets.append(math.inf if bad else v / best)
            got = np.array([v for v in per_task[t.name] if v is not None], dtype=float)
            if got.size > 1:
                spreads.append(10 ** np.std(np.log10(got), ddof=1))
        r = np.array(regrets)
        table[rule] = dict(median=float(np.median(r)), band=float(np.mean(r <= BAND)), failures=int(fails),
                           n=int(r.size), spread=float(np.median(spreads)) if spreads else math.nan,
                           regrets=r)
    return table


def print_table(table, title, order=None):
    print(f"\n{title}")
    print(f"  {'rule':<22} {'median regret':>13} {'within 20 %':>11} {'failures':>9} {'seed spread':>12}")
    for rule in order or table:
        if rule not in table:
            continue
        row = table[rule]
        med = "∞" if not math.isfinite(row["median"]) else f"{row['median']:.2f}"
        print(f"  {rule:<22} {med:>13} {row['band'] * 100:>10.0f}% {row['failures']:>4}/{row['n']:<4}"
              f" {'×/÷ ' + format(row['spread'], '.2f'):>12}")


def _with_nan_tail(res):
    """A range-test result as a recorded curve: its NaN step (not recorded) put back at the end."""
    lrs, losses = np.array(res.lrs), np.array(res.losses)
    if res.stop_kind == "non_finite":
        grid = lr_finder.lr_grid(res.start_lr, res.end_lr, res.num_iter, res.mode)
        lrs, losses = np.append(lrs, grid[lrs.size]), np.append(losses, np.nan)
    return lrs, losses


def _blow_and_min(res):
    mn = res.suggestions.get("minimum/10")
    return lr_finder.blowup_lr(*_with_nan_tail(res)), (None if mn is None else mn * 10)


def members():
    """recommended's candidate family: (kind, c, d) with blow-up ÷ c and minimum ÷ d."""
    out = [("min", None, d) for d in (3, 5, 8, 10)]
    for c in (5, 10, 20):
        for d in (3, 5, 8, 10):
            out += [("either", c, d), ("lower", c, d)]
    return out


def member_pick(member, blow, mn):
    kind, c, d = member
    by_min = None if mn is None else mn / d
    if kind == "min":
        return by_min
    by_blow = None if blow is None else blow / c
    if kind == "either":
        return by_blow if by_blow is not None else by_min
    got = [v for v in (by_blow, by_min) if v is not None]
    return min(got) if got else None


def member_name(member):
    kind, c, d = member
    return {"min": f"minimum/{d}", "either": f"blow-up/{c}, else minimum/{d}",
            "lower": f"lower of blow-up/{c}, minimum/{d}"}[kind]


def torch_records(t):
    """(blow-up LR, LR at minimum, suggestions, reference picks) per seed of a PyTorch task."""
    net, init, train, val, lossf = _torch_setup(t)
    out = []
    for seed in RT_SEEDS:
        lrs, after, before = _torch_range_test(t, net, init, train, lossf, seed)
        curve = np.where(np.isfinite(after), after, np.nan)
        sug = lr_finder.suggest_all(lrs, curve)
        mn = None if sug["minimum/10"] is None else sug["minimum/10"] * 10
        fin = np.isfinite(before)
        ref = {name: fn(lrs[fin], before[fin]) for name, fn in REFERENCE.items()}
        out.append((lr_finder.blowup_lr(lrs, curve), mn, sug, ref))
    return out


def cross_validate(cache, with_torch):
    """Choose recommended's rule, and check the choice by leaving one task out.

    Criterion: no failures, then the lowest geometric mean over tasks of the per-task median regret
    (every task counts the same, however many seeds land in the band). Leave-one-task-out: the member
    chosen on the other tasks is scored on the one left out; pooled over all tasks that is an honest
    estimate of how the rule does on a task it was not chosen on.
    """
    tasks = list(TASKS) + (list(TORCH_TASKS) if with_torch else [])
    records = {}
    for t in TASKS:
        ours, _ = curves_for(t)
        records[t.name] = [_blow_and_min(r) for r in ours]
    if with_torch:
        for t in TORCH_TASKS:
            records[t.name] = [(b, m) for b, m, _, _ in torch_records(t)]
    picks = {mem: {t.name: [member_pick(mem, b, m) for b, m in records[t.name]] for t in tasks}
             for mem in members()}
    per_task = {mem: score({"r": p}, tasks, cache)["r"] for mem, p in picks.items()}
    task_med = {mem: {t.name: score({"r": {t.name: picks[mem][t.name]}}, [t], cache)["r"]["median"]
                      for t in tasks} for mem in members()}

    fails = {mem: {t.name: score({"r": {t.name: picks[mem][t.name]}}, [t], cache)["r"]["failures"]
                   for t in tasks} for mem in members()}

    def crit(mem, names):
        if any(fails[mem][n] for n in names):
            return math.inf
        vals = np.array([task_med[mem][n] for n in names])
        return float(np.exp(np.mean(np.log(vals)))) if np.isfinite(vals).all() else math.inf

    names = [t.name for t in tasks]
    ranked = sorted(members(), key=lambda m: crit(m, names))
    print(f"\nrecommended's family on {len(tasks)} tasks (geometric mean of per-task median regret):")
    for mem in ranked[:8]:
        row = per_task[mem]
        print(f"  {member_name(mem):<34} {crit(mem, names):.3f}   median {row['median']:.2f}, "
              f"band {row['band'] * 100:.0f} %, failures {row['failures']}")
    regrets, chosen = [], []
    for out in tasks:
        rest = [n for n in names if n != out.name]
        best = min(members(), key=lambda m: crit(m, rest))
        chosen.append(member_name(best))
        regrets.extend(score({"r": {out.name: picks[best][out.name]}}, [out], cache)["r"]["regrets"])
    r = np.array(regrets)
    print(f"leave-one-task-out over {len(tasks)} tasks (chosen: {'; '.join(sorted(set(chosen)))}):")
    print(f"  median regret {np.median(r):.2f}, within 20 % {np.mean(r <= BAND) * 100:.0f} %, "
          f"failures {int(np.sum(~np.isfinite(r)))}/{r.size}")
    curve_only_ceiling(tasks, records, cache, with_torch)


def curve_only_ceiling(tasks, records, cache, with_torch):
    """How far any one-constant curve-only rule gets with hindsight: each rule's LR times the constant
    (a quarter-octave grid, 1/32 … 32) with the lowest median regret over all tasks, chosen on the very
    tasks it is scored on (optimistic by construction)."""
    bases = {"blow-up LR": {n: [b for b, _ in recs] for n, recs in records.items()},
             "LR at the smoothed minimum": {n: [m for _, m in recs] for n, recs in records.items()}}
    engine = collect(TASKS, cache)
    extra = {}
    if with_torch:
        for t in TORCH_TASKS:
            for _, _, sug, ref in torch_records(t):
                for k, v in list(sug.items()) + list(ref.items()):
                    extra.setdefault(k, {}).setdefault(t.name, []).append(v)
    for rule in ("recommended", "steepest", "valley", "max_lr", "fastai minimum", "fastai valley", "fastai slide",
                 "torch-lr-finder", "Lightning"):
        bases[rule] = {**engine[rule], **extra.get(rule, {})}
    consts = 2.0 ** (np.arange(-20, 21) / 4)
    print(f"curve-only ceiling on {len(tasks)} tasks: each rule × its best constant, chosen with hindsight")
    best_overall = None
    regrets = {}  # (rule, c) -> {task: regrets}
    for name, per_task in bases.items():
        rows = []
        for c in consts:
            picks = {t.name: [None if v is None else v * c for v in per_task[t.name]] for t in tasks}
            row = score({"r": picks}, tasks, cache)["r"]
            rows.append((row["median"], -row["band"], row["failures"], c))
            regrets[(name, c)] = {t.name: score({"r": {t.name: picks[t.name]}}, [t], cache)["r"]["regrets"]
                                  for t in tasks}
        med, band, fails, c = min(rows)
        print(f"  {name:<28} × {c:<7.3g} median {med:.3f}, within 20 % {-band * 100:.0f} %, failures {fails}")
        if best_overall is None or med < best_overall[0]:
            best_overall = (med, name, c)
    print(f"  best: {best_overall[1]} × {best_overall[2]:.3g}, median {best_overall[0]:.3f}")
    # the honest version of that search: rule and constant chosen on the other tasks (lowest median regret,
    # no failures), scored on the task left out
    out_r, chosen = [], []
    for out in tasks:
        rest = [t.name for t in tasks if t is not out]

        def crit(key):
            r = np.concatenate([regrets[key][n] for n in rest])
            return (int(np.sum(~np.isfinite(r))), float(np.median(r)))

        key = min(regrets, key=crit)
        chosen.append(f"{key[0]} × {key[1]:.3g}")
        out_r.extend(regrets[key][out.name])
    r = np.array(out_r)
    print(f"  leave-one-task-out (chosen: {'; '.join(sorted(set(chosen)))}): median {np.median(r):.3f}, "
          f"within 20 % {np.mean(r <= BAND) * 100:.0f} %, failures {int(np.sum(~np.isfinite(r)))}/{r.size}")


def _regret(t, lr, cache) -> float:
    entry = cache["tasks"][t.name]
    curve = gt_curve(entry)
    v = loss_at(lr, np.array(cache["grid"]), curve)
    return math.inf if not math.isfinite(v) or v >= entry["initial_val"] else v / float(np.min(curve))


def _row(label, per_task, tasks, extra="", keep=None):
    if keep is not None:
        keep[label] = per_task
    r = np.concatenate([per_task[t.name] for t in tasks])
    dev = np.concatenate([per_task[t.name] for t in tasks if not t.heldout])
    held = np.concatenate([per_task[t.name] for t in tasks if t.heldout])
    print(f"  {label:<40} {np.median(r):>6.3f} {np.mean(r <= BAND) * 100:>5.0f}% "
          f"{int(np.sum(~np.isfinite(r))):>3}/{r.size:<3} {np.median(dev):>6.3f} {np.median(held):>6.3f}  {extra}")
    return float(np.median(r))


VALIDATION_SEEDS = (7, 8)  # disjoint from the range tests' (0-4) and the ground truth's (100-109)


def validation_section(cache, tasks=TASKS):
    """What lr_finder.validated_recommendation buys: recommended × ¼ … 4, each trained a share of the
    task's budget from the same start (one data-order seed), the lowest validation loss carried over to
    the budget by √(share). Scored on the ground truth like the curve-only rules."""
    factors = lr_finder.VALIDATION_FACTORS
    anchors = score(collect(tasks, cache), tasks, cache)
    best_anchor = min(ANCHORS, key=lambda a: anchors[a]["median"])
    target = 0.9 * anchors[best_anchor]["median"]
    print(f"\nvalidated recommendation on {len(tasks)} tasks: best of recommended × {factors} after a share of "
          f"the budget, carried over by share^{lr_finder.BUDGET_EXPONENT}")
    print(f"  target: median regret ≤ 0.9 × {best_anchor}'s {anchors[best_anchor]['median']:.3f} = {target:.3f}, "
          f"within 20 % ≥ {anchors[best_anchor]['band'] * 100:.0f} %, no failures")
    print(f"  {'pick':<40} {'median':>6} {'band':>6} {'fail':>7} {'dev':>6} {'held':>6}  cost (trainings)")
    curve_only = {t.name: [] for t in tasks}
    runs = {}  # (share, seed) -> {task: [ValidationResult per range-test seed]}
    for t in tasks:
        model, train, val, p0 = setup(t)
        ours, _ = curves_for(t)
        for res in ours:
            curve_only[t.name].append(_regret(t, res.suggestions["recommended"], cache))
            for share in (0.05, 0.1, 0.25, 0.5, 1.0):
                for seed in (VALIDATION_SEEDS if share in (0.25, 0.5) else VALIDATION_SEEDS[:1]):
                    v = lr_finder.validated_recommendation(model, train, p0, res.suggestions, t.budget, val_ds=val,
                                                           share=share, seed=seed, batch_size=t.batch_size,
                                                           optimizer=t.optimizer)
                    runs.setdefault((share, seed), {}).setdefault(t.name, []).append(v)
    kept: dict = {}
    _row("curve only (recommended)", curve_only, tasks, "—", kept)
    n = len(factors)
    s0 = VALIDATION_SEEDS[0]
    for share in (0.05, 0.1, 0.25, 0.5, 1.0):
        got = runs[(share, s0)]
        plain = {t.name: [_regret(t, v.best_lr, cache) for v in got[t.name]] for t in tasks}
        carried = {t.name: [_regret(t, v.recommended, cache) for v in got[t.name]] for t in tasks}
        _row(f"{share:.0%} each, best as is", plain, tasks, f"{n * share:.3g}×", kept)
        _row(f"{share:.0%} each, carried over (validated)", carried, tasks, f"{n * share:.3g}×", kept)
    print("  two data-order seeds per candidate (mean loss):")
    for share in (0.25, 0.5):
        a, b = runs[(share, VALIDATION_SEEDS[0])], runs[(share, VALIDATION_SEEDS[1])]
        two = {}
        for t in tasks:
            two[t.name] = []
            for va, vb in zip(a[t.name], b[t.name]):
                sc = (np.asarray(va.scores) + np.asarray(vb.scores)) / 2
                k = int(np.argmin(sc))
                lr = va.lrs[k] if np.isfinite(sc[k]) else va.curve_pick
                two[t.name].append(_regret(t, lr_finder.budget_lr(lr, va.steps, t.budget), cache))
        _row(f"{share:.0%} each × 2 seeds, carried over", two, tasks, f"{2 * n * share:.3g}×")
    print("  the carry-over exponent (fixed at ½ by SGD theory, not fitted), at 25 % each:")
    got = runs[(0.25, s0)]
    for alpha in (0.0, 0.25, 0.5, 0.75, 1.0):
        per = {t.name: [_regret(t, v.best_lr * 0.25 ** alpha if v.best_lr else None, cache) for v in got[t.name]]
               for t in tasks}
        _row(f"exponent {alpha}", per, tasks)
    # leave one task out: the exponent a tuner would fit on the other tasks, scored on the one left out
    alphas = (0.0, 0.25, 0.5, 0.75, 1.0)
    per_alpha = {al: {t.name: [_regret(t, v.best_lr * 0.25 ** al if v.best_lr else None, cache)
                               for v in got[t.name]] for t in tasks} for al in alphas}
    loto, chosen = [], []
    for out in tasks:
        rest = [t for t in tasks if t is not out]

        def crit(al):
            meds = [np.median(per_alpha[al][t.name]) for t in rest]
            return float(np.exp(np.mean(np.log(meds)))) if np.isfinite(meds).all() else math.inf

        al = min(alphas, key=crit)
        chosen.append(al)
        loto.extend(per_alpha[al][out.name])
    r = np.array(loto)
    print(f"  leave-one-task-out fitted exponent (chosen {sorted(set(chosen))}): median {np.median(r):.3f}, "
          f"within 20 % {np.mean(r <= BAND) * 100:.0f} %, failures {int(np.sum(~np.isfinite(r)))}/{r.size}")
    print("  the floor: every grid LR trained the whole budget with fresh seeds, the lowest mean validation loss:")
    fresh = {t.name: [] for t in tasks}
    for t in tasks:
        model, train, val, p0 = setup(t)
        fresh[t.name] = np.array([[train_final_val(model, train, val, p0, t.optimizer, float(lr), t.budget,
                                                   t.batch_size, seed) for lr in cache["grid"]]
                                  for seed in (7, 8, 9)])
    for k in (1, 3):
        per = {t.name: [_regret(t, cache["grid"][int(np.argmin(fresh[t.name][:k].mean(axis=0)))], cache)]
               * len(RT_SEEDS) for t in tasks}
        _row(f"best of all {len(cache['grid'])} grid LRs, {k} seed{'s' * (k > 1)}", per, tasks,
             f"{len(cache['grid']) * k}×")
    return kept


# -- optional: the same protocol on small PyTorch models --------------------------------------------------
@dataclass(frozen=True)
class TorchTask:
    name: str
    dataset: str
    net: str  # "mlp" or "cnn"
    optimizer: str  # "sgd", "momentum" or "adam"
    batch_size: int
    budget: int
    noise: float = 0.2


TORCH_TASKS = (
    TorchTask("torch digits·cnn·momentum", "digits", "cnn", "momentum", 32, 300),
    TorchTask("torch digits·mlp·adam", "digits", "mlp", "adam", 64, 300),
    TorchTask("torch sine·mlp·sgd (noisy regression)", "sine", "mlp", "sgd", 16, 400, noise=0.4),
)


def torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def _torch_setup(t: TorchTask):
    import torch

    torch.set_num_threads(1)
    kw = {} if t.dataset in ("iris", "digits") else dict(n_samples=600, noise=t.noise, seed=0)
    ds = datasets.make(t.dataset, **kw)
    train, val = datasets.train_val_split(ds, 0.25, seed=0)
    train, mean, std = datasets.standardize(train)
    val, _, _ = datasets.standardize(val, mean, std)
    regression = train.task == "regression"
    k = 1 if regression else train.n_classes
    torch.manual_seed(1)
    if t.net == "cnn":
        net = torch.nn.Sequential(
            torch.nn.Unflatten(1, (1, 8, 8)), torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, k))
    else:
        act = torch.nn.Tanh() if regression else torch.nn.ReLU()
        net = torch.nn.Sequential(torch.nn.Linear(train.n_features, 32), act, torch.nn.Linear(32, k))
    net = net.double()
    init = {n: v.clone() for n, v in net.state_dict().items()}
    X, Xv = torch.from_numpy(train.X), torch.from_numpy(val.X)
    if regression:
        y, yv = torch.from_numpy(train.y).double()[:, None], torch.from_numpy(val.y).double()[:, None]
        lossf = torch.nn.MSELoss()
    else:
        y, yv = torch.from_numpy(train.y).long(), torch.from_numpy(val.y).long()
        lossf = torch.nn.CrossEntropyLoss()
    return net, init, (X, y), (Xv, yv), lossf


def _torch_opt(net, name, lr):
    import torch

    if name == "adam":
        return torch.optim.Adam(net.parameters(), lr=lr)
    return torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9 if name == "momentum" else 0.0)


def _torch_train(t, net, init, train, val, lossf, lr, seed, steps=None):
    import torch

    net.load_state_dict(init)
    opt = _torch_opt(net, t.optimizer, lr)
    X, y = train
    sampler = BatchSampler(X.shape[0], t.batch_size, seed)
    with np.errstate(all="ignore"):
        for _ in range(t.budget if steps is None else steps):
            idx = torch.from_numpy(sampler.next())
            opt.zero_grad()
            loss = lossf(net(X[idx]), y[idx])
            if not torch.isfinite(loss) or loss.item() > 1e12:
                return math.inf
            loss.backward()
            opt.step()
        with torch.no_grad():
            v = float(lossf(net(val[0]), val[1]))
    return v if math.isfinite(v) else math.inf


def _torch_range_test(t, net, init, train, lossf, seed):
    """(lrs, losses after each update (ours), losses before it (theirs)), run until NaN/inf or 1e6×."""
    import torch

    net.load_state_dict(init)
    grid = lr_finder.lr_grid(RT_KW["start_lr"], RT_KW["end_lr"], RT_KW["num_iter"], RT_KW["mode"])
    opt = _torch_opt(net, t.optimizer, float(grid[0]))
    X, y = train
    sampler = BatchSampler(X.shape[0], t.batch_size, seed)
    idx = torch.from_numpy(sampler.next())
    before = []
    loss = lossf(net(X[idx]), y[idx])
    first = loss.item()
    for lr in grid:
        for g in opt.param_groups:
            g["lr"] = float(lr)
        before.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
        idx = torch.from_numpy(sampler.next())
        loss = lossf(net(X[idx]), y[idx])
        if not torch.isfinite(loss) or loss.item() > 1e6 * first:
            break
    after = before[1:] + [loss.item()]
    n = len(before)
    return grid[:n], np.array(after, dtype=float), np.array(before, dtype=float)


def torch_section(build_missing: bool):
    import torch

    cache = load_cache()
    tasks = cache.setdefault("tasks", {})
    for t in TORCH_TASKS:
        key = hashlib.sha256((json.dumps(asdict(t), sort_keys=True) + torch.__version__
                              + json.dumps([GRID[0], GRID[-1], GRID.size, TORCH_GT_SEEDS])).encode()).hexdigest()[:16]
        if tasks.get(t.name, {}).get("key") == key:
            continue
        if not build_missing:
            sys.exit(f"torch ground truth missing or stale for {t.name}: run with --torch --build")
        t0 = time.perf_counter()
        net, init, train, val, lossf = _torch_setup(t)
        vals = [[_torch_train(t, net, init, train, val, lossf, float(lr), s) for lr in GRID] for s in TORCH_GT_SEEDS]
        net.load_state_dict(init)
        with torch.no_grad():
            initial = float(lossf(net(val[0]), val[1]))
        tasks[t.name] = {"key": key, "initial_val": initial,
                         "val": [[None if not math.isfinite(v) else v for v in row] for row in vals]}
        CACHE.write_text(json.dumps(cache, separators=(",", ":")))
        print(f"  {t.name:<40} {time.perf_counter() - t0:6.1f} s", flush=True)
    picks: dict[str, dict[str, list]] = {}
    for t in TORCH_TASKS:
        for _, _, sug, ref in torch_records(t):
            for k, v in list(sug.items()) + list(ref.items()):
                picks.setdefault(k, {}).setdefault(t.name, []).append(v)
    order = [r for r in OURS if r in picks] + list(REFERENCE)
    print_table(score(picks, TORCH_TASKS, cache), f"PyTorch ({len(TORCH_TASKS)} tasks, torch {torch.__version__}), "
                f"{len(RT_SEEDS)} range-test seeds each", order)
    return picks, cache


def torch_validation_section(cache):
    """The validated recommendation on the PyTorch tasks: the same candidates, shares and carry-over as
    lr_finder.validated_recommendation, trained with torch."""
    print(f"\nvalidated recommendation on the {len(TORCH_TASKS)} PyTorch tasks (one seed)")
    print(f"  {'pick':<40} {'median':>6} {'band':>6} {'fail':>7}")
    rows = {"curve only (recommended)": []}
    for t in TORCH_TASKS:
        net, init, train, val, lossf = _torch_setup(t)
        for _, _, sug, _ in torch_records(t):
            rec = sug["recommended"]
            rows["curve only (recommended)"].append(_regret(t, rec, cache))
            for share in (0.25, 0.5):
                cands = lr_finder.candidate_lrs(sug)
                steps = max(1, int(round(share * t.budget)))
                sc = [_torch_train(t, net, init, train, val, lossf, lr, VALIDATION_SEEDS[0], steps) for lr in cands]
                k = int(np.argmin(sc))
                best = cands[k] if math.isfinite(sc[k]) else rec
                rows.setdefault(f"{share:.0%} each, best as is", []).append(_regret(t, best, cache))
                rows.setdefault(f"{share:.0%} each, carried over (validated)", []).append(
                    _regret(t, lr_finder.budget_lr(best, steps, t.budget), cache))
    for label, regrets in rows.items():
        r = np.array(regrets)
        print(f"  {label:<40} {np.median(r):>6.3f} {np.mean(r <= BAND) * 100:>5.0f}% "
              f"{int(np.sum(~np.isfinite(r))):>3}/{r.size:<3}")
    return rows


OURS = ("recommended", "steepest", "valley", "minimum/10", "base_lr", "max_lr")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="store_true", help="(re)build the cached ground truth")
    ap.add_argument("--extra", action="store_true", help="also score the candidate rules (design)")
    ap.add_argument("--per-task", action="store_true", help="print the median regret per task")
    ap.add_argument("--validate", action="store_true", help="measure what validate_candidates buys")
    ap.add_argument("--cv", action="store_true", help="leave-one-task-out check of recommended's constants")
    ap.add_argument("--torch", action="store_true", help="also the PyTorch tasks (skipped without torch)")
    args = ap.parse_args(argv)
    cache = build() if args.build else load_cache()
    stale = [t.name for t in TASKS if cache.get("tasks", {}).get(t.name, {}).get("key") != task_key(t)]
    if stale:
        sys.exit(f"ground truth missing or stale for {', '.join(stale)}: run with --build")
    t0 = time.perf_counter()
    both_table = None
    dev = [t for t in TASKS if not t.heldout]
    held = [t for t in TASKS if t.heldout]
    picks = collect(TASKS, cache, with_extra=args.extra)
    order = [r for r in OURS if r in picks] + list(REFERENCE) + sorted(set(picks) - set(OURS) - set(REFERENCE))
    for title, tasks in ((f"all {len(TASKS)} tasks", TASKS), (f"dev ({len(dev)} tasks)", dev),
                         (f"held out ({len(held)} tasks)", held)):
        print_table(score(picks, tasks, cache), f"{title}, {len(RT_SEEDS)} range-test seeds each", order)
    if args.torch:
        if torch_available():
            tpicks, tcache = torch_section(build_missing=args.build)
            both = {r: {**picks[r], **tpicks[r]} for r in order if r in picks and r in tpicks}
            both_table = score(both, list(TASKS) + list(TORCH_TASKS), tcache)
            print_table(both_table,
                        f"all {len(TASKS) + len(TORCH_TASKS)} tasks (engine and PyTorch), "
                        f"{len(RT_SEEDS)} range-test seeds each", order)
        else:
            print("\nPyTorch section skipped: torch is not installed (pip install torch==2.13.0)")
    if args.cv:
        cross_validate(load_cache(), with_torch=args.torch and torch_available())
    if args.validate:
        kept = validation_section(cache)
        if both_table is not None:
            trows = torch_validation_section(load_cache())
            anchor = min(ANCHORS, key=lambda a: both_table[a]["median"])
            print(f"\nall {len(TASKS) + len(TORCH_TASKS)} tasks: the validated recommendation against the curve-only "
                  f"rules; target: median ≤ 0.9 × {anchor}'s {both_table[anchor]['median']:.3f} = "
                  f"{0.9 * both_table[anchor]['median']:.3f}, within 20 % ≥ {both_table[anchor]['band'] * 100:.0f} %")
            for label in ("curve only (recommended)", "25% each, carried over (validated)",
                          "50% each, carried over (validated)"):
                r = np.concatenate([np.concatenate(list(kept[label].values())), np.array(trows[label])])
                print(f"  {label:<40} median {np.median(r):.3f}, within 20 % {np.mean(r <= BAND) * 100:.0f} %, "
                      f"failures {int(np.sum(~np.isfinite(r)))}/{r.size}")
    if args.per_task:
        print("\nmedian regret per task")
        names = [r for r in order if r in picks]
        print("  " + " ".join(f"{n[:10]:>10}" for n in names))
        for t in TASKS:
            tab = score({n: picks[n] for n in names}, [t], cache)
            print("  " + " ".join(f"{tab[n]['median']:>10.2f}" for n in names) + f"  {t.name}")
    print(f"\nscored in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    if sys.argv[1:] == ["--build"]:
        build()
    else:
        main()
