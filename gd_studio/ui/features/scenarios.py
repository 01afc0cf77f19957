"""Scenarios in the window: open, save, drag-and-drop, bundled ones on keys 1–9, a playlist, the caption banner.

Applying a scenario rebuilds the run from its config (through the worker, like any config change), then
shows its caption, its panels and axis ranges, puts its range-test settings in the panel, runs its
pre-run steps in one command and arms its autoplay stop. A file that cannot be used (corrupt, truncated,
from a newer version) is reported in the message banner with the ScenarioError text; nothing changes.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu, QSizePolicy

from ...engine import scenarios
from ...engine.errors import GDStudioError, then
from ...engine.fmt import fmt_lr
from .. import data_consent, settings
from ..actions import SCENARIOS, ActionSpec
from ..context import FeatureContext
from ..state import RANGE_TEST

PANEL_VIEWS = {"data": "data_view", "loss_vs_weight": "weight_view", "loss_vs_lr": "lr_view",
               "loss_vs_step": "step_view"}
PANEL_LABELS = {"data": "Data view", "loss_vs_weight": "Loss vs weight", "loss_vs_lr": "Loss vs learning rate",
                "loss_vs_step": "Loss vs step", "narration": "Narration"}
CAPTION_BODY_LINES = 3  # the normal view: the title, then at most this many lines (all of it in the tooltip)
FILTER = f"GD Studio scenarios (*{scenarios.EXTENSION});;All files (*)"


class ScenarioController(QObject):
    """Loads, applies and saves scenarios for one MainWindow; keeps the playlist and the caption banner."""

    scenarioApplied = Signal(object)  # the Scenario, once its run is built and its view state applied
    scenarioSaved = Signal(str)

    def __init__(self, ctx: FeatureContext, presentation=None, study=None) -> None:
        super().__init__(ctx.parent)
        self.ctx = ctx
        # named neighbours (features do not import each other): presentation mode sizes the caption, the study
        # tools own the narration dock a scenario shows or hides; the window sets landscape_views once installed
        self.presentation = presentation
        self.study = study
        self.landscape_views = None
        self.current: scenarios.Scenario | None = None
        self.path: Path | None = None
        self.playlist: list[Path] = []
        self._pending: scenarios.Scenario | None = None
        self._ranges_due: scenarios.Scenario | None = None
        # configure requests and their answers, counted so the scene applies to the run built for it
        self._requests = 0
        self._answers = 0
        self._ticket = 0
        self.stop_at: int | None = None

        cap = QLabel("")
        cap.setObjectName("scenarioCaption")
        cap.setAccessibleName("scenario caption")
        cap.setWordWrap(True)
        cap.setTextFormat(Qt.TextFormat.RichText)
        cap.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cap.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        f = QFont(cap.font())
        f.setPointSizeF(f.pointSizeF() * 1.15)
        cap.setFont(f)
        cap.setStyleSheet("QLabel#scenarioCaption { border-left: 6px solid #0072B2; padding: 4px 10px; }")
        cap.hide()
        self.caption = cap
        central = ctx.parent.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None:  # above the plots (the message banner lies over both)
            layout.insertWidget(0, cap)

        self._make_actions()
        ctx.worker.reconfigureRequested.connect(self._on_requested)
        ctx.config_applied.connect(self._on_configured)
        ctx.snapshot_applied.connect(self._on_snapshot)
        ctx.worker.worker.failed.connect(self._on_failed)
        ctx.actions["actionRun"].toggled.connect(self._run_toggled)
        ctx.state.lrChanged.connect(self.refresh_caption)  # the caption says when the rate is no longer the scene's

    # ---------------------------------------------------------------------------------- actions
    def _make_actions(self) -> None:
        w = self.ctx
        reg = w.actions
        self.actionOpenScenario = reg.add("actionOpenScenario", self.open_dialog)
        self.actionSaveScenario = reg.add("actionSaveScenario", self.save_dialog)
        self.actionNextScenario = reg.add("actionNextScenario", self.next)
        self.actionPreviousScenario = reg.add("actionPreviousScenario", self.previous)
        self.number_actions: list[QAction] = []
        for n in range(1, 10):
            spec = ActionSpec(f"actionOpenScenario{n}", f"Scenario {n}", (str(n),),
                              f"Open scenario {n} of the playlist (the bundled ones until a file is opened)",
                              SCENARIOS, listed=False)
            self.number_actions.append(reg.add(spec, lambda _=False, k=n: self.open_number(k)))
        # the cheat sheet's one row for the nine (never bound: the number actions above own the keys)
        self.actionScenarioKeys = reg.add("actionScenarioKeys", live=False)
        self.view_actions: dict[str, QAction] = {}
        for key, label in PANEL_LABELS.items():
            if key == "narration":  # the dock brings its own toggle in the View menu
                continue
            a = QAction(label, w.parent, checkable=True)
            a.setObjectName("actionShow" + "".join(p.capitalize() for p in key.split("_")))
            a.setChecked(True)
            a.toggled.connect(lambda on, k=key: self.set_panel_visible(k, on))
            a.triggered.connect(lambda on, k=key: self._view_chosen(k, on))  # a person's choice, not a scenario's
            self.view_actions[key] = a

        fm = reg.menu("File")
        if fm is not None:
            first = fm.actions()[0] if fm.actions() else None
            fm.insertAction(first, self.actionOpenScenario)
            self.bundled_menu = QMenu("Open bundled scenario", fm)
            fm.insertMenu(first, self.bundled_menu)
            self.bundled_menu.setObjectName("bundledScenarioMenu")
            self.bundled_menu.aboutToShow.connect(self._fill_bundled_menu)
            self._fill_bundled_menu()
            for a in (self.actionSaveScenario, self.actionPreviousScenario, self.actionNextScenario):
                fm.insertAction(first, a)
            fm.insertSeparator(first)
        vm = reg.menu("View")
        if vm is not None:
            pm = vm.addMenu("Views")
            pm.setObjectName("viewsMenu")
            for a in self.view_actions.values():
                pm.addAction(a)

    def _fill_bundled_menu(self) -> None:
        m = self.bundled_menu
        for a in m.actions():  # the number actions belong to the window; only unhook them here
            m.removeAction(a)
        try:
            paths = scenarios.bundled()
        except GDStudioError:
            paths = []
        for i, p in enumerate(paths):
            if i < 9:
                a = self.number_actions[i]
                a.setText(f"{i + 1}  {_title(p)}")
                a.setData(str(p))
                m.addAction(a)
            else:
                extra = QAction(_title(p), m)
                extra.triggered.connect(lambda _=False, q=p: self.open(q))
                m.addAction(extra)

    # ---------------------------------------------------------------------------------- opening
    def open_dialog(self) -> None:
        last = settings.last_scenario_path()
        start = str(last.parent) if last is not None and last.parent.is_dir() else ""
        from ...file_types import dialog_filter
        from ..fileopen import open_file

        # File → Open takes any file the app understands (a scenario, a saved range test), routed by type
        path, _ = QFileDialog.getOpenFileName(self.ctx.parent, "Open a scenario or a range test", start,
                                              dialog_filter())
        if path:
            open_file(self.ctx.parent, path)  # the app's router, by file type: it opens into this window

    def open(self, path) -> bool:
        """Load and apply a scenario file; its folder becomes the playlist. False (and a message) if unusable."""
        path = Path(path)
        try:
            scenario = data_consent.load_scenario(self.ctx.parent, path)  # asks before reading outside the folder
        except GDStudioError as exc:
            self.ctx.show_message(then(exc, "Nothing was changed."), "error")
            return False
        try:
            self.playlist = scenarios.playlist(path.parent)
        except GDStudioError:
            self.playlist = [path]
        self.path = path
        settings.set_last_scenario_path(path)
        self.apply(scenario)
        if data_consent.describe(scenario):  # say which file the scenario reads
            self.ctx.show_message(data_consent.describe(scenario), "info")
        return True

    def _index(self) -> int | None:
        if self.path is None:
            return None
        for i, p in enumerate(self.playlist):
            if p.resolve() == self.path.resolve():
                return i
        return None

    def open_number(self, n: int) -> bool:
        """Scenario n (1-based) of the playlist; the bundled scenarios before any file is opened."""
        items = self.playlist
        if not items:
            try:
                items = scenarios.bundled()
            except GDStudioError as exc:
                self.ctx.show_message(str(exc), "error")
                return False
        if not 1 <= n <= len(items):
            self.ctx.show_message(f"There is no scenario {n}: the playlist has {len(items)}.", "warning", 5)
            return False
        return self.open(items[n - 1])

    def _move(self, delta: int) -> bool:
        i = self._index()
        if i is None:
            return self.open_number(1)
        j = i + delta
        if not 0 <= j < len(self.playlist):
            self.ctx.show_message("That was the " + ("last" if delta > 0 else "first") + " scenario of the playlist.",
                                  "info", 4)
            return False
        return self.open(self.playlist[j])

    def next(self) -> bool:
        return self._move(+1)

    def previous(self) -> bool:
        return self._move(-1)

    # --------------------------------------------------------------------------------- applying
    def apply(self, scenario: scenarios.Scenario) -> None:
        """Rebuild the run from the scenario; its view state follows once the worker has built it."""
        w = self.ctx
        self._pending = scenario
        if w.state.busy == RANGE_TEST:
            w.cancel()
        w.pause()
        w.panel.set_config(scenario.config)
        self._ticket = self._requests + 1
        w.apply_config(scenario.config, "scenario")

    def _on_requested(self, _config) -> None:
        self._requests += 1

    def _on_configured(self, info) -> None:
        if info.reason == "configured":
            self._answers += 1
        s = self._pending
        if s is not None and info.reason == "configured" and self._answers < self._ticket:
            return  # an earlier request's run: the scene waits for its own
        if s is not None and info.reason == "configured":
            self._pending = None
            self.current = s
            self._apply_view_state(s)
            self._arm(s)
            if s.pre_run:
                self.ctx.run_steps(int(s.pre_run))
            self.scenarioApplied.emit(s)
        elif self.current is not None:
            if info.reason in ("reset", "reseeded"):
                self._ranges_due = self.current  # back at step 0 the scene keeps its axes
            elif info.reason == "configured":  # the user changed the model or data: the scene is over
                self.current = None
                self.caption.hide()
                self._disarm()

    def _on_failed(self, what: str, _message: str) -> None:
        if what != "configure":
            return
        self._answers += 1
        if self._pending is not None and self._answers >= self._ticket:
            self._pending = None  # the window already says why; the previous run and scene stay

    def _apply_view_state(self, s: scenarios.Scenario) -> None:
        if s.caption or s.title:
            self._show_caption(s)
            self.caption.setToolTip(s.caption)
            self.caption.show()
        else:
            self.caption.hide()
        for key, action in self.view_actions.items():
            action.setChecked(key in s.panels)
        if "narration" not in self.view_actions:
            self.set_panel_visible("narration", "narration" in s.panels)
        views = self.landscape_views  # the sharpness / loss-surface views (issues 11, 14)
        if views is not None:
            views.apply_scenario(s)
        rt = s.range_test
        if rt is not None:
            p = self.ctx.panel
            p.rt_start.setText(f"{rt.start_lr:g}")
            p.rt_end.setText(f"{rt.end_lr:g}")
            p.rt_iters.setValue(int(rt.num_iter))
            i = p.rt_mode.findData(rt.mode)
            if i >= 0:
                p.rt_mode.setCurrentIndex(i)
        if s.speed is not None:
            self.set_speed(s.speed)
        # after the first frame of the new run: a view re-fits when its axis label changes
        self._ranges_due = s

    def _show_caption(self, s: scenarios.Scenario) -> None:
        # wrapped, never elided. On a projector or a short screen the caption is one paragraph: the title and the
        # first sentence of the text, so the plots keep the room; the normal view shows the title over the whole
        # text. The whole caption is in the tooltip either way.
        presenting = bool(getattr(self.presentation, "active", False))
        lines = getattr(self.presentation, "scenario_caption_lines", lambda: CAPTION_BODY_LINES)()
        self.caption.setWordWrap(True)
        # as wide as the views, as tall as its wrapped text at that width (heightForWidth), never taller
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        policy.setHeightForWidth(True)
        self.caption.setSizePolicy(policy)
        body = " ".join((s.caption or "").split())
        title = html.escape(s.title)
        if presenting or lines < CAPTION_BODY_LINES:
            end = body.find(". ")
            body = body[: end + 1] if 0 < end < 220 else body
            colon = body.find(": ")
            if presenting and len(body) > 120 and 20 <= colon < 120:
                body = body[:colon] + "."  # on a projector the claim, not its explanation (all in the tooltip)
            if body and s.title:
                self._set_caption_text(f"<b>{html.escape(s.title + ' — ')}</b>{html.escape(body)}{self._lr_note(s)}")
                return
        text = f"<b>{title}</b>"
        if body:
            text += "<br>" + html.escape(body)
        self._set_caption_text(text + self._lr_note(s))

    def _lr_note(self, s: scenarios.Scenario) -> str:
        """A line after the caption once the live LR is not the scene's: its text speaks of the scene's rate."""
        live, scene = float(self.ctx.state.lr), float(s.config.lr)
        if live == scene:
            return ""
        return html.escape(f" ▸ Now r = {fmt_lr(live)}; this scene's text is about r = {fmt_lr(scene)}.")

    def _set_caption_text(self, text: str) -> None:
        self.caption.setText(text)
        fit = getattr(self.presentation, "fit_scenario_caption", None)
        if fit is not None:
            fit()  # in the left column (short screens) its dock gives it the lines it wraps to

    def refresh_caption(self, *_) -> None:
        if self.current is not None and not self.caption.isHidden():
            self._show_caption(self.current)

    def _on_snapshot(self, _snap) -> None:
        if self._ranges_due is not None:
            s, self._ranges_due = self._ranges_due, None
            self._apply_ranges(s)

    def _apply_ranges(self, s: scenarios.Scenario) -> None:
        for key, box in s.ranges.items():
            view = getattr(self.ctx.views, PANEL_VIEWS.get(key, ""), None)
            if view is None or box is None:
                continue
            x0, x1, y0, y1 = box
            if key == "loss_vs_lr":  # the file holds learning rates; the plot's x axis is their log10
                x0, x1 = math.log10(x0), math.log10(x1)
            held = False
            for r in getattr(view.plot, "sticky", []):
                if hasattr(r, "hold"):
                    # the view that follows the steps holds the scene's box instead, with its marker's radius
                    # around it at every size (the ball at the bottom of the bowl: loss ~0 in a box from 0)
                    r.hold(x0, x1, y0, y1)
                    held = True
                else:
                    r.enabled = False  # the scene's axes stay put, as after a zoom by hand
            if not held:
                view.plot.getPlotItem().vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def set_speed(self, steps_per_second: float | None) -> None:
        """Choose the speed ladder's rung nearest ``steps_per_second`` (None: unthrottled)."""
        combo = self.ctx.speed
        best, dist = 0, math.inf
        for i in range(combo.count()):
            v = combo.itemData(i)
            if v is None or steps_per_second is None:
                d = 0.0 if v is None and steps_per_second is None else math.inf
            else:
                d = abs(math.log(v / steps_per_second))
            if d < dist:
                best, dist = i, d
        combo.setCurrentIndex(best)

    # ----------------------------------------------------------------------------- autoplay stop
    def _arm(self, s: scenarios.Scenario) -> None:
        self.stop_at = int(s.pre_run) + int(s.steps) if s.steps else None
        self.ctx.worker.set_stop_at(self.stop_at)

    def _disarm(self) -> None:
        self.stop_at = None
        self.ctx.worker.set_stop_at(None)

    def _run_toggled(self, on: bool) -> None:
        # once the scene's run has played out, Space runs on freely
        if on and self.stop_at is not None and self.ctx.step_count() >= self.stop_at:
            self._disarm()

    # ------------------------------------------------------------------------------------ panels
    def _panel_widget(self, key: str):
        if key == "narration":  # the step-by-step dock (timeline and narration), when the window has one
            return getattr(self.study, "dock", None)
        else:
            view = getattr(self.ctx.views, PANEL_VIEWS[key], None)
        return getattr(view, "widget", view) if view is not None else None

    def set_panel_visible(self, key: str, on: bool) -> None:
        widget = self._panel_widget(key)
        if widget is None:
            return
        widget.setVisible(bool(on))
        if self.view_actions.get(key) is not None and self.view_actions[key].isChecked() != bool(on):
            self.view_actions[key].setChecked(bool(on))
        # a splitter row whose views are all hidden gives its space to the other row
        for row in (widget.parentWidget(),):
            if row is not None and hasattr(row, "count") and row is not self.ctx.views_splitter:
                row.setVisible(any(not row.widget(i).isHidden() for i in range(row.count())))

    def _view_chosen(self, key: str, on: bool) -> None:
        chosen = getattr(self.presentation, "view_chosen", None)
        if chosen is not None:  # the lecture layout decides where (or whether) a view of the grid shows
            chosen(key, on)

    def visible_panels(self) -> tuple[str, ...]:
        out = []
        for key in scenarios.PANELS:
            widget = self._panel_widget(key)
            if widget is not None and not widget.isHidden():
                out.append(key)
        return tuple(out)

    # ----------------------------------------------------------------------------------- saving
    def ranges(self) -> dict:
        """Axis ranges of the views whose axes stay put (zoomed by hand or set by a scene)."""
        out = {}
        for key, attr in PANEL_VIEWS.items():
            view = getattr(self.ctx.views, attr)
            sticky = getattr(view.plot, "sticky", [])
            if sticky and all(r.enabled for r in sticky):
                continue
            (x0, x1), (y0, y1) = view.plot.getPlotItem().vb.viewRange()
            if key == "loss_vs_lr":
                x0, x1 = 10.0 ** x0, 10.0 ** x1
            out[key] = tuple(float(v) for v in (x0, x1, y0, y1))
        return out

    def scenario(self, title: str | None = None) -> scenarios.Scenario:
        """The window as a Scenario: the run's config (with the live LR and watched weight) and the view state,
        the sharpness and loss-surface views included (raises ScenarioError for a plane no file can hold)."""
        w = self.ctx
        cfg = w.state.config
        watch = w.panel.watch.currentData() or cfg.watch
        cfg = cfg.replace(watch=watch)
        cur = self.current
        rt = cur.range_test if cur is not None else None
        if rt is None:
            try:
                r = w.panel.range_test_settings()
                rt = scenarios.RangeTestSettings(start_lr=r["start_lr"], end_lr=r["end_lr"], num_iter=r["num_iter"],
                                                 mode=r["mode"])
            except GDStudioError:
                rt = None
        # the sharpness and loss-surface views as shown (their owner says what of them a file holds)
        views = self.landscape_views
        shown = views.scene_settings() if views is not None else {}
        return scenarios.Scenario(
            title=title or (cur.title if cur is not None else "GD Studio scenario"),
            caption=cur.caption if cur is not None else "", config=cfg, panels=self.visible_panels(),
            ranges=self.ranges(), pre_run=cur.pre_run if cur is not None else 0,
            steps=cur.steps if cur is not None else 0, speed=w.speed.currentData() if cur is None else cur.speed,
            range_test=rt, sharpness=shown.get("sharpness"), loss_surface=shown.get("loss_surface"))

    def save(self, path, title: str | None = None) -> Path | None:
        path = Path(path)
        if path.suffix != scenarios.EXTENSION:
            path = path.with_name(path.name + scenarios.EXTENSION)
        try:
            out = scenarios.save(self.scenario(title or (self.current.title if self.current else path.stem)), path)
        except GDStudioError as exc:
            self.ctx.show_message(then(exc, "The scenario was not saved."), "error")
            return None
        settings.set_last_scenario_path(out)
        self.ctx.show_message(f"Saved the scenario to {out}.", "info", 5)
        self.scenarioSaved.emit(str(out))
        return out

    def save_dialog(self) -> None:
        last = settings.last_scenario_path()
        start = str(last.parent) if last is not None and last.parent.is_dir() else ""
        path, _ = QFileDialog.getSaveFileName(self.ctx.parent, "Save the scenario", start, FILTER)
        if path:
            self.save(path)


def _title(path: Path) -> str:
    try:
        return scenarios.load(path).title
    except GDStudioError:
        return path.stem


def is_scenario_file(path) -> bool:
    return str(path).lower().endswith(scenarios.EXTENSION)


def install(ctx: FeatureContext, presentation=None, study=None) -> ScenarioController:
    return ScenarioController(ctx, presentation, study)


__all__ = ["ScenarioController", "install", "is_scenario_file"]
