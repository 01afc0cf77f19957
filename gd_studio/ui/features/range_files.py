"""Range-test files (.gdrange) in the window: open, show curve, band, suggestions, notes and a PyTorch snippet; follow a live file.

A file opens in its own dock with its own loss-vs-LR view, so the run, its LR and its own range test stay as
they were: reading someone's curve never changes what Enter or the next step does.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from ...engine import lr_finder, rangefile
from ...engine.errors import GDStudioError, then
from ..adapters import fmt_lr
from ..plots.common import ORANGE, pen, plot_font, set_line_label
from ..plots.lr_view import LossVsLrView
from ..context import FeatureContext
from ..state import RANGE_TEST, VALIDATION

WATCH_INTERVAL_MS = 250  # a live file is rewritten at most four times a second (gd_studio.torch.finder)

# one sentence per rule (steepest and recommended come from the engine, with the benchmark's wording)
EXPLANATIONS = {
    **lr_finder.EXPLANATIONS,
    "valley": "the middle of the longest stretch where the loss keeps falling (fastai's valley)",
    "minimum/10": "a tenth of the LR at the smoothed minimum (fastai's minimum rule)",
    "base_lr": "Smith's lower bound for a cyclical schedule: where the loss starts to fall",
    "max_lr": "Smith's upper bound for a cyclical schedule: where the fall ends",
}
ORDER = ("recommended", "steepest", "valley", "minimum/10", "base_lr", "max_lr")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class RangeFileView(QWidget):
    """The dock's contents: the file's loss-vs-LR view, its suggestions in words, summary and notes, snippet."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("rangeFileView")
        self.view = LossVsLrView()
        self.view.plot.setObjectName("rangeFilePlot")
        self.view.show_others.setChecked(True)  # a file is read for all its suggestions
        pi = self.view.plot.getPlotItem()
        self.bounds = []
        for name in ("base_lr", "max_lr"):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pen(ORANGE, 2.0, Qt.PenStyle.DotLine), label="",
                                   labelOpts={"position": 0.7, "color": ORANGE, "fill": pg.mkBrush(255, 255, 255, 200),
                                              "anchors": [(0, 0.5), (0, 0.5)]})
            line.setObjectName(f"rangeFile_{name}")
            line.label.setFont(plot_font(0.9))
            line.setToolTip(f"{name}: {EXPLANATIONS[name]}")
            line.hide()
            line.setProperty("has_value", False)
            pi.addItem(line, ignoreBounds=True)
            self.bounds.append(line)
        self.view.extra_lines = tuple(self.bounds)
        self.view.show_bounds.toggled.connect(self._apply_bounds)

        self.details = QLabel("")
        self.details.setObjectName("rangeFileDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choice = QComboBox()
        self.choice.setObjectName("rangeFileSnippetLr")
        self.choice.setToolTip("The LR the PyTorch lines below use (click the curve to pick another)")
        self.copy = QPushButton("Copy")
        self.copy.setObjectName("rangeFileCopySnippet")
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.snippet.toPlainText()))
        self.snippet = QPlainTextEdit()
        self.snippet.setObjectName("rangeFileSnippet")
        self.snippet.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.snippet.setFont(mono)
        self.use = QPushButton("Use in the run")
        self.use.setObjectName("rangeFileUseLr")
        self.use.setToolTip("Set the run's learning rate to this one (the file and the run stay separate otherwise)")
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("PyTorch with"))
        rl.addWidget(self.choice, 1)
        rl.addWidget(self.copy)
        rl.addWidget(self.use)
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.details)
        ll.addWidget(row)
        ll.addWidget(self.snippet, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view.widget)
        split.addWidget(lower)
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self.record: rangefile.RangeTestRecord | None = None
        self.picked: float | None = None
        self.choice.currentIndexChanged.connect(self._update_snippet)
        self.view.lrPicked.connect(self._picked)

    def show_record(self, record: rangefile.RangeTestRecord) -> None:
        self.record = record
        self.view.show_result(record, record.repeat)
        sugg = record.suggestions
        for line, name in zip(self.bounds, ("base_lr", "max_lr")):
            v = sugg.get(name)
            ok = v is not None and math.isfinite(v) and v > 0
            line.setProperty("has_value", ok)
            if ok:
                line.show()
                line.setValue(math.log10(v))
                set_line_label(line, f"{name} {fmt_lr(v)}")
        self._apply_bounds()
        rows = []
        for name in ORDER:
            v = sugg.get(name)
            value = record.describe(name) if v is not None else "none (no clear descent for this rule)"
            rows.append(f"{name}: {value} — {EXPLANATIONS[name]}")
        rows.append("")
        rows += [f"{label}: {_one_line(text)}" for label, text in record.summary()]
        self.details.setText("\n".join(rows))
        keep = self.choice.currentData()
        self.choice.blockSignals(True)
        self.choice.clear()
        for name in ORDER:
            v = sugg.get(name)
            if v is not None and math.isfinite(v) and v > 0:
                self.choice.addItem(f"{name} {fmt_lr(v)}", name)
        if self.picked is not None:
            self.choice.addItem(f"picked {fmt_lr(self.picked)}", "picked")
        i = self.choice.findData(keep)
        self.choice.setCurrentIndex(i if i >= 0 else 0)
        self.choice.blockSignals(False)
        self._update_snippet()

    def _apply_bounds(self) -> None:
        for line in self.bounds:
            line.setVisible(bool(self.view.show_bounds.isChecked() and line.property("has_value")))
        self.view.declutter()

    def _picked(self, lr: float) -> None:
        self.picked = float(f"{lr:.3g}")
        i = self.choice.findData("picked")
        if i >= 0:
            self.choice.setItemText(i, f"picked {fmt_lr(self.picked)}")
        else:
            self.choice.addItem(f"picked {fmt_lr(self.picked)}", "picked")
            i = self.choice.count() - 1
        if self.choice.currentIndex() == i:
            self._update_snippet()
        else:
            self.choice.setCurrentIndex(i)

    def chosen_lr(self) -> tuple[str, float] | None:
        key = self.choice.currentData()
        if key is None or self.record is None:
            return None
        if key == "picked":
            return ("picked on the curve", self.picked) if self.picked else None
        v = self.record.suggestions.get(key)
        return (key, float(v)) if v else None

    def _update_snippet(self, *_) -> None:
        chosen = self.chosen_lr()
        if chosen is None:
            self.snippet.setPlainText("# no suggestion in this file: click the curve to pick an LR")
            return
        label, lr = chosen
        try:
            text = rangefile.snippet(self.record, lr, label=label)
        except GDStudioError as exc:
            text = f"# {exc}"
        self.snippet.setPlainText(text)


