"""Range-test records: the versioned ``.gdrange`` file (JSON, data only) and curves from other LR finders.

A ``RangeTestRecord`` is a ``lr_finder.RangeTestResult`` plus what a file keeps besides the curve: the
summary of repeated runs (median curve, band, spread of each suggestion), free-form metadata (model,
optimizer, versions, where the curve came from) and notes made while reading it. Whoever opens a record
(the window, ``gd-studio suggest``, a script) sees suggestions computed by *this* version's rules from the
raw losses stored in the file; the suggestions the file was written with are kept only for comparison.

File layout, version 1 (every number finite; ``null`` where a value is undefined)::

    {"format": "gd-studio-range-test", "version": 1, "written_by": "gd-studio 0.1.0",
     "test":  {"mode", "start_lr", "end_lr", "num_iter", "batch_size", "optimizer"},
     "curve": {"lrs", "losses", "smoothed", "val_losses", "seed", "stop_kind", "stop_reason", "initial_loss"},
     "suggestions": {name: lr or null},
     "repeats": null | {"band", "low", "high", "spread": {name: {"center", "factor", "count"} or null},
                        "runs": [{"seed", "losses", "val_losses", "stop_kind", "stop_reason", "initial_loss"}]},
     "meta": {...any JSON...}}

With ``repeats``, ``curve`` is the median over the runs and each run's learning rates are the first
``len(losses)`` points of ``lr_finder.lr_grid(start_lr, end_lr, num_iter, mode)``.
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from . import fileio, lr_finder
from .errors import GDStudioError
from .lr_finder import CurveError, RangeTestResult, RepeatResult

FORMAT = "gd-studio-range-test"
VERSION = 1
SUFFIX = ".gdrange"
FILE_FILTER = "GD Studio range tests (*.gdrange)"  # for a file dialog
MAX_BYTES = 64 * 2**20  # 100 000 steps × 5 runs fit many times over; anything bigger is not ours
_BAND = "10th–90th percentile"


class RangeFileError(GDStudioError):
    """A range-test file that cannot be read or written; the message names the file and the JSON path."""


# -- the record ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RangeTestRecord(RangeTestResult):
    """A ``RangeTestResult`` with what a ``.gdrange`` file keeps besides the curve.

    ``repeat`` is the ``RepeatResult`` when the curve is the median of several runs (band:
    ``repeat.low``/``repeat.high``; spread: ``describe(name)``). ``meta`` is JSON-ready metadata;
    ``notes`` are remarks made while reading a file; ``path`` is the file it was read from.
    """

    repeat: RepeatResult | None = None
    meta: dict = field(default_factory=dict)
    notes: tuple = ()
    path: str | None = None

    @property
    def band(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(low, high) across repeated runs, aligned with ``lrs``; None for a single run."""
        return None if self.repeat is None else (self.repeat.low, self.repeat.high)

    def describe(self, name: str) -> str:
        """A suggestion in words: "3.1e-3", with its ×/÷ spread over repeated runs when there were any."""
        if self.repeat is not None:
            return f"{lr_finder.fmt_lr(self.suggestions.get(name))} (runs: {self.repeat.describe(name)})"
        return lr_finder.fmt_lr(self.suggestions.get(name))

    def summary(self) -> list[tuple[str, str]]:
        """(label, text) rows saying where the curve came from, for a window's info panel or a terminal."""
        rows = [("source", str(self.meta.get("source", "gd-studio")))]
        for key in ("model", "optimizer", "data", "device"):
            if self.meta.get(key):
                rows.append((key, str(self.meta[key])))
        runs = 1 if self.repeat is None else len(self.repeat.results)
        rows.append(("points", f"{self.lrs.size} from {lr_finder.fmt_lr(self.start_lr)} to "
                               f"{lr_finder.fmt_lr(self.end_lr)} ({self.mode})"))
        rows.append(("runs", "1" if runs == 1 else f"{runs}, median curve and {_BAND} band"))
        rows.append(("stopped", self.stop_reason))
        rows.extend(("note", n) for n in self.notes)
        return rows

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["repeat"] = None if self.repeat is None else self.repeat.to_dict()
        d["meta"] = dict(self.meta)
        return d


def _base_fields(r: RangeTestResult) -> dict:
    return {f.name: getattr(r, f.name) for f in fields(RangeTestResult)}


