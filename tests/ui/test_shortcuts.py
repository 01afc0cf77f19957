"""Keyboard first: every shortcut of the window does its thing, from real key events where it matters."""
from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu

from gd_studio.engine import scenarios
from gd_studio.engine.config import RunConfig
from gd_studio.ui.presentation import snap_lr

PARABOLA = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.1, "seed": 0}, model="one_weight",
                     loss="mse", lr=0.1, batch_size=0, seed=0, watch="w", val_fraction=0.0)


def _focus(qtbot, w):
    w.activateWindow()
    w.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None or w.isActiveWindow(), timeout=2000)


def _press(qtbot, w, key, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(w.centralWidget(), key, mod)


def _idle_at(qtbot, w, n, timeout=5000):
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == n
                    and not w.last_snapshot.running, timeout=timeout)


def test_every_action_is_named_keyed_and_in_a_menu(make_window):
    w = make_window(PARABOLA)
    expected = {"actionLrUp": "+", "actionLrDown": "-", "actionSlower": "[", "actionFaster": "]",
                "actionPresentation": "F5", "actionFullScreen": "F11", "actionCheatSheet": "?",
                "actionNextScenario": "PgDown", "actionPreviousScenario": "PgUp", "actionOpenScenario": "Ctrl+O",
                "actionSaveScenario": "Ctrl+S", "actionOpenScenario1": "1", "actionOpenScenario9": "9"}
    in_menus = set()
    for m in w.findChildren(QMenu):
        in_menus |= {a.objectName() for a in m.actions()}
    for name, key in expected.items():
        a = w.findChild(QAction, name)
        assert a is not None, name
        assert QKeySequence(key) in a.shortcuts(), name
        if name not in ("actionOpenScenario9",):
            assert name in in_menus, f"{name} is not reachable by mouse"
    assert "√10" in w.findChild(QAction, "actionLrUp").text()
    assert "√10" in w.findChild(QAction, "actionLrDown").toolTip() or "√10" in w.findChild(QAction, "actionLrDown").text()
    # accessible names for the named widgets
    assert w.findChild(type(w.speed), "speedCombo").accessibleName()
    assert w.panel.lr.input.accessibleName()


def test_space_runs_and_pauses_right_steps_r_resets(make_window, qtbot):
    w = make_window(PARABOLA)
    _focus(qtbot, w)
    _press(qtbot, w, Qt.Key.Key_Right)
    _idle_at(qtbot, w, 1)
    _press(qtbot, w, Qt.Key.Key_Right)
    _idle_at(qtbot, w, 2)
    _press(qtbot, w, Qt.Key.Key_Space)
    assert w.actionRun.isChecked()
    qtbot.waitUntil(lambda: w.step_count >= 20, timeout=5000)
    _press(qtbot, w, Qt.Key.Key_Space)
    assert not w.actionRun.isChecked()
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=3000)
    seed = w.config().seed
    _press(qtbot, w, Qt.Key.Key_R)
    _idle_at(qtbot, w, 0)
    assert w.config().seed == seed
    _press(qtbot, w, Qt.Key.Key_R, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: w.config().seed == seed + 1, timeout=3000)


def test_plus_minus_change_the_lr_by_sqrt10(make_window, qtbot):
    w = make_window(PARABOLA)
    _focus(qtbot, w)
    _press(qtbot, w, Qt.Key.Key_Plus)
    assert w.panel.lr.lr() == pytest.approx(0.1 * math.sqrt(10), rel=1e-3)
    _press(qtbot, w, Qt.Key.Key_Plus)
    assert w.panel.lr.lr() == 1.0  # two presses: exactly ×10
    _press(qtbot, w, Qt.Key.Key_Minus)
    _press(qtbot, w, Qt.Key.Key_Minus)
    assert w.panel.lr.lr() == 0.1
    qtbot.waitUntil(lambda: w.last_snapshot.lr == pytest.approx(0.1), timeout=3000)  # the worker took it
    assert snap_lr(0.8 * math.sqrt(10)) == pytest.approx(2.53, abs=1e-9)


