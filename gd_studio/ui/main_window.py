"""The main window: panel, four live views, actions with shortcuts, status bar, messages and the worker."""
from __future__ import annotations

import math
import time

import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QComboBox, QDockWidget, QFileDialog, QFrame,
                               QHBoxLayout, QLabel, QLineEdit, QMainWindow, QSplitter, QToolBar, QToolButton,
                               QVBoxLayout, QWidget)

from ..engine.config import RunConfig, check_lr
from ..engine.errors import GDStudioError, then
from .actions import ActionRegistry
from .adapters import fmt_lr, fmt_num
from .panels.model_data import ModelDataPanel
from .state import IDLE, RANGE_TEST, RUN, VALIDATION, AppState
from .plots.common import Caption, GatedPlotWidget
from .plots.data_view import DataView
from .plots.lr_view import NO_DESCENT, LossVsLrView
from .plots.step_view import LossVsStepView
from .plots.weight_view import LossVsWeightView
from .worker import WorkerController

DEFAULT_CONFIG = RunConfig(dataset="moons", dataset_params={"n_samples": 200, "noise": 0.2, "seed": 0},
                           model="mlp", hidden=(16,), activation="tanh", loss="cross_entropy", optimizer="sgd",
                           lr=0.1, batch_size=32, seed=0, watch="W2[0,0]")

# the speed ladder ([ slower, ] faster): from unthrottled down to 0.5 steps/s, slow enough to narrate each step
SPEEDS = [("full speed", None), ("500 steps/s", 500.0), ("200 steps/s", 200.0), ("100 steps/s", 100.0),
          ("50 steps/s", 50.0), ("20 steps/s", 20.0), ("10 steps/s", 10.0), ("5 steps/s", 5.0),
          ("2 steps/s", 2.0), ("1 step/s", 1.0), ("0.5 steps/s", 0.5)]


# the window's size on a screen with room for it; smaller screens get their available area (fit_to_screen). A 1080p
# screen's whole width and height less the frame: at 1500×940 the plots beside the panel and the step-by-step dock
# were 90-140 px tall; a bigger screen keeps this size rather than sprawl
PREFERRED_SIZE = (1880, 1040)
# what a window manager adds around the client area (title bar, borders), before the window is framed
FRAME_ALLOWANCE = (8, 36)


def fitted_size(preferred: tuple[int, int], available: tuple[int, int]) -> tuple[int, int]:
    """``preferred`` shrunk to fit ``available`` with room for the window manager's frame."""
    return (max(640, min(preferred[0], available[0] - FRAME_ALLOWANCE[0])),
            max(480, min(preferred[1], available[1] - FRAME_ALLOWANCE[1])))