def record_from_results(results: Iterable[RangeTestResult], *, meta: dict | None = None) -> RangeTestRecord:
    """One run as a record, or several runs (same LR grid) as their median curve with band and spread.

    Several runs are summarised by ``lr_finder.summarize``, so the median, band and suggestions follow
    the engine's repeat rules exactly.
    """
    results = tuple(results)
    meta = dict(meta or {})
    if len(results) == 1:
        r = results[0]
        base = _base_fields(r)
        if isinstance(r, RangeTestRecord):
            meta = {**r.meta, **meta}
        return RangeTestRecord(**base, meta=meta)
    rep = lr_finder.summarize(results)
    first, n = results[0], rep.lrs.size
    val = None
    if n and all(r.val_losses is not None for r in results):
        curves = np.full((len(results), n), np.nan)
        for i, r in enumerate(results):
            m = min(n, r.val_losses.size)
            curves[i, :m] = r.val_losses[:m]
        val = np.nanmedian(curves, axis=0)
    kinds = Counter(r.stop_kind for r in results)
    kind = "cancelled" if kinds["cancelled"] else max(kinds, key=lambda k: (kinds[k], -lr_finder.STOP_KINDS.index(k)))
    reasons = ", ".join(f"{c} {k}" for k, c in sorted(kinds.items(), key=lambda kv: -kv[1]))
    initial = [r.initial_loss for r in results if r.initial_loss is not None]
    base = _base_fields(first)
    base.update(
        lrs=rep.lrs, losses=rep.median, smoothed=rep.smoothed, val_losses=None if val is None else _frozen(val),
        suggestions=dict(rep.suggestions), stop_kind=kind,
        stop_reason=f"median of {len(results)} runs (seeds {', '.join(str(s) for s in rep.seeds)}); runs ended: {reasons}",
        initial_loss=float(np.median(initial)) if initial else None,
    )
    return RangeTestRecord(**base, repeat=rep, meta=meta)


def _frozen(a) -> np.ndarray:
    arr = np.array(a, dtype=np.float64)
    arr.setflags(write=False)
    return arr


# -- writing ------------------------------------------------------------------------------------------
def _floats(a) -> list:
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def _opt(v):
    return None if v is None or not math.isfinite(float(v)) else float(v)


def to_document(obj, *, meta: dict | None = None) -> dict:
    """The JSON document ``save`` writes for a RangeTestResult, RangeTestRecord or RepeatResult."""
    from .. import __version__

    if isinstance(obj, RepeatResult):
        record = record_from_results(obj.results, meta=meta)
    elif isinstance(obj, RangeTestRecord):
        record = replace(obj, meta={**obj.meta, **(meta or {})}) if meta else obj
    elif isinstance(obj, RangeTestResult):
        record = record_from_results([obj], meta=meta)
    else:
        raise RangeFileError(f"save: expected a range-test result, got {type(obj).__name__}")
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "written_by": f"gd-studio {__version__}",
        "test": {"mode": record.mode, "start_lr": float(record.start_lr), "end_lr": float(record.end_lr),
                 "num_iter": int(record.num_iter), "batch_size": int(record.batch_size),
                 "optimizer": str(record.optimizer)},
        "curve": {"lrs": _floats(record.lrs), "losses": _floats(record.losses),
                  "smoothed": _floats(record.smoothed),
                  "val_losses": None if record.val_losses is None else _floats(record.val_losses),
                  "seed": int(record.seed), "stop_kind": record.stop_kind, "stop_reason": record.stop_reason,
                  "initial_loss": _opt(record.initial_loss)},
        "suggestions": {k: _opt(v) for k, v in record.suggestions.items()},
        "repeats": None,
        "meta": _json_ready(record.meta, "meta"),
    }
    rep = record.repeat
    if rep is not None:
        doc["repeats"] = {
            "band": rep.band, "low": _floats(rep.low), "high": _floats(rep.high),
            "spread": {k: (None if v is None else {"center": float(v[0]), "factor": float(v[1]),
                                                   "count": int(rep.counts[k])})
                       for k, v in rep.spread.items()},
            "runs": [{"seed": int(r.seed), "losses": _floats(r.losses),
                      "val_losses": None if r.val_losses is None else _floats(r.val_losses),
                      "stop_kind": r.stop_kind, "stop_reason": r.stop_reason,
                      "initial_loss": _opt(r.initial_loss)} for r in rep.results],
        }
    return doc


