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
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

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
    if mean is None:
        mean = ds.X.mean(axis=0)
    if std is None:
        std = ds.X.std(axis=0)
    mean = np.array(mean, dtype=np.float64).reshape(-1) if np.ndim(mean) else np.full(d, float(mean))
    std = np.array(std, dtype=np.float64).reshape(-1) if np.ndim(std) else np.full(d, float(std))
    if mean.shape != (d,) or std.shape != (d,):
        raise DatasetError(f"standardize: mean and std need {d} values (one per feature), "
                           f"got {mean.size} and {std.size}")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))) or np.any(std < 0):
        raise DatasetError("standardize: mean and std must be finite, std ≥ 0")
    std = np.where(std > 0, std, 1.0)
    return replace(ds, X=(ds.X - mean) / std), mean, std


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
# CSV files

_DELIMITERS = (",", ";", "\t")
_NONFINITE_WORDS = ("nan", "inf")


def _decode(raw: bytes, where: str) -> str:
    # Excel's "Unicode text" export is UTF-16 with a BOM; everything else must be UTF-8 (BOM optional).
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{where}: not valid UTF-16 at byte offset {exc.start}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DatasetError(
            f"{where}, line {line}: byte 0x{raw[exc.start]:02x} at offset {exc.start} (character {column} "
            f"of the line) is not UTF-8 text; save the file as CSV UTF-8"
        ) from None


