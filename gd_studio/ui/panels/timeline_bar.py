"""The timeline bar: a step-back button and a slider over the recorded run (the checkpoints live in live.timeline)."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QWidget


# ------------------------------------------------------------------------------------------- widget
class TimelineBar(QWidget):
    """A back button and a slider over the recorded run; moving the slider asks the worker to jump."""

    jumpRequested = Signal(int)

    def __init__(self, back_action=None) -> None:
        super().__init__()
        self.setObjectName("timelineBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        self.narrow = False  # a narrow column (short screens): a shorter label, no title
        title = self.title = QLabel("Timeline")
        f = QFont(title.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.1)
        title.setFont(f)
        lay.addWidget(title)
        self.back = QToolButton()
        self.back.setObjectName("timelineBackButton")
        if back_action is not None:
            self.back.setDefaultAction(back_action)
        lay.addWidget(self.back)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timelineSlider")
        self.slider.setAccessibleName("timeline: recorded step to go to")
        self.slider.setToolTip("Drag to go back to any recorded step (exact: weights, optimizer and "
                               "random state restored). Change the LR there and step on to fork the run.")
        self.slider.setRange(0, 0)
        # arrow keys stay with ← (step back) and → (step) even after the slider was clicked
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.slider, 1)
        self.label = QLabel("step 0")
        self.label.setObjectName("timelineLabel")
        # a fixed box: new text every frame must not re-layout (and so repaint) the window
        self._fit_label()
        self.label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.label)
        self._timer = QTimer(self)  # coalesce a drag into a few jumps a second
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self._send)
        self.slider.valueChanged.connect(self._moved)
        self.slider.sliderReleased.connect(self._send)
        self._sent: int | None = None
        self._sent_at = 0.0
        self.info: dict | None = None

    def _fit_label(self) -> None:
        self.label.setFixedWidth(self.label.fontMetrics().horizontalAdvance("M") * (9 if self.narrow else 34))

    def set_narrow(self, on: bool) -> None:
        """For a narrow column: "12 / 300" instead of the sentence (which stays in the tooltip), no title."""
        if bool(on) == self.narrow:
            return
        self.narrow = bool(on)
        self.title.setVisible(not self.narrow)
        self._fit_label()
        self.label.setText("")
        if self.info is not None:
            self.set_info(self.info)

    def _moved(self, value: int) -> None:
        self._timer.start()
        end = self.info["end"] if self.info else value
        self.label.setText(f"→ {value} / {end}" if self.narrow else f"go to step {value} of {end}")

    def _send(self) -> None:
        self._timer.stop()
        value = int(self.slider.value())
        if self.info is not None and value == self.info.get("step") and self._sent is None:
            return
        self._sent = value
        self._sent_at = time.monotonic()
        self.jumpRequested.emit(value)

    def set_info(self, info: dict | None) -> None:
        """Show where the run is, unless the user is dragging the slider."""
        self.info = info
        if info is None:
            return
        # the jump has landed (or was clamped to the recorded range, or was overtaken by another command)
        if self._sent is not None and (info["step"] == self._sent or time.monotonic() - self._sent_at > 1.0):
            self._sent = None
        if self.slider.isSliderDown() or self._timer.isActive() or self._sent is not None:
            return
        lo, hi, step = int(info["first"]), int(max(info["end"], info["first"])), int(info["step"])
        if (self.slider.minimum(), self.slider.maximum(), self.slider.value()) != (lo, hi, step):
            self.slider.blockSignals(True)
            self.slider.setRange(lo, hi)
            self.slider.setValue(step)
            self.slider.blockSignals(False)
        ahead = info["end"] - info["step"]
        tail = (f" — {ahead} step{'s' if ahead != 1 else ''} ahead (→ replays; a new LR forks)"
                if ahead > 0 else "")
        text = f"step {info['step']} of {info['end']}{tail}"
        shown = f"{info['step']} / {info['end']}" if self.narrow else text
        if shown != self.label.text():
            self.label.setText(shown)
            self.label.setToolTip(text)

    def clear(self) -> None:
        self._sent = None
        self._timer.stop()
        self.set_info({"first": 0, "end": 0, "step": 0})


__all__ = ["TimelineBar"]