def _json_ready(value, where: str):
    """A copy of ``value`` made of JSON types only, or RangeFileError naming the offending key."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise RangeFileError(f"save: {where} is {float(value)!r}; only finite numbers can be written")
        return float(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise RangeFileError(f"save: {where} has a key {k!r} that is not a string")
            out[k] = _json_ready(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_json_ready(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise RangeFileError(f"save: {where} is a {type(value).__name__}; use strings, numbers, lists and dicts")


def _dumps(value, indent: int = 0) -> str:
    """JSON with objects indented and lists of numbers on one line: readable, and small enough."""
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(pad + _dumps(v, indent + 1) for v in value) + "\n" + "  " * indent + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def save(obj, path, *, meta: dict | None = None) -> Path:
    """Write a range test (result, record or repeat result) to ``path`` as a ``.gdrange`` file.

    The file is written next to its destination and renamed into place, so a crash never leaves half a
    file; floats are written with ``repr``, so they read back bit for bit.
    """
    text = _dumps(to_document(obj, meta=meta)) + "\n"
    dest = Path(os.fspath(path))
    fileio.atomic_write(dest, text, error=RangeFileError)  # writes through symlinks, refuses devices and FIFOs
    return dest


# -- reading ------------------------------------------------------------------------------------------
def is_range_file(path) -> bool:
    """True when ``path`` is named like a range-test file (the window's open dispatch uses this)."""
    return str(path).lower().endswith(SUFFIX)


def _read_text(path: Path) -> str:
    raw = fileio.read_bytes(path, limit=MAX_BYTES, error=RangeFileError, what="a range-test file",
                            adjustable=False)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RangeFileError(f"{path}: not UTF-8 text (byte {exc.start}); is it a range-test file?") from None


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} appears twice in one object")
        out[k] = v
    return out


