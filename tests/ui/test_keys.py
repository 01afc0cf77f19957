"""Keyboard and focus as people use them (issue 8, bugs 7, 8 and 9): keys on real layouts, number fields that
step aside for the run's keys, Enter/Esc giving the keyboard back, a cheat sheet that lists every key."""
from __future__ import annotations

import math
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from gd_studio.engine.config import RunConfig
from gd_studio.ui.cheatsheet import action_label, shortcut_text
from gd_studio.ui.keys import field_kind

PARABOLA = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.1, "seed": 0}, model="one_weight",
                     loss="mse", lr=0.1, batch_size=0, seed=0, watch="w", val_fraction=0.0)
NO = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
KEYPAD = Qt.KeyboardModifier.KeypadModifier
ALTGR_WINDOWS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def _to_focus(w):
    return QApplication.focusWidget() or w


def _type(qtbot, w, key, mod=NO):
    """One key press as the window gets it: to whatever has the focus (the window itself when nothing has)."""
    qtbot.keyClick(_to_focus(w), key, mod)


def _shifted(qtbot, w, key):
    """A shifted character as a US keyboard sends it: Shift goes down first (reaching whatever has the focus)."""
    qtbot.keyPress(_to_focus(w), Qt.Key.Key_Shift, SHIFT)
    qtbot.keyClick(_to_focus(w), key, SHIFT)
    qtbot.keyRelease(_to_focus(w), Qt.Key.Key_Shift, NO)


def _focus_plots(qtbot, w):
    w.activateWindow()
    w.centralWidget().setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=2000)


def _no_ambiguity(qtlog):
    return [m.message for m in qtlog.records if "Ambiguous" in m.message]


@pytest.mark.parametrize("layout, up, down", [
    ("US/UK: + is Shift+=, - its own key", (Qt.Key.Key_Plus, SHIFT), (Qt.Key.Key_Minus, NO)),
    ("US/UK: = and _ without reaching for Shift", (Qt.Key.Key_Equal, NO), (Qt.Key.Key_Underscore, SHIFT)),
    ("German: + and - have their own keys", (Qt.Key.Key_Plus, NO), (Qt.Key.Key_Minus, NO)),
    ("numeric keypad", (Qt.Key.Key_Plus, KEYPAD), (Qt.Key.Key_Minus, KEYPAD)),
])
def test_plus_and_minus_work_on_common_layouts(make_window, qtbot, qtlog, layout, up, down):
    """Bug 8: "+" (Shift+= on US) did nothing ("Ambiguous shortcut overload: +") while scenario 2 says "Press +"."""
    w = make_window(PARABOLA)
    _focus_plots(qtbot, w)
    _type(qtbot, w, *up)
    assert w.panel.lr.lr() == pytest.approx(0.1 * math.sqrt(10), rel=1e-3), layout
    _type(qtbot, w, *up)
    assert w.panel.lr.lr() == 1.0, layout  # each press once: exactly ×10 after two
    _type(qtbot, w, *down)
    _type(qtbot, w, *down)
    assert w.panel.lr.lr() == 0.1, layout
    assert not _no_ambiguity(qtlog)
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(0.1), timeout=3000)


def test_punctuation_keys_by_the_character_they_type(make_window, qtbot, qtlog):
    """? opens the cheat sheet typed as Shift+/ (US); [ and ] work typed with AltGr (German on Windows)."""
    w = make_window(PARABOLA)
    _focus_plots(qtbot, w)
    _shifted(qtbot, w, Qt.Key.Key_Question)
    assert w.presentation.cheat_sheet.isVisible()
    _type(qtbot, w, Qt.Key.Key_Escape)
    assert not w.presentation.cheat_sheet.isVisible()
    _type(qtbot, w, Qt.Key.Key_BracketLeft, ALTGR_WINDOWS)
    assert w.speed.currentIndex() == 1
    _type(qtbot, w, Qt.Key.Key_BracketRight, ALTGR_WINDOWS)
    assert w.speed.currentIndex() == 0
    assert not _no_ambiguity(qtlog)


def test_question_question_then_f5(make_window, qtbot):
    """Bug 7: "? ?" (each typed Shift+/) then F5: the Shift of the second "?" closed the sheet and its "?" opened it
    again, so the sheet swallowed the F5; and with nothing focused before, the focus landed in the weight-decay box."""
    w = make_window(PARABOLA)
    for _ in range(4):
        _type(qtbot, w, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: w.step_count == 4 and not w.last_snapshot.running, timeout=5000)
    focused = QApplication.focusWidget()
    if focused is not None:
        focused.clearFocus()  # as after launch with nothing focused
    sheet = w.presentation.cheat_sheet
    _shifted(qtbot, w, Qt.Key.Key_Question)
    assert sheet.isVisible()
    _shifted(qtbot, w, Qt.Key.Key_Question)
    assert not sheet.isVisible()
    assert field_kind(QApplication.focusWidget()) is None, QApplication.focusWidget().objectName()
    _type(qtbot, w, Qt.Key.Key_F5)
    assert w.presentation.active
    _type(qtbot, w, Qt.Key.Key_F5)
    assert not w.presentation.active
    assert w.step_count == 4