def _pick_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of columns.

    csv.Sniffer also guesses quote characters and fails outright on some files; this small rule is
    predictable: most lines agreeing with the first line's width wins, then the wider split, then the
    order , ; tab.
    """
    best, best_score = ",", (-1, -1)
    for delimiter in _DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
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


def _cell_error(cell: str, decimal_comma: bool, role: str) -> str | None:
    """Why a cell is not a usable finite number, or None if it is one."""
    if cell == "":
        return "empty cell (missing value)"
    try:
        value = _number(cell, decimal_comma)
    except ValueError:
        shown = cell if len(cell) <= 40 else cell[:37] + "..."
        return f"text {shown!r} where a number is expected ({role} must be numeric)"
    if math.isfinite(value):
        return None
    if any(word in cell.lower() for word in _NONFINITE_WORDS):
        return f"{cell!r} is not a finite number (NaN and infinity are not allowed)"
    return f"{cell!r} is too large for a 64-bit float (overflow)"


def _read_rows(text: str, where: str) -> tuple[list[list[str]], list[int], str]:
    sample = [line for line in text[:65536].splitlines()[:50] if line.strip()][:20]
    delimiter = _pick_delimiter(sample)
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    try:
        for row in reader:
            end = reader.line_num
            start = previous_end + 1
            previous_end = end
            cells = [cell.strip() for cell in row]
            if not any(cells):  # blank lines and spreadsheet rows of empty cells carry no data
                continue
            if start != end and any("\n" in cell or "\r" in cell for cell in cells):
                raise DatasetError(f"{where}, line {start}: a quoted value runs on to line {end}; "
                                   f"is a closing quote (\") missing?")
            rows.append(cells)
            lines.append(start)
    except csv.Error as exc:
        raise DatasetError(f"{where}, line {reader.line_num + 1}: cannot be read as CSV ({exc})") from None
    return rows, lines, delimiter


def _has_header(rows: list[list[str]], decimal_comma: bool) -> bool:
    first = [_is_number(c, decimal_comma) for c in rows[0]]
    if not any(first):
        return True
    if all(first) or len(rows) < 2:
        return False
    # Mixed first row: a header if one of its text cells sits above a number (a text label column
    # looks the same in every row, a column name does not).
    second = rows[1]
    return any(not first[j] and j < len(second) and _is_number(second[j], decimal_comma)
               for j in range(len(first)))


def _column_names(header: list[str], where: str) -> list[str]:
    names = [cell or f"col{j + 1}" for j, cell in enumerate(header)]
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            raise DatasetError(f"{where}, line 1: column name {name!r} appears twice "
                               f"(columns {seen[name] + 1} and {j + 1}); rename one")
        seen[name] = j
    return names


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


def _features(rows: list[list[str]], lines: list[int], names: list[str], columns: list[int],
              decimal_comma: bool, where: str) -> np.ndarray:
    table = [[row[j] for j in columns] for row in rows]
    try:
        # Fast path: NumPy parses the strings itself; any doubt falls through to the cell-by-cell check.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            X = np.array(table, dtype=np.float64)
        if X.shape == (len(rows), len(columns)) and np.all(np.isfinite(X)):
            return X
    except (ValueError, TypeError, OverflowError):
        pass
    X = np.empty((len(rows), len(columns)), dtype=np.float64)
    for i, row in enumerate(table):
        for c, cell in enumerate(row):
            problem = _cell_error(cell, decimal_comma, "features")
            if problem:
                raise DatasetError(f"{where}, line {lines[i]}, column {names[columns[c]]!r}: {problem}")
            X[i, c] = _number(cell, decimal_comma)
    return X


def _target(cells: list[str], lines: list[int], name: str, decimal_comma: bool,
            where: str) -> tuple[np.ndarray, str, tuple[str, ...]]:
    n = len(cells)
    text_at = [i for i, cell in enumerate(cells) if cell != "" and not _is_number(cell, decimal_comma)]
    for i, cell in enumerate(cells):
        if cell == "":
            raise DatasetError(f"{where}, line {lines[i]}, column {name!r}: empty target cell (missing value)")
    if text_at:
        if len(text_at) < n / 2:
            # Mostly numbers with a stray word: a typo in a numeric column, not a column of labels.
            i = text_at[0]
            raise DatasetError(f"{where}, line {lines[i]}, column {name!r}: text {cells[i]!r} in a target "
                               f"column that otherwise holds numbers")
        classes = sorted(set(cells))
        if len(classes) > MAX_CSV_CLASSES:
            raise DatasetError(f"{where}, column {name!r}: {len(classes)} different text values; class labels "
                               f"allow at most {MAX_CSV_CLASSES} (features must be numeric)")
        if len(classes) < 2:
            raise DatasetError(f"{where}, column {name!r}: every row has the same class {classes[0]!r}; "
                               f"a classification target needs at least 2 classes")
        lookup = {c: k for k, c in enumerate(classes)}
        return np.array([lookup[c] for c in cells], dtype=np.int64), CLASSIFICATION, tuple(classes)

    values = np.empty(n, dtype=np.float64)
    for i, cell in enumerate(cells):
        problem = _cell_error(cell, decimal_comma, "targets")
        if problem:
            raise DatasetError(f"{where}, line {lines[i]}, column {name!r}: {problem}")
        values[i] = _number(cell, decimal_comma)
    distinct = np.unique(values)
    if distinct.size < 2:
        raise DatasetError(f"{where}, column {name!r}: the target is {cells[0]} on every row; "
                           f"there is nothing to learn (a single class or a constant)")
    whole = bool(np.all(distinct == np.round(distinct))) and bool(np.all(np.abs(distinct) < 2**53))
    few = distinct.size == 2 or (distinct.size <= MAX_NUMERIC_CLASSES and distinct.size <= n / 2)
    if whole and few:
        labels = np.searchsorted(distinct, values).astype(np.int64)
        return labels, CLASSIFICATION, tuple(str(int(v)) for v in distinct)
    return values, REGRESSION, ()


def load_csv(path: str | os.PathLike, target: str | int | None = None) -> Dataset:
    """A dataset from a CSV file: numeric feature columns and one target column (default: the last).

    The first row is a header when it holds text above numbers; otherwise columns are named col1, col2, ….
    ``target`` is a column name or a 0-based column number. The target is read as class labels when it
    holds text, or whole numbers with few distinct values (≤ 20, at most half the rows, or exactly 2);
    labels are numbered 0..k-1 in sorted order and their names kept. Anything else is regression.
    Delimiters , ; and tab are recognised. Problems raise DatasetError naming the file, line and column.
    """
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    file = Path(where)
    if not file.exists():
        raise DatasetError(f"{where}: file not found")
    if file.is_dir():
        raise DatasetError(f"{where}: is a folder, not a CSV file")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    text = _decode(raw, where)
    if not text.strip():
        raise DatasetError(f"{where}: the file is empty")

    rows, lines, delimiter = _read_rows(text, where)
    if not rows:
        raise DatasetError(f"{where}: the file holds no values, only empty cells")
    decimal_comma = delimiter != ","
    header = _has_header(rows, decimal_comma)
    if header:
        names = _column_names(rows[0], where)
        data, data_lines = rows[1:], lines[1:]
        if not data:
            raise DatasetError(f"{where}: has a header (line {lines[0]}) but no data rows")
    else:
        names = [f"col{j + 1}" for j in range(len(rows[0]))]
        data, data_lines = rows, lines
    width = len(names)
    if width < 2:
        raise DatasetError(f"{where}, line {lines[0]}: only one column; a dataset needs one or more feature "
                           f"columns and a target column (delimiters , ; and tab are recognised)")
    for row, line in zip(data, data_lines):
        if len(row) != width:
            raise DatasetError(f"{where}, line {line}: {len(row)} value{'s' if len(row) != 1 else ''} where {width} are expected "
                               f"(as in line {lines[0]})")
    if len(data) < 2:
        raise DatasetError(f"{where}: only one data row (line {data_lines[0]}); at least 2 are needed")

    t = _target_index(target, names, where)
    feature_columns = [j for j in range(width) if j != t]
    X = _features(data, data_lines, names, feature_columns, decimal_comma, where)
    y, task, classes = _target([row[t] for row in data], data_lines, names[t], decimal_comma, where)
    return Dataset(X, y, task, tuple(names[j] for j in feature_columns), classes,
                   name=file.stem, source=str(file))


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
    try:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([*ds.feature_names, target_name])
            if ds.task == CLASSIFICATION:
                targets = [ds.class_names[int(v)] for v in ds.y]
            else:
                targets = [repr(float(v)) for v in ds.y]
            for row, value in zip(ds.X.tolist(), targets):
                writer.writerow([*(repr(v) for v in row), value])
    except OSError as exc:
        raise DatasetError(f"{out}: cannot be written ({exc.strerror or exc})") from None
    return out