class _Reader:
    """Validation with messages of the form "FILE: $.curve.losses[3]: expected a number, got 'x'"."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, what: str):
        raise RangeFileError(f"{self.path}: {where}: {what}")

    def obj(self, d, where: str, required: tuple, optional: tuple = ()) -> dict:
        if not isinstance(d, dict):
            self.fail(where, f"expected an object, got {_kind(d)}")
        missing = [k for k in required if k not in d]
        if missing:
            self.fail(where, f"missing {', '.join(repr(k) for k in missing)}")
        extra = sorted(set(d) - set(required) - set(optional))
        if extra:
            self.fail(where, f"unknown key {extra[0]!r} (this version reads: {', '.join(required + optional)})")
        return d

    def num(self, v, where: str, *, positive: bool = False, optional: bool = False) -> float | None:
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(where, f"expected a number, got {_kind(v)}")
        v = float(v)
        if not math.isfinite(v):
            self.fail(where, f"{v!r} is not finite")
        if positive and not v > 0:
            self.fail(where, f"expected a number above 0, got {v:g}")
        return v

    def nums(self, v, where: str, *, optional: bool = False) -> np.ndarray | None:
        if v is None and optional:
            return None
        if not isinstance(v, list):
            self.fail(where, f"expected a list of numbers, got {_kind(v)}")
        for i, x in enumerate(v):
            self.num(x, f"{where}[{i}]")
        return np.array(v, dtype=np.float64)

    def int(self, v, where: str, low: int, high: int) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            self.fail(where, f"expected a whole number from {low} to {high}, got {_kind(v)}")
        return v

    def text(self, v, where: str, choices: tuple | None = None) -> str:
        if not isinstance(v, str):
            self.fail(where, f"expected a string, got {_kind(v)}")
        if choices is not None and v not in choices:
            self.fail(where, f"expected one of {', '.join(choices)}, got {v!r}")
        return v


def _kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return repr(v if len(v) <= 40 else v[:37] + "...")
    return "a list" if isinstance(v, list) else "an object"


def parse(text: str, path="<string>") -> RangeTestRecord:
    """A record from the text of a ``.gdrange`` file; ``path`` only names it in messages."""
    path = Path(os.fspath(path))
    try:
        doc = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise RangeFileError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise RangeFileError(f"{path}: not a range-test file: {exc}") from None
    rd = _Reader(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        rd.fail("$.format", f"not a GD Studio range-test file (expected format {FORMAT!r})")
    version = doc.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        rd.fail("$.version", f"written by a newer GD Studio (format version {version}); this one reads "
                             f"version {VERSION}: please update")
    rd.int(version, "$.version", 1, VERSION)
    rd.obj(doc, "$", ("format", "version", "test", "curve", "suggestions"), ("written_by", "repeats", "meta"))
    test = rd.obj(doc["test"], "$.test", ("mode", "start_lr", "end_lr", "num_iter"), ("batch_size", "optimizer"))
    mode = rd.text(test["mode"], "$.test.mode", lr_finder.MODES)
    start = rd.num(test["start_lr"], "$.test.start_lr", positive=True)
    end = rd.num(test["end_lr"], "$.test.end_lr", positive=True)
    num_iter = rd.int(test["num_iter"], "$.test.num_iter", 1, 10 * lr_finder.MAX_ITER)
    batch_size = rd.int(test.get("batch_size", 0), "$.test.batch_size", 0, 2**62)
    optimizer = rd.text(test.get("optimizer", ""), "$.test.optimizer")
    curve = rd.obj(doc["curve"], "$.curve", ("lrs", "losses"),
                   ("smoothed", "val_losses", "seed", "stop_kind", "stop_reason", "initial_loss"))
    lrs = rd.nums(curve["lrs"], "$.curve.lrs")
    losses = rd.nums(curve["losses"], "$.curve.losses")
    n = lrs.size
    for key in ("losses", "smoothed", "val_losses"):
        arr = rd.nums(curve.get(key), f"$.curve.{key}", optional=True)
        if arr is not None and arr.size != n:
            rd.fail(f"$.curve.{key}", f"{arr.size} values for {n} learning rates")
    bad = np.flatnonzero(~(lrs > 0))
    if bad.size:
        rd.fail(f"$.curve.lrs[{bad[0]}]", f"learning rates must be above 0, got {lrs[bad[0]]:g}")
    down = np.flatnonzero(np.diff(lrs) <= 0)
    if down.size:
        i = int(down[0]) + 1
        rd.fail(f"$.curve.lrs[{i}]", f"learning rates must increase; {lrs[i]:g} follows {lrs[i - 1]:g}")
    seed = rd.int(curve.get("seed", 0), "$.curve.seed", 0, 2**63)
    stop_kind = rd.text(curve.get("stop_kind", "end"), "$.curve.stop_kind", lr_finder.STOP_KINDS)
    stop_reason = rd.text(curve.get("stop_reason", ""), "$.curve.stop_reason")
    initial = rd.num(curve.get("initial_loss"), "$.curve.initial_loss", optional=True)
    saved = doc["suggestions"]
    if not isinstance(saved, dict):
        rd.fail("$.suggestions", f"expected an object, got {_kind(saved)}")
    for k, v in saved.items():
        rd.num(v, f"$.suggestions.{k}", positive=True, optional=True)
    meta = doc.get("meta") or {}
    if not isinstance(meta, dict):
        rd.fail("$.meta", f"expected an object, got {_kind(meta)}")

    common = dict(mode=mode, start_lr=start, end_lr=end, num_iter=num_iter, batch_size=batch_size,
                  optimizer=optimizer)
    repeats = doc.get("repeats")
    try:
        if repeats is None:
            record = RangeTestRecord.from_dict(dict(
                lrs=lrs, losses=losses, val_losses=curve.get("val_losses"), seed=seed, stop_kind=stop_kind,
                stop_reason=stop_reason, initial_loss=initial, **common))
            record = replace(record, meta=meta)
        else:
            record = _parse_repeats(rd, repeats, common, meta)
    except CurveError as exc:
        rd.fail("$.curve", str(exc))
    except GDStudioError as exc:  # e.g. a grid lr_grid refuses
        rd.fail("$.test", str(exc))
    notes = []
    stale = [k for k, v in saved.items() if k in record.suggestions and not _close(v, record.suggestions[k])]
    if stale:
        notes.append(f"suggestions recomputed with this version's rules; the file's {', '.join(stale)} differ")
    return replace(record, notes=tuple(notes), path=str(path))


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(abs(float(a)), abs(float(b)))


def _parse_repeats(rd: _Reader, repeats, common: dict, meta: dict) -> RangeTestRecord:
    rep = rd.obj(repeats, "$.repeats", ("runs",), ("band", "low", "high", "spread"))
    runs = rep["runs"]
    if not isinstance(runs, list) or len(runs) < 2:
        rd.fail("$.repeats.runs", "expected a list of at least two runs")
    grid = lr_finder.lr_grid(common["start_lr"], common["end_lr"], common["num_iter"], common["mode"])
    results = []
    for i, run in enumerate(runs):
        where = f"$.repeats.runs[{i}]"
        rd.obj(run, where, ("losses",), ("seed", "val_losses", "stop_kind", "stop_reason", "initial_loss"))
        losses = rd.nums(run["losses"], f"{where}.losses")
        if losses.size > grid.size:
            rd.fail(f"{where}.losses", f"{losses.size} losses for a grid of {grid.size} learning rates")
        val = rd.nums(run.get("val_losses"), f"{where}.val_losses", optional=True)
        if val is not None and val.size != losses.size:
            rd.fail(f"{where}.val_losses", f"{val.size} values for {losses.size} losses")
        results.append(RangeTestResult.from_dict(dict(
            lrs=grid[:losses.size], losses=losses, val_losses=val,
            seed=rd.int(run.get("seed", 0), f"{where}.seed", 0, 2**63),
            stop_kind=rd.text(run.get("stop_kind", "end"), f"{where}.stop_kind", lr_finder.STOP_KINDS),
            stop_reason=rd.text(run.get("stop_reason", ""), f"{where}.stop_reason"),
            initial_loss=rd.num(run.get("initial_loss"), f"{where}.initial_loss", optional=True), **common)))
    for key in ("low", "high"):
        rd.nums(rep.get(key), f"$.repeats.{key}", optional=True)
    return record_from_results(results, meta=meta)


def load(path) -> RangeTestRecord:
    """Read a ``.gdrange`` file: a record whose suggestions follow this version's rules.

    Refuses anything that is not a regular file of at most ``MAX_BYTES``; every problem raises
    ``RangeFileError`` naming the file and, inside it, the JSON path (``$.curve.losses[3]``).
    """
    p = Path(os.fspath(path))
    return parse(_read_text(p), p)


# -- curves recorded by other LR finders --------------------------------------------------------------
def _values(seq, what: str) -> np.ndarray:
    """Floats from a list of numbers, NumPy scalars or 0-d tensors (anything ``float()`` takes)."""
    if seq is None:
        raise CurveError(f"{what}: missing")
    try:
        items = list(seq)
    except TypeError:
        raise CurveError(f"{what}: expected a list of numbers, got {type(seq).__name__}") from None
    out = np.empty(len(items))
    for i, v in enumerate(items):
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise CurveError(f"{what}[{i}]: expected a number, got {v!r}") from None
    return out


def _finite_prefix(y: np.ndarray) -> int:
    bad = ~np.isfinite(y)
    return int(np.argmax(bad)) if bad.any() else y.size


def unsmooth_debiased_ema(values, beta: float) -> np.ndarray:
    """Raw losses behind a bias-corrected EMA ``v_t = a_t / (1 − βᵗ⁺¹)``, ``a_t = β·a_{t−1} + (1 − β)·x_t``.

    That is the smoothing fastai's Recorder and Lightning's LR finder apply before they record a loss;
    the inverse is exact, so the lag their smoothing adds goes away. Stops at the first non-finite value.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[:_finite_prefix(v)]
    t = np.arange(1, v.size + 1)
    a = v * -np.expm1(t * math.log(beta))  # 1 − β**t without cancellation for β near 1
    prev = np.concatenate([[0.0], a[:-1]])
    return (a - beta * prev) / (1.0 - beta)