def test_question_mark_through_the_window_system_opens_the_sheet(make_window, qtbot):
    """Under X (xdotool), "?" did nothing: the router opened the sheet on the ShortcutOverride, and the KeyPress
    that follows went to the new focus, the sheet, which closed on it. QTest on the QWindow takes the window
    system's path (the focus widget is looked up per event); keyClick on a widget does not."""
    w = make_window(PARABOLA)
    w.activateWindow()
    sheet, handle = w.presentation.cheat_sheet, w.windowHandle()

    def question():
        QTest.keyPress(handle, Qt.Key.Key_Shift, SHIFT)
        QTest.keyClick(handle, Qt.Key.Key_Question, SHIFT)
        QTest.keyRelease(handle, Qt.Key.Key_Shift, NO)

    question()
    assert sheet.isVisible()
    question()
    assert not sheet.isVisible()
    QTest.keyClick(handle, Qt.Key.Key_F5)
    assert w.presentation.active
    QTest.keyClick(handle, Qt.Key.Key_F5)
    assert not w.presentation.active


def test_the_lr_box_takes_a_number_and_hands_other_keys_to_the_run(make_window, qtbot):
    """Bug 9: after clicking into the LR box, Space and L typed into it ("0.1 l" is not a number)."""
    w = make_window(PARABOLA)
    box = w.findChild(QLineEdit, "learningRateInput")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    before = box.text()
    _type(qtbot, w, Qt.Key.Key_Space)
    assert w.actionRun.isChecked()  # Space ran
    qtbot.waitUntil(lambda: w.step_count >= 3, timeout=5000)
    _type(qtbot, w, Qt.Key.Key_Space)
    assert not w.actionRun.isChecked()
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=3000)
    _type(qtbot, w, Qt.Key.Key_Z)  # no shortcut, not a number: dropped
    assert box.text() == before and box.hasFocus()
    with qtbot.waitSignal(w.rangeTestFinished, timeout=20000):
        w.panel.rt_iters.setValue(30)
        box.setFocus()
        _type(qtbot, w, Qt.Key.Key_L)  # L ran the range test
    assert box.text() == before
    # what belongs to a number still types: select all, 3e-4, Enter applies it and gives the keyboard back
    box.setFocus()
    box.selectAll()
    for key in (Qt.Key.Key_3, Qt.Key.Key_E, Qt.Key.Key_Minus, Qt.Key.Key_4):
        _type(qtbot, w, key)
    assert box.text() == "3e-4"
    _type(qtbot, w, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not box.hasFocus(), timeout=2000)
    assert w.panel.lr.lr() == pytest.approx(3e-4)
    step = w.step_count
    _type(qtbot, w, Qt.Key.Key_Right)  # the run's keys work again
    qtbot.waitUntil(lambda: w.step_count == step + 1, timeout=3000)


@pytest.mark.parametrize("name, key", [("learningRateInput", Qt.Key.Key_Escape), ("learningRateInput", Qt.Key.Key_Enter),
                                       ("rangeTestStartInput", Qt.Key.Key_Return), ("hiddenInput", Qt.Key.Key_Escape),
                                       ("rangeTestItersInput", Qt.Key.Key_Return), ("noiseInput", Qt.Key.Key_Escape)])
def test_enter_or_esc_in_any_field_gives_the_keyboard_back_to_the_run(make_window, qtbot, name, key):
    """Bug 9: after Enter or Esc in a field, the next → steps the run instead of moving the cursor."""
    w = make_window()
    field = _named(w, name)
    assert field is not None and field.isVisible(), name
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    _type(qtbot, w, key)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not field, timeout=2000)
    assert field_kind(QApplication.focusWidget()) is None
    step = w.step_count
    _type(qtbot, w, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: w.step_count == step + 1, timeout=5000)


def _named(w, name):
    from PySide6.QtWidgets import QWidget

    return w.panel.findChild(QWidget, name)


def test_a_text_field_keeps_every_key(make_window, qtbot):
    """Typing in a text field (hidden units "16, 8") never runs a shortcut, Space included."""
    w = make_window()
    field = w.findChild(QLineEdit, "hiddenInput")
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    field.selectAll()
    for key, mod in ((Qt.Key.Key_1, NO), (Qt.Key.Key_6, NO), (Qt.Key.Key_Comma, NO), (Qt.Key.Key_Space, NO),
                     (Qt.Key.Key_8, NO)):
        _type(qtbot, w, key, mod)
    assert field.text() == "16, 8"
    assert not w.actionRun.isChecked() and not w.range_test_busy and w.step_count == 0


def test_the_cheat_sheet_lists_every_shortcut_the_window_has(make_window, qtbot):
    """Bug 9: the sheet missed G, Shift+G, V, C and Ctrl+I. It is made from the window's own actions now."""
    w = make_window(PARABOLA)
    _focus_plots(qtbot, w)
    _shifted(qtbot, w, Qt.Key.Key_Question)
    sheet = w.presentation.cheat_sheet
    assert sheet.isVisible()
    listed = {(text, keys) for _section, rows in sheet.entries() for text, keys in rows}
    texts = {t for t, _k in listed}
    for a in {*w.actions(), *w.findChildren(QAction)}:
        if not shortcut_text(a):
            continue
        if re.fullmatch(r"actionOpenScenario\d", a.objectName()):
            assert ("Open scenario 1 … 9 of the playlist", "1 … 9") in listed
            continue
        assert (action_label(a), shortcut_text(a)) in listed, a.objectName()
    keys = {k for _t, k in listed}
    assert {"G", "Shift+G", "V", "C"} <= keys
    assert any("I" in k and ("Ctrl" in k or "⌘" in k) for k in keys)
    assert {"Keep as ghost", "Import CSV", "Train cyclical"} <= texts
    _type(qtbot, w, Qt.Key.Key_Space)  # closes it; does not run
    assert not sheet.isVisible() and not w.actionRun.isChecked()