class MessageBanner(QFrame):
    """A non-modal message strip laid over the top of the views (an overlay, not a row of the layout, so a
    message never moves a plot): errors stay until dismissed or replaced, notes fade."""

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
        self.close_button = close
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
        self.place()
        if seconds is None:
            seconds = 0 if kind == "error" else 8
        if seconds:
            self._timer.start(int(seconds * 1000))
        else:
            self._timer.stop()

    def text(self) -> str:
        return self.label.text()

    def place(self) -> None:
        """Over the top of the parent (the central widget), its full width, as tall as the wrapped text needs."""
        host = self.parentWidget()
        if host is None:
            return
        margin = 4
        width = max(100, host.width() - 2 * margin)
        m = self.layout().contentsMargins()
        close = self.close_button.sizeHint()
        room = width - m.left() - m.right() - self.layout().spacing() - close.width()
        height = max(self.label.heightForWidth(room), close.height()) + m.top() + m.bottom()
        cap = max(40, host.height() // 2)
        self.setGeometry(margin, margin, width, min(height, cap))
        self.layout().activate()
        short = self.label.heightForWidth(self.label.width()) - self.label.height()
        if short > 0:  # the label got less width than estimated: the lines it wraps to decide
            self.setGeometry(margin, margin, width, min(self.height() + short, cap))
        self.raise_()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self.parentWidget() and event.type() == QEvent.Type.Resize and not self.isHidden():
            self.place()
        return False

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and not self.isHidden():
            self.place()


class MainWindow(QMainWindow):
    """GD Studio's window. The engine runs in a worker thread; this class only presents and forwards."""

    rangeTestFinished = Signal(object)  # lr_finder.RangeTestResult (RepeatResult when repeating over seeds)
    snapshotApplied = Signal(object)  # RunSnapshot, after the views drew it
    configApplied = Signal(object)  # ConfigInfo, after a (re)build
    messageShown = Signal(str, str)  # (kind, text)

    def __init__(self, config: RunConfig | None = None, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gdStudioMainWindow")
        # Qt appends the application's display name ("… — GD Studio") where the platform shows it
        self.setWindowTitle("Learning rates, live")
        self.setAcceptDrops(True)
        self.messages: list[tuple[str, str]] = []
        self.last_snapshot = None
        self.config_info = None
        # the one owner of what the window shows and runs: the config (live LR included), busy, range test
        self.state = AppState(config or DEFAULT_CONFIG, self)
        self._generation = 0
        self._pending_reason: str | None = "startup"
        self._shown_stop: str | None = None
        self._closing = False
        self._stepping = False  # a many-step command is under way (Esc can stop it)
        self._draw_times: list[float] = []
        self._plots_listed: tuple[float, list] = (-math.inf, [])
        self._captions_listed: tuple[float, list] = (-math.inf, [])
        self._shown_once = False

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
        cl.addWidget(grid, 1)
        self.setCentralWidget(central)
        # laid over the views, not in the layout: a message that comes and goes never moves a plot
        self.banner = MessageBanner()
        self.banner.setParent(central)
        self.banner.hide()
        central.installEventFilter(self.banner)

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
        self.action_registry = ActionRegistry(self)  # every action, declared once in actions.py
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
        # a bound method of this GUI-thread object, never a lambda: a lambda would run in the worker's thread
        w.message.connect(self._on_worker_message)
        for view in (self.data_view, self.weight_view, self.lr_view, self.step_view):
            view.plot.gate = w.ui_gate

        self.panel.bind(self.state)
        self.state.busyChanged.connect(self._show_busy)
        self.state.lrChanged.connect(self.lr_view.set_current_lr)
        self.state.rangeTestChanged.connect(self.lr_view.range_test_changed)  # a new run: the old test goes
        self.panel.configEdited.connect(self._on_config_edited)
        self.panel.lrEdited.connect(self.set_lr)
        self.panel.watchEdited.connect(self.controller.watchRequested)
        self.panel.invalid.connect(lambda text: self.show_message(text, "error"))
        self.panel.importRequested.connect(self.open_csv_dialog)
        self.lr_view.lrPicked.connect(self._lr_picked)
        # the features get what they use (state, worker, actions, named widgets, intents), not the window
        ctx = self.feature_context = self._feature_context()
        # step back and timeline, narration, ghosts, validation, cyclical LRs (features/study.py)
        from .features import study
        self.study = study.install(ctx)

        # presentation mode, themes and keys; scenarios; export (each in its own module)
        from . import presentation
        from .features import exports as export_ui
        from .features import scenarios as scenario_io
        # presentation mode is the window's look and layout (fonts of every widget, docks, window state): the
        # window itself is what it changes
        self.presentation = presentation.install(ctx, self, study=self.study)
        self.scenarios = scenario_io.install(ctx, presentation=self.presentation, study=self.study)
        self.exports = export_ui.install(ctx)
        from .features import range_files  # .gdrange files: File → Open, drop, `gd-studio FILE` (issue 13)
        self.range_files = range_files.install(ctx)
        from . import record_dialog  # File → Export animation… (issue 15)
        self.animation = record_dialog.install(ctx, self.scenarios)
        from .features import landscape_views  # sharpness and loss-surface views (issues 11, 14)
        self.landscape_views = landscape_views.install(ctx, self.presentation)
        self.sharpness_view = self.landscape_views.sharpness_view
        self.surface_view = self.landscape_views.surface_view
        self.scenarios.landscape_views = self.landscape_views  # a scenario sets their visibility and plane
        self.study.ghostKept.connect(self.landscape_views.keep_ghost)  # ghosts' paths on the loss surface
        self.study.ghostsCleared.connect(self.landscape_views.clear_ghosts)
        self.presentation.presentationChanged.connect(self.scenarios.refresh_caption)
        self.scenarios.scenarioApplied.connect(self.presentation.scenario_opened)  # after its views are set
        self.presentation.presentationChanged.connect(self.state.set_presentation)  # AppState mirrors the look
        self.presentation.themeChanged.connect(self.state.set_theme)
        self.presentation.name_widgets()
        from . import keys
        # keys by the character typed; fields give the keyboard back to the run. The router guards this top-level
        # window (which window a focus widget belongs to, its event filter): it takes the window as that
        self.keys = keys.install(self, self.action_registry, self.presentation.cheat_sheet)

        self.panel.set_config(self.state.config)
        self.controller.reconfigureRequested.emit(self.state.config)
        self.fit_to_screen()
        # the short-screen layout now, before the first show: shown first, the full layout's minimum height
        # (taller than a 720p screen) would stretch the window past the screen's bottom edge
        self.presentation.fit_density()

    def _feature_context(self):
        from .context import FeatureContext, Views

        return FeatureContext(
            state=self.state, worker=self.controller, actions=self.action_registry,
            views=Views(self.data_view, self.weight_view, self.lr_view, self.step_view), panel=self.panel,
            parent=self, speed=self.speed, views_splitter=self.views_splitter,
            menus={"File": self.file_menu, "Run": self.run_menu, "View": self.view_menu, "Help": self.help_menu},
            toolbars={"controls": self.toolbar, "compare": self.compare_toolbar},
            show_message=self.show_message, set_lr=self.set_lr, apply_config=self.apply_config,
            run_steps=self.run_steps, start=self.start, pause=self.pause, cancel=self.cancel,
            last_snapshot=lambda: self.last_snapshot, config_info=lambda: self.config_info,
            closing=lambda: self._closing,
            snapshot_applied=self.snapshotApplied, config_applied=self.configApplied,
            range_test_finished=self.rangeTestFinished, message_shown=self.messageShown)

    # ------------------------------------------------------------------------------------- actions
    def __getattr__(self, name: str):
        # features' actions (actionStepBack, actionKeepGhost, …) are found in the registry by objectName;
        # only called for names that are not ordinary attributes
        if name.startswith("action"):
            reg = self.__dict__.get("action_registry")
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _make_actions(self) -> None:
        reg = self.action_registry
        self.actionRun = reg.add("actionRun", self._run_triggered)
        self.actionRun.toggled.connect(lambda on: self.actionRun.setText("Pause" if on else "Run"))
        self.actionStep = reg.add("actionStep", self.step_once)
        self.actionReset = reg.add("actionReset", self.reset)
        self.actionReseed = reg.add("actionReseed", self.reseed)
        self.actionRangeTest = reg.add("actionRangeTest", self.start_range_test)
        self.actionUseSuggestedLr = reg.add("actionUseSuggestedLr", self.use_suggested_lr)
        self.actionCancel = reg.add("actionCancel", self.cancel)
        self.actionImportCsv = reg.add("actionImportCsv", self.open_csv_dialog)
        self.actionQuit = reg.add("actionQuit", self.close)
        self.actionTogglePanel = self.dock.toggleViewAction()
        self.actionTogglePanel.setObjectName("actionTogglePanel")
        self.actionTogglePanel.setText("Model and data panel")
        reg.adopt(self.actionTogglePanel)
        self.actionShowOtherSuggestions = reg.add("actionShowOtherSuggestions", live=False)
        self.actionShowOtherSuggestions.toggled.connect(self.lr_view.show_others.setChecked)
        self.lr_view.show_others.toggled.connect(self.actionShowOtherSuggestions.setChecked)
        self.actionShowSmithBounds = reg.add("actionShowSmithBounds", live=False)
        self.actionShowSmithBounds.toggled.connect(self.lr_view.show_bounds.setChecked)
        self.lr_view.show_bounds.toggled.connect(self.actionShowSmithBounds.setChecked)
        self.actionLogLoss = reg.add("actionLogLoss")
        self.actionLogLoss.toggled.connect(self.weight_view.log_loss.setChecked)
        self.weight_view.log_loss.toggled.connect(self.actionLogLoss.setChecked)
        self.actionAbout = reg.add("actionAbout", self._about, live=False)

        # every menu stays referenced here: PySide6 before 6.11.2 deletes a menu whose Python wrapper is dropped
        mb = self.menuBar()
        self.file_menu = m = mb.addMenu("&File")
        m.addAction(self.actionImportCsv)
        m.addSeparator()
        m.addAction(self.actionQuit)
        self.run_menu = m = mb.addMenu("&Run")
        for a in (self.actionRun, self.actionStep, self.actionReset, self.actionReseed):
            m.addAction(a)
        m.addSeparator()
        for a in (self.actionRangeTest, self.actionUseSuggestedLr, self.actionCancel):
            m.addAction(a)
        self.view_menu = m = mb.addMenu("&View")
        m.addAction(self.actionTogglePanel)
        m.addAction(self.actionShowOtherSuggestions)
        m.addAction(self.actionShowSmithBounds)
        m.addAction(self.actionLogLoss)
        self.help_menu = m = mb.addMenu("&Help")
        m.addAction(self.actionAbout)

        # three toolbars, not one: on a narrow screen (1280 px, large fonts) they wrap onto a second row
        # (_wrap_toolbars) instead of hiding Validate, Train cyclical and the speed behind an overflow arrow
        f = QFont(self.font())
        f.setBold(True)  # bold at the normal size: the two bars fit one row at 1280 px (a row is a plot's height)

        def toolbar(title: str, name: str) -> QToolBar:
            bar = QToolBar(title)
            bar.setObjectName(name)
            bar.setMovable(False)
            bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            bar.setFont(f)
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
            return bar

        self.toolbar = tb = toolbar("Controls", "mainToolBar")
        for a in (self.actionRun, self.actionStep, self.actionReset, self.actionReseed):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.actionRangeTest, self.actionUseSuggestedLr, self.actionCancel):
            tb.addAction(a)
        self.compare_toolbar = toolbar("Compare", "compareToolBar")  # features/study.py fills it
        # the speed sits at the right of the menu bar, which has the room: one toolbar row fewer on a 720p screen.
        # A plain widget, not a QToolBar: restoring an older saved layout would claim a toolbar of the same name
        self.speed_toolbar = sb = QWidget()
        sb.setObjectName("speedBox")
        sb.setFont(f)
        row = QHBoxLayout(sb)
        row.setContentsMargins(6, 0, 4, 0)
        row.setSpacing(4)
        row.addWidget(QLabel("speed"))
        self.speed = QComboBox()
        self.speed.setObjectName("speedCombo")
        self.speed.setToolTip("Steps per second while running (slow enough to narrate, or as fast as it goes)")
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.speed.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        row.addWidget(self.speed)
        self.menuBar().setCornerWidget(sb, Qt.Corner.TopRightCorner)
        sb.show()
        self.toolbars = [self.toolbar, self.compare_toolbar]
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
        self.banner.place()  # again: the message's font is put back by messageShown's handler

    def _on_worker_message(self, text: str) -> None:
        self.show_message(text, "info")

    def _about(self) -> None:
        from .about import show_about  # issue 16: versions, licence and third-party notices

        self.about_dialog = show_about(self)

    # ----------------------------------------------------------------------------------- commands
    @property
    def step_count(self) -> int:
        return 0 if self.last_snapshot is None else self.last_snapshot.step

    def config(self) -> RunConfig:
        """The configuration the next step uses (the live LR included)."""
        return self.state.config

    # the busy state and the last range test live in AppState; these names read it
    @property
    def range_test_busy(self) -> bool:
        return self.state.busy == RANGE_TEST

    @property
    def range_test_result(self):
        rt = self.state.range_test
        return None if rt is None else rt[0]

    @property
    def range_test_repeat(self):
        rt = self.state.range_test
        return None if rt is None else rt[1]

    def apply_config(self, config: RunConfig, reason: str = "configured") -> None:
        self._pending_reason = reason
        self.controller.reconfigureRequested.emit(config)

    def _on_config_edited(self, config: RunConfig) -> None:
        self.apply_config(config, "edited")

    def _run_triggered(self, checked: bool) -> None:
        if self.state.busy in (RANGE_TEST, VALIDATION):
            self.actionRun.setChecked(False)
            return
        if checked:
            if self.last_snapshot is not None and self.last_snapshot.stop_reason:
                self.actionRun.setChecked(False)
                self.show_message(f"The run has stopped ({self.last_snapshot.stop_reason}). Reset (R) to "
                                  "start again, perhaps with a smaller LR.", "warning")
                return
            self.panel.flush()
            self.state.set_busy(RUN)
            self.controller.startRequested.emit()
        else:
            self.state.set_busy(IDLE)
            self.controller.pauseRequested.emit()

    def start(self) -> None:
        if not self.actionRun.isChecked():
            self.actionRun.setChecked(True)
            self._run_triggered(True)

    def pause(self) -> None:
        if self.actionRun.isChecked():
            self.actionRun.setChecked(False)
        if self.state.busy == RUN:
            self.state.set_busy(IDLE)
        self.controller.pauseRequested.emit()

    def run_steps(self, n: int) -> None:
        """Many steps in one worker command (a scenario's pre-run); Esc stops them, as it stops a run."""
        self._stepping = True
        self.actionCancel.setEnabled(True)
        self.controller.stepRequested.emit(int(n))

    def step_once(self) -> None:
        if self.range_test_busy:
            return
        self.actionRun.setChecked(False)
        self.controller.stepRequested.emit(1)

    def reset(self) -> None:
        if self.state.busy in (RANGE_TEST, VALIDATION):
            return
        self.actionRun.setChecked(False)
        self._pending_reason = "reset"
        self.controller.resetRequested.emit(self.state.config)

    def reseed(self) -> None:
        if self.state.busy in (RANGE_TEST, VALIDATION):
            return
        self.actionRun.setChecked(False)
        config = self.state.config
        self._pending_reason = "reseeded"
        self.controller.reseedRequested.emit(config.replace(seed=(config.seed + 1) % (2**31)))

    def set_lr(self, lr: float) -> None:
        """Apply a learning rate live (the run continues with it from the next step)."""
        try:
            lr = check_lr(float(lr), "learning rate")
        except GDStudioError as exc:
            self.show_message(then(exc, "The previous learning rate is kept."), "error")
            self.panel.lr.set_lr(self.state.lr)
            return
        self._lr_kept = self.state.lr
        self.state.set_lr(lr)
        self.controller.lrRequested.emit(lr)

    def _lr_picked(self, lr: float) -> None:
        lr = float(f"{lr:.3g}")
        self.set_lr(lr)
        self.show_message(f"Learning rate set to {fmt_lr(lr)} from the loss-vs-LR view.", "info", 5)

    def _speed_changed(self) -> None:
        self.controller.speedRequested.emit(self.speed.currentData())

    def start_range_test(self) -> None:
        if self.state.busy in (RANGE_TEST, VALIDATION):
            return
        try:
            settings = self.panel.range_test_settings()
        except GDStudioError as exc:
            self.show_message(then(exc, "The range test did not start."), "error")
            return
        self.panel.flush()
        self.actionRun.setChecked(False)
        self.state.set_busy(RANGE_TEST)  # the actions follow (_show_busy)
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
        if self.study.apply_validated():  # "Validate suggestion" ran since the range test
            return
        lr = self.suggested_lr()
        if lr is None:
            if self.range_test_result is not None:
                self.show_message(f"The learning rate is unchanged. {NO_DESCENT}", "warning", 8)
            else:
                self.show_message("No suggestion yet: run the range test first (L).", "warning", 6)
            return
        self.set_lr(lr)
        rule = self.suggested_rule()
        from ..engine.lr_finder import EXPLANATIONS
        self.show_message(f"Learning rate set to the {rule} suggestion {fmt_lr(lr)} ({EXPLANATIONS[rule]}).",
                          "info", 6)

    def suggested_rule(self) -> str:
        """The suggestion Enter applies: ``recommended`` (issue 10), or steepest when a result lacks it."""
        v = self.state.suggestions().get("recommended")
        return "recommended" if v is not None and math.isfinite(v) and v > 0 else "steepest"

    def suggested_lr(self) -> float | None:
        v = self.state.suggestions().get(self.suggested_rule())
        return float(v) if v is not None and math.isfinite(v) and v > 0 else None

    def import_csv(self, path) -> None:
        """Load a CSV dataset; a bad file shows why and keeps the previous dataset."""
        self.apply_config(self.state.config.replace(data_path=str(path), target=self.panel.csv_target()), "csv")

    def open_csv_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a CSV dataset", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.import_csv(path)

    @property
    def closing(self) -> bool:
        """The window is closing: replies still on their way are dropped."""
        return self._closing

    def _show_busy(self, busy: str) -> None:
        """AppState's busy state, shown: a range test or a validation disables what would disturb it."""
        self._set_busy(busy in (RANGE_TEST, VALIDATION))

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
        if info.reason != "reset":  # a new run: its old range test no longer describes it
            self.state.set_range_test(None)
        self.state.set_config(info.config)
        self.state.set_busy(IDLE)
        self.panel.set_config(info.config)
        self.panel.set_watch_names(info.watch_names, info.watch)
        self.panel.set_descriptions(info.dataset_text, info.model_text)
        if info.reason != "reset" or self.data_view.info is None:
            self.data_view.set_info(info.data)
        self.weight_view.clear()
        self.step_view.clear()
        self.lr_view.set_current_lr(info.config.lr)
        if self._shown_stop is not None and not self.banner.isHidden() and self.banner.text().startswith("Run stopped:"):
            # it told why the last run stopped: a reset or another scenario is a new run (a diverged run's warning
            # stayed over the next scenario's views)
            self.banner.hide()
        self._shown_stop = None
        self.actionRun.setChecked(False)
        self.actionCancel.setEnabled(self._stepping)  # steps sent before this build run on it: Esc stops them
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
            self._hold_captions(snap.running)
            self.weight_view.show_view(snap.weight, live=snap.running)
            self.step_view.show_history(snap.history, self._step_caption(snap), live=snap.running)
            self.data_view.update_snapshot(snap)
            self.lr_view.set_current_lr(snap.lr)
            self._update_status(snap)
            if not snap.running and self.actionRun.isChecked() and not self.range_test_busy:
                self.actionRun.setChecked(False)
            if not snap.running and self.state.busy == RUN:
                self.state.set_busy(IDLE)
            if self._stepping and not self.controller.steps_pending():
                self._stepping = False  # the worker answered every step command: this frame shows the last
            if not self.range_test_busy and not self._stepping:
                self.actionCancel.setEnabled(snap.running)
            if snap.stop_reason and snap.stop_reason != self._shown_stop:
                self._shown_stop = snap.stop_reason
                self.show_message(f"Run stopped: {snap.stop_reason}. The plots keep the steps before it; "
                                  "reset (R) and try a smaller LR.", "error")
            draw = time.perf_counter() - t0
            self._draw_times.append(draw)
            del self._draw_times[:-200]
            self.snapshotApplied.emit(snap)
            self._settle_plots(snap.running)  # after the features' views (sharpness, surface) took it too
        finally:
            self.controller.worker.ui_gate.set()
            # what the last frame cost (its data and its paint), so the worker paces the next ones
            paint = GatedPlotWidget.paint_seconds
            GatedPlotWidget.paint_seconds = 0.0
            self.controller.ack(min(draw + paint, 0.5) if draw is not None else None)

    def _hold_captions(self, running: bool) -> None:
        # While a run goes, every caption keeps the most lines it needed (Caption.hold): a view's caption whose
        # numbers wrapped to one line more or less every few frames (the loss-vs-weight view's 2/λ, at 6 or 7
        # lines) re-laid out the grid, resized three plots and repainted them (~6 ms, a dozen times in 120 digits
        # frames). Stopped, each fits its text again. Listed again each second, as the plots are.
        now = time.monotonic()
        if now - self._captions_listed[0] > 1.0:
            self._captions_listed = (now, self.findChildren(Caption))
        for caption in self._captions_listed[1]:
            if shiboken6.isValid(caption):
                caption.hold(running)

    def _settle_plots(self, live: bool) -> None:
        # one paint per view per frame: every view's new range is applied here, not inside its paint. The list
        # of plots is looked up again each second (a view built later joins within one), not every frame
        now = time.monotonic()
        if now - self._plots_listed[0] > 1.0:
            self._plots_listed = (now, self.findChildren(GatedPlotWidget))
        for plot in self._plots_listed[1]:
            if shiboken6.isValid(plot) and plot.isVisible():
                plot.settle(live)

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
        # the loss where the run is now (after the step), as the ball and the narration show it
        s["loss"].setText(f"loss {fmt_num(snap.loss_now if snap.loss_now is not None else snap.loss)}")
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
            self._settle_plots(True)
        finally:
            self.controller.worker.ui_gate.set()
            self.controller.ack()

    def _on_range_done(self, outcome) -> None:
        self.state.set_busy(IDLE)
        if self._closing:
            return
        if outcome.result is None:
            self.lr_view.caption.setText("The range test did not finish.")
            return
        self.state.set_range_test(outcome.result, outcome.repeat)
        self.lr_view.show_result(outcome.result, outcome.repeat)
        self.lr_view.set_stability_limit(outcome.initial_lr_limit)
        # the walk stays on the weight and step views to be talked about, saying it is over: the status bar and
        # the next step are the run's
        over = f"The test is over; the run is still at step {self.step_count} (→ continues it)."
        self.weight_view.range_test_over(over)
        self.step_view.range_test_over(over)
        stop = outcome.result.stop_reason
        self.status["stop"].setText(f"range test: {stop}")
        if outcome.cancelled:
            self.show_message(f"Range test cancelled ({stop}); the curve so far is shown.", "warning", 6)
        else:
            lr = self.suggested_lr()
            if lr and self.state.suggestions().get("steepest") is None:
                self.show_message(f"Range test done in {outcome.seconds:.1f} s ({stop}). {NO_DESCENT} "
                                  f"Recommended lr = {fmt_lr(lr)} (from where the loss blows up): press Enter "
                                  "to use it.", "warning", 12)
            elif lr:
                self.show_message(f"Range test done in {outcome.seconds:.1f} s ({stop}). "
                                  f"{self.suggested_rule().capitalize()} lr = {fmt_lr(lr)}: press Enter to use it.",
                                  "info", 10)
            else:
                self.show_message(f"Range test done in {outcome.seconds:.1f} s ({stop}). {NO_DESCENT}",
                                  "warning", 12)
        self.rangeTestFinished.emit(outcome.repeat if outcome.repeat is not None else outcome.result)

    def _on_failed(self, what: str, message: str) -> None:
        if self._closing:
            return
        if what == "configure":
            self._pending_reason = None
            self.panel.set_config(self.state.config)  # the widgets go back to what is running
            self.show_message(then(message, "The previous settings are kept."), "error")
        elif what == "lr":
            self.state.set_lr(getattr(self, "_lr_kept", self.state.lr))
            self.show_message(then(message, "The previous learning rate is kept."), "error")
        else:
            self.actionRun.setChecked(False)
            if self.state.busy == RUN:
                self.state.set_busy(IDLE)
            if self._stepping and not self.controller.steps_pending():
                self._stepping = False  # the steps were refused: no frame will say they are done
                self.actionCancel.setEnabled(self.range_test_busy)
            self.show_message(f"{what}: {message}", "error")

    # ------------------------------------------------------------------------------------ geometry
    def fit_to_screen(self, preferred: tuple[int, int] = PREFERRED_SIZE) -> None:
        """Size the window to ``preferred``, shrunk to the screen's available area (a 1280×720 projector, a
        1366×768 laptop) and centred on it, so no edge starts off-screen."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(*preferred)
            return
        avail = screen.availableGeometry()
        w, h = fitted_size(preferred, (avail.width(), avail.height()))
        self.resize(w, h)
        self.move(avail.x() + max(0, (avail.width() - w - FRAME_ALLOWANCE[0]) // 2),
                  avail.y() + max(0, (avail.height() - h - FRAME_ALLOWANCE[1]) // 2))
        self._wrap_toolbars()

    def fits_screen(self) -> bool:
        """Whether the whole window (frame included) lies within one screen's available area."""
        frame = self.frameGeometry()
        if frame.width() <= self.width():  # not shown yet: the window manager has not framed it
            frame = frame.adjusted(0, 0, FRAME_ALLOWANCE[0], FRAME_ALLOWANCE[1])
        return any(s.availableGeometry().contains(frame) for s in QApplication.screens())

    def _wrap_toolbars(self) -> None:
        """Put the toolbars on as many rows as the window's width needs: each fits whole, none overflows."""
        bars = [b for b in getattr(self, "toolbars", ()) if not b.isHidden() or not self.isVisible()]
        if not bars:
            return
        room = self.width() - 8
        wanted, used = [], 0
        for i, bar in enumerate(bars):
            need = bar.sizeHint().width()
            if i and used + need > room:
                wanted.append(bar)
                used = 0
            used += need
        # ask the window, not a memory of it: restoreState() redraws the rows and drops earlier breaks
        for bar in bars[1:]:
            want = bar in wanted
            if self.toolBarBreak(bar) != want:
                if want:
                    self.insertToolBarBreak(bar)
                else:
                    self.removeToolBarBreak(bar)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self._size_at_show = self.size()
            # dock sizes set before the first show are only hints: once laid out, shrink back into the screen
            QTimer.singleShot(0, self._fit_after_show)
            QTimer.singleShot(150, self._fit_after_show)  # after the docks' own deferred layout
            QTimer.singleShot(700, self._frame_on_screen)  # the window manager frames it late (its title bar)

    def _fit_after_show(self) -> None:
        self._frame_on_screen()
        # only the size the first show's layout gave: a size someone set since (a user, a test) is theirs
        if self.isMaximized() or self.isFullScreen() or self._closing or self.size() != self._size_at_show:
            return
        want = self._size_within_screen()
        if want is not None:
            p = getattr(self, "presentation", None)
            if p is not None:
                p.narrow_docks()
            self.resize(*want)

    def _size_within_screen(self) -> tuple[int, int] | None:
        """The size that fits this window into its screen's available area, or None if it fits already."""
        screen = self.screen()
        if screen is None:
            return None
        avail = screen.availableGeometry()
        want = fitted_size((self.width(), self.height()), (avail.width(), avail.height()))
        return want if (self.width(), self.height()) != want else None

    def keep_on_screen(self) -> None:
        """A normal (not maximised) window that a layout change stretched past its screen's available area (the
        panel coming back after presentation mode) shrinks back into it."""
        if self.isMaximized() or self.isFullScreen() or self._closing:
            return
        want = self._size_within_screen()
        if want is not None:
            self.resize(*want)
        self._frame_on_screen()

    def _frame_on_screen(self) -> None:
        """Once the window manager has framed the window, move it so the frame (title bar included) lies on the
        available area: placed before it was framed, openbox put the title bar above a 720p screen's top edge."""
        if self.isMaximized() or self.isFullScreen() or self._closing or not self.isVisible():
            return
        screen = self.screen()
        frame = self.frameGeometry()
        if screen is None or frame.height() <= self.height():  # not framed (yet, or ever: offscreen)
            return
        avail = screen.availableGeometry()
        x = min(max(frame.x(), avail.x()), max(avail.x(), avail.right() + 1 - frame.width()))
        y = min(max(frame.y(), avail.y()), max(avail.y(), avail.bottom() + 1 - frame.height()))
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._wrap_toolbars()
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
        from ..file_types import file_type_of
        if file_type_of(path) is not None:  # a scenario, a range test: whatever the app opens, by its type
            from .fileopen import open_file
            open_file(self, path)
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


__all__ = ["MainWindow", "MessageBanner", "DEFAULT_CONFIG", "fitted_size", "PREFERRED_SIZE"]
