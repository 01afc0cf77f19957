"""The main window: panel, four live views, actions with shortcuts, status bar, messages and the worker."""
from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QComboBox, QDockWidget, QFileDialog, QFrame,
                               QHBoxLayout, QLabel, QLineEdit, QMainWindow, QSplitter, QToolBar, QToolButton,
                               QVBoxLayout, QWidget)

from ..engine.config import RunConfig
from ..engine.errors import GDStudioError
from .adapters import fmt_lr, fmt_num
from .panel import ModelDataPanel
from .views import NO_DESCENT, DataView, GatedPlotWidget, LossVsLrView, LossVsStepView, LossVsWeightView
from .worker import WorkerController

DEFAULT_CONFIG = RunConfig(dataset="moons", dataset_params={"n_samples": 200, "noise": 0.2, "seed": 0},
                           model="mlp", hidden=(16,), activation="tanh", loss="cross_entropy", optimizer="sgd",
                           lr=0.1, batch_size=32, seed=0, watch="W2[0,0]")

# the speed ladder ([ slower, ] faster): from unthrottled down to 0.5 steps/s, slow enough to narrate each step
SPEEDS = [("full speed", None), ("500 steps/s", 500.0), ("200 steps/s", 200.0), ("100 steps/s", 100.0),
          ("50 steps/s", 50.0), ("20 steps/s", 20.0), ("10 steps/s", 10.0), ("5 steps/s", 5.0),
          ("2 steps/s", 2.0), ("1 step/s", 1.0), ("0.5 steps/s", 0.5)]


