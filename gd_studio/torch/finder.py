"""The LR range test on a PyTorch model: the engine's grid, stop rule, smoothing and suggestions; nothing left changed."""
from __future__ import annotations

import copy
import math
import platform
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..engine import lr_finder
from ..engine.errors import ConfigError
from ..engine.lr_finder import RangeTestResult
from ..engine import rangefile
from ..engine.rangefile import RangeTestRecord, record_from_results

_MISSING = object()
STREAM_INTERVAL = 0.25  # seconds between rewrites of a stream_to file: live enough, cheap enough


@dataclass(frozen=True)
class RangeTestProgress:
    """One recorded step, for a ``progress`` callback: ``run`` and ``step`` count from 0."""

    run: int
    runs: int
    step: int
    num_iter: int
    lr: float
    loss: float
    val_loss: float | None = None


class _OutOfData(Exception):
    pass


# -- everything the test touches, and how to put it back ----------------------------------------------
class _Snapshot:
    """The model's tensors (same objects, same values, same grads), train/eval flags, the optimizer's state,
    the RNGs and the data loaders' generators, as they were before the test."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, generators: list) -> None:
        self.model, self.optimizer = model, optimizer
        self.tensors = []
        for module in model.modules():
            for table in ("_parameters", "_buffers"):
                for name, t in getattr(module, table).items():
                    if t is not None:
                        grad = getattr(t, "grad", None) if table == "_parameters" else None
                        self.tensors.append((module, table, name, t, t.detach().clone(),
                                             None if grad is None else grad.detach().clone()))
        self.training = [(m, m.training) for m in model.modules()]
        # in place, not via load_state_dict: that would swap in new group dicts and state tensors, leaving
        # stale any reference the caller (or a scheduler) holds to them
        self.group_objs = list(optimizer.param_groups)
        self.groups = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"} for g in self.group_objs]
        self.opt_state = {p: copy.deepcopy(st) for p, st in optimizer.state.items()}  # keys stay the parameters
        self.opt_called = optimizer.__dict__.get("_opt_called", _MISSING)  # set by an attached scheduler's wrapper
        self.torch_rng = torch.get_rng_state()
        self.cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
        self.np_rng = np.random.get_state()
        self.py_rng = random.getstate()
        self.generators = [(g, g.get_state()) for g in generators]

    def reset_weights(self) -> None:
        """Back to the starting weights and optimizer state, with no gradients: the start of every run."""
        with torch.no_grad():
            for module, table, name, obj, saved, _ in self.tensors:
                getattr(module, table)[name] = obj  # in case the step replaced the tensor object
                obj.copy_(saved)
                if table == "_parameters":
                    obj.grad = None
        opt = self.optimizer
        for g, saved in zip(self.group_objs, self.groups):
            params = g["params"]
            g.clear()
            g.update(copy.deepcopy(saved))  # fresh copies each run: the test writes into them
            g["params"] = params
        opt.param_groups[:] = self.group_objs
        opt.state.clear()
        for p, st in self.opt_state.items():
            opt.state[p] = copy.deepcopy(st)

    def restore(self) -> None:
        self.reset_weights()
        with torch.no_grad():
            for _, table, _, obj, _, grad in self.tensors:
                if table == "_parameters" and grad is not None:
                    obj.grad = grad.clone()
        for m, flag in self.training:
            m.training = flag
        if self.opt_called is _MISSING:
            self.optimizer.__dict__.pop("_opt_called", None)
        else:
            self.optimizer._opt_called = self.opt_called
        torch.set_rng_state(self.torch_rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)
        np.random.set_state(self.np_rng)
        random.setstate(self.py_rng)
        for g, state in self.generators:
            g.set_state(state)


def _generators(loader) -> list:
    """The torch.Generators that decide a DataLoader's order (its own, its sampler's), without duplicates."""
    found = []
    for obj in (loader, getattr(loader, "sampler", None), getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        g = getattr(obj, "generator", None)
        if isinstance(g, torch.Generator) and all(g is not h for h in found):
            found.append(g)
    return found


def _shuffles(loader) -> bool:
    sampler = getattr(getattr(loader, "batch_sampler", None), "sampler", None) or getattr(loader, "sampler", None)
    return isinstance(sampler, torch.utils.data.RandomSampler)


class _Batches:
    """Endless batches from a loader: a DataLoader or any re-iterable restarts (a new epoch) when it ends;
    a list or tuple of batches is taken in order in run 0 and in a seeded permutation in later runs."""

    def __init__(self, source, seed: int, shuffle_sequence: bool) -> None:
        self.source = source
        self.rng = np.random.default_rng(seed) if shuffle_sequence else None
        self.it = self._iter()

    def _iter(self):
        if self.rng is not None:
            order = self.rng.permutation(len(self.source))
            return (self.source[int(i)] for i in order)
        return iter(self.source)

    def next(self):
        try:
            return next(self.it)
        except StopIteration:
            self.it = self._iter()
            try:
                return next(self.it)
            except StopIteration:
                raise _OutOfData from None


def _to(batch, device):
    """``batch`` with every tensor inside (tuples, lists, dicts, namedtuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_to(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to(v, device) for v in batch)
    return batch


def _batch_len(batch) -> int:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    items = batch.values() if isinstance(batch, dict) else batch if isinstance(batch, (list, tuple)) else ()
    for v in items:
        n = _batch_len(v)
        if n:
            return n
    return 0


# -- progress line ------------------------------------------------------------------------------------
class _Bar:
    """A one-line progress display for a terminal (rewritten in place, at most ten times a second)."""

    def __init__(self, stream) -> None:
        self.stream, self.last, self.t0, self.width = stream, 0.0, time.monotonic(), 0
        self.shown: RangeTestProgress | None = None

    def __call__(self, p: RangeTestProgress, final: bool = False) -> None:
        now = time.monotonic()
        if p.step == 0:
            self.t0 = now
        if not final and now - self.last < 0.1 and p.step + 1 < p.num_iter:
            return
        self.last = now
        done = p.step + 1
        filled = int(24 * done / p.num_iter)
        rate = f" {p.step / (now - self.t0):.1f} it/s" if p.step and now > self.t0 else ""
        run = f" run {p.run + 1}/{p.runs}" if p.runs > 1 else ""
        val = f" val {p.val_loss:.4g}" if p.val_loss is not None else ""
        text = (f"range test{run} [{'#' * filled}{'-' * (24 - filled)}] {done}/{p.num_iter} "
                f"lr {lr_finder.fmt_lr(p.lr)} loss {p.loss:.4g}{val}{rate}")
        self.shown = p
        self.stream.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.stream.flush()

    def end_run(self, p: RangeTestProgress | None, why: str) -> None:
        if p is not None and p is not self.shown:
            self(p, final=True)
        self.stream.write(f" ({why})\n" if why else "\n")
        self.stream.flush()
        self.width = 0


# -- the test -----------------------------------------------------------------------------------------
def _check_int(what: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (high is not None and value > high):
        bound = f"≥ {low}" if high is None else f"from {low} to {high}"
        raise ConfigError(f"range test: {what} must be a whole number {bound}, got {value!r}")
    return int(value)


def _set_lr(group: dict, value: float) -> None:
    if isinstance(group.get("lr"), torch.Tensor):  # capturable / fused optimizers may hold lr as a tensor
        group["lr"].fill_(value)
    else:
        group["lr"] = value


def range_test(model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable | None, train_loader, *,
               val_loader=None, start_lr: float = 1e-7, end_lr: float = 10.0, num_iter: int = 100,
               mode: str = "exp", repeats: int = 1, accumulation_steps: int = 1, device=None,
               step_fn: Callable | None = None, seed: int = 0, diverge_factor: float = 4.0, patience: int = 3,
               progress: bool | Callable[[RangeTestProgress], Any] | None = None,
               cancel: Callable[[], bool] | None = None, stream_to=None) -> RangeTestRecord:
    """Smith's LR range test on ``model`` with ``optimizer``, analysed by GD Studio's engine.

    The LR follows ``lr_finder.lr_grid(start_lr, end_lr, num_iter, mode)``, one optimizer step per point,
    each step over ``accumulation_steps`` mini-batches (gradients averaged). Every param group keeps its
    ratio to the largest group LR; the curve's x axis is that largest group's LR (``meta["lr_ratios"]``).
    ``losses[i]`` is the raw (unsmoothed) mean mini-batch loss *after* the step with ``lrs[i]``, measured on
    the batches the next step trains on, as in the engine; with ``val_loader`` ``val_losses[i]`` is the mean
    loss over all of it at the same weights (model in eval mode). The test stops at the engine's divergence
    rule (``lr_finder.DivergenceWatch``), at a non-finite loss or weight, when ``cancel()`` returns true
    (polled before each step) or at ``end_lr``; suggestions and smoothing are ``lr_finder``'s.

    Batches: ``(inputs, targets)`` or ``(input1, input2, ..., targets)`` use ``loss_fn(model(*inputs),
    targets)``; for anything else pass ``step_fn(model, batch) -> loss`` (a scalar tensor; GD Studio calls
    ``backward``), which then also computes the validation loss. Tensors in a batch (also inside tuples,
    lists and dicts) are moved to ``device`` (default: where the model's parameters are).

    ``repeats=K`` runs K times from the same weights, run k with seed ``seed + k`` (torch, NumPy and Python
    RNGs and the loader's generators; a list of batches is permuted in runs after the first), and returns
    their median curve with the 10th–90th percentile band and each suggestion's ×/÷ spread
    (``result.repeat``, ``result.describe(name)``); the same seed gives the same result.

    Afterwards the model (every parameter and buffer, same tensor objects, gradients, train/eval flags),
    the optimizer (state and param groups) and any LR scheduler attached to it, the torch/NumPy/Python RNG
    states and the loaders' generators are exactly as before, even when the test fails or is interrupted.

    ``progress``: a callable gets a ``RangeTestProgress`` per step; True draws a progress line on stderr;
    None (default) draws it only when stderr is a terminal; False draws nothing.

    ``stream_to``: a ``.gdrange`` path rewritten (atomically, at most four times a second) with the curve
    so far while the test runs, ``meta["live"]`` saying where it is, and with the final result at the end:
    a window watching the file draws the test as it happens.
    """
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"range test: model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ConfigError(f"range test: optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if step_fn is None and not callable(loss_fn):
        raise ConfigError("range test: give loss_fn (e.g. torch.nn.CrossEntropyLoss()) or step_fn")
    if step_fn is not None and not callable(step_fn):
        raise ConfigError("range test: step_fn must be callable as step_fn(model, batch) -> loss")
    if cancel is not None and not callable(cancel):
        raise ConfigError("range test: cancel must be callable, e.g. lambda: stop_requested")
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise ConfigError(f"range test: progress must be True, False, None or a callable, got {progress!r}")
    grid = lr_finder.lr_grid(start_lr, end_lr, num_iter, mode)
    n_iter = grid.size
    repeats = _check_int("repeats", repeats, 1, 1000)
    accum = _check_int("accumulation_steps", accumulation_steps, 1)
    seed = _check_int("seed", seed, 0, 2**32 - 1 - repeats)
    patience = _check_int("patience", patience, 1, n_iter)
    factor = lr_finder.check_diverge_factor(diverge_factor)

    params = [p for p in model.parameters()]
    owned = {id(p) for p in params}
    groups = optimizer.param_groups
    if any(id(p) not in owned for g in groups for p in g["params"]):
        raise ConfigError("range test: the optimizer updates tensors that are not parameters of the model, so "
                          "they could not be restored; pass a model holding them all (e.g. torch.nn.ModuleDict)")
    base = [float(g["lr"]) for g in groups]
    ref = int(np.argmax(base))
    ratios = [b / base[ref] if base[ref] > 0 else 1.0 for b in base]
    if device is None:
        device = params[0].device if params else torch.device("cpu")
    device = torch.device(device)
    if params and any(p.device.type != device.type for p in params):
        raise ConfigError(f"range test: the model is on {params[0].device}, not {device}; move it with "
                          "model.to(device) before creating the optimizer")
    # an Iterator (generator, DataLoader iterator) is read once; calling iter() on a DataLoader to find
    # out would draw from its generator before we saved it
    if isinstance(train_loader, Iterator) and repeats > 1:
        raise ConfigError("range test: repeats need data that can be read again (a DataLoader or a list of "
                          "batches), not a one-shot iterator")
    if isinstance(val_loader, Iterator):
        raise ConfigError("range test: val_loader is read after every step: give a DataLoader or a list of batches")

    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    bar = _Bar(sys.stderr) if progress is True else None
    report = bar if bar is not None else (progress if callable(progress) else None)

    def compute(batch):
        if step_fn is not None:
            loss = step_fn(model, batch)
        elif isinstance(batch, (list, tuple)) and len(batch) >= 2:
            loss = loss_fn(model(*batch[:-1]), batch[-1])
        else:
            raise ConfigError(f"range test: a batch of type {type(batch).__name__} is not (inputs, targets); "
                              "pass step_fn(model, batch) -> loss for other batches (dicts, several outputs)")
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            got = type(loss).__name__ if not isinstance(loss, torch.Tensor) else f"a tensor of shape {tuple(loss.shape)}"
            raise ConfigError(f"range test: the loss must be a scalar tensor (reduction='mean'), got {got}")
        return loss

    def train_loss(batches, backward: bool) -> float:
        total = 0.0
        for _ in range(accum):
            batch = _to(batches.next(), device)
            if backward:
                loss = compute(batch)
                if not loss.requires_grad:
                    raise ConfigError("range test: the loss does not depend on any parameter that requires grad")
                (loss / accum).backward()
            else:
                with torch.no_grad():
                    loss = compute(batch)
            total += float(loss.detach())
        return total / accum

    def validation_loss() -> float:
        flags = [(m, m.training) for m in model.modules()]
        model.eval()
        total, count = 0.0, 0
        try:
            with torch.no_grad():
                for batch in val_loader:
                    batch = _to(batch, device)
                    n = max(_batch_len(batch), 1)
                    total += float(compute(batch).detach()) * n
                    count += n
        finally:
            for m, flag in flags:
                m.training = flag
        if count == 0:
            raise ConfigError("range test: val_loader gave no batches")
        return total / count

    def weights_finite() -> bool:
        with torch.no_grad():
            return bool(all(torch.isfinite(p).all() for p in params))

    def one_run(k: int, batches: _Batches) -> RangeTestResult:
        model.train()
        last = None
        try:
            initial = train_loss(batches, backward=True)
        except _OutOfData:
            raise ConfigError("range test: train_loader gave no batches") from None
        if not math.isfinite(initial) or not all(p.grad is None or torch.isfinite(p.grad).all() for p in params):
            raise ConfigError("range test: the loss or its gradient at the starting weights is not finite")

        def apply(lr: float) -> bool:
            for g, r in zip(optimizer.param_groups, ratios):
                _set_lr(g, lr * r)
            optimizer.step()
            model.zero_grad(set_to_none=True)
            return weights_finite()

        def next_loss(with_grad: bool) -> float:
            try:
                return train_loss(batches, backward=with_grad)
            except _OutOfData:
                raise lr_finder.EndOfData from None

        def on_point(run: lr_finder.RangeRun, i: int, lr: float, loss: float, v_loss: float | None) -> None:
            nonlocal last
            last = RangeTestProgress(k, repeats, i, n_iter, lr, loss, v_loss)
            if report is not None:
                report(last)
            if stream is not None and stream.due():
                partial = make_result(k, lr_finder.RangeRun(run.lrs, run.losses, run.val_losses, "end",
                                      f"running: step {i + 1} of {n_iter}" + (f", run {k + 1} of {repeats}" if repeats > 1 else "")), initial)
                stream.write([*results, partial], {**meta, "live": {"running": True, "run": k, "runs": repeats,
                                                                    "step": i, "num_iter": n_iter}})

        run = lr_finder.drive_range_test(grid, initial, apply, next_loss,
                                         val_loss=validation_loss if val_loader is not None else None,
                                         on_point=on_point, cancel=cancel, factor=factor, patience=patience,
                                         weights="weights")
        if bar is not None:
            bar.end_run(last, "" if run.stop_kind == "end" and len(run.lrs) == n_iter else run.stop_kind)
        return make_result(k, run, initial)

    def make_result(k: int, run: lr_finder.RangeRun, initial: float) -> RangeTestResult:
        return run.result(grid, with_val=val_loader is not None, mode=mode, seed=seed + k, initial_loss=initial,
                          batch_size=_loader_batch_size(train_loader) * accum,
                          optimizer=type(optimizer).__name__.lower())

    generators = _generators(train_loader)
    val_generators = [g for g in (_generators(val_loader) if val_loader is not None else []) if g not in generators]
    snapshot = _Snapshot(model, optimizer, generators + val_generators)
    notes: list[str] = []
    sequence = isinstance(train_loader, Sequence) and not isinstance(train_loader, (str, bytes))
    if repeats > 1 and not sequence and not _shuffles(train_loader):
        notes.append("the training loader does not shuffle, so the runs differ only in their RNG seeds")
    n_total = sum(p.numel() for p in params)
    n_train = sum(p.numel() for p in params if p.requires_grad)
    meta = {
        "source": "gd_studio.torch",
        "model": f"{type(model).__name__}: {n_total:,} parameters ({n_train:,} trainable)",
        "optimizer": f"{type(optimizer).__name__}, {len(groups)} param group{'s' if len(groups) != 1 else ''}",
        "lr_ratios": ratios,
        "lr_group": ref,
        "accumulation_steps": accum,
        "device": str(device),
        "seed": seed,
        "repeats": repeats,
        "versions": {"gd-studio": _version(), "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    if notes:
        meta["notes"] = notes
    stream = _Stream(stream_to) if stream_to is not None else None
    results: list[RangeTestResult] = []
    try:
        for k in range(repeats):
            if k and cancel is not None and cancel():
                break
            snapshot.reset_weights()
            run_seed = seed + k
            torch.manual_seed(run_seed)
            np.random.seed(run_seed)
            random.seed(run_seed)
            for g in generators:
                g.manual_seed(run_seed)
            batches = _Batches(train_loader, run_seed, shuffle_sequence=sequence and k > 0)
            result = one_run(k, batches)
            results.append(result)
            if result.stop_kind == "cancelled":
                break
    except BaseException as exc:
        if stream is not None and (stream.latest or results):
            stream.write(stream.latest or results, {**meta, "live": {"running": False, "failed": str(exc) or
                                                                     type(exc).__name__}}, force=True, quiet=True)
        raise
    finally:
        snapshot.restore()

    record = record_from_results(results, meta=meta)
    if stream is not None:
        stream.write(results, meta, force=True)
    return record


class _Stream:
    """Rewrites a .gdrange file with the test so far, at most every ``interval`` seconds."""

    def __init__(self, path) -> None:
        self.path, self.interval, self.last = path, STREAM_INTERVAL, -math.inf
        self.latest: list = []  # the runs last written, so a failure can still be reported in the file

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.interval

    def write(self, results, meta: dict, *, force: bool = False, quiet: bool = False) -> None:
        if not results or not (force or self.due()):
            return
        self.latest = list(results)
        try:
            rangefile.save(record_from_results(results, meta=meta), self.path)
        except rangefile.RangeFileError:
            if not quiet:
                raise
        self.last = time.monotonic()


def _loader_batch_size(loader) -> int:
    b = getattr(loader, "batch_size", None)
    return int(b) if isinstance(b, int) and not isinstance(b, bool) else 0


def _version() -> str:
    from .. import __version__
    return __version__
