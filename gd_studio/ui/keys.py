"""Keyboard and focus for the main window: keys that work on every layout, and fields that hand the keyboard back.

Three rules, enforced in one application event filter (a focus widget sees a key before the window's shortcuts,
so this is the one place that can decide for all of them):

* Punctuation keys are matched by the character they type, not by the key code and modifiers: "+" is Shift+=
  on US and UK keyboards, its own key on German ones, and Keypad+ everywhere. Qt's shortcut map sees three
  different events there and, on X11, finds both "+" and "Shift+=" in one press ("Ambiguous shortcut overload"),
  so these actions are triggered here, once, from the text of the key.
* A number field (the LR box, the range-test bounds, spin boxes) takes only what can be part of a number
  (digits . , e E + -); any other key (Space, L, R, ?, [ …) goes to the window, as if the field were not there.
* Enter or Esc in any field commits or drops the typing (as before) and then gives the keyboard back to the
  run: the focus returns to the window's keyboard home, so the run's keys work again.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QMainWindow, QPlainTextEdit,
                               QTextEdit, QWidget)

# characters whose action is found by the text the key types (any layout, Shift or Keypad included)
TEXT_KEYS: dict[str, str] = {
    "+": "actionLrUp", "=": "actionLrUp",  # "=" is unshifted "+" on US and UK keyboards
    "-": "actionLrDown", "_": "actionLrDown",
    "?": "actionCheatSheet",
    "[": "actionSlower", "]": "actionFaster",
}
NUMBER_CHARS = frozenset("0123456789.,eE+-")
# line edits that hold a number even while empty (others count as number fields while their text is a number),
# and line edits that hold text even when it looks like a number ("16" hidden units, then "16, 8")
NUMBER_FIELDS = frozenset({"learningRateInput", "rangeTestStartInput", "rangeTestEndInput"})
TEXT_FIELDS = frozenset({"hiddenInput", "csvTargetInput"})
COMMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
# a widget with this dynamic property set takes every key while it has the focus (the cheat sheet)
TAKES_ALL_KEYS = "gdStudioTakesAllKeys"
_COMMAND_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier \
    | Qt.KeyboardModifier.MetaModifier

__all__ = ["KeyRouter", "install", "TEXT_KEYS", "NUMBER_CHARS", "TAKES_ALL_KEYS", "field_kind"]


def field_kind(widget: QWidget | None) -> str | None:
    """"number", "text" or None (not a field): what typing into ``widget`` means."""
    if isinstance(widget, QAbstractSpinBox):
        return "number"
    if isinstance(widget, QLineEdit):
        if widget.isReadOnly():
            return None
        if widget.property("gdStudioNumber") or widget.objectName() in NUMBER_FIELDS:
            return "number"
        if widget.objectName() in TEXT_FIELDS:
            return "text"
        try:
            float(widget.text().strip())
        except ValueError:
            return "text"
        return "number"
    if isinstance(widget, QComboBox) and widget.isEditable():
        return "text"
    if isinstance(widget, (QTextEdit, QPlainTextEdit)) and not widget.isReadOnly():
        return "text"
    return None


def _char(event: QKeyEvent) -> str | None:
    """The character a key types, when it is typing and not a command: no modifiers but Shift and Keypad, or
    the AltGr of European layouts (Ctrl+Alt on Windows, Option on macOS: "[" is AltGr+8 on a German keyboard)."""
    text = event.text()
    if len(text) != 1 or not text.isprintable():
        return None
    mods = event.modifiers() & _COMMAND_MODIFIERS
    altgr = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    if mods and mods != altgr and not (sys.platform == "darwin" and mods == Qt.KeyboardModifier.AltModifier):
        return None
    return text


class KeyRouter(QObject):
    """The window's keyboard policy (see the module docstring); installed once per window."""

    def __init__(self, window: QMainWindow, actions=None) -> None:
        super().__init__(window)
        # the top-level window itself: the router decides which keys are this window's (a focus widget's window())
        self.w = window
        self.actions = actions  # the action registry, where the run's actions are found by name
        self._eat: int | None = None  # the key whose KeyPress follows an override this router acted on
        # the filter sits on the focus widget only (it gets a key first) and on the window (no focus): an
        # application-wide filter would cost a Python call for every event of the app, paints included
        window.installEventFilter(self)
        self._watched: QWidget | None = None
        QApplication.instance().focusChanged.connect(self._focus_changed)
        self._focus_changed(None, QApplication.focusWidget())

    def _focus_changed(self, _old, new) -> None:
        try:
            if self._watched is not None and self._watched is not self.w:
                self._watched.removeEventFilter(self)
        except RuntimeError:  # deleted meanwhile
            pass
        self._watched = None
        try:
            if new is not None and new.window() is self.w:
                new.installEventFilter(self)
                self._watched = new
        except RuntimeError:
            pass

    # ---------------------------------------------------------------------------------- focus
    def home(self) -> QWidget | None:
        """Where the keyboard goes back to: the window's central area (plots and captions), where every key is
        the run's."""
        return self.w.centralWidget()

    def go_home(self) -> None:
        home = self.home()
        if home is not None and self.w.isVisible():
            home.setFocus(Qt.FocusReason.OtherFocusReason)

    # --------------------------------------------------------------------------------- routing
    def _target(self) -> QWidget | None:
        """The widget keys go to, if it is this window's and nothing else (a popup, a dialog) has the keyboard."""
        if QApplication.activePopupWidget() is not None or QApplication.activeModalWidget() is not None:
            return None
        focus = QApplication.focusWidget()
        target = focus if focus is not None else self.w
        if target.window() is not self.w:
            return None
        return target

    def _action(self, name: str) -> QAction | None:
        a = self.actions.get(name) if self.actions is not None else self.w.findChild(QAction, name)
        return a if a is not None and a.isEnabled() else None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        try:
            target = self._target()
        except RuntimeError:  # the window is being destroyed
            return False
        if target is None or obj is not target:
            return False
        if kind == QEvent.Type.KeyPress and self._eat is not None:
            # the KeyPress of a key this router already acted on goes to the focus widget of *after* the action:
            # "?" opens the cheat sheet, which has the focus and would close on this same key (under a real
            # window system; QTest's keyClick on a widget sends both events to the widget it was given, so
            # the next KeyPress seen here may be another key: the mark is dropped either way)
            eat, self._eat = self._eat, None
            if event.key() == eat:
                return True
        if target.property(TAKES_ALL_KEYS):
            return False
        if kind == QEvent.Type.KeyPress:
            return self._key_press(target, event)
        return self._shortcut_override(target, event)

    def _shortcut_override(self, target: QWidget, event: QKeyEvent) -> bool:
        self._eat = None
        field = field_kind(target)
        if event.key() in COMMIT_KEYS and field is not None:
            # the field (or the window's Enter/Esc action) commits or drops the typing first; then the run's keys
            QTimer.singleShot(0, self.go_home)
            return False
        char = _char(event)  # None for Ctrl/Alt/Meta combinations: ordinary shortcuts
        if char is None or field == "text" or (field == "number" and char in NUMBER_CHARS):
            return False  # typing, or a key without text (F5, arrows): Qt's shortcut map decides
        name = TEXT_KEYS.get(char)
        if name is not None:
            action = self._action(name)
            if action is not None:
                action.trigger()
            event.accept()  # taken here: no shortcut lookup (no ambiguity), and the KeyPress is dropped below
            self._eat = event.key()
            return True
        if field == "number":
            # not part of a number: the field steps aside and the window's shortcuts (Space, L, R …) get the key
            event.ignore()
            return True
        return False

    def _key_press(self, target: QWidget, event: QKeyEvent) -> bool:
        if field_kind(target) == "number":
            char = _char(event)
            if char is not None and char not in NUMBER_CHARS:
                return True  # a key that matched no shortcut: still no "0.1 l" in a number field
        return False


def install(window: QMainWindow, actions=None, cheat_sheet=None) -> KeyRouter:
    """The keyboard policy of the top-level ``window`` (its focus widgets' keys), with the action registry's
    actions; a closing ``cheat_sheet`` gives the keyboard back to the router's home."""
    router = KeyRouter(window, actions)
    if cheat_sheet is not None:
        cheat_sheet.home = router.home
    return router