class MessageBanner(QFrame):
    """A non-modal message strip above the views: errors stay until dismissed or replaced, notes fade."""

    STYLES = {
        "error": "background:#FBE3D6; color:#5A1E00; border:2px solid #D55E00;",
        "warning": "background:#FFF5CC; color:#4A3B00; border:2px solid #E69F00;",
        "info": "background:#DDEFFA; color:#00304F; border:2px solid #0072B2;",
    }

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("messageBanner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 4, 4)
        self.label = QLabel("")
        self.label.setObjectName("messageText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = QFont(self.label.font())
        f.setPointSizeF(f.pointSizeF() * 1.1)
        self.label.setFont(f)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.kind = "info"
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, kind: str = "info", seconds: float | None = None) -> None:
        self.kind = kind
        self.setStyleSheet(f"QFrame#messageBanner {{{self.STYLES.get(kind, self.STYLES['info'])}}}")
        self.label.setText(text)
        self.show()
        if seconds is None:
            seconds = 0 if kind == "error" else 8
        if seconds:
            self._timer.start(int(seconds * 1000))
        else:
            self._timer.stop()

    def text(self) -> str:
        return self.label.text()


class MainWindow(QMainWindow):
    """GD Studio's window. The engine runs in a worker thread; this class only presents and forwards."""

    rangeTestFinished = Signal(object)  # lr_finder.RangeTestResult (RepeatResult when repeating over seeds)
    snapshotApplied = Signal(object)  # RunSnapshot, after the views drew it
    configApplied = Signal(object)  # ConfigInfo, after a (re)build
    messageShown = Signal(str, str)  # (kind, text)

    def __init__(self, config: RunConfig | None = None, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gdStudioMainWindow")
        self.setWindowTitle("GD Studio — learning rates, live")
        self.setAcceptDrops(True)
        self.messages: list[tuple[str, str]] = []
        self.last_snapshot = None
        self.config_info = None
        self.range_test_result = None
        self.range_test_repeat = None
        self.range_test_busy = False
        self._generation = 0
        self._pending_reason: str | None = "startup"
        self._shown_stop: str | None = None
        self._closing = False
        self._draw_times: list[float] = []

        # -- views -------------------------------------------------------------------------------
        self.data_view = DataView()
        self.weight_view = LossVsWeightView()
        self.lr_view = LossVsLrView()
        self.step_view = LossVsStepView()
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.data_view.widget)
        top.addWidget(self.weight_view.widget)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.lr_view.widget)
        bottom.addWidget(self.step_view.widget)
        grid = QSplitter(Qt.Orientation.Vertical)
        grid.addWidget(top)
        grid.addWidget(bottom)
        for s in (top, bottom, grid):
            s.setChildrenCollapsible(False)
            s.setSizes([1000, 1000])
        self.views_splitter = grid
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.setSpacing(4)
        self.banner = MessageBanner()
        cl.addWidget(self.banner)
        cl.addWidget(grid, 1)
        self.setCentralWidget(central)

        # -- panel -------------------------------------------------------------------------------
        self.panel = ModelDataPanel()
        self.dock = QDockWidget("Model and data", self)
        self.dock.setObjectName("modelDataDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)

        # -- actions, menus, toolbar, status bar --------------------------------------------------
        self._make_actions()
        self._make_status_bar()

        # -- worker ------------------------------------------------------------------------------
        self.controller = WorkerController(self)
        w = self.controller.worker
        w.configured.connect(self._on_configured)
        w.snapshotReady.connect(self._on_snapshot)
        w.rangeTestProgress.connect(self._on_range_progress)
        w.rangeTestDone.connect(self._on_range_done)
        w.failed.connect(self._on_failed)
        w.message.connect(lambda text: self.show_message(text, "info"))
        for view in (self.data_view, self.weight_view, self.lr_view, self.step_view):
            view.plot.gate = w.ui_gate

        self.panel.configEdited.connect(self._on_config_edited)
        self.panel.lrEdited.connect(self.set_lr)
        self.panel.watchEdited.connect(self.controller.watchRequested)
        self.panel.invalid.connect(lambda text: self.show_message(text, "error"))
        self.panel.importRequested.connect(self.open_csv_dialog)
        self.lr_view.lrPicked.connect(self._lr_picked)
        # step back and timeline, narration, ghosts, validation, cyclical LRs (study.py)
        from . import study
        self.study = study.install(self)

        # presentation mode, themes and keys; scenarios; export (each in its own module)
        from . import export_ui, presentation, scenario_io
        self.presentation = presentation.install(self)
        self.scenarios = scenario_io.install(self)
        self.exports = export_ui.install(self)
        from . import record_dialog  # File → Export animation… (issue 15)
        self.animation = record_dialog.install(self)
        self.presentation.presentationChanged.connect(self.scenarios.refresh_caption)
        self.presentation.name_widgets()

        config = config or DEFAULT_CONFIG
        self.panel.set_config(config)
        self.controller.reconfigureRequested.emit(config)
        self.resize(1500, 940)

    # ------------------------------------------------------------------------------------- actions
    def _action(self, name: str, text: str, shortcuts, slot, tip: str, checkable: bool = False) -> QAction:
        a = QAction(text, self)
        a.setObjectName(name)
        if isinstance(shortcuts, (list, tuple)):
            a.setShortcuts([QKeySequence(s) for s in shortcuts])
        elif shortcuts:
            a.setShortcut(QKeySequence(shortcuts))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        a.setToolTip(f"{tip} ({keys})" if keys else tip)
        a.setStatusTip(tip)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.addAction(a)  # shortcuts work even with the toolbar hidden
        return a

    def _make_actions(self) -> None:
        self.actionRun = self._action("actionRun", "Run", "Space", self._run_triggered,
                                      "Run or pause training", checkable=True)
        self.actionRun.toggled.connect(lambda on: self.actionRun.setText("Pause" if on else "Run"))
        self.actionStep = self._action("actionStep", "Step", "Right", self.step_once, "Take one step")
        self.actionReset = self._action("actionReset", "Reset", "R", self.reset,
                                        "Back to step 0 with the same initial weights")
        self.actionReseed = self._action("actionReseed", "Reseed", "Shift+R", self.reseed,
                                         "New initial weights (next seed)")
        self.actionRangeTest = self._action("actionRangeTest", "Range test", "L", self.start_range_test,
                                            "Leslie Smith's LR range test")
        self.actionUseSuggestedLr = self._action("actionUseSuggestedLr", "Use suggested LR",
                                                 ["Return", "Enter"], self.use_suggested_lr,
                                                 "Use the range test's steepest-slope learning rate")
        self.actionCancel = self._action("actionCancel", "Cancel", "Esc", self.cancel,
                                         "Stop the range test or the run")
        self.actionImportCsv = self._action("actionImportCsv", "Import CSV…", "Ctrl+I",  # Ctrl+O opens scenarios
                                            self.open_csv_dialog, "Load a CSV dataset")
        self.actionQuit = self._action("actionQuit", "Quit", QKeySequence.StandardKey.Quit, self.close, "Quit")
        self.actionTogglePanel = self.dock.toggleViewAction()
        self.actionTogglePanel.setObjectName("actionTogglePanel")
        self.actionTogglePanel.setText("Model and data panel")
        self.actionShowOtherSuggestions = QAction("Other LR suggestions", self, checkable=True)
        self.actionShowOtherSuggestions.setObjectName("actionShowOtherSuggestions")
        self.actionShowOtherSuggestions.toggled.connect(self.lr_view.show_others.setChecked)
        self.lr_view.show_others.toggled.connect(self.actionShowOtherSuggestions.setChecked)
        self.actionShowSmithBounds = QAction("Smith's bounds (base_lr, max_lr)", self, checkable=True)
        self.actionShowSmithBounds.setObjectName("actionShowSmithBounds")
        self.actionShowSmithBounds.toggled.connect(self.lr_view.show_bounds.setChecked)
        self.lr_view.show_bounds.toggled.connect(self.actionShowSmithBounds.setChecked)
        self.actionAbout = QAction("About GD Studio", self)
        self.actionAbout.setObjectName("actionAbout")
        self.actionAbout.triggered.connect(self._about)

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.actionImportCsv)
        m.addSeparator()
        m.addAction(self.actionQuit)
        m = mb.addMenu("&Run")
        for a in (self.actionRun, self.actionStep, self.actionReset, self.actionReseed):
            m.addAction(a)
        m.addSeparator()
        for a in (self.actionRangeTest, self.actionUseSuggestedLr, self.actionCancel):
            m.addAction(a)
        m = mb.addMenu("&View")
        m.addAction(self.actionTogglePanel)
        m.addAction(self.actionShowOtherSuggestions)
        m.addAction(self.actionShowSmithBounds)
        m = mb.addMenu("&Help")
        m.addAction(self.actionAbout)
        self.run_menu = mb.actions()[1].menu()

        tb = QToolBar("Controls")
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.actionRun, self.actionStep, self.actionReset, self.actionReseed):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.actionRangeTest, self.actionUseSuggestedLr, self.actionCancel):
            tb.addAction(a)
        tb.addSeparator()
        tb.addWidget(QLabel(" speed "))
        self.speed = QComboBox()
        self.speed.setObjectName("speedCombo")
        self.speed.setToolTip("Steps per second while running (slow enough to narrate, or as fast as it goes)")
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.speed.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        tb.addWidget(self.speed)
        f = QFont(tb.font())
        f.setPointSizeF(f.pointSizeF() * 1.1)
        f.setBold(True)
        tb.setFont(f)
        self.toolbar = tb
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.actionCancel.setEnabled(False)
        self.actionUseSuggestedLr.setEnabled(True)

    def _make_status_bar(self) -> None:
        sb = self.statusBar()
        self.status = {}
        for key, width in (("step", 110), ("epoch", 90), ("lr", 130), ("loss", 150), ("speed", 140)):
            lab = QLabel("")
            lab.setObjectName(f"status{key.capitalize()}")
            lab.setMinimumWidth(width)
            sb.addPermanentWidget(lab)
            self.status[key] = lab
        stop = QLabel("")
        stop.setObjectName("statusStop")
        sb.addWidget(stop, 1)
        self.status["stop"] = stop
        f = QFont(sb.font())
        f.setPointSizeF(f.pointSizeF() * 1.05)
        sb.setFont(f)

    # ----------------------------------------------------------------------------------- messages
    def show_message(self, text: str, kind: str = "info", seconds: float | None = None) -> None:
        self.messages.append((kind, text))
        self.banner.show_message(text, kind, seconds)
        self.messageShown.emit(kind, text)

    def _about(self) -> None:
        from .. import __version__

        self.show_message(
            f"GD Studio {__version__}: gradient descent and Leslie Smith's LR range test, live. Descent "
            "subtracts: w ← w − r·dL/dw (the article's update writes + by mistake).", "info", 12)

    # ----------------------------------------------------------------------------------- commands
    @property
    def step_count(self) -> int:
        return 0 if self.last_snapshot is None else self.last_snapshot.step

    def config(self) -> RunConfig:
        """The configuration of the current run (the last one that built)."""
        return self.panel.config()

    def apply_config(self, config: RunConfig, reason: str = "configured") -> None:
        self._pending_reason = reason
        self.controller.reconfigureRequested.emit(config)

    def _on_config_edited(self, config: RunConfig) -> None:
        self.apply_config(config, "edited")

    def _run_triggered(self, checked: bool) -> None:
        if self.range_test_busy:
            self.actionRun.setChecked(False)
            return
        if checked:
            if self.last_snapshot is not None and self.last_snapshot.stop_reason:
                self.actionRun.setChecked(False)
                self.show_message(f"The run has stopped ({self.last_snapshot.stop_reason}). Reset (R) to "
                                  "start again, perhaps with a smaller LR.", "warning")
                return
            self.panel.flush()
            self.controller.startRequested.emit()
        else:
            self.controller.pauseRequested.emit()

    def start(self) -> None:
        if not self.actionRun.isChecked():
            self.actionRun.setChecked(True)
            self._run_triggered(True)

    def pause(self) -> None:
        if self.actionRun.isChecked():
            self.actionRun.setChecked(False)
        self.controller.pauseRequested.emit()

    def step_once(self) -> None:
        if self.range_test_busy:
            return
        self.actionRun.setChecked(False)
        self.controller.stepRequested.emit(1)

    def reset(self) -> None:
        if self.range_test_busy:
            return
        self.actionRun.setChecked(False)
        self._pending_reason = "reset"
        self.controller.resetRequested.emit()

    def reseed(self) -> None:
        if self.range_test_busy:
            return
        self.actionRun.setChecked(False)
        seed = (self.config().seed + 1) % (2**31)
        self._pending_reason = "reseeded"
        self.controller.reseedRequested.emit(seed)

    def set_lr(self, lr: float) -> None:
        """Apply a learning rate live (the run continues with it from the next step)."""
        self.panel.lr.set_lr(lr)
        self.controller.lrRequested.emit(float(lr))
        self.lr_view.set_current_lr(lr)

    def _lr_picked(self, lr: float) -> None:
        lr = float(f"{lr:.3g}")
        self.set_lr(lr)
        self.show_message(f"Learning rate set to {fmt_lr(lr)} from the loss-vs-LR view.", "info", 5)

    def _speed_changed(self) -> None:
        self.controller.speedRequested.emit(self.speed.currentData())

    def start_range_test(self) -> None:
        if self.range_test_busy:
            return
        try:
            settings = self.panel.range_test_settings()
        except GDStudioError as exc:
            self.show_message(f"{exc}. The range test did not start.", "error")
            return
        self.panel.flush()
        self.actionRun.setChecked(False)
        self.range_test_busy = True
        self._set_busy(True)
        self.lr_view.start_test(settings["num_iter"], settings["repeats"], settings["start_lr"], settings["end_lr"])
        self.step_view.plot.refit()
        self.controller.range_test(**settings)

    def cancel(self) -> None:
        fw = QApplication.focusWidget()
        if isinstance(fw, QLineEdit) and fw.isModified() and fw.isUndoAvailable() and not self.range_test_busy:
            fw.undo()  # Esc while typing drops the typing, as in a dialog
        self.actionRun.setChecked(False)
        self.controller.cancel()

    def use_suggested_lr(self) -> None:
        # Enter in a text field applies that field; elsewhere it takes the range test's suggestion
        fw = QApplication.focusWidget()
        if isinstance(fw, QLineEdit) and fw.objectName() != "":
            if fw is self.panel.lr.input:
                self.panel.lr.commit_text()
            else:
                fw.editingFinished.emit()
            return
        if isinstance(fw, QAbstractSpinBox):
            fw.interpretText()
            return
        lr = self.suggested_lr()
        if lr is None:
            if self.range_test_result is not None:
                self.show_message(f"The learning rate is unchanged. {NO_DESCENT}", "warning", 8)
            else:
                self.show_message("No suggestion yet: run the range test first (L).", "warning", 6)
            return
        self.set_lr(lr)
        self.show_message(f"Learning rate set to the steepest-slope suggestion {fmt_lr(lr)}.", "info", 6)

    def suggested_lr(self) -> float | None:
        src = self.range_test_repeat if self.range_test_repeat is not None else self.range_test_result
        if src is None:
            return None
        v = src.suggestions.get("steepest")
        return float(v) if v is not None and math.isfinite(v) and v > 0 else None

    def import_csv(self, path) -> None:
        """Load a CSV dataset; a bad file shows why and keeps the previous dataset."""
        self.apply_config(self.panel.select_csv(str(path)), "csv")

    def open_csv_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a CSV dataset", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.import_csv(path)

    def _set_busy(self, busy: bool) -> None:
        for a in (self.actionRun, self.actionStep, self.actionReset, self.actionReseed, self.actionRangeTest,
                  self.actionUseSuggestedLr):
            a.setEnabled(not busy)
        self.actionCancel.setEnabled(busy or self.actionRun.isChecked())
        self.panel.setEnabled(not busy)

    # ------------------------------------------------------------------------------ worker replies
    def _on_configured(self, info) -> None:
        self._generation = info.generation
        self.config_info = info
        self.panel.set_config(info.config)
        self.panel.set_watch_names(info.watch_names, info.watch)
        self.panel.set_descriptions(info.dataset_text, info.model_text)
        if info.reason != "reset" or self.data_view.info is None:
            self.data_view.set_info(info.data)
        self.weight_view.clear()
        self.step_view.clear()
        self.lr_view.set_current_lr(info.config.lr)
        self._shown_stop = None
        self.actionRun.setChecked(False)
        self.actionCancel.setEnabled(False)
        reason = self._pending_reason or info.reason
        self._pending_reason = None
        if reason == "edited":
            self.show_message("Settings changed: the run was reset to step 0 with the new model and data.", "info")
        elif reason == "csv":
            self.show_message(f"Loaded {info.dataset_text}. The run was reset.", "info")
        elif reason == "reset":
            self.show_message("Reset: back to step 0 with the same initial weights.", "info", 4)
        elif reason == "reseeded":
            self.show_message(f"New seed {info.config.seed}: new initial weights, step 0.", "info", 4)
        self.configApplied.emit(info)

    def _on_snapshot(self, snap) -> None:
        draw = None
        try:
            if snap.generation != self._generation or self._closing:
                return
            t0 = time.perf_counter()
            self.controller.worker.ui_gate.clear()  # park the engine while the views take new data
            self.last_snapshot = snap
            self.weight_view.show_view(snap.weight, live=snap.running)
            self.step_view.show_history(snap.history, self._step_caption(snap), live=snap.running)
            self.data_view.update_snapshot(snap)
            self.lr_view.set_current_lr(snap.lr)
            self._update_status(snap)
            if not snap.running and self.actionRun.isChecked() and not self.range_test_busy:
                self.actionRun.setChecked(False)
            if not self.range_test_busy:
                self.actionCancel.setEnabled(snap.running)
            if snap.stop_reason and snap.stop_reason != self._shown_stop:
                self._shown_stop = snap.stop_reason
                self.show_message(f"Run stopped: {snap.stop_reason}. The plots keep the steps before it; "
                                  "reset (R) and try a smaller LR.", "error")
            draw = time.perf_counter() - t0
            self._draw_times.append(draw)
            del self._draw_times[:-200]
            self.snapshotApplied.emit(snap)
        finally:
            self.controller.worker.ui_gate.set()
            # what the last frame cost (its data and its paint), so the worker paces the next ones
            paint = GatedPlotWidget.paint_seconds
            GatedPlotWidget.paint_seconds = 0.0
            self.controller.ack(min(draw + paint, 0.5) if draw is not None else None)

    def _step_caption(self, snap) -> str:
        h = snap.history
        if not len(h.steps):
            return "Press Space to run, → to take one step."
        text = f"step {snap.step}: batch loss {fmt_num(snap.loss)}"
        if snap.val_loss is not None:
            text += f", validation loss {fmt_num(snap.val_loss)}"
        sched = self.config().schedule
        text += f"; LR {fmt_lr(snap.lr)}" + (f" ({sched} schedule)" if sched != "constant" else "")
        return text

    def _update_status(self, snap) -> None:
        s = self.status
        s["step"].setText(f"step {snap.step}")
        s["epoch"].setText(f"epoch {snap.epoch}")
        s["lr"].setText(f"lr {fmt_lr(snap.lr)}")
        s["loss"].setText(f"loss {fmt_num(snap.loss)}")
        s["speed"].setText(f"{snap.steps_per_sec:,.0f} steps/s" if snap.running else "paused")
        if snap.stop_reason:
            s["stop"].setText(f"stopped: {snap.stop_reason}")
        elif snap.running:
            s["stop"].setText("running")
        else:
            s["stop"].setText("")

    def _on_range_progress(self, prog) -> None:
        try:
            if prog.generation != self._generation or self._closing:
                return
            self.controller.worker.ui_gate.clear()
            self.lr_view.show_progress(prog)
            if prog.weight is not None:
                self.weight_view.show_view(prog.weight, "range test", live=True)
            if prog.repeat == 0:
                self.step_view.show_range_test(prog.lrs, prog.losses)
            self.status["stop"].setText(f"range test: step {len(prog.lrs)} of {prog.num_iter}")
        finally:
            self.controller.worker.ui_gate.set()
            self.controller.ack()

    def _on_range_done(self, outcome) -> None:
        self.range_test_busy = False
        self._set_busy(False)
        if self._closing:
            return
        if outcome.result is None:
            self.lr_view.caption.setText("The range test did not finish.")
            return
        self.range_test_result = outcome.result
        self.range_test_repeat = outcome.repeat
        self.lr_view.show_result(outcome.result, outcome.repeat)
        stop = outcome.result.stop_reason
        self.status["stop"].setText(f"range test: {stop}")
        if outcome.cancelled:
            self.show_message(f"Range test cancelled ({stop}); the curve so far is shown.", "warning", 6)
        else:
            lr = self.suggested_lr()
            if lr:
                self.show_message(f"Range test done in {outcome.seconds:.1f} s ({stop}). Steepest slope at "
                                  f"lr = {fmt_lr(lr)}: press Enter to use it.", "info", 10)
            else:
                self.show_message(f"Range test done in {outcome.seconds:.1f} s ({stop}). {NO_DESCENT}",
                                  "warning", 12)
        self.rangeTestFinished.emit(outcome.repeat if outcome.repeat is not None else outcome.result)

    def _on_failed(self, what: str, message: str) -> None:
        if self._closing:
            return
        if what == "configure":
            self._pending_reason = None
            self.panel.set_config(self.panel.config())  # the widgets go back to what is running
            self.show_message(f"{message}. The previous settings are kept.", "error")
        elif what == "lr":
            self.panel.lr.set_lr(self.panel.config().lr)
            self.show_message(f"{message}. The previous learning rate is kept.", "error")
        else:
            self.actionRun.setChecked(False)
            self.show_message(f"{what}: {message}", "error")

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        p = getattr(self, "presentation", None)
        if p is not None:
            p.fit_density()  # a short window gets compact captions and narration

    # ----------------------------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if not urls:
            return
        path = urls[0].toLocalFile()
        event.acceptProposedAction()
        from .scenario_io import is_scenario_file
        if is_scenario_file(path):
            self.scenarios.open(path)
            return
        self.import_csv(path)

    # ----------------------------------------------------------------------------------- closing
    def shutdown(self) -> bool:
        """Stop the worker thread (idempotent); True when it has finished."""
        self._closing = True
        return self.controller.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)


__all__ = ["MainWindow", "MessageBanner", "DEFAULT_CONFIG"]