def unsmooth_ema(values, smooth_f: float) -> np.ndarray:
    """Raw losses behind ``h_0 = x_0``, ``h_t = f·x_t + (1 − f)·h_{t−1}`` (torch-lr-finder's ``smooth_f``)."""
    h = np.asarray(values, dtype=np.float64)
    h = h[:_finite_prefix(h)]
    if h.size == 0:
        return h
    out = np.empty_like(h)
    out[0] = h[0]
    out[1:] = (h[1:] - (1.0 - smooth_f) * h[:-1]) / smooth_f
    return out


def _infer_mode(lrs: np.ndarray) -> str:
    if lrs.size < 3:
        return "exp"
    steps = np.diff(lrs)
    if np.ptp(steps) <= 1e-6 * abs(steps.mean()):
        return "linear"
    return "exp"


def from_curve(lrs, losses, *, val_losses=None, source: str = "curve", meta: dict | None = None,
               align: bool = False) -> RangeTestRecord:
    """A record from any recorded (lr, loss) curve, analysed by the engine's rules.

    ``align`` pairs each learning rate with the *next* recorded loss. Finders that record the loss of a
    mini-batch before the update made with that batch's LR (fastai, Lightning, torch-lr-finder) credit
    each LR with its predecessor's effect; GD Studio records the loss after the update, so aligning moves
    their curve onto ours (one point shorter).
    """
    lr = _values(lrs, f"{source}: lrs")
    loss = _values(losses, f"{source}: losses")
    if lr.size != loss.size:
        raise CurveError(f"{source}: {lr.size} learning rates but {loss.size} losses")
    if lr.size < 2:
        raise CurveError(f"{source}: a curve needs at least 2 points, got {lr.size}")
    val = None if val_losses is None else _values(val_losses, f"{source}: val_losses")
    if align and lr.size:
        lr, loss = lr[:-1], loss[1:]
        val = None if val is None else val[1:]
    if val is not None and val.size != loss.size:
        raise CurveError(f"{source}: {val.size} validation losses for {loss.size} losses")
    cut = _finite_prefix(loss)
    lr_c, loss_c = lr[:cut], loss[:cut]
    stop_kind = "non_finite" if cut < loss.size else "end"
    info = {"source": source, **(meta or {})}
    record = RangeTestRecord.from_dict(dict(
        lrs=lr_c, losses=loss_c, val_losses=None if val is None else val[:cut],
        mode=_infer_mode(lr_c), start_lr=float(lr[0]) if lr.size else 1e-7,
        end_lr=float(lr[-1]) if lr.size else 10.0, num_iter=int(lr.size), stop_kind=stop_kind,
        stop_reason=(f"{source}: non-finite loss after {cut} of {loss.size} points" if stop_kind == "non_finite"
                     else f"{source}: {loss.size} recorded points"), batch_size=0, optimizer=""))
    return replace(record, meta=info)


