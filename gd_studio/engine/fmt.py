"""One way to write numbers everywhere (window, narration, command line, self-test): learning rates and losses.

The style, chosen to read the same on a projector and in a terminal, and to paste back anywhere a number is
typed (the LR box, ``--lr``, a scenario file): three significant digits with trailing zeros dropped; plain
decimals from 0.001 up to 1000 (0.003, 0.0316, 0.1, 2.5, 316), where nobody has to count zeros; e-notation
outside that range with an unpadded exponent and no "+" (3.16e-5, 1e-4, 1.5e3), which is how learning rates
are quoted in papers and typed on command lines, and which ``float()`` reads back. Superscript forms (×10⁻⁵)
were left out on purpose: they look good on a slide but cannot be pasted back into a field or a shell.
"""
from __future__ import annotations

import math

MISSING = "—"  # no value (None, NaN, ±inf): a dash, never "nan" on screen
PLAIN_RANGE = (1e-3, 1e3)  # |x| in [low, high) is written with plain decimals

__all__ = ["fmt_lr", "fmt_num", "MISSING", "PLAIN_RANGE"]


def _unpad(text: str) -> str:
    """"3.16e-05" → "3.16e-5", "1.5e+03" → "1.5e3": the padded, signed exponent is a C habit nobody reads aloud."""
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def _strip(mantissa: str) -> str:
    return mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa


def fmt_lr(lr: float | None, digits: int = 3) -> str:
    """A learning rate (or any rate-like number) in the app's one style: 0.003, 0.1, 2.5, 3.16e-5, 1e-4."""
    if lr is None:
        return MISSING
    x = float(lr)
    if not math.isfinite(x):
        return MISSING
    if x == 0.0:
        return "0"
    # round to the significant digits first, so 0.0009996 (→ 0.001) lands on the side of the range it reads as
    rounded = float(f"{x:.{digits - 1}e}")
    if PLAIN_RANGE[0] <= abs(rounded) < PLAIN_RANGE[1]:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
        return _strip(f"{rounded:.{decimals}f}")
    mantissa, exponent = f"{rounded:.{digits - 1}e}".split("e")
    return f"{_strip(mantissa)}e{int(exponent)}"


def fmt_num(x: float | None, digits: int = 4) -> str:
    """A loss or other measured value: ``digits`` significant digits, e-notation only at the ends (1.235e-5)."""
    if x is None:
        return MISSING
    x = float(x)
    if not math.isfinite(x):
        return MISSING
    return _unpad(f"{x:.{digits}g}")
