"""Datasets: seeded toy generators, the bundled Iris and digits, CSV loading, standardisation and splits."""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import math
import operator
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from . import fileio
from .errors import GDStudioError

__all__ = [
    "BUNDLED",
    "DESCRIPTIONS",
    "Dataset",
    "DatasetError",
    "GENERATORS",
    "NAMES",
    "PARAMETERS",
    "load_csv",
    "make",
    "one_hot",
    "read_csv_columns",
    "save_csv",
    "standardize",
    "train_val_split",
]

GENERATORS = ("line", "blobs", "moons", "circles", "xor", "spiral", "sine", "valley")
BUNDLED = ("iris", "digits")
NAMES = GENERATORS + BUNDLED

DESCRIPTIONS = {
    "line": "One feature, y = slope·x + noise: with the one-weight model the loss against w is a parabola",
    "blobs": "Two Gaussian clusters, cat vs dog",
    "moons": "Two interleaving half circles",
    "circles": "A small circle inside a large one",
    "xor": "Four squares, label = sign(x1) xor sign(x2)",
    "spiral": "k interleaved spiral arms, one class each",
    "sine": "One feature, y = sin(frequency·x) + noise (regression)",
    "valley": "Two features with correlation 0.95, y = 1.5·x1 − x2 + noise (regression): for a linear model "
              "the loss is a long narrow valley",
    "iris": "Iris flowers (Fisher, UCI): 150 samples, 4 measurements, 3 species",
    "digits": "8×8 handwritten digits (UCI): 1,797 samples, 64 pixels, 10 classes",
}

# What each name reads, so a panel can enable only the controls that matter. Extra keywords beyond
# n_samples/noise/seed/n_classes are passed to make() as **kw.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "line": ("n_samples", "noise", "seed", "slope"),
    "blobs": ("n_samples", "noise", "seed", "separation"),
    "moons": ("n_samples", "noise", "seed"),
    "circles": ("n_samples", "noise", "seed", "factor"),
    "xor": ("n_samples", "noise", "seed"),
    "spiral": ("n_samples", "noise", "seed", "n_classes", "turns"),
    "sine": ("n_samples", "noise", "seed", "frequency"),
    "valley": ("n_samples", "noise", "seed"),
    "iris": (),
    "digits": (),
}

MIN_SAMPLES = 2
MAX_SAMPLES = 1_000_000
MIN_CLASSES = 2
MAX_CLASSES = 26  # generators: one class per letter of the alphabet, as in the article's note
MAX_CSV_CLASSES = 100  # text labels beyond this are almost surely not class labels
# A numeric target is read as class labels when it holds whole numbers with at most this many values.
MAX_NUMERIC_CLASSES = 20

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)


class DatasetError(GDStudioError):
    """A dataset that cannot be made or read; the message says what and where (file, line, column)."""


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Samples X (n, d) float64 with targets y: int64 labels 0..k-1, or float64 values for regression.

    Treat the arrays as read-only: every function here returns new arrays rather than editing them.
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    name: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()  # what a loader guessed (encoding, header, task) and how to override it

    def __post_init__(self) -> None:
        X = np.ascontiguousarray(np.asarray(self.X, dtype=np.float64))
        if X.ndim != 2:
            raise DatasetError(f"dataset {self.name!r}: X must be a 2-D array (samples × features), got {X.ndim}-D")
        n, d = X.shape
        if n < 1 or d < 1:
            raise DatasetError(f"dataset {self.name!r}: X is empty ({n} samples × {d} features)")
        if not np.all(np.isfinite(X)):
            raise DatasetError(f"dataset {self.name!r}: X holds NaN or infinite values")
        if self.task not in TASKS:
            raise DatasetError(f"dataset {self.name!r}: task must be one of {', '.join(TASKS)}, got {self.task!r}")
        feature_names = tuple(str(f) for f in self.feature_names)
        if len(feature_names) != d:
            raise DatasetError(f"dataset {self.name!r}: {len(feature_names)} feature names for {d} features")
        class_names = tuple(str(c) for c in self.class_names)
        y = np.asarray(self.y)
        if y.shape != (n,):
            raise DatasetError(f"dataset {self.name!r}: y must have shape ({n},) to match X, got {y.shape}")
        if self.task == CLASSIFICATION:
            if len(class_names) < 1:
                raise DatasetError(f"dataset {self.name!r}: a classification dataset needs class names")
            if y.dtype.kind not in "iub":
                as_float = np.asarray(y, dtype=np.float64)
                if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.round(as_float)):
                    raise DatasetError(f"dataset {self.name!r}: class labels must be whole numbers")
            y = np.ascontiguousarray(y, dtype=np.int64)
            if y.min() < 0 or y.max() >= len(class_names):
                raise DatasetError(
                    f"dataset {self.name!r}: class labels must lie in 0..{len(class_names) - 1}, "
                    f"got {int(y.min())}..{int(y.max())}"
                )
        else:
            if class_names:
                raise DatasetError(f"dataset {self.name!r}: a regression dataset has no class names")
            y = np.ascontiguousarray(y, dtype=np.float64)
            if not np.all(np.isfinite(y)):
                raise DatasetError(f"dataset {self.name!r}: y holds NaN or infinite values")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "feature_names", feature_names)
        object.__setattr__(self, "class_names", class_names)
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "source", str(self.source))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.task == CLASSIFICATION else 0

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == CLASSIFICATION else 1

    @property
    def is_classification(self) -> bool:
        return self.task == CLASSIFICATION

    def take(self, indices: Any) -> "Dataset":
        """The samples at ``indices``, keeping every class name so n_outputs stays the same."""
        idx = np.asarray(indices, dtype=np.intp)
        return replace(self, X=self.X[idx], y=self.y[idx])

    def class_counts(self) -> np.ndarray:
        """Samples per class (length n_classes); empty for regression."""
        if self.task != CLASSIFICATION:
            return np.zeros(0, dtype=np.int64)
        return np.bincount(self.y, minlength=self.n_classes).astype(np.int64)

    def describe(self) -> str:
        what = f"{self.n_classes} classes" if self.task == CLASSIFICATION else "regression"
        features = "feature" if self.n_features == 1 else "features"
        return f"{self.name or 'dataset'}: {self.n_samples} samples × {self.n_features} {features}, {what}"

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, n_samples={self.n_samples}, "
            f"n_features={self.n_features}, n_classes={self.n_classes}, source={self.source!r})"
        )


