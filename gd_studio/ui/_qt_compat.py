"""Work around PySide6 6.12 on CPython < 3.12 dropping references to None, True and False.

PySide6 6.12.0 returns these singletons from void methods (``QColor.setAlpha``, ``QLabel.setText``, …),
``parent()`` of an orphan and ``Signal.emit`` without taking a reference, as if they were immortal; they
are immortal only from CPython 3.12 on. On 3.11 each call lowers the singleton's reference count by one,
and after a few thousand calls the interpreter aborts with "Fatal Python error: none_dealloc". Raising
their counts by 2**40 makes them immortal in effect (CPython 3.12 does the same), so the drift can never
reach zero. The real fix is a PySide6 release outside 6.12.x on Python 3.11 (6.11.3 is unaffected).
"""
from __future__ import annotations

import sys

_BOOST = 1 << 40
_applied = False


def needed() -> bool:
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    try:
        import PySide6
    except ImportError:
        return False
    version = tuple(getattr(PySide6, "__version_info__", (0, 0))[:2])
    return version >= (6, 12)


def apply() -> bool:
    """Make None, True, False, Ellipsis and NotImplemented effectively immortal (once, when needed)."""
    global _applied
    if _applied or not needed():
        return _applied
    import ctypes

    for obj in (None, True, False, Ellipsis, NotImplemented):
        # ob_refcnt is the first field of every object in a standard (non-debug) CPython build
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    _applied = True
    return True


apply()
