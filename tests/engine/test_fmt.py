"""One number style (engine/fmt.py): the rules, the round trip, and every place that writes an LR agreeing."""
from __future__ import annotations

import math

import pytest

from gd_studio.engine import fmt


@pytest.mark.parametrize("lr, text", [
    (3e-3, "0.003"), (0.0031623, "0.00316"), (0.1, "0.1"), (0.316227766, "0.316"), (1.0, "1"), (2.5, "2.5"),
    (10.0, "10"), (316.2, "316"), (1e3, "1e3"), (1.5e3, "1.5e3"), (999.6, "1e3"), (0.0009996, "0.001"),
    (3e-5, "3e-5"), (3.16227766e-5, "3.16e-5"), (1e-4, "1e-4"), (2.89e-6, "2.89e-6"), (1e6, "1e6"), (0.0, "0"),
])
def test_lr_style(lr, text):
    assert fmt.fmt_lr(lr) == text


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -math.inf])
def test_missing_values_are_a_dash(value):
    assert fmt.fmt_lr(value) == fmt.MISSING
    assert fmt.fmt_num(value) == fmt.MISSING


@pytest.mark.parametrize("lr", [10.0 ** (k / 7) for k in range(-70, 22)])
def test_written_lrs_read_back_to_three_digits(lr):
    """What the window shows can be typed back (LR box, --lr) and means the same rate to 3 significant digits."""
    text = fmt.fmt_lr(lr)
    assert "+" not in text and "e-0" not in text and " " not in text
    assert float(text) == pytest.approx(lr, rel=5e-3)


def test_num_style():
    assert fmt.fmt_num(1.23456e-5) == "1.235e-5"
    assert fmt.fmt_num(0.4567891) == "0.4568"
    assert fmt.fmt_num(12345678.0) == "1.235e7"
    assert fmt.fmt_num(0.98, 2) == "0.98"


def test_every_place_that_writes_an_lr_uses_the_one_style():
    """The window, the narration, the range test's messages, the command line and the self-test agree."""
    pytest.importorskip("PySide6")  # the window's adapters; the engine tests also run without Qt
    from gd_studio import cli, selftest
    from gd_studio.engine import lr_finder, narration
    from gd_studio.ui import adapters

    for lr in (3e-3, 3.16e-5, 0.0617, 1.2, 2.89e-6, 1e-4, 250.0):
        want = fmt.fmt_lr(lr)
        assert adapters.fmt_lr(lr) == want
        assert narration.fmt_lr(lr) == want
        assert lr_finder.fmt_lr(lr) == want
        assert cli._fmt(lr) == want
        assert selftest._fmt_lr(lr) == want
    assert adapters.fmt_num(1.23456e-5) == fmt.fmt_num(1.23456e-5)


def test_a_message_then_what_was_kept_reads_as_two_sentences():
    from gd_studio.engine.errors import then

    assert then("x.gdrange: not UTF-8 text; is it a range-test file?", "Kept.") == (
        "x.gdrange: not UTF-8 text; is it a range-test file? Kept.")
    assert then(ValueError("lr must be positive"), "Kept.") == "lr must be positive. Kept."
    assert then("ends with a stop.", "Kept.") == "ends with a stop. Kept."
    assert then("two\n  lines", "Kept.") == "two lines. Kept."