# --------------------------------------------------------------------------------------------------
# Parameter checks


def _check_int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise DatasetError(f"{what}: must be a whole number from {low} to {high}, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        # 400.0 from a JSON file or a spin box is fine; 400.5 is not.
        if isinstance(value, float) and math.isfinite(value) and value == int(value):
            number = int(value)
        else:
            raise DatasetError(f"{what}: must be a whole number from {low} to {high}, got {value!r}") from None
    if not low <= number <= high:
        raise DatasetError(f"{what}: must be from {low} to {high}, got {number}")
    return number


def _check_float(value: Any, what: str, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> float:
    if isinstance(value, bool):
        raise DatasetError(f"{what}: must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{what}: must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise DatasetError(f"{what}: must be a finite number, got {value!r}")
    if low is not None and (number < low or (low_open and number == low)):
        sign = ">" if low_open else "≥"
        raise DatasetError(f"{what}: must be {sign} {low:g}, got {number:g}")
    if high is not None and number > high:
        raise DatasetError(f"{what}: must be ≤ {high:g}, got {number:g}")
    return number


def _check_seed(seed: Any) -> int:
    return _check_int(seed, "seed", 0, 2**63 - 1)


# --------------------------------------------------------------------------------------------------
# Generators: each takes (rng, n, noise, n_classes, **extra) and returns (X, y, task, features, classes)

_XY = ("x1", "x2")


def _class_sizes(n: int, k: int) -> np.ndarray:
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return sizes


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Samples come out grouped by class; shuffling keeps previews and unshuffled batches mixed.
    order = rng.permutation(len(y))
    return X[order], y[order]


def _gen_line(rng, n, noise, n_classes, slope=2.0):
    slope = _check_float(slope, "slope", -1e3, 1e3)
    x = rng.uniform(-1.0, 1.0, n)
    # Scale x to a mean square of exactly 1: the full-batch mse curvature along w is then exactly 2,
    # so plain descent on the one-weight model oscillates above lr = 0.5 and diverges above lr = 1.
    x *= 1.0 / math.sqrt(float(np.mean(x * x)))
    y = slope * x + noise * rng.standard_normal(n)
    return x[:, None], y, REGRESSION, ("x",), ()


def _gen_sine(rng, n, noise, n_classes, frequency=1.0):
    frequency = _check_float(frequency, "frequency", 0.0, 100.0, low_open=True)
    x = rng.uniform(-math.pi, math.pi, n)
    y = np.sin(frequency * x) + noise * rng.standard_normal(n)
    return x[:, None], y, REGRESSION, ("x",), ()


def _jitter(rng, X, noise):
    return X + noise * rng.standard_normal(X.shape)


def _gen_blobs(rng, n, noise, n_classes, separation=2.0):
    separation = _check_float(separation, "separation", 0.0, 100.0)
    sizes = _class_sizes(n, 2)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0]]) * (separation / (2.0 * math.sqrt(2.0)))
    # Each blob has spread 0.5 of its own; noise adds jitter on top, as for the other generators.
    parts = [centres[c] + 0.5 * rng.standard_normal((sizes[c], 2)) for c in range(2)]
    X = _jitter(rng, np.vstack(parts), noise)
    y = np.repeat(np.arange(2), sizes)
    X, y = _shuffled(rng, X, y)
    return X, y, CLASSIFICATION, _XY, ("cat", "dog")


def _gen_moons(rng, n, noise, n_classes):
    sizes = _class_sizes(n, 2)
    t0 = rng.uniform(0.0, math.pi, sizes[0])
    t1 = rng.uniform(0.0, math.pi, sizes[1])
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = _jitter(rng, np.vstack([upper, lower]), noise)
    y = np.repeat(np.arange(2), sizes)
    X, y = _shuffled(rng, X, y)
    return X, y, CLASSIFICATION, _XY, ("moon A", "moon B")


def _gen_circles(rng, n, noise, n_classes, factor=0.5):
    factor = _check_float(factor, "factor", 0.0, 1.0, low_open=True)
    if factor >= 1.0:
        raise DatasetError(f"factor: the inner circle's radius must be < 1 (the outer one's), got {factor:g}")
    sizes = _class_sizes(n, 2)
    angles = rng.uniform(0.0, 2.0 * math.pi, n)
    radius = np.repeat(np.array([factor, 1.0]), sizes)
    X = _jitter(rng, np.column_stack([radius * np.cos(angles), radius * np.sin(angles)]), noise)
    y = np.repeat(np.arange(2), sizes)
    X, y = _shuffled(rng, X, y)
    return X, y, CLASSIFICATION, _XY, ("inner", "outer")


def _gen_xor(rng, n, noise, n_classes):
    X = rng.uniform(-1.0, 1.0, (n, 2))
    # Labels come from the clean points; noise then blurs the quadrant borders.
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    X = _jitter(rng, X, noise)
    return X, y, CLASSIFICATION, _XY, ("0", "1")


def _gen_spiral(rng, n, noise, n_classes, turns=1.0):
    turns = _check_float(turns, "turns", 0.0, 5.0, low_open=True)
    k = n_classes
    sizes = _class_sizes(n, k)
    y = np.repeat(np.arange(k), sizes)
    r = rng.uniform(0.05, 1.0, n)
    theta = 2.0 * math.pi * (y / k + turns * r)
    X = _jitter(rng, np.column_stack([r * np.cos(theta), r * np.sin(theta)]), noise)
    X, y = _shuffled(rng, X, y)
    # Letters sort in label order, so a CSV round trip keeps the labels.
    return X, y, CLASSIFICATION, _XY, tuple(chr(ord("A") + c) for c in range(k))


def _gen_valley(rng, n, noise, n_classes):
    # Correlated features make the mse Hessian of a linear model ill-conditioned: along x1 + x2 the
    # curvature is 2(1 + ρ), along x1 − x2 only 2(1 − ρ), 39× less at ρ = 0.95. Plain descent at a rate the
    # steep side allows zig-zags across the valley and crawls along it: the classic case for momentum.
    rho = 0.95
    x1 = rng.standard_normal(n)
    x2 = rho * x1 + math.sqrt(1.0 - rho * rho) * rng.standard_normal(n)
    X = np.column_stack([x1, x2])
    y = 1.5 * x1 - x2 + noise * rng.standard_normal(n)
    return X, y, REGRESSION, ("x1", "x2"), ()