def from_fastai(recorder, *, beta: float | None = None, align: bool = True) -> RangeTestRecord:
    """A fastai ``Learner.recorder`` after ``learn.lr_find()``: reads ``recorder.lrs`` and ``recorder.losses``.

    fastai records its bias-corrected smoothed loss (``recorder.smooth_loss.beta``, 0.98 by default);
    with ``beta`` None that β is read from the recorder (0.98 when absent) and the smoothing undone
    exactly, so our lag-free smoothing sees the raw losses. ``beta=0`` takes the losses as they are.
    """
    if beta is None:
        beta = getattr(getattr(recorder, "smooth_loss", None), "beta", 0.98)
    lrs = _values(getattr(recorder, "lrs", None), "fastai recorder: lrs")
    losses = _values(getattr(recorder, "losses", None), "fastai recorder: losses")
    return _from_smoothed("fastai", lrs, losses, beta, align, "recorder.lrs, recorder.losses", debiased=True)


def from_lightning(lr_finder_result, *, beta: float = 0.98, align: bool = True) -> RangeTestRecord:
    """Lightning's ``Tuner(trainer).lr_find(model)`` result: reads ``.results["lr"]`` and ``.results["loss"]``.

    Lightning records a bias-corrected smoothed loss (β = 0.98, its callback's default); the smoothing is
    undone exactly. Pass the β you used, or ``beta=0`` to take the losses as they are.
    """
    results = getattr(lr_finder_result, "results", lr_finder_result)
    if not isinstance(results, dict) or "lr" not in results or "loss" not in results:
        raise CurveError("Lightning lr_find result: expected .results with keys 'lr' and 'loss'")
    lrs = _values(results["lr"], "Lightning lr_find: results['lr']")
    losses = _values(results["loss"], "Lightning lr_find: results['loss']")
    return _from_smoothed("lightning", lrs, losses, beta, align, "results['lr'], results['loss']", debiased=True)


