"""The narration panel: the latest step's update with its numbers, the loss before and after, and what happened.

The text is computed in the worker thread (``live.narration.narrate_latest``) and travels in the snapshot;
the panel only shows it.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from ..plots.common import Caption

PLACEHOLDER = "Take a step (→) and its update is written out here, with the numbers."
SIZES = (0.95, 1.55, 1.35, 1.35)  # title, equation, loss, events: × the panel's font
COMPACT_SIZES = (0.95, 1.2, 1.0, 1.0)
# compact and wide (presentation mode): the events beside the loss wrap onto the lines they need, at the size of the
# views' captions there (presentation.PRESENTATION_CAPTION_FONT), so the room reads them whole and the plots keep
# their share of the screen
WIDE_EVENTS_SIZE = 0.8
FULL_EVENT_LINES = 3
EVENT_LINES_CAP = 12


class NarrationPanel(QFrame):
    """Large, plain text: the update with its numbers, the loss, and the events in words."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("narrationPanel")
        self.setAccessibleName("narration of the latest step")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 10, 6)
        lay.setSpacing(2)
        self.title = QLabel("")
        self.title.setObjectName("narrationTitle")
        # the equation wraps onto the lines its text needs, no more (a fixed three left a blank line in the narrow
        # column of a short screen, which then had no room for the events); the loss ("loss 0.060 → 0.046") is one line
        self.equation = Caption(PLACEHOLDER, lines=1, max_lines=EVENT_LINES_CAP)
        self.equation.setObjectName("narrationEquation")
        self.loss = QLabel("")
        self.loss.setObjectName("narrationLoss")
        # the events wrap to every line they need (the narrow column of a short screen gives them its height: the
        # panel above scrolls); EVENT_LINES_CAP only guards against a runaway text
        self.events = Caption("", lines=3, max_lines=EVENT_LINES_CAP)
        self.events.setObjectName("narrationEvents")
        self.compact = False
        self.narrow = False  # a narrow column (short screens): the equation and the loss wrap
        self._event_lines = FULL_EVENT_LINES
        self._set_fonts()
        # compact mode has no title row: the step number sits at the right of the loss line instead
        self.step_tag = QLabel("")
        self.step_tag.setObjectName("narrationStep")
        self.step_tag.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.step_tag.hide()
        for lab in (self.title, self.equation, self.loss, self.events):
            lab.setTextFormat(Qt.TextFormat.PlainText)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            if lab is self.loss:
                self._loss_row = row = QHBoxLayout()
                row.setSpacing(24)
                row.addWidget(lab, 1)
                row.addWidget(self.step_tag)
                lay.addLayout(row)
            else:
                lay.addWidget(lab)
        self._one_row = False
        lay.addStretch(1)
        self._place_loss()
        self.data: dict | None = None

    def _set_fonts(self) -> None:
        # sizes relative to the panel's font, so a theme or presentation scale change carries over
        base = QFont(self.font())
        pt = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
        # compact (presentation mode, short windows): the equation, the loss and one line of events
        sizes = COMPACT_SIZES if self.compact else SIZES
        if self.compact and not self.narrow and self._event_lines == 1:
            sizes = (*sizes[:3], WIDE_EVENTS_SIZE)
        for lab, k, bold in ((self.title, sizes[0], False), (self.equation, sizes[1], True),
                             (self.loss, sizes[2], False), (self.events, sizes[3], False)):
            f = QFont(base)
            f.setPointSizeF(pt * k)
            f.setBold(bold)
            lab.setFont(f)
        self.events.set_lines(self._event_lines)
        self.title.setVisible(not self.compact)
        if hasattr(self, "step_tag"):
            self.step_tag.setFont(self.loss.font())
            self.step_tag.setVisible(self.compact)

        self._fit_heights()

    def _place_loss(self) -> None:
        """Compact and wide (presentation mode): the events join the loss's row, one row fewer under the plots; the
        equation keeps a row of its own (a long one, W1[36,3] ← …, takes a 1366-px row)."""
        one_row = self.compact and not self.narrow
        if one_row == self._one_row:
            return
        self._one_row = one_row
        lay = self.layout()
        if one_row:
            lay.removeWidget(self.events)
            self._loss_row.insertWidget(1, self.events, 1)
            self._loss_row.setStretchFactor(self.loss, 0)
            self.loss.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        else:
            self._loss_row.removeWidget(self.events)
            lay.insertWidget(lay.indexOf(self.equation) + 2, self.events)  # under the loss's row
            self._loss_row.setStretchFactor(self.loss, 1)
            self.loss.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def _fit_heights(self) -> None:
        # fixed heights: new text must not re-layout (and so repaint) the whole window while running
        if hasattr(self, "_loss_row"):
            self._place_loss()
        # compact, wide and one line (presentation mode): the events wrap beside the loss, at the captions' size;
        # elsewhere under it; in both onto the lines they need
        self.events.set_max_lines(EVENT_LINES_CAP)
        # (the equation and the events are Captions: each keeps its own height, the lines its text wraps to, and
        # re-lays out the window only when that number changes)
        for lab in (self.title, self.loss):
            lab.setFixedHeight(lab.fontMetrics().lineSpacing() + 4)

    def set_compact(self, on: bool, event_lines: int = 1) -> None:
        """Fewer, smaller lines: the panel takes less height from the plots (the whole text stays in tooltips)."""
        lines = event_lines if on else FULL_EVENT_LINES
        if bool(on) != self.compact or lines != self._event_lines:
            self.compact = bool(on)
            self._event_lines = lines
            self._set_fonts()
            self._render()

    def set_narrow(self, on: bool) -> None:
        """In a narrow column the equation and the loss wrap onto more lines instead of being cut."""
        if bool(on) != self.narrow:
            self.narrow = bool(on)
            self._set_fonts()  # (the events' size and line breaks differ beside the loss)
            self._render()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._set_fonts()
        super().changeEvent(event)

    def show_narration(self, data: dict | None, running: bool = False) -> None:
        """``running``: the run goes on, so the wrapped texts keep their tallest height until it stops (no window
        re-layout each time the events take one line more or less); stopped, they fit their text again."""
        for lab in (self.equation, self.events):
            lab.hold(running)
        if data == self.data:
            return  # identical text: no relayout, no repaint
        self.data = data
        self._render()

    def _render(self) -> None:
        data = self.data
        if data is None:
            self.clear()
            return
        head = f"Step {data['step']}"
        if data.get("note"):
            head += f" ({data['note']})"
        self.title.setText(head)
        self.title.setToolTip(head)
        self.equation.setText(data["equation"])
        self.loss.setText(data["loss"])
        self.step_tag.setText(f"step {data['step']}")
        self.step_tag.setToolTip(head)  # with the note, which compact mode has no room for
        # beside the loss (presentation mode) the events flow on as one paragraph: a line each would leave half lines
        # empty under the plots; elsewhere one line each
        wide = self.compact and not self.narrow and self._event_lines == 1
        self.events.setText(("   " if wide else "\n").join(data["events"]))

    def clear(self) -> None:
        self.data = None
        self.title.setText("")
        self.step_tag.setText("")
        self.equation.setText(PLACEHOLDER)
        self.loss.setText("")
        self.events.setText("")

    def text(self) -> str:
        """Everything shown, as plain text (tests and screen readers)."""
        return "\n".join(t for t in (self.title.text(), self.equation.text(), self.loss.text(),
                                     self.events.text()) if t)


__all__ = ["NarrationPanel"]