_GENERATORS: dict[str, Callable[..., tuple]] = {
    "line": _gen_line,
    "blobs": _gen_blobs,
    "moons": _gen_moons,
    "circles": _gen_circles,
    "xor": _gen_xor,
    "spiral": _gen_spiral,
    "sine": _gen_sine,
    "valley": _gen_valley,
}
_CLASSES_PER_GENERATOR = {"blobs": 2, "moons": 2, "circles": 2, "xor": 2}


# --------------------------------------------------------------------------------------------------
# Bundled data


def _resource(filename: str) -> Path:
    from .. import resources_path  # at call time: no import cycle if the package ever imports the engine

    try:
        path = resources_path("datasets", filename)
    except FileNotFoundError as exc:
        raise DatasetError(f"bundled datasets not found ({exc}); reinstall GD Studio") from None
    if not path.is_file():
        raise DatasetError(f"bundled dataset file missing: {path}; reinstall GD Studio")
    return path


@lru_cache(maxsize=None)
def _bundled(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...], str]:
    try:
        if name == "iris":
            path = _resource("iris.csv")
            with open(path, encoding="utf-8") as fh:
                head = next(csv.reader(fh))
                table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
            n_rows, n_features = int(head[0]), int(head[1])
            classes = tuple(head[2:])
            features = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
        else:
            path = _resource("digits.csv.gz")
            with gzip.open(path, "rt", encoding="ascii") as fh:
                table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
            n_rows, n_features = 1797, 64
            classes = tuple(str(d) for d in range(10))
            features = tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))
    except (OSError, ValueError, StopIteration, EOFError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"bundled dataset {name!r} cannot be read ({exc}); reinstall GD Studio") from None
    if table.shape != (n_rows, n_features + 1) or len(features) != n_features:
        raise DatasetError(f"bundled dataset {name!r} is damaged: shape {table.shape}; reinstall GD Studio")
    X = np.ascontiguousarray(table[:, :n_features])
    y = table[:, n_features].astype(np.int64)
    X.flags.writeable = False  # the cache hands out copies; this guards the cached original
    y.flags.writeable = False
    return X, y, features, classes, str(path)


# --------------------------------------------------------------------------------------------------
# Public API


def make(name: str, *, n_samples: int = 200, noise: float = 0.1, seed: int = 0, n_classes: int = 3,
         **kw: Any) -> Dataset:
    """A dataset by name: a seeded generator (same seed, bit-identical arrays) or bundled real data.

    ``n_samples``, ``noise`` (std of Gaussian jitter on every point or target) and ``seed`` drive the
    generators; ``n_classes`` is read by ``spiral``; extra keywords per name are listed in PARAMETERS.
    ``iris`` and ``digits`` ignore n_samples, noise and seed.
    """
    key = str(name).strip().lower() if isinstance(name, str) else name
    if key not in NAMES:
        raise DatasetError(f"dataset: unknown name {name!r}; choose one of {', '.join(NAMES)}")
    known = set(PARAMETERS[key]) - {"n_samples", "noise", "seed", "n_classes"}
    unknown = sorted(set(kw) - known)
    if unknown:
        accepted = ", ".join(PARAMETERS[key]) or "no parameters"
        raise DatasetError(f"dataset {key!r}: unknown parameter {unknown[0]!r}; it accepts {accepted}")

    if key in BUNDLED:
        X, y, features, classes, path = _bundled(key)
        return Dataset(X.copy(), y.copy(), CLASSIFICATION, features, classes, name=key, source=key)

    n = _check_int(n_samples, "number of samples", MIN_SAMPLES, MAX_SAMPLES)
    noise = _check_float(noise, "noise", 0.0, 1e3)
    seed = _check_seed(seed)
    k = _check_int(n_classes, "number of classes", MIN_CLASSES, MAX_CLASSES)
    needed = _CLASSES_PER_GENERATOR.get(key, k if key == "spiral" else 1)
    if n < needed:
        raise DatasetError(f"number of samples: {key!r} with {needed} classes needs at least {needed}, got {n}")
    rng = np.random.default_rng(seed)
    X, y, task, features, classes = _GENERATORS[key](rng, n, noise, k, **kw)
    return Dataset(X, y, task, features, classes, name=key, source=key)


def check_params(name: str, *, n_samples: int = 200, noise: float = 0.1, seed: int = 0, n_classes: int = 3,
                 **kw: Any) -> None:
    """Raise DatasetError for any setting ``make`` would refuse, without making the dataset."""
    key = str(name).strip().lower() if isinstance(name, str) else name
    if key not in NAMES:
        raise DatasetError(f"dataset: unknown name {name!r}; choose one of {', '.join(NAMES)}")
    if key in BUNDLED:
        make(key, **kw)  # cached after the first read; refuses unknown keywords
        return
    _check_int(n_samples, "number of samples", MIN_SAMPLES, MAX_SAMPLES)
    k = _check_int(n_classes, "number of classes", MIN_CLASSES, MAX_CLASSES)
    # a handful of samples runs every check the generator makes on its own keywords
    make(key, n_samples=max(int(n_samples) if n_samples <= 64 else 64, k), noise=noise, seed=seed,
         n_classes=k, **kw)


def shape_of(name: str) -> tuple[str, int]:
    """(task, number of features) of a generated or bundled dataset, without making it."""
    if name in ("line", "sine"):
        return REGRESSION, 1
    if name == "valley":  # two correlated features, a regression target (issue 11's narrow valley)
        return REGRESSION, 2
    if name == "iris":
        return CLASSIFICATION, 4
    if name == "digits":
        return CLASSIFICATION, 64
    return CLASSIFICATION, 2


def one_hot(y: Any, k: int) -> np.ndarray:
    """(n, k) float64 with a 1 in each row's label column."""
    k = _check_int(k, "number of classes", 1, 1_000_000)
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise DatasetError(f"one_hot: labels must be a 1-D array, got shape {labels.shape}")
    if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= k):
        raise DatasetError(f"one_hot: labels must be whole numbers in 0..{k - 1}")
    out = np.zeros((labels.size, k), dtype=np.float64)
    out[np.arange(labels.size), labels] = 1.0
    return out


