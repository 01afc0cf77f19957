"""Thin presentation adapters between engine objects and the views (no training maths lives here).

Everything numeric the window shows comes from gd_studio.engine; this module only reshapes it for
drawing: which 2-D plane the data view shows (a PCA projection when there are more than two features),
the grid the decision regions are evaluated on, and plain arrays from the runner's history.
"""
from __future__ import annotations

import numpy as np

from ..engine import fmt as _fmt
from .snapshot import DataInfo, History, frozen

GRID = 72  # decision-region resolution: sharp enough on a projector, ~5k predictions per frame


def _padded_range(v: np.ndarray, pad: float = 0.08) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return -1.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo if hi > lo else max(abs(lo), 1.0)
    return lo - pad * span, hi + pad * span


class DataPlane:
    """Maps the model's feature space to the 2-D plane the data view draws, and back for the grid.

    ADAPTER (presentation only): with more than two features the plane is spanned by the first two
    principal components of the training inputs, through their mean; the decision regions shown are
    the model's predictions on that plane. Computed once per configuration with NumPy's SVD.
    """

    def __init__(self, ds) -> None:
        X = np.asarray(ds.X, dtype=np.float64)
        self.task = ds.task
        self.n_features = X.shape[1]
        self.names = tuple(getattr(ds, "feature_names", ()) or (f"x{i + 1}" for i in range(self.n_features)))
        self.mean = np.zeros(self.n_features)
        self.basis = None  # (2, d) when projecting
        if self.task == "classification":
            if self.n_features == 1:
                pts = np.column_stack([X[:, 0], np.zeros(len(X))])
                self.plane, self.x_label, self.y_label = "one feature", self.names[0], ""
            elif self.n_features == 2:
                pts = X.copy()
                self.plane, self.x_label, self.y_label = "both features", self.names[0], self.names[1]
            else:
                self.mean = X.mean(axis=0)
                _, s, vt = np.linalg.svd(X - self.mean, full_matrices=False)
                self.basis = vt[:2]
                total = float((s ** 2).sum()) or 1.0
                share = float((s[:2] ** 2).sum()) / total
                pts = (X - self.mean) @ self.basis.T
                self.plane = (f"PCA plane of {self.n_features} features ({share:.0%} of the variance); "
                              f"regions are the model's predictions on that plane")
                self.x_label, self.y_label = "PC 1", "PC 2"
            self.points = pts
        else:
            self.points = np.column_stack([X[:, 0], np.asarray(ds.y, dtype=np.float64)])
            if self.n_features == 1:
                self.plane, self.x_label, self.y_label = "input and target", self.names[0], "target"
            else:
                self.plane, self.x_label, self.y_label = "predicted vs true target", "true target", "prediction"

    def info(self, ds) -> DataInfo:
        if self.task == "classification":
            gx = np.linspace(*_padded_range(self.points[:, 0]), GRID)
            gy = np.linspace(*_padded_range(self.points[:, 1]), GRID) if self.n_features > 1 else np.array([-1.0, 1.0])
            return DataInfo(task=self.task, points=frozen(self.points), labels=frozen(ds.y, np.int64),
                            class_names=tuple(ds.class_names), x_label=self.x_label, y_label=self.y_label,
                            plane=self.plane, grid_x=frozen(gx), grid_y=frozen(gy), kind="regions")
        if self.n_features == 1:
            gx = np.linspace(*_padded_range(self.points[:, 0]), 200)
            return DataInfo(task=self.task, points=frozen(self.points), labels=frozen(ds.y), class_names=(),
                            x_label=self.x_label, y_label=self.y_label, plane=self.plane, grid_x=frozen(gx),
                            kind="curve")
        y = np.asarray(ds.y, dtype=np.float64)
        return DataInfo(task=self.task, points=frozen(np.column_stack([y, y])), labels=frozen(y), class_names=(),
                        x_label=self.x_label, y_label=self.y_label, plane=self.plane, kind="pred_vs_true")

    def grid_inputs(self, info: DataInfo) -> np.ndarray:
        """Model inputs for every grid node (row-major over grid_y, grid_x)."""
        if info.kind == "curve":
            return np.asarray(info.grid_x)[:, None]
        gx, gy = np.meshgrid(info.grid_x, info.grid_y)
        plane = np.column_stack([gx.ravel(), gy.ravel()])
        if self.n_features == 1:
            return plane[:, :1]
        if self.basis is None:
            return plane
        return self.mean + plane @ self.basis


def history_arrays(runner) -> History:
    """Plain copies of the runner's (decimated) history: train loss and LR per step, validation loss."""
    empty = np.empty(0)
    cols = runner.history.columns() if getattr(runner, "history", None) is not None and len(runner.history) else {}
    vals = (runner.val_history.columns()
            if getattr(runner, "val_history", None) is not None and len(runner.val_history) else {})
    return History(steps=frozen(cols.get("step", empty)), loss=frozen(cols.get("loss", empty)),
                   lr=frozen(cols.get("lr", empty)), val_steps=frozen(vals.get("step", empty)),
                   val_loss=frozen(vals.get("val_loss", empty)))


def fmt_lr(lr: float | None) -> str:
    """An LR in the app's one style (engine/fmt.py): 0.003, 0.1, 2.5, 3.16e-5."""
    return _fmt.fmt_lr(lr)


def fmt_num(x: float | None, digits: int = 4) -> str:
    return _fmt.fmt_num(x, digits)
