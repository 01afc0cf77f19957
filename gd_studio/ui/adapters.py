"""Number formatting shared by the widgets: an LR the way people type it, other numbers to a few digits."""
from __future__ import annotations

from ..engine import fmt as _fmt


def fmt_lr(lr: float | None) -> str:
    """An LR in the app's one style (engine/fmt.py): 0.003, 0.1, 2.5, 3.16e-5."""
    return _fmt.fmt_lr(lr)


def fmt_num(x: float | None, digits: int = 4) -> str:
    return _fmt.fmt_num(x, digits)