def standardize(ds: Dataset, mean: Any = None, std: Any = None) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Features shifted and scaled to mean 0, std 1 (or by a given mean/std, e.g. the training set's).

    A constant feature has std 0; it is divided by 1 instead, so it becomes 0 rather than NaN.
    Returns (new dataset, mean, std) so a validation set can reuse the training statistics.
    """
    d = ds.n_features
    with np.errstate(all="ignore"):  # overflow is reported below with the dataset's name, not as a warning
        if mean is None or std is None:
            # scaled by each column's largest magnitude first, so values near 1e308 do not overflow
            scale = np.max(np.abs(ds.X), axis=0)
            scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
            unit = ds.X / scale
            if mean is None:
                mean = unit.mean(axis=0) * scale
            if std is None:
                std = unit.std(axis=0) * scale
        mean = np.array(mean, dtype=np.float64).reshape(-1) if np.ndim(mean) else np.full(d, float(mean))
        std = np.array(std, dtype=np.float64).reshape(-1) if np.ndim(std) else np.full(d, float(std))
        if mean.shape != (d,) or std.shape != (d,):
            raise DatasetError(f"standardize: mean and std need {d} values (one per feature), "
                               f"got {mean.size} and {std.size}")
        bad = ~(np.isfinite(mean) & np.isfinite(std)) | (std < 0)
        if bad.any():
            j = int(np.argmax(bad))
            raise DatasetError(f"{ds.source or ds.name or 'dataset'}, column {ds.feature_names[j]!r}: cannot be "
                               "standardised (its mean or spread is not a finite number); rescale the column")
        std = np.where(std > 0, std, 1.0)
        X = (ds.X - mean) / std
    if not np.all(np.isfinite(X)):
        j = int(np.argmax(~np.all(np.isfinite(X), axis=0)))
        raise DatasetError(f"{ds.source or ds.name or 'dataset'}, column {ds.feature_names[j]!r}: values too far "
                           "apart to standardise; rescale the column")
    return replace(ds, X=X), mean, std


def train_val_split(ds: Dataset, val_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset | None]:
    """A seeded random split into (train, validation); validation is None when the fraction is 0.

    Both sides get at least one sample. Every class name is kept on both sides, even when a small
    split leaves a class out, so the model's number of outputs does not change.
    """
    fraction = _check_float(val_fraction, "validation fraction", 0.0, 1.0)
    if fraction >= 1.0:
        raise DatasetError(f"validation fraction: must be below 1 (training needs samples), got {fraction:g}")
    seed = _check_seed(seed)
    if fraction == 0.0:
        return ds, None
    n = ds.n_samples
    if n < 2:
        raise DatasetError(f"validation split: needs at least 2 samples, the dataset has {n}")
    n_val = min(max(int(round(n * fraction)), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    # Sorted indices keep each side in the file's order, which is easier to inspect.
    val_idx = np.sort(order[:n_val])
    train_idx = np.sort(order[n_val:])
    return ds.take(train_idx), ds.take(val_idx)


# --------------------------------------------------------------------------------------------------
# CSV files: one streaming reader for load_csv and for recorded curves (read_csv_columns)

_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma (,)", ";": "semicolon (;)", "\t": "tab"}
_NONFINITE_WORDS = ("nan", "inf")
_SAMPLE_BYTES = 1 << 16  # encoding and delimiter are decided from the first 64 KiB
_SAMPLE_LINES = 20
MAX_LINE_CHARS = 4 << 20  # a longer "line" is not a CSV row (a binary file, or one without newlines)
MAX_FIELD_CHARS = csv.field_size_limit()  # 131,072: a longer cell is not a number or a label
_CHUNK_CELLS = 1 << 16  # cells converted per batch: bounds the Python-string overhead of streaming
# Values beyond this overflow float64 in a squared error or a variance; refusing them at load names the
# cell instead of failing later with "loss is not finite" and no file.
MAX_ABS_VALUE = 1e100
TASK_CHOICES = (None, CLASSIFICATION, REGRESSION)


class _Where:
    """Tracks the physical line (1-based) of the row the csv module is reading, comments included."""

    def __init__(self) -> None:
        self.line = 0
        self.row_start: int | None = None


def _detect_encoding(sample: bytes, where: str) -> tuple[str, str | None]:
    """(codec, note) for a file starting with ``sample``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", None
    if b"\x00" in sample:
        # UTF-16 without a byte-order mark puts a NUL beside every ASCII character
        even, odd = sample[0::2], sample[1::2]
        if len(sample) >= 4 and odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
            return "utf-16-le", f"{where}: read as UTF-16 (little-endian, no byte-order mark)"
        if len(sample) >= 4 and even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
            return "utf-16-be", f"{where}: read as UTF-16 (big-endian, no byte-order mark)"
        offset = sample.index(b"\x00")
        line = sample.count(b"\n", 0, offset) + 1
        raise DatasetError(f"{where}, line {line}: a NUL byte at offset {offset}; this is a binary file, not CSV text")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8", None
    except UnicodeDecodeError as exc:
        if not sample[: exc.start].isascii():
            return "utf-8", None  # UTF-8 text with a bad byte: the line reader reports where
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = sample.count(b"\n", 0, exc.start) + 1
        raise DatasetError(f"{where}, line {line}: byte 0x{sample[exc.start]:02x} at offset {exc.start} is neither "
                           f"UTF-8 nor Windows-1252 text; save the file as CSV UTF-8") from None
    return "cp1252", (f"{where}: not UTF-8; read as Windows-1252 (Excel's CSV on Windows). "
                      "Save as 'CSV UTF-8' to avoid the guess")


def _text_lines(fh: io.BufferedReader, where: str, pos: _Where, notes: list[str]) -> Iterator[str]:
    """Decoded lines of a binary file, each with its newline; comment lines (#…) are skipped."""
    encoding, note = _detect_encoding(fh.peek(_SAMPLE_BYTES)[:_SAMPLE_BYTES], where)
    if note:
        notes.append(note)
    if encoding.startswith("utf-16"):
        source: Iterator[tuple[bytes | str, int]] = _utf16_lines(fh, encoding, where)
        decode = None
    else:
        source = _byte_lines(fh, where)
        decode = encoding
    saw_utf8 = False
    for raw, offset in source:
        pos.line += 1
        if decode is None:
            line = raw  # already text
        else:
            try:
                line = raw.decode(decode)
                if decode == "utf-8-sig":
                    decode = "utf-8"  # the mark is only at the start of the file
                saw_utf8 = saw_utf8 or (decode == "utf-8" and not raw.isascii())
            except UnicodeDecodeError as exc:
                if decode == "utf-8" and not saw_utf8:
                    # the first non-ASCII byte is not UTF-8, and no UTF-8 came before: a Windows file
                    decode = "cp1252"
                    notes.append(f"{where}: not UTF-8 (from line {pos.line}); read as Windows-1252 (Excel's CSV "
                                 "on Windows). Save as 'CSV UTF-8' to avoid the guess")
                    try:
                        line = raw.decode(decode)
                    except UnicodeDecodeError as exc2:
                        exc = exc2
                    else:
                        exc = None
                if exc is not None:
                    raise DatasetError(
                        f"{where}, line {pos.line}: byte 0x{raw[exc.start]:02x} at offset {offset + exc.start} "
                        f"(character {exc.start + 1} of the line) is not {'UTF-8' if decode.startswith('utf') else 'Windows-1252'} "
                        "text; save the file as CSV UTF-8"
                    ) from None
        if line.lstrip().startswith("#"):
            continue  # a comment (an exported file's preamble): not data
        if pos.row_start is None:
            pos.row_start = pos.line
        yield line


def _byte_lines(fh: io.BufferedReader, where: str) -> Iterator[tuple[bytes, int]]:
    offset = 0
    line_no = 0
    while True:
        try:
            raw = fh.readline(MAX_LINE_CHARS + 1)
        except OSError as exc:
            raise DatasetError(f"{where}: cannot be read ({exc.strerror or exc})") from None
        if not raw:
            return
        line_no += 1
        if len(raw) > MAX_LINE_CHARS and not raw.endswith(b"\n"):
            raise DatasetError(f"{where}, line {line_no}: longer than {MAX_LINE_CHARS:,} bytes without a line "
                               "break; this is not a CSV file")
        yield raw, offset
        offset += len(raw)


def _utf16_lines(fh: io.BufferedReader, encoding: str, where: str) -> Iterator[tuple[str, int]]:
    text = io.TextIOWrapper(fh, encoding=encoding, newline="")
    line_no = 0
    try:
        while True:
            line = text.readline(MAX_LINE_CHARS + 1)
            if not line:
                return
            line_no += 1
            if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
                raise DatasetError(f"{where}, line {line_no}: longer than {MAX_LINE_CHARS:,} characters without "
                                   "a line break; this is not a CSV file")
            yield line, 0
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{where}, line {line_no + 1}: not valid UTF-16 ({exc.reason})") from None
    finally:
        text.detach()


def _pick_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of columns.

    csv.Sniffer also guesses quote characters and fails outright on some files; this small rule is
    predictable: most lines agreeing with the first line's width wins, then the wider split, then the
    order , ; tab.
    """
    best, best_score = ",", (-1, -1)
    for delimiter in _DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(w == widths[0] for w in widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _number(cell: str, decimal_comma: bool) -> float:
    """float(cell), also reading 1,5 as 1.5 when the delimiter is not a comma; ValueError if not a number."""
    try:
        return float(cell)
    except ValueError:
        if decimal_comma and cell.count(",") == 1:
            return float(cell.replace(",", "."))
        raise


def _is_number(cell: str, decimal_comma: bool) -> bool:
    try:
        _number(cell, decimal_comma)
    except ValueError:
        return False
    return True


def _shown(cell: str) -> str:
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")


def _cell_error(cell: str, decimal_comma: bool, role: str) -> str | None:
    """Why a cell is not a usable finite number, or None if it is one."""
    if cell == "":
        return "empty cell (missing value)"
    try:
        value = _number(cell, decimal_comma)
    except ValueError:
        return f"text {_shown(cell)} where a number is expected ({role} must be numeric)"
    if math.isfinite(value):
        if abs(value) > MAX_ABS_VALUE:
            return (f"{_shown(cell)} is too large (values must lie within ±{MAX_ABS_VALUE:g}, or squares and "
                    "sums overflow; rescale the column)")
        return None
    if any(word in cell.lower() for word in _NONFINITE_WORDS):
        return f"{_shown(cell)} is not a finite number (NaN and infinity are not allowed)"
    return f"{_shown(cell)} is too large for a 64-bit float (overflow)"


def _is_index_row(cells: list[str]) -> bool:
    """A header of column numbers (0,1,2,… or 1,2,3,…), as pandas writes for unnamed columns."""
    try:
        values = [float(c) for c in cells]
    except ValueError:
        return False
    start = values[0]
    return start in (0.0, 1.0) and values == [start + j for j in range(len(values))] and \
        all(c.strip().lstrip("+").isdigit() for c in cells)


def _has_header(rows: list[list[str]], decimal_comma: bool) -> tuple[bool, str | None]:
    """(is the first row a header, a note saying why when the guess is not obvious)."""
    first = [_is_number(c, decimal_comma) for c in rows[0]]
    if not any(first):
        return True, None
    if all(first):
        if len(rows) >= 2 and _is_index_row(rows[0]) and not _is_index_row(rows[1]):
            return True, "read as column names because it numbers the columns; pass header=False " \
                         "(--header no) to read it as data"
        return False, None
    if len(rows) < 2:
        return False, None
    # Mixed first row: a header if one of its text cells sits above a number (a text label column
    # looks the same in every row, a column name does not).
    second = rows[1]
    return any(not first[j] and j < len(second) and _is_number(second[j], decimal_comma)
               for j in range(len(first))), None


def _column_names(header: list[str], where: str, line: int) -> list[str]:
    names = [cell or f"col{j + 1}" for j, cell in enumerate(header)]
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            raise DatasetError(f"{where}, line {line}: column name {name!r} appears twice "
                               f"(columns {seen[name] + 1} and {j + 1}); rename one")
        seen[name] = j
    return names


class _CsvReader:
    """A CSV file opened for streaming: encoding, delimiter, header and width decided from its start.

    ``names`` and ``header_line`` are known as soon as it is built (only the first 64 KiB are read);
    ``rows()`` then yields (line, cells) for every data row, checked for width.
    """

    def __init__(self, fh: io.BufferedReader, where: str, header: bool | None) -> None:
        self.where = where
        self.notes: list[str] = []
        self._pos = _Where()
        self._lines = _text_lines(fh, where, self._pos, self.notes)
        # the first rows decide the delimiter: buffer their text, then parse everything with one reader
        sample: list[tuple[str, int]] = []
        size = 0
        for line in self._lines:
            sample.append((line, self._pos.line))
            self._pos.row_start = None
            size += len(line)
            if sum(1 for text, _ in sample if text.strip()) >= _SAMPLE_LINES or size > _SAMPLE_BYTES:
                break
        if not any(text.strip() for text, _ in sample):
            raise DatasetError(f"{where}: the file is empty")
        self.delimiter = _pick_delimiter([text for text, _ in sample if text.strip()])
        self.decimal_comma = self.delimiter != ","
        self._sample = sample
        self._reader = csv.reader(self._replay(), delimiter=self.delimiter)
        first_rows: list[tuple[int, list[str]]] = []
        for item in self._raw_rows():
            first_rows.append(item)
            if len(first_rows) >= min(_SAMPLE_LINES, 5):
                break
        if not first_rows:
            raise DatasetError(f"{where}: the file holds no values, only empty cells")
        self._first = first_rows
        rows = [cells for _, cells in first_rows]
        # A delimiter after the last value on every line (some exporters write one) is not an empty column.
        self.trailing = len(rows[0]) > 1 and all(len(r) > 1 and r[-1] == "" for r in rows)
        if self.trailing:
            rows = [r[:-1] for r in rows]
        self._check_mixed(first_rows, rows)
        if header is None:
            header, why = _has_header(rows, self.decimal_comma)
            if why:
                self.notes.append(f"{where}, line {first_rows[0][0]}: {why}")
        self.header_line = first_rows[0][0] if header else None
        if header:
            self.names = _column_names(rows[0], where, first_rows[0][0])
            self._first = first_rows[1:]
        else:
            self.names = [f"col{j + 1}" for j in range(len(rows[0]))]
        self.first_line = first_rows[0][0]

    def _replay(self) -> Iterator[str]:
        for text, line in self._sample:
            self._pos.line = line
            if self._pos.row_start is None:
                self._pos.row_start = line
            yield text
        self._sample = []
        yield from self._lines

    def _raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        reader, pos, where = self._reader, self._pos, self.where
        while True:
            pos.row_start = None
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = pos.row_start or pos.line
                if "field larger than field limit" in str(exc):
                    raise DatasetError(f"{where}, line {line}: a value longer than {MAX_FIELD_CHARS:,} characters; "
                                       "is a closing quote (\") missing, or is this not a CSV file?") from None
                raise DatasetError(f"{where}, line {line}: cannot be read as CSV ({exc})") from None
            start, end = pos.row_start or pos.line, pos.line
            cells = [cell.strip() for cell in row]
            if not any(cells):  # blank lines and spreadsheet rows of empty cells carry no data
                continue
            if start != end and any("\n" in cell or "\r" in cell for cell in cells):
                raise DatasetError(f"{where}, line {start}: a quoted value runs on to line {end}; "
                                   f"is a closing quote (\") missing?")
            yield start, cells

    def _check_mixed(self, first_rows: list[tuple[int, list[str]]], rows: list[list[str]]) -> None:
        """Refuse a file that uses two separators (x1,x2;label): it would load as the wrong columns."""
        for other in _DELIMITERS:
            if other == self.delimiter:
                continue
            for j in range(len(rows[0])):
                column = [r[j] for r in rows if j < len(r)]
                # a decimal comma (1,5 in a ; file) is a number, not a separator
                if column and all(other in c and not _is_number(c, self.decimal_comma) for c in column):
                    raise DatasetError(
                        f"{self.where}, line {first_rows[0][0]}: mixes separators: {_DELIMITER_NAMES[self.delimiter]} "
                        f"and {_DELIMITER_NAMES[other]} (as in {_shown(column[0])}); use one separator throughout")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        width, where, trailing = len(self.names), self.where, self.trailing
        first_line = self.first_line

        def checked(item: tuple[int, list[str]]) -> tuple[int, list[str]]:
            line, cells = item
            if trailing and len(cells) == width + 1 and cells[-1] == "":
                cells.pop()
            if len(cells) != width:
                raise DatasetError(f"{where}, line {line}: {len(cells)} value{'s' if len(cells) != 1 else ''} "
                                   f"where {width} are expected (as in line {first_line})")
            return line, cells

        for item in self._first:
            yield checked(item)
        self._first = []
        for item in self._raw_rows():
            yield checked(item)


@contextmanager
def _open_csv(path: str | os.PathLike, header: bool | None, limit: int | None) -> Iterator[_CsvReader]:
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    if header not in (None, True, False):
        raise DatasetError(f"{where}: header must be True, False or None (decide from the file), got {header!r}")
    cap = fileio.max_bytes() if limit is None else int(limit)
    with fileio.open_regular(where, error=DatasetError, limit=cap, what="a CSV file") as fh:
        yield _CsvReader(fh, where, header)


def _target_index(target: Any, names: list[str], where: str) -> int:
    available = ", ".join(repr(n) for n in names)
    if target is None:
        return len(names) - 1
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        index = int(target)
        if -len(names) <= index < len(names):
            return index % len(names)
        raise DatasetError(f"{where}: no column number {index} (0-based; the file has {len(names)}: {available})")
    if isinstance(target, str):
        wanted = target.strip()
        if wanted in names:
            return names.index(wanted)
        folded = [n.casefold() for n in names]
        if folded.count(wanted.casefold()) == 1:
            return folded.index(wanted.casefold())
        raise DatasetError(f"{where}: no column named {target!r}; the columns are {available}")
    raise DatasetError(f"{where}: target must be a column name or a 0-based column number, got {target!r}")


def _numbers(table: list[list[str]], lines: list[int], names: list[str], decimal_comma: bool, where: str,
             role: str, nonfinite_ok: frozenset = frozenset()) -> np.ndarray:
    """A (rows, len(names)) float64 array from cells; the first bad cell raises with its line and column."""
    try:
        # Fast path: NumPy parses the strings itself; any doubt falls through to the cell-by-cell check.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            X = np.array(table, dtype=np.float64)
        if X.shape == (len(table), len(names)):
            ok = np.abs(X) <= MAX_ABS_VALUE
            for c, name in enumerate(names):
                if name in nonfinite_ok:  # a diverged run's losses: huge, inf or NaN, all kept as recorded
                    ok[:, c] = True
            if ok.all():
                return X
    except (ValueError, TypeError, OverflowError):
        pass
    X = np.empty((len(table), len(names)), dtype=np.float64)
    for i, row in enumerate(table):
        for c, cell in enumerate(row):
            problem = _cell_error(cell, decimal_comma, role)
            if problem and names[c] in nonfinite_ok and cell and _is_number(cell, decimal_comma):
                problem = None
            if problem:
                raise DatasetError(f"{where}, line {lines[i]}, column {names[c]!r}: {problem}")
            X[i, c] = _number(cell, decimal_comma)
    return X


class _TargetColumn:
    """Streams a target column: numbers as float64 (NaN where text), text as codes while they are few."""

    def __init__(self, name: str, where: str, decimal_comma: bool) -> None:
        self.name, self.where, self.decimal_comma = name, where, decimal_comma
        self.values: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.strings: dict[str, int] | None = {}  # None once there are too many to be labels
        self.n_text = 0
        self.first_text: tuple[int, str] | None = None
        self.n = 0

    def add(self, cells: list[str], lines: list[int]) -> None:
        values = np.empty(len(cells), dtype=np.float64)
        codes = np.empty(len(cells), dtype=np.int32)
        strings = self.strings
        for i, cell in enumerate(cells):
            if cell == "":
                raise DatasetError(f"{self.where}, line {lines[i]}, column {self.name!r}: empty target cell (missing value)")
            try:
                values[i] = _number(cell, self.decimal_comma)
            except ValueError:
                values[i] = math.nan
                self.n_text += 1
                if self.first_text is None:
                    self.first_text = (lines[i], cell)
            else:
                problem = _cell_error(cell, self.decimal_comma, "targets")
                if problem:
                    raise DatasetError(f"{self.where}, line {lines[i]}, column {self.name!r}: {problem}")
            if strings is not None:
                code = strings.setdefault(cell, len(strings))
                codes[i] = code
                if len(strings) > MAX_CSV_CLASSES:
                    strings = self.strings = None
        self.values.append(values)
        self.codes.append(codes)
        self.n += len(cells)

    def result(self, task: str | None, notes: list[str]) -> tuple[np.ndarray, str, tuple[str, ...]]:
        where, name, n = self.where, self.name, self.n
        if self.n_text:
            if self.n_text < n / 2:
                line, cell = self.first_text
                raise DatasetError(f"{where}, line {line}, column {name!r}: text {_shown(cell)} in a target "
                                   f"column that otherwise holds numbers")
            if task == REGRESSION:
                line, cell = self.first_text
                raise DatasetError(f"{where}, line {line}, column {name!r}: text {_shown(cell)} cannot be a "
                                   "regression target; regression needs numbers")
            if self.strings is None or len(self.strings) > MAX_CSV_CLASSES:
                count = "more than" if self.strings is None else ""
                total = MAX_CSV_CLASSES if self.strings is None else len(self.strings)
                raise DatasetError(f"{where}, column {name!r}: {count + ' ' if count else ''}{total} different text "
                                   f"values; class labels allow at most {MAX_CSV_CLASSES} (features must be numeric)")
            return self._labels(sorted(self.strings), lambda s: s)
        values = np.concatenate(self.values) if self.values else np.zeros(0)
        self.values = []
        with np.errstate(all="ignore"):
            distinct = np.unique(values)
        if distinct.size < 2:
            raise DatasetError(f"{where}, column {name!r}: the target is {distinct[0]:g} on every row; "
                               f"there is nothing to learn (a single class or a constant)")
        whole = bool(np.all(distinct == np.round(distinct))) and bool(np.all(np.abs(distinct) < 2**53))
        few = distinct.size == 2 or (distinct.size <= MAX_NUMERIC_CLASSES and distinct.size <= n / 2)
        if task == CLASSIFICATION:
            if not whole:
                bad = float(distinct[np.argmax(distinct != np.round(distinct))])
                raise DatasetError(f"{where}, column {name!r}: {bad:g} is not a whole number; class labels "
                                   "read from numbers must be whole numbers")
            if distinct.size > MAX_CSV_CLASSES:
                raise DatasetError(f"{where}, column {name!r}: {distinct.size} different values; at most "
                                   f"{MAX_CSV_CLASSES} classes are supported")
        elif task is None and whole and not few:
            notes.append(f"{where}, column {name!r}: {distinct.size:,} different whole numbers, read as a "
                         f"regression target (class labels have at most {MAX_NUMERIC_CLASSES} values and at most "
                         "one per two rows); pass task='classification' (--task classification) to read them "
                         "as classes")
        if task == CLASSIFICATION or (task is None and whole and few):
            if task is None and distinct.size > 2:
                notes.append(f"{where}, column {name!r}: {distinct.size} whole-number values read as class labels; "
                             "pass task='regression' (--task regression) to predict them as numbers")
            labels = np.searchsorted(distinct, values).astype(np.int64)
            return labels, CLASSIFICATION, tuple(str(int(v)) for v in distinct)
        return values, REGRESSION, ()

    def _labels(self, classes: list[str], key) -> tuple[np.ndarray, str, tuple[str, ...]]:
        if len(classes) < 2:
            raise DatasetError(f"{self.where}, column {self.name!r}: every row has the same class {classes[0]!r}; "
                               f"a classification target needs at least 2 classes")
        order = np.empty(len(self.strings), dtype=np.int64)
        for rank, cls in enumerate(classes):
            order[self.strings[cls]] = rank
        codes = np.concatenate(self.codes)
        self.codes = []
        return order[codes], CLASSIFICATION, tuple(classes)


def load_csv(path: str | os.PathLike, target: str | int | None = None, *, task: str | None = None,
             header: bool | None = None, limit: int | None = None) -> Dataset:
    """A dataset from a CSV file: numeric feature columns and one target column (default: the last).

    Read as a stream: peak memory stays near twice the features' float64 size, whatever the file's size.
    The first row is a header when it holds text above numbers, or numbers the columns 0,1,2,… (``header``
    True/False overrides the guess). ``target`` is a column name or a 0-based column number. The target is
    read as class labels when it holds text, or whole numbers with few distinct values (≤ 20, at most half
    the rows, or exactly 2); labels are numbered 0..k-1 in sorted order and their names kept. Anything else
    is regression; ``task`` ("classification" or "regression") overrides the guess. Separators , ; and tab,
    UTF-8, UTF-16 and Windows-1252 text, a trailing separator on every line and comment lines starting with
    # are understood; each guess that could surprise is described in ``Dataset.notes``. Only regular files
    of at most ``limit`` bytes (default: fileio.max_bytes()) are read. Problems raise DatasetError naming
    the file, line and column.
    """
    if task not in TASK_CHOICES:
        raise DatasetError(f"task: must be {CLASSIFICATION!r}, {REGRESSION!r} or None (decide from the data), "
                           f"got {task!r}")
    with _open_csv(path, header, limit) as reader:
        where, names = reader.where, reader.names
        width = len(names)
        if width < 2:
            raise DatasetError(f"{where}, line {reader.first_line}: only one column; a dataset needs one or more "
                               f"feature columns and a target column (separators , ; and tab are recognised)")
        t = _target_index(target, names, where)
        feature_columns = [j for j in range(width) if j != t]
        feature_names = [names[j] for j in feature_columns]
        chunk_rows = max(1, _CHUNK_CELLS // width)
        blocks: list[np.ndarray] = []
        column = _TargetColumn(names[t], where, reader.decimal_comma)
        table: list[list[str]] = []
        targets: list[str] = []
        lines: list[int] = []
        first_data_line = None

        def flush() -> None:
            blocks.append(_numbers(table, lines, feature_names, reader.decimal_comma, where, "features"))
            column.add(targets, lines)
            table.clear()
            targets.clear()
            lines.clear()

        n = 0
        for line, cells in reader.rows():
            if first_data_line is None:
                first_data_line = line
            targets.append(cells.pop(t))
            table.append(cells)
            lines.append(line)
            n += 1
            if len(table) >= chunk_rows:
                flush()
        if table:
            flush()
        if n == 0:
            raise DatasetError(f"{where}: has a header (line {reader.header_line}) but no data rows")
        if n < 2:
            raise DatasetError(f"{where}: only one data row (line {first_data_line}); at least 2 are needed")
        notes = reader.notes
        y, kind, classes = column.result(task, notes)
        X = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
        blocks.clear()
    file = Path(where)
    return Dataset(X, y, kind, tuple(feature_names), classes, name=file.stem, source=str(file), notes=tuple(notes))


def check_csv(path: str | os.PathLike, target: str | int | None = None, *, header: bool | None = None,
              limit: int | None = None) -> None:
    """The checks ``load_csv`` makes from a file's start (type, size, encoding, separators, header, target
    column, a first data row), reading only that start: quick enough to run when a scenario opens."""
    with _open_csv(path, header, limit) as reader:
        where = reader.where
        if len(reader.names) < 2:
            raise DatasetError(f"{where}, line {reader.first_line}: only one column; a dataset needs one or more "
                               f"feature columns and a target column (separators , ; and tab are recognised)")
        _target_index(target, reader.names, where)
        if next(reader.rows(), None) is None:
            raise DatasetError(f"{where}: has a header (line {reader.header_line}) but no data rows")


def read_csv_columns(path: str | os.PathLike, columns: dict[str, tuple[str, ...]], *,
                     nonfinite_ok: tuple[str, ...] = (), limit: int | None = None
                     ) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Named numeric columns of a CSV file with a header, read by the same reader as ``load_csv``.

    ``columns`` maps each wanted key to the header names that may hold it (matched case-insensitively);
    the header is checked before any data row is read. Returns ({key: float64 values}, the line number
    of each row, notes). Keys in ``nonfinite_ok`` may hold NaN or infinity (a diverged run's tail).
    """
    with _open_csv(path, True, limit) as reader:
        where = reader.where
        folded = [n.strip().casefold() for n in reader.names]
        index: dict[str, int] = {}
        for key, aliases in columns.items():
            found = [j for j, n in enumerate(folded) if n in {a.casefold() for a in aliases}]
            if not found:
                wanted = " and ".join(next(iter(a)) for a in columns.values())
                raise DatasetError(f"{where}, line {reader.header_line}: needs columns named {wanted}; found "
                                   f"{', '.join(repr(n) for n in reader.names)}")
            index[key] = found[0]
        keys = list(columns)
        blocks: list[np.ndarray] = []
        line_blocks: list[np.ndarray] = []
        table: list[list[str]] = []
        lines: list[int] = []
        chunk_rows = max(1, _CHUNK_CELLS // max(1, len(reader.names)))
        allowed = frozenset(nonfinite_ok)
        for line, cells in reader.rows():
            table.append([cells[index[k]] for k in keys])
            lines.append(line)
            if len(table) >= chunk_rows:
                blocks.append(_numbers(table, lines, keys, reader.decimal_comma, where, "values", allowed))
                line_blocks.append(np.array(lines, dtype=np.int64))
                table, lines = [], []
        if table:
            blocks.append(_numbers(table, lines, keys, reader.decimal_comma, where, "values", allowed))
            line_blocks.append(np.array(lines, dtype=np.int64))
        data = np.concatenate(blocks) if blocks else np.zeros((0, len(keys)))
        out = {k: np.ascontiguousarray(data[:, c]) for c, k in enumerate(keys)}
        return out, (np.concatenate(line_blocks) if line_blocks else np.zeros(0, dtype=np.int64)), reader.notes


def save_csv(ds: Dataset, path: str | os.PathLike, target_name: str | None = None) -> Path:
    """Write a dataset as a UTF-8 CSV with a header that load_csv reads back to the same arrays.

    Class labels are written by name; floats with repr, which round-trips float64 exactly.
    """
    if target_name is None:
        target_name = "label" if ds.task == CLASSIFICATION else "target"
        while target_name in ds.feature_names:
            target_name += "_"
    if target_name in ds.feature_names:
        raise DatasetError(f"save_csv: target column name {target_name!r} is also a feature name")
    out = Path(path)
    with fileio.atomic_writer(out, error=DatasetError, mode="w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*ds.feature_names, target_name])
        if ds.task == CLASSIFICATION:
            targets = [ds.class_names[int(v)] for v in ds.y]
        else:
            targets = [repr(float(v)) for v in ds.y]
        for row, value in zip(ds.X.tolist(), targets):
            writer.writerow([*(repr(v) for v in row), value])
    return out
