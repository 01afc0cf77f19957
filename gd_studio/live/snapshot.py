"""Immutable snapshots the worker thread hands to the views: plain arrays and numbers, never engine objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def frozen(a: Any, dtype=np.float64) -> np.ndarray:
    """A read-only C-contiguous copy, so a snapshot can cross threads and never change under a view."""
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def finite_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop pairs where either coordinate is NaN or ±inf: nothing non-finite may reach pyqtgraph."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.all():
        return x, y
    return x[keep], y[keep]


@dataclass(frozen=True)
class DataInfo:
    """What the data view needs once per configuration: the points, in the 2-D plane it shows."""

    task: str  # "classification" | "regression"
    points: np.ndarray  # (n, 2) plane coordinates (classification) or (n, 2) [x, y] / [true, pred]
    labels: np.ndarray  # (n,) int class labels, or float targets
    class_names: tuple[str, ...]
    x_label: str
    y_label: str
    plane: str  # how the plane was chosen, said in the view ("features 1–2", "PCA of 4 features", …)
    grid_x: np.ndarray | None = None  # 1-D grid coordinates the decision regions / curve are evaluated on
    grid_y: np.ndarray | None = None
    kind: str = "scatter"  # "regions" | "curve" | "pred_vs_true"


@dataclass(frozen=True)
class ConfigInfo:
    """Sent once a RunConfig has been built: what the panel and views need to know about it."""

    generation: int
    config: Any  # RunConfig
    param_names: tuple[str, ...]
    watch_names: tuple[str, ...]  # param names plus "descent direction"
    watch: str
    model_text: str
    dataset_text: str
    n_train: int
    n_val: int
    data: DataInfo | None
    reason: str  # why the run was (re)built: "configured", "reset", "reseeded"
    notes: tuple[str, ...] = ()  # what the build changed on its own ("Loss set to mse: …"), said to the user


@dataclass(frozen=True)
class WeightView:
    """Loss along the watched weight at the current point, and the steps taken on it."""

    name: str
    curve_w: np.ndarray  # the slice: weight values …
    curve_loss: np.ndarray  # … and the loss there with every other weight held
    trail_w: np.ndarray  # w_t for the recent steps (len k+1 for k arrows)
    trail_loss: np.ndarray  # the slice loss at each w_t (points sit on the current curve)
    trail_step: np.ndarray  # step number of each trail point
    trail_batch_loss: np.ndarray  # the batch loss recorded at that step (NaN where unknown)
    current_w: float
    current_loss: float
    curvature: float | None  # second derivative along the slice
    oscillate_lr: float | None  # 1/λ
    diverge_lr: float | None  # 2/λ
    lr: float
    axis_label: str  # "W1[0,3]" or "α along the descent direction"
    note: str = ""
    # the whole network's threshold next to this weight's: "along W1[0,0]: 2/λ = 9.4; whole network: …"
    network_caption: str = ""
    lr_limit: float | None = None  # 2/λ_max at this point (the whole network's divergence threshold)
    # the curve is the whole loss (a one-weight model); else a slice with every other weight held, whose ups and
    # downs need not be the loss's (a step of two weights can rise on the slice while the loss falls)
    whole_loss: bool = False


@dataclass(frozen=True)
class History:
    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray
    val_steps: np.ndarray
    val_loss: np.ndarray


@dataclass(frozen=True)
class RunSnapshot:
    """The state of a training run at one moment, coalesced (≤ ~60 per second)."""

    generation: int
    step: int
    epoch: int
    lr: float
    loss: float | None
    val_loss: float | None
    steps_per_sec: float
    running: bool
    stop_reason: str | None
    history: History
    weight: WeightView | None
    regions: np.ndarray | None = None  # (gy, gx) int class index, or (gx,) regression curve, or (n,) predictions
    confidence: np.ndarray | None = None  # (gy, gx) max class probability
    time: float = 0.0
    extra: dict = field(default_factory=dict)
    # the loss where the run is now, after its last step (what the ball and the narration show); ``loss``
    # is the last step's batch loss, measured before that step's update
    loss_now: float | None = None
    sharpness: Any = None  # live.curvature.SharpnessInfo: λ_max over the steps and the optimizer's limit
    surface: Any = None  # live.surface.SurfaceInfo while the loss-surface view is shown
    # why ``surface`` is missing or older than this step (a one-weight model, weights no longer finite …), or ""
    surface_error: str = ""


@dataclass(frozen=True)
class RangeTestProgress:
    """A range test under way: the curve so far and the step walking on the loss-vs-weight view."""

    generation: int
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    weight: WeightView | None
    num_iter: int
    repeat: int = 0  # which repeat (0-based) when repeating over seeds
    repeats: int = 1


@dataclass(frozen=True)
class RangeTestOutcome:
    """A finished (or cancelled) range test: the engine's result and, with repeats, the band."""

    generation: int
    result: Any  # lr_finder.RangeTestResult (the first seed's when repeating)
    repeat: Any = None  # lr_finder.RepeatResult or None
    cancelled: bool = False
    seconds: float = 0.0
    # 2/λ_max at the initial weights the test starts from: where full-batch descent would start to diverge
    initial_lr_limit: float | None = None
