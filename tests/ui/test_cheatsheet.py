"""The "?" cheat sheet: lists shortcuts by section, covers the window, any key or click closes it."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QPushButton

from gd_studio.ui.cheatsheet import CheatSheet, action_label, shortcut_text


@pytest.fixture
def window(qtbot):
    win = QMainWindow()
    qtbot.addWidget(win)
    # A button, not a text field: text fields keep printable keys such as "?" for typing.
    editor = QPushButton("plots")
    win.setCentralWidget(editor)
    win.resize(800, 600)

    def act(name, text, keys):
        a = QAction(text, win)
        a.setObjectName(name)
        if keys:
            a.setShortcuts([QKeySequence(k) for k in keys])
        win.addAction(a)
        return a

    actions = {
        "run": act("actionRun", "&Run / pause", ["Space"]),
        "step": act("actionStep", "&Step", ["Right"]),
        "faster": act("actionLrUp", "LR × √10", ["+", "="]),
        "save": act("actionSave", "&Save scenario...", ["Ctrl+S"]),
        "about": act("actionAbout", "About", []),
        "help": act("actionCheatSheet", "Keyboard shortcuts", ["?"]),
    }
    sheet = CheatSheet(
        win,
        [
            ("Run", [actions["run"], actions["step"], actions["faster"]]),
            ("File", [actions["save"]]),
            ("Help", [actions["about"], actions["help"]]),
            ("Empty", [actions["about"]]),
        ],
    )
    actions["help"].triggered.connect(sheet.toggle)
    win.show()
    qtbot.waitExposed(win)
    editor.setFocus()
    return win, sheet, actions, editor


def test_labels_and_shortcut_text(qtbot):
    a = QAction("&Save scenario...")
    a.setShortcuts([QKeySequence("Ctrl+S"), QKeySequence("F2")])
    assert action_label(a) == "Save scenario"
    assert shortcut_text(a) == " or ".join(
        QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in ("Ctrl+S", "F2")
    )
    assert action_label(QAction("Fish && chips")) == "Fish & chips"
    arrows = QAction("Step")
    arrows.setShortcuts([QKeySequence("Right"), QKeySequence("Shift+Left")])
    assert shortcut_text(arrows).startswith("→ or ") and shortcut_text(arrows).endswith("←")


def test_entries_grouped_and_without_unbound_actions(window):
    _, sheet, _, _ = window
    entries = sheet.entries()
    assert [name for name, _ in entries] == ["Run", "File", "Help"]
    run = dict(entries[0][1])
    assert run["Run / pause"] == QKeySequence("Space").toString(QKeySequence.SequenceFormat.NativeText)
    assert " or " in run["LR × √10"]
    assert [text for text, _ in entries[2][1]] == ["Keyboard shortcuts"]


def test_toggle_covers_the_window_and_lists_everything(window, qtbot):
    win, sheet, _, _ = window
    assert not sheet.isVisible()
    assert sheet.accessibleName() == "Keyboard shortcuts"
    sheet.toggle()
    assert sheet.isVisible()
    assert sheet.geometry() == win.rect()
    texts = {label.text() for label in sheet.findChildren(QLabel)}
    assert {"Run", "File", "Help", "Run / pause", "Step", "Save scenario", "Keyboard shortcuts"} <= texts
    assert "About" not in texts and "Empty" not in texts
    # Large, readable text.
    assert max(label.font().pointSizeF() for label in sheet.findChildren(QLabel)) >= 15
    win.resize(900, 700)
    qtbot.waitUntil(lambda: sheet.geometry() == win.rect())
    sheet.toggle()
    assert not sheet.isVisible()


def test_any_key_closes_without_running_the_shortcut(window, qtbot):
    _, sheet, actions, editor = window
    ran = []
    actions["run"].triggered.connect(lambda: ran.append(True))
    sheet.toggle()
    qtbot.waitUntil(sheet.hasFocus)
    with qtbot.waitSignal(sheet.closed):
        qtbot.keyClick(sheet, Qt.Key.Key_Space)
    assert not sheet.isVisible()
    assert ran == []
    assert editor.hasFocus()  # focus goes back to where it was


def test_question_mark_opens_and_closes(window, qtbot):
    win, sheet, _, editor = window
    qtbot.keyClick(editor, "?")
    assert sheet.isVisible()
    qtbot.keyClick(sheet, "?")
    assert not sheet.isVisible()
    sheet.toggle()
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)
    assert not sheet.isVisible()


def test_click_closes(window, qtbot):
    _, sheet, _, _ = window
    sheet.toggle()
    qtbot.mouseClick(sheet, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert not sheet.isVisible()


def test_rebuilt_on_open_and_themed(window):
    _, sheet, actions, _ = window
    actions["step"].setText("Step once")
    sheet.set_theme("high_contrast", 2.0)
    sheet.toggle()
    texts = {label.text() for label in sheet.findChildren(QLabel) if not label.isHidden()}
    assert "Step once" in texts and "Step" not in texts
    sheet.set_sections([("Only", [actions["save"]])])
    texts = {label.text() for label in sheet.findChildren(QLabel) if not label.isHidden()}
    assert "Only" in texts and "Run" not in texts


def test_modifier_keys_do_not_close_it_and_focus_goes_home(window, qtbot):
    """Issue 8, bug 7: the Shift of a "?" typed as Shift+/ closed the sheet (so its "?" opened it again), and with
    nothing focused before, closing put the focus in the next field of the tab chain."""
    win, sheet, _, editor = window
    home = QPushButton("home", win.centralWidget())
    home.show()
    sheet.home = lambda: home
    editor.clearFocus()
    sheet.toggle()
    qtbot.waitUntil(sheet.hasFocus)
    for key in (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_AltGr, Qt.Key.Key_Meta):
        # sent as an event: QTest of PySide6 6.6 aborts on AltGr and Meta
        QApplication.sendEvent(sheet, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier))
        assert sheet.isVisible(), key
    qtbot.keyClick(sheet, "?")
    assert not sheet.isVisible()
    assert home.hasFocus()
