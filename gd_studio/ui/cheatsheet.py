"""The "?" overlay: a translucent sheet over the window listing every keyboard shortcut by section."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from gd_studio.ui.keys import TAKES_ALL_KEYS
from gd_studio.ui.theme import Theme, applied_theme, get_theme

__all__ = ["CheatSheet", "action_label", "shortcut_text"]

_MODIFIER_KEYS = frozenset({Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                            Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock, Qt.Key.Key_Super_L, Qt.Key.Key_Super_R})


def _alive(widget: QWidget) -> bool:
    try:
        widget.objectName()
    except RuntimeError:  # deleted meanwhile (a rebuilt panel)
        return False
    return True


def action_label(action: QAction) -> str:
    """The action's text without mnemonic ampersands or a trailing ellipsis ("&Run..." → "Run")."""
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    for suffix in ("...", "…"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.strip()


# Arrow glyphs read faster from the back of a lecture hall than the words Qt writes.
_KEY_GLYPHS = {"Left": "←", "Right": "→", "Up": "↑", "Down": "↓"}


def _key_text(sequence: QKeySequence) -> str:
    text = sequence.toString(QKeySequence.SequenceFormat.NativeText)
    if text in _KEY_GLYPHS:
        return _KEY_GLYPHS[text]
    head, sep, last = text.rpartition("+")
    return head + sep + _KEY_GLYPHS[last] if sep and last in _KEY_GLYPHS else text


def shortcut_text(action: QAction) -> str:
    """All of the action's shortcuts as the platform writes them ("Ctrl+S", "⌘S"; arrows as ←→↑↓),
    joined by " or "; an action's "cheatSheetKeys" property, when set, says it instead ("1 … 9")."""
    if action.shortcuts() and action.property("cheatSheetKeys"):
        return str(action.property("cheatSheetKeys"))
    return " or ".join(_key_text(k) for k in action.shortcuts() if not k.isEmpty())


class CheatSheet(QWidget):
    """A translucent overlay covering ``parent`` that lists the shortcuts of ``sections``.

    ``sections`` is a list of (title, actions); actions without a shortcut are left out. The list is
    rebuilt each time the sheet opens, so renamed actions and changed shortcuts show up. Any key (with
    "?" and Escape), any click, or :meth:`toggle` closes it; while it is open, keys reach it rather than
    the window's shortcuts, so closing it never also runs, say, Space = run.
    """

    closed = Signal()

    def __init__(
        self,
        parent: QWidget,
        sections: Sequence[tuple[str, Sequence[QAction]]],
        *,
        theme: Theme | str | None = None,
        scale: float | None = None,
        title: str = "Keyboard shortcuts",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("cheatSheet")
        self.setAccessibleName(title)
        self.setAccessibleDescription("Lists the keyboard shortcuts. Press any key or click to close.")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setProperty(TAKES_ALL_KEYS, True)  # while open, every key is the sheet's (keys.py steps aside)
        # where the keyboard goes when the sheet closes and nothing had the focus before (set by keys.install)
        self.home: Callable[[], QWidget | None] | None = None
        self._title = title
        self._sections = [(str(name), list(actions)) for name, actions in sections]
        current_theme, current_scale = applied_theme()
        self._theme = get_theme(theme) if theme is not None else current_theme
        self._scale = float(scale) if scale is not None else current_scale
        self._previous_focus: QWidget | None = None

        self._panel = QFrame(self)
        self._panel.setObjectName("cheatSheetPanel")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(self._panel, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        self._grid = QGridLayout(self._panel)
        self._labels: list[QLabel] = []

        parent.installEventFilter(self)
        self.hide()

    # ------------------------------------------------------------------------------------ public

    def set_sections(self, sections: Sequence[tuple[str, Sequence[QAction]]]) -> None:
        """Replace the listed sections (rebuilt now if the sheet is open)."""
        self._sections = [(str(name), list(actions)) for name, actions in sections]
        if self.isVisible():
            self._rebuild()

    def set_theme(self, theme: Theme | str | None, scale: float | None = None) -> None:
        """Use ``theme`` (and ``scale``, e.g. the presentation scale) for the sheet."""
        self._theme = get_theme(theme)
        if scale is not None:
            self._scale = float(scale)
        if self.isVisible():
            self._rebuild()
        self.update()

    def entries(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """What the sheet lists: (section, [(action text, shortcut), ...]), sections with no shortcut left out."""
        out = []
        for name, actions in self._sections:
            rows = [(action_label(a), shortcut_text(a)) for a in actions if shortcut_text(a)]
            if rows:
                out.append((name, rows))
        return out

    def open(self) -> None:
        """Show the sheet over the whole parent and take the keyboard focus."""
        parent = self.parentWidget()
        self._rebuild()
        if parent is not None:
            self.setGeometry(parent.rect())
        focus = self.window().focusWidget() if self.window() is not None else None
        self._previous_focus = focus if focus is not self else None
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.PopupFocusReason)

    def close_sheet(self) -> None:
        """Hide the sheet and give the focus back to where it was."""
        if not self.isVisible():
            return
        previous = self._previous_focus
        self._previous_focus = None
        if previous is None or not _alive(previous) or not previous.isVisible():
            previous = self.home() if self.home is not None else None
        if previous is not None:
            # before hiding: a hidden focus widget would hand the focus to the next field in the tab chain
            previous.setFocus(Qt.FocusReason.PopupFocusReason)
        else:
            self.clearFocus()
        self.hide()
        self.closed.emit()

    def toggle(self) -> None:
        """Open the sheet if hidden, close it if shown (connect the "?" action here)."""
        if self.isVisible():
            self.close_sheet()
        else:
            self.open()

    # -------------------------------------------------------------------------------- building

    def _font(self, factor: float, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(self._theme.base_font_pt * self._scale * factor * self._fit)
        font.setBold(bold)
        return font

    def _label(self, text: str, factor: float, *, bold: bool = False, color: str | None = None) -> QLabel:
        label = QLabel(text, self._panel)
        label.setFont(self._font(factor, bold))
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setStyleSheet(f"color: {color or self._theme.foreground}; background: transparent;")
        label.show()  # a child added to a visible parent stays hidden until shown
        self._labels.append(label)
        return label

    _fit = 1.0  # the type's share of its full size: below 1 only when no column count makes the sheet fit

    def _room(self):
        parent = self.parentWidget()
        return None if parent is None else parent.rect().adjusted(8, 8, -8, -8).size()

    def _rebuild(self) -> None:
        """Lay the sections out in as few columns as fit the window (one on a tall screen, two or three on a 720p
        projector at presentation size); only if no column count fits does the type shrink, never clipped."""
        room = self._room()
        self._fit = 1.0
        for _attempt in range(16):
            for columns in range(1, 5):
                self._build(columns)
                hint = self._panel.sizeHint()
                if room is None or (hint.height() <= room.height() and hint.width() <= room.width()):
                    return
                if hint.width() > room.width():
                    break  # more columns only get wider
            self._fit *= 0.93

    def _build(self, columns: int) -> None:
        for label in self._labels:
            self._grid.removeWidget(label)
            label.setParent(None)  # out of findChildren and the accessibility tree at once
            label.deleteLater()
        self._labels = []
        t = self._theme
        sc = self._scale * self._fit
        pad = round(16 * sc)
        self._grid.setContentsMargins(pad, pad, pad, pad)
        self._grid.setHorizontalSpacing(round(24 * sc))
        self._grid.setVerticalSpacing(round(4 * sc))
        border = max(1, round(2 * self._scale))
        self._panel.setStyleSheet(
            f"#cheatSheetPanel {{ background-color: {t.surface}; border: {border}px solid {t.foreground}; "
            f"border-radius: {round(8 * self._scale)}px; }}"
        )
        span = 2 * columns
        self._grid.addWidget(self._label(self._title, 1.6, bold=True), 0, 0, 1, span)
        entries = self.entries()
        if not entries:
            self._grid.addWidget(self._label("No shortcuts defined.", 1.2), 1, 0, 1, span)
        # sections in order, a new column when this one holds its share of the rows
        total = sum(1 + len(rows) for _s, rows in entries)
        share = -(-total // columns)
        col, row, used, last = 0, 1, 0, 1
        for section, rows in entries:
            if used and used + (1 + len(rows)) / 2 > share and col < columns - 1:
                col, row, used = col + 1, 1, 0
            heading = self._label(section, 1.3, bold=True, color=t.accent)
            heading.setContentsMargins(0, round(10 * sc), 0, 0)
            self._grid.addWidget(heading, row, 2 * col, 1, 2)
            row += 1
            for text, keys in rows:
                key_label = self._label(keys, 1.3, bold=True)
                key_label.setAccessibleName(f"{text}: {keys}")
                self._grid.addWidget(key_label, row, 2 * col, Qt.AlignmentFlag.AlignRight)
                self._grid.addWidget(self._label(text, 1.3), row, 2 * col + 1)
                row += 1
            used += 1 + len(rows)
            last = max(last, row)
        hint = self._label("Press any key or click to close", 1.0)
        hint.setContentsMargins(0, round(10 * sc), 0, 0)
        self._grid.addWidget(hint, last, 0, 1, span, Qt.AlignmentFlag.AlignHCenter)
        self._grid.invalidate()
        self._grid.activate()

    # ---------------------------------------------------------------------------------- events

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self._rebuild()  # the columns (and if need be the type) for the new size
            self.setGeometry(self.parentWidget().rect())
        return False

    def event(self, event: QEvent) -> bool:
        # Accepting the override turns the window's shortcuts into plain key presses for this widget.
        if event.type() == QEvent.Type.ShortcutOverride and self.isVisible():
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        event.accept()
        if event.key() in _MODIFIER_KEYS:
            return  # Shift on its way to "?" (Shift+/ on US keyboards) is not "any key": the "?" closes it
        self.close_sheet()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        event.accept()
        self.close_sheet()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        shade = QColor("#000000")
        # Dim the window behind so the sheet stands out, but keep it visible: the sheet is a reminder.
        shade.setAlphaF(0.55 if not self._theme.dark else 0.65)
        painter.fillRect(self.rect(), shade)
        painter.end()