def from_torch_lr_finder(history, *, smooth_f: float = 0.05, align: bool = True) -> RangeTestRecord:
    """torch-lr-finder's ``LRFinder.history`` (or the finder itself): reads ``["lr"]`` and ``["loss"]``.

    torch-lr-finder smooths as ``h_t = f·x_t + (1 − f)·h_{t−1}`` with ``smooth_f`` = 0.05 by default;
    pass the ``smooth_f`` given to ``range_test`` (0 when it was off) and the smoothing is undone exactly.
    """
    hist = getattr(history, "history", history)
    if not isinstance(hist, dict) or "lr" not in hist or "loss" not in hist:
        raise CurveError("torch-lr-finder history: expected a dict with keys 'lr' and 'loss'")
    lrs = _values(hist["lr"], "torch-lr-finder: history['lr']")
    losses = _values(hist["loss"], "torch-lr-finder: history['loss']")
    return _from_smoothed("torch-lr-finder", lrs, losses, smooth_f, align, "history['lr'], history['loss']",
                          debiased=False)


def _from_smoothed(source: str, lrs, losses, factor, align: bool, read: str, *, debiased: bool) -> RangeTestRecord:
    try:
        factor = float(factor)
    except (TypeError, ValueError):
        factor = math.nan
    in_range = 0.0 <= factor < 1.0 if debiased else 0.0 <= factor <= 1.0
    if not in_range:
        name = "beta" if debiased else "smooth_f"
        raise CurveError(f"{source}: {name} must be from 0 to {'below ' if debiased else ''}1, got {factor!r}")
    meta: dict[str, Any] = {"read": read}
    off = factor == 0.0 if debiased else factor in (0.0, 1.0)
    if not off:
        raw = unsmooth_debiased_ema(losses, factor) if debiased else unsmooth_ema(losses, factor)
        losses = np.concatenate([raw, losses[raw.size:]])
        meta["unsmoothed"] = {"beta": factor} if debiased else {"smooth_f": factor}
    meta["aligned"] = bool(align)
    return from_curve(lrs, losses, source=source, meta=meta, align=align)


# -- "use in PyTorch" ---------------------------------------------------------------------------------
def snippet(record: RangeTestResult, lr: float, *, schedule: str | None = None, schedule_params: dict | None = None,
            total_steps: int | None = None, label: str | None = None) -> str:
    """PyTorch lines that train with ``lr`` (and an optional GD Studio schedule) after this range test.

    A test run by ``gd_studio.torch`` sets the LR on the user's own optimizer, each param group keeping
    the ratio it had during the test; a test run by the engine gives the full loop of
    ``snippets.pytorch_snippet``. Bad settings raise ConfigError.
    """
    from . import snippets
    from .config import check_lr

    lr = check_lr(lr, "snippet: lr")
    meta = getattr(record, "meta", None) or {}
    head = f"# {label + ': ' if label else ''}lr = {lr_finder.fmt_lr(lr)} from the range test"
    source = meta.get("source", "gd-studio")
    if source == "gd-studio" and record.optimizer in snippets._TORCH_CLASS:
        code = snippets.pytorch_snippet(record.optimizer, meta.get("optimizer_params"), lr, schedule,
                                        schedule_params, total_steps=total_steps)
        return head + "\n" + code
    override, sched = snippets.scheduler_lines(schedule, schedule_params, lr, total_steps=total_steps)
    value = snippets._num(override if override is not None else lr)
    ratios = meta.get("lr_ratios") or [1.0]
    if len(ratios) > 1 and any(r != 1.0 for r in ratios):
        lines = ["# each param group keeps the LR ratio it had in the range test (the largest group gets lr)",
                 f"for group, ratio in zip(optimizer.param_groups, {[float(r) for r in ratios]!r}):",
                 f"    group[\"lr\"] = {value} * ratio"]
        if sched:
            lines.append("# note: a scheduler created below sets every group from the same numbers")
    else:
        lines = ["for group in optimizer.param_groups:  # optimizer: the one you ran the range test with",
                 f"    group[\"lr\"] = {value}"]
    if sched:
        lines += [*sched, "# call scheduler.step() after every optimizer.step(): these schedules count steps"]
    return "\n".join([head, *lines]) + "\n"
