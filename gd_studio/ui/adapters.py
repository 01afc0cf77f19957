"""Number formatting shared by the widgets: an LR the way people type it, other numbers to a few digits."""
from __future__ import annotations

import math


def fmt_lr(lr: float | None) -> str:
    """An LR the way people type it: 3e-3, 0.1, 2.5."""
    if lr is None or not math.isfinite(lr):
        return "—"
    if 1e-2 <= abs(lr) < 1e3:
        return f"{lr:.3g}"
    mant, exp = f"{lr:.2e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def fmt_num(x: float | None, digits: int = 4) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:.{digits}g}"