def test_brackets_walk_the_speed_ladder(make_window, qtbot):
    w = make_window(PARABOLA)
    _focus(qtbot, w)
    values = [w.speed.itemData(i) for i in range(w.speed.count())]
    assert values[0] is None and values[-1] == 0.5  # unthrottled … 0.5 steps/s
    assert w.speed.currentIndex() == 0
    _press(qtbot, w, Qt.Key.Key_BracketLeft)
    assert w.speed.currentIndex() == 1
    for _ in range(20):
        w.findChild(QAction, "actionSlower").trigger()
    assert w.speed.currentData() == 0.5
    assert w.controller.worker is not None
    _press(qtbot, w, Qt.Key.Key_BracketRight)
    assert w.speed.currentData() == 1.0
    qtbot.waitUntil(lambda: w.controller.worker.speed == 1.0, timeout=2000)


def test_keys_do_not_fire_while_typing_in_a_text_field(make_window, qtbot):
    """A text field keeps every key; number fields (the LR box) step aside for keys no number has: test_keys.py."""
    w = make_window()
    edit = w.findChild(QLineEdit, "hiddenInput")
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=2000)
    lr = w.panel.lr.lr()
    for key in (Qt.Key.Key_Space, Qt.Key.Key_R, Qt.Key.Key_Plus, Qt.Key.Key_1, Qt.Key.Key_BracketLeft,
                Qt.Key.Key_L, Qt.Key.Key_P, Qt.Key.Key_Right):
        qtbot.keyClick(edit, key)
    assert not w.actionRun.isChecked()
    assert not w.range_test_busy
    assert w.panel.lr.lr() == lr
    assert w.speed.currentIndex() == 0
    assert not w.presentation.active
    assert w.scenarios.current is None
    assert w.step_count == 0


def test_number_keys_and_page_keys_open_scenarios(make_window, qtbot):
    w = make_window(PARABOLA)
    _focus(qtbot, w)
    bundled = scenarios.bundled()
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=10000) as got:
        _press(qtbot, w, Qt.Key.Key_3)
    assert got.args[0].title == scenarios.load(bundled[2]).title
    assert w.config() == scenarios.load(bundled[2]).config
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=10000) as got:
        _press(qtbot, w, Qt.Key.Key_PageDown)
    assert got.args[0].title == scenarios.load(bundled[3]).title
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=10000) as got:
        _press(qtbot, w, Qt.Key.Key_PageUp)
    assert got.args[0].title == scenarios.load(bundled[2]).title


def test_question_mark_shows_the_cheat_sheet_by_section(make_window, qtbot):
    w = make_window(PARABOLA)
    _focus(qtbot, w)
    _press(qtbot, w, Qt.Key.Key_Question)
    sheet = w.presentation.cheat_sheet
    assert sheet.isVisible()
    entries = dict(sheet.entries())
    assert {"Run", "Learning rate", "Speed", "Scenarios", "View"} <= set(entries)
    texts = {t for rows in entries.values() for t, _k in rows}
    assert {"Run", "Step", "Reset", "Learning rate × √10", "Slower", "Faster", "Presentation mode"} <= texts
    qtbot.keyClick(sheet, Qt.Key.Key_Space)  # closes it, and does not start the run
    assert not sheet.isVisible()
    assert not w.actionRun.isChecked()


def test_l_runs_the_range_test_and_enter_uses_the_suggestion(make_window, qtbot):
    w = make_window(PARABOLA)
    w.panel.rt_iters.setValue(30)
    _focus(qtbot, w)
    with qtbot.waitSignal(w.rangeTestFinished, timeout=15000):
        _press(qtbot, w, Qt.Key.Key_L)
    lr = w.suggested_lr()
    assert lr is not None
    _press(qtbot, w, Qt.Key.Key_Return)
    assert w.panel.lr.lr() == pytest.approx(lr)