class RangeFiles(QObject):
    """Opens .gdrange files into the window's range-file dock and follows a file a script is still writing."""

    fileShown = Signal(object)  # the RangeTestRecord now shown (after an open or a live update)

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx.parent)
        self.ctx = ctx
        self.panel = RangeFileView()
        self.dock = QDockWidget("Range-test file", ctx.parent)
        self.dock.setObjectName("rangeFileDock")
        self.dock.setWidget(self.panel)
        ctx.parent.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.path: Path | None = None
        self._stamp = None
        self.timer = QTimer(self)
        self.timer.setInterval(WATCH_INTERVAL_MS)
        self.timer.timeout.connect(self._poll)
        self.panel.use.clicked.connect(self.use_chosen_lr)

    def use_chosen_lr(self) -> None:
        """Only on request does a file change the run: its chosen LR becomes the run's."""
        chosen = self.panel.chosen_lr()
        if chosen is None:
            self.ctx.show_message("This file has no suggestion: click its curve to pick an LR.", "warning", 6)
            return
        label, lr = chosen
        if self.ctx.state.busy in (RANGE_TEST, VALIDATION):
            self.ctx.show_message("Wait for the range test or the validation to finish (or Esc).", "warning", 5)
            return
        self.ctx.set_lr(lr)
        self.ctx.show_message(f"Learning rate set to {fmt_lr(lr)} ({label} from {self.path.name}).", "info", 6)

    @property
    def watching(self) -> bool:
        return self.timer.isActive()

    def open(self, path) -> bool:
        """Read and show a .gdrange file; a bad one gets a one-line message and the previous view stays."""
        path = Path(path)
        try:
            record = rangefile.load(path)
        except GDStudioError as exc:
            self.ctx.show_message(then(exc, "The previous view is kept."), "error")
            return False
        except OSError as exc:  # noqa: PERF203 - e.g. a permission error the loader did not wrap
            self.ctx.show_message(f"{path}: cannot read it ({exc.strerror or exc}). The previous view is kept.",
                                  "error")
            return False
        self.timer.stop()
        self.path = path
        self._stamp = self._stat(path)
        self._show(record)
        self.dock.show()
        self.dock.raise_()
        live = self._live(record)
        if live:
            self.timer.start()
            self.ctx.show_message(f"Opened {path.name}: a range test still running; the view follows the file as "
                                  "it grows.", "info", 6)
        else:
            self.ctx.show_message(f"Opened {path.name}: {len(record.lrs)} points, recommended lr "
                                  f"{fmt_lr(record.suggestions.get('recommended'))}. The run is unchanged.", "info", 6)
        return True

    @staticmethod
    def _live(record) -> bool:
        live = (record.meta or {}).get("live")
        return bool(isinstance(live, dict) and live.get("running"))

    @staticmethod
    def _stat(path: Path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, getattr(st, "st_ino", 0))

    def _show(self, record) -> None:
        self.panel.show_record(record)
        self.dock.setWindowTitle(f"Range-test file: {Path(record.path or self.path or '').name}"
                                 + (" (live)" if self._live(record) else ""))
        self.fileShown.emit(record)

    def _poll(self) -> None:
        """Redraw when the file changed (the writer replaces it atomically); stop once it says it is done."""
        if self.path is None or self.ctx.closing():
            self.timer.stop()
            return
        stamp = self._stat(self.path)
        if stamp is None or stamp == self._stamp:
            return
        try:
            record = rangefile.load(self.path)
        except GDStudioError:
            return  # caught mid-write by a writer that is not atomic: the next tick reads the whole file
        self._stamp = stamp
        self._show(record)
        if not self._live(record):
            self.timer.stop()
            failed = (record.meta.get("live") or {}).get("failed") if isinstance(record.meta, dict) else None
            if failed:
                self.ctx.show_message(f"{self.path.name}: the range test stopped ({_one_line(failed)}).", "warning", 8)
            else:
                self.ctx.show_message(f"{self.path.name}: the range test finished; recommended lr "
                                      f"{fmt_lr(record.suggestions.get('recommended'))}.", "info", 8)

    def stop(self) -> None:
        self.timer.stop()


def install(ctx: FeatureContext) -> RangeFiles:
    return RangeFiles(ctx)


__all__ = ["RangeFiles", "RangeFileView", "install", "EXPLANATIONS", "WATCH_INTERVAL_MS"]
