"""Study tools wired into the main window: step back and the timeline, narration, ghosts, validation, cyclical LRs.

The window calls ``install(ctx)`` once (a ui/context.FeatureContext, not the window); everything here talks to the
worker through the controller's signals (the UI thread never steps the engine) and reads only snapshots.
"""
from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDockWidget, QToolButton, QVBoxLayout, QWidget

from ..adapters import fmt_lr
from .compare import POLICIES, CyclicalMarkers, GhostOverlay, ValidationView, cycle_steps, cyclical_config
from ..panels.narration import NarrationPanel
from ..panels.timeline_bar import TimelineBar
from ...live.validation import candidate_runs
from ..context import FeatureContext
from ..state import IDLE, RANGE_TEST, VALIDATION

RUNNING_UPDATE = 0.2  # seconds between timeline/narration updates while running


class Study(QObject):
    """Owns the study widgets and actions of one MainWindow."""

    validationFinished = Signal(object)  # compare.ValidationOutcome, after the view showed it (UI thread)
    # a ghost kept (label, series, the snapshot it froze) and all cleared: the loss-surface view draws their paths
    ghostKept = Signal(str, int, object)
    ghostsCleared = Signal()

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx.parent)
        self.ctx = ctx
        self._start_after_config = False
        # (lr, sentence) of the last validated pick: Enter applies it until a new range test or configuration
        self._validated: tuple[float, str] | None = None
        self._jumps_seen = 0
        self._shown_at = 0.0
        self._make_actions()
        self._make_widgets()
        self.ghosts = GhostOverlay(ctx.views.step_view.plot, ctx.views.weight_view.plot)
        self.markers = CyclicalMarkers(ctx.views.lr_view.plot)
        # the draggable pair is the only base_lr/max_lr drawing; "Smith's bounds" shows and hides it
        self.markers.set_shown(ctx.views.lr_view.show_bounds.isChecked())
        ctx.views.lr_view.show_bounds.toggled.connect(self._bounds_toggled)
        ctx.views.lr_view.extra_lines = self.markers.lines()
        c = ctx.worker
        c.worker.validationProgress.connect(self._on_validation_progress)
        c.worker.validationDone.connect(self._on_validation_done)
        c.worker.failed.connect(self._on_failed)
        ctx.snapshot_applied.connect(self._on_snapshot)
        ctx.config_applied.connect(self._on_configured)
        ctx.range_test_finished.connect(self._on_range_test)
        # AppState mirrors the look presentation mode and the theme menu apply (features do not import each other)
        ctx.state.presentationChanged.connect(self._restyle)
        ctx.state.themeChanged.connect(self._restyle)

    def _restyle(self, *_) -> None:
        """The validation plot follows the window's theme and presentation scale, like the four views."""
        # the look presentation mode and the theme menu applied to the app (features do not import each other)
        self.validation.restyle()

    # ------------------------------------------------------------------------------- building
    def _make_actions(self) -> None:
        w = self.ctx
        reg = w.actions
        self.actionStepBack = reg.add("actionStepBack", self.step_back)
        self.actionKeepGhost = reg.add("actionKeepGhost", self.keep_ghost)
        self.actionClearGhosts = reg.add("actionClearGhosts", self.clear_ghosts)
        self.actionValidateSuggestion = reg.add("actionValidateSuggestion", lambda: self.validate())
        self.actionValidateSuggestion.setEnabled(False)
        self.actionTrainCyclical = reg.add("actionTrainCyclical", lambda: self.train_cyclical())
        self.actionTrainCyclical.setEnabled(False)
        self.policy_group = QActionGroup(self)
        self.policy_actions: dict[str, QAction] = {}
        for key, label in POLICIES.items():
            name = "actionCyclical" + "".join(p.capitalize() for p in key.split("_"))
            a = QAction(f"Policy: {label}", w.parent, checkable=True)
            a.setObjectName(name)
            a.setStatusTip(f"Train cyclical uses the {label} schedule")
            a.setChecked(key == "triangular")
            self.policy_group.addAction(a)
            self.policy_actions[key] = a

        run_menu = w.menus["Run"]
        run_menu.insertAction(w.actions["actionStep"], self.actionStepBack)
        mb = w.parent.menuBar()
        menu = _menu(w.parent, "&Compare")  # kept, never fetched back with QAction.menu() (dead on PySide6 < 6.11.2)
        help_action = next((a for a in mb.actions() if a.text().replace("&", "") == "Help"), None)
        if help_action is not None:
            mb.insertMenu(help_action, menu)  # before Help, after View
        else:
            mb.addMenu(menu)
        menu.setObjectName("compareMenu")
        for a in (self.actionKeepGhost, self.actionClearGhosts):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.actionValidateSuggestion)
        menu.addSeparator()
        menu.addAction(self.actionTrainCyclical)
        for a in self.policy_actions.values():
            menu.addAction(a)
        self.compare_menu = menu

        tb = w.toolbars["controls"]
        tb.insertAction(w.actions["actionStep"], self.actionStepBack)
        tb = w.toolbars["compare"]
        for a in (self.actionKeepGhost, self.actionValidateSuggestion, self.actionTrainCyclical):
            tb.addAction(a)
        button = tb.widgetForAction(self.actionTrainCyclical)
        if isinstance(button, QToolButton):  # the policy is one click away, on the button's arrow
            policy_menu = _menu(w.parent, "Cyclical policy")
            for a in self.policy_actions.values():
                policy_menu.addAction(a)
            button.setMenu(policy_menu)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)

    def _make_widgets(self) -> None:
        w = self.ctx.parent  # the docks' host
        box = QWidget()
        box.setObjectName("stepByStep")
        lay = QVBoxLayout(box)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        self.timeline = TimelineBar(self.actionStepBack)
        self.timeline.jumpRequested.connect(self.jump_to)
        self.narration = NarrationPanel()
        lay.addWidget(self.timeline)
        lay.addWidget(self.narration, 1)
        self.dock = QDockWidget("Step by step: timeline and narration", w)
        self.dock.setObjectName("narrationDock")
        self.dock.setWidget(box)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.validation = ValidationView()
        self.validation_dock = QDockWidget("Validate suggestion", w)
        self.validation_dock.setObjectName("validationDock")
        self.validation_dock.setWidget(self.validation)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.validation_dock)
        self.validation_dock.hide()
        view_menu = self.ctx.menus["View"]
        for dock, name in ((self.dock, "actionToggleNarration"), (self.validation_dock, "actionToggleValidation")):
            a = dock.toggleViewAction()
            a.setObjectName(name)
            self.ctx.actions.adopt(a)
            if view_menu is not None:
                view_menu.addAction(a)

    # ----------------------------------------------------------------------------- timeline
    def _busy(self) -> bool:
        return bool(self.ctx.state.busy == RANGE_TEST or self.validating)

    def step_back(self) -> None:
        if self._busy():
            return
        self.ctx.actions["actionRun"].setChecked(False)
        self.ctx.worker.stepBackRequested.emit()

    def jump_to(self, step: int) -> None:
        if self._busy():
            self.timeline.set_info(self.timeline.info)
            return
        self.ctx.actions["actionRun"].setChecked(False)
        self.ctx.worker.jumpRequested.emit(int(step))

    def _on_snapshot(self, snap) -> None:
        if self.validating:
            self.ctx.actions["actionCancel"].setEnabled(True)
        # while running, the timeline and the narration change a few times a second (nobody reads faster,
        # and every repaint of the dock takes event-loop time from the plots); a paused run shows at once
        now = time.perf_counter()
        if snap.running and now - self._shown_at < RUNNING_UPDATE:
            return
        self._shown_at = now
        extra = snap.extra or {}
        info = extra.get("timeline")
        if info is not None:
            self.timeline.set_info(info)
            jumps = int(info.get("jumps", 0))
            if jumps != self._jumps_seen:  # a jump restored an older LR: the LR field shows it
                self._jumps_seen = jumps
                base = info.get("base_lr")
                if base is not None and math.isfinite(base) and base > 0:
                    self.ctx.state.set_lr(base)  # the worker already runs with it: only the state follows
        self.narration.show_narration(extra.get("narration"), running=bool(snap.running))

    def _on_configured(self, info) -> None:
        if self._validated is not None:
            self.ctx.views.lr_view.show_validated(None)  # Enter takes the curve's recommendation again
        self._validated = None
        self.narration.clear()
        self.timeline.clear()
        self.actionValidateSuggestion.setEnabled(self.ctx.state.range_test is not None and not self.validating)
        if self._start_after_config:
            self._start_after_config = False
            cfg = info.config
            p = dict(cfg.schedule_params)
            shape = (f"half cycle {p.get('step_size')} steps" if cfg.schedule == "triangular"
                     else f"{p.get('total_steps')} steps in all")
            self.ctx.show_message(
                f"Cyclical LR ({POLICIES.get(cfg.schedule, cfg.schedule)}): base_lr {fmt_lr(cfg.lr)}, "
                f"max_lr {fmt_lr(p.get('max_lr'))}, {shape}. The run restarted from step 0; the loss-vs-step "
                "view draws the LR on its right axis.", "info", 10)
            self.ctx.start()

    def _on_failed(self, what: str, message: str) -> None:
        self._start_after_config = False

    # ------------------------------------------------------------------------------- ghosts
    def keep_ghost(self) -> None:
        snap = self.ctx.last_snapshot()
        if snap is None or not len(snap.history.steps):
            self.ctx.show_message("Nothing to keep yet: run or step first, then keep the run as a ghost.",
                                  "warning", 6)
            return
        label = GhostOverlay.label_for(self.ctx.state.config, snap)
        ghost = self.ghosts.keep(snap, label)
        if ghost is not None:
            self.ghostKept.emit(ghost.label, ghost.series, snap)
            self.ctx.show_message(f"Kept “{ghost.label}” as a ghost. Reset (R), change the LR and run again "
                                  "to compare.", "info", 6)

    def clear_ghosts(self) -> None:
        self.ghosts.clear()
        self.ghostsCleared.emit()

    # --------------------------------------------------------------------------- validation
    @property
    def validating(self) -> bool:
        return self.ctx.state.busy == VALIDATION

    def _suggestions(self) -> dict:
        return self.ctx.state.suggestions()

    def validate(self, steps: int | None = None, pace: float | None = None) -> None:
        """Short trainings at the engine's candidates around ``recommended`` (and steepest), in the worker;
        the best on held-out loss is picked and applied, with how much it beat the curve-only pick."""
        if self._busy():
            return
        sugg = self._suggestions()
        lrs = candidate_runs(sugg)
        self._curve_pick = sugg.get("recommended") or sugg.get("steepest")
        if not lrs:
            self.ctx.show_message("No suggestion to validate: run the range test first (L).", "warning", 6)
            return
        self.ctx.actions["actionRun"].setChecked(False)
        self.ctx.state.set_busy(VALIDATION)  # the window disables what would disturb it
        self.actionValidateSuggestion.setEnabled(False)
        self.actionTrainCyclical.setEnabled(False)
        self.ctx.actions["actionCancel"].setEnabled(True)
        self.validation.clear("Validating the suggestion …")
        self.validation.expected = len(lrs)
        self._restyle()
        self.validation_dock.show()
        self.validation_dock.raise_()
        if pace is None:
            pace = 2.0 if self.ctx.panel.rt_animate.isChecked() else 0.0
        from .compare import VALIDATION_STEPS

        self.ctx.worker.validate(lrs=lrs, steps=int(steps or VALIDATION_STEPS), pace=float(pace), pick=True,
                                 curve_pick=self._curve_pick)

    def _on_validation_progress(self, prog) -> None:
        try:
            self.ctx.worker.worker.ui_gate.clear()
            self.validation.show_runs(prog.runs, prog.steps)
        finally:
            self.ctx.worker.worker.ui_gate.set()
            self.ctx.worker.ack()

    def _on_validation_done(self, outcome) -> None:
        self.ctx.state.set_busy(IDLE)
        if self.ctx.closing():
            return
        self.actionValidateSuggestion.setEnabled(True)
        self.actionTrainCyclical.setEnabled(self.markers.visible())
        pick = outcome.pick
        best = pick.best_lr if pick is not None and not outcome.cancelled else None
        self.validation.show_runs(outcome.runs, outcome.steps, final=True, cancelled=outcome.cancelled,
                                  best_lr=best)
        if outcome.cancelled:
            self.ctx.show_message("Validation cancelled; the runs so far are shown and the LR is unchanged.",
                                  "warning", 6)
        elif pick is not None:
            text = self.pick_text(pick, outcome.steps)
            self.validation.verdicts.setText(self.validation.verdicts.text() + "\n" + text)
            if best is not None:
                self._validated = (float(best), text)
                self.ctx.views.lr_view.show_validated(float(best))
                self.ctx.set_lr(best)
                self.ctx.show_message(f"Validated {len(outcome.runs)} learning rates in {outcome.seconds:.1f} s. "
                                      f"{text} The run now uses it, and Enter applies it.", "info", 10)
            else:
                self.ctx.show_message(f"{text} The learning rate is unchanged.", "warning", 10)
        else:
            self.ctx.show_message(f"Validated {len(outcome.runs)} learning rates in {outcome.seconds:.1f} s: "
                                  "see the verdicts under the validation plot.", "info", 8)
        self.validationFinished.emit(outcome)

    @staticmethod
    def pick_text(pick, steps: int) -> str:
        """One sentence: which LR won on held-out loss, and how much better than the curve-only pick."""
        if pick.best_lr is None:
            return f"Every candidate diverged within {steps} steps: no validated pick."
        k = pick.lrs.index(pick.best_lr)
        head = (f"Validated pick: lr {fmt_lr(pick.best_lr)} (held-out loss {pick.scores[k]:.4g} after {steps} "
                "steps)")
        if pick.gain is None or pick.curve_pick is None:
            return head + "."
        if pick.gain == 1.0:
            return head + ": the curve-only pick itself won."
        j = next(i for i, v in enumerate(pick.lrs) if math.isclose(v, pick.curve_pick, rel_tol=1e-9))
        if not math.isfinite(pick.gain):
            return head + f", while the curve-only pick {fmt_lr(pick.curve_pick)} diverged."
        return (head + f", {pick.gain:.2f}× lower than the curve-only pick {fmt_lr(pick.curve_pick)} "
                f"({pick.scores[j]:.4g}).")

    # ----------------------------------------------------------------------------- cyclical
    def _bounds_toggled(self, on: bool) -> None:
        self.markers.set_shown(on)
        self.ctx.views.lr_view.declutter()

    def apply_validated(self) -> bool:
        """Enter after a validation: the validated pick, not the curve-only one. False when there is none."""
        if self._validated is None:
            return False
        lr, text = self._validated
        self.ctx.set_lr(lr)
        self.ctx.show_message(f"Learning rate set to the validated pick {fmt_lr(lr)}. {text}", "info", 8)
        return True

    def _on_range_test(self, result) -> None:
        self._validated = None  # a new curve: Enter takes its recommendation again
        sugg = dict(getattr(result, "suggestions", None) or {})
        ok = self.markers.set_bounds(sugg.get("base_lr"), sugg.get("max_lr"))
        self.ctx.views.lr_view.declutter()
        self.actionTrainCyclical.setEnabled(ok)
        self.actionValidateSuggestion.setEnabled(bool(candidate_runs(sugg)))

    def policy(self) -> str:
        for key, a in self.policy_actions.items():
            if a.isChecked():
                return key
        return "triangular"

    def train_cyclical(self) -> None:
        if self._busy():
            return
        if not self.markers.visible():
            self.ctx.show_message("Run the range test first (L): its base_lr and max_lr place the two markers.",
                                  "warning", 6)
            return
        base, mx = self.markers.values()
        info = self.ctx.config_info()
        n_train = info.n_train if info is not None else 100
        try:
            cfg = cyclical_config(self.ctx.state.config, base, mx, self.policy(), n_train)
        except Exception as exc:  # noqa: BLE001 - e.g. an LR outside the engine's range
            self.ctx.show_message(f"Cyclical LR: {exc}", "error")
            return
        self.ctx.actions["actionRun"].setChecked(False)
        self._start_after_config = True
        self.ctx.apply_config(cfg, "cyclical")


def _menu(window, title: str):
    from PySide6.QtWidgets import QMenu

    return QMenu(title, window)


def install(ctx: FeatureContext) -> Study:
    return Study(ctx)


__all__ = ["Study", "install", "cycle_steps"]
