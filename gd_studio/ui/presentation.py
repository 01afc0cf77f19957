"""Presentation mode, themes, full screen and the keyboard extras of the main window (LR ×/÷ √10, speed, "?").

Presentation mode (F5, also P; ``--presentation``) is a state, one flag: ``apply_presentation`` gives the window
the high-contrast light theme at the presentation scale (1.5–2.5×, saved in the preferences): the app font, every
widget's font, the tick labels, legends, line widths and markers of every plot; the panel hidden, the window
maximised. ``remove_presentation`` puts back exactly what was there. Sizes are never multiplied from what a
widget shows now: each widget's font is a function of the app font from a remembered base, so any number of
F5 presses, scenario switches and rebuilt widgets in between end where they started. The run, the LR, the data
and the zoom are never touched.
"""
from __future__ import annotations

import math
import re

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QFont, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from . import settings
from . import theme as th
from .actions import SPECS, find_menu
from .adapters import fmt_lr
from .cheatsheet import CheatSheet
from .context import FeatureContext

PRESENTATION_KEYS = SPECS["actionPresentation"].keys
PRESENTATION_THEME = "high_contrast"
SQRT10 = math.sqrt(10.0)
SCALE_CHOICES = (1.5, 2.0, 2.5)
PRESENTATION_CAPTION_FONT = 0.8  # presentation mode: a view's caption × the presentation text size
REFERENCE_SCREEN_HEIGHT = 1080  # the presentation scale the user picks is for a screen this high
SHORT_PROJECTOR = 900  # px: presenting on a screen less high than this, the scenario's caption keeps one line
# the normal view in shorter windows (or on shorter screens) gives the plots the height: (window height below,
# view caption lines, scenario caption lines under its title, narration events lines or None for the full panel)
DENSITIES = ((None, 3, 3, None), (1050, 2, 2, 2), (820, 1, 1, 1))
# views whose caption changes with the scenario, not with every step (or is one short line): they keep no spare lines
# against a layout jump while running (at 1080p the loss-vs-step view kept a blank line above its plot)
STEADY_CAPTIONS = ("data_view", "step_view", "surface_view")

# scenes the plots' series take from theme.py: (view attribute, item attribute, series index, symbols)
_SERIES = (("step_view", "train", 0, False), ("step_view", "val", 1, True), ("step_view", "lr_curve", 2, False),
           ("lr_view", "smoothed", 0, False))


# presentation mode's lecture layout: the views each scene is about, large (O shows every view of the scene)
LECTURE_VIEWS = {"descent": ("weight_view", "step_view"), "range_test": ("weight_view", "lr_view"),
                 # a descent with the loss surface shown (scenarios 09, 10): the map of the plane with the path, and
                 # the loss against the step beside it; with the loss-vs-weight view as a third, stacked in one
                 # column, each was a strip (40 and 50 px high at 720p)
                 "surface": ("surface_view", "step_view"),
                 # a descent with the sharpness view shown (scenario 08, the edge of stability): the steps bouncing
                 # along a weight and λ_max against 2/η; as a third view stacked with the loss-vs-step view, the
                 # sharpness plot was a strip with its axis title cut at 720p
                 "sharpness": ("weight_view", "sharpness_view")}
# views a feature adds beside the grid's four: (view, the action that shows it, the descent's lecture scene while it
# is shown; the first shown wins). Shown with their toggle, except in a lecture scene that leaves them out
EXTRA_VIEWS = (("surface_view", "actionShowLossSurface", "surface"), ("sharpness_view", "actionShowSharpness",
                                                                     "sharpness"))
# views that need height (a map: a strip of one reads nothing), given the emptier column while presenting every view
TALL_VIEWS = ("surface_view",)
# side by side, a descent's loss-vs-weight view (the steps, the arrows, the ball: what the lesson is about) is the
# wider one: its caption wraps to a line fewer, which its plot gets (the loss-vs-step view keeps 43 % of the width)
LECTURE_WIDTHS = {"descent": (0.57, 0.43), "surface": (0.5, 0.5), "sharpness": (0.5, 0.5)}
VIEW_NAMES = ("data_view", "weight_view", "lr_view", "step_view")
_VIEW_PANEL = {"data_view": "data", "weight_view": "loss_vs_weight", "lr_view": "loss_vs_lr",
               "step_view": "loss_vs_step"}


def later(owner: QObject, fn, msec: int = 0) -> None:
    """Run ``fn`` on a later turn of the event loop, unless ``owner`` is deleted first: a plain
    ``QTimer.singleShot`` lambda fired after a recording's hidden window was deleted, on its dead docks."""
    timer = QTimer(owner)
    timer.setSingleShot(True)
    timer.timeout.connect(fn)
    timer.timeout.connect(timer.deleteLater)
    timer.start(msec)


def menu(window, title: str) -> QMenu | None:
    """The window's top-level menu titled ``title`` (see actions.find_menu)."""
    return find_menu(window, title)


def _words(object_name: str) -> str:
    """"learningRateInput" → "learning rate input": an accessible name from an objectName."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", object_name).lower()


def snap_lr(lr: float) -> float:
    """Four significant digits, and exactly a power of √10 when within 0.05% of one (1, 3.162, 10 …)."""
    k = round(2 * math.log10(lr))
    grid = 10.0 ** (k / 2)
    if abs(lr / grid - 1) < 5e-4:
        return float(f"{grid:.4g}")
    return float(f"{lr:.4g}")


class Presentation(QObject):
    """Owns presentation mode, the theme menu, full screen, LR and speed keys, the cheat sheet of a window."""

    presentationChanged = Signal(bool)
    themeChanged = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.registry = window.action_registry
        self.active = False
        t, scale = th.applied_theme()
        self.theme_name = settings.theme_name(t.name)
        self.normal_scale = scale
        self.scale = settings.saved_presentation_scale()
        self._saved: dict | None = None  # what presentation mode replaced (app look, dock, window state, layout)
        self._extra_homes: dict = {}  # an added view's own row of the grid (_rehome_extras may move it to the other)
        self._make_actions()
        self.cheat_sheet = CheatSheet(window, [])
        self.cheat_sheet.closed.connect(lambda: self.actionCheatSheet.setChecked(False))
        self.name_widgets()
        self._marked = False
        self.density = 0
        self.restyle()
        window.configApplied.connect(lambda *_: self.restyle())  # new data items get the current look
        window.messageShown.connect(self._message_shown)

    # ---------------------------------------------------------------------------------- actions
    def _make_actions(self) -> None:
        w, reg = self.w, self.registry
        self.actionPresentation = reg.add("actionPresentation", self.set_presentation)
        self.actionFullScreen = reg.add("actionFullScreen", self.set_full_screen)
        self.actionCheatSheet = reg.add("actionCheatSheet", self.toggle_cheat_sheet)
        self.actionLrUp = reg.add("actionLrUp", self.lr_up)
        self.actionLrDown = reg.add("actionLrDown", self.lr_down)
        self.actionSlower = reg.add("actionSlower", self.slower)
        self.actionFaster = reg.add("actionFaster", self.faster)
        self.actionLectureLayout = reg.add("actionLectureLayout", self.toggle_lecture_layout)
        self.actionLectureLayout.setChecked(True)
        self.actionFullSpeed = reg.add("actionFullSpeed", self.toggle_full_speed)
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name, t in th.THEMES.items():
            a = QAction(t.label, self.w, checkable=True)
            a.setObjectName("actionTheme" + "".join(p.capitalize() for p in name.split("_")))
            a.setStatusTip(f"Use the {t.label.lower()} theme (remembered)")
            a.setChecked(name == self.theme_name)
            a.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            self.theme_group.addAction(a)
            self.theme_actions[name] = a
        self.scale_group = QActionGroup(self)
        self.scale_actions: dict[float, QAction] = {}
        for s in SCALE_CHOICES:
            a = QAction(f"{s:g}×", self.w, checkable=True)
            a.setObjectName(f"actionPresentationScale{int(s * 10)}")
            a.setStatusTip(f"Presentation mode enlarges text and lines {s:g}× (remembered)")
            a.setChecked(abs(s - self.scale) < 1e-9)
            a.triggered.connect(lambda _=False, v=s: self.set_scale(v))
            self.scale_group.addAction(a)
            self.scale_actions[s] = a

        view = menu(w, "View")
        if view is not None:
            view.addSeparator()
            tm = view.addMenu("Theme")
            tm.setObjectName("themeMenu")
            for a in self.theme_actions.values():
                tm.addAction(a)
            view.addAction(self.actionPresentation)
            sm = view.addMenu("Presentation size")
            sm.setObjectName("presentationScaleMenu")
            for a in self.scale_actions.values():
                sm.addAction(a)
            view.addAction(self.actionFullScreen)
        run = getattr(w, "run_menu", None)
        if run is not None:
            run.addSeparator()
            for a in (self.actionLrUp, self.actionLrDown, self.actionSlower, self.actionFaster,
                      self.actionFullSpeed):
                run.addAction(a)
        hm = menu(w, "Help")
        if hm is not None:
            hm.insertAction(hm.actions()[0] if hm.actions() else None, self.actionCheatSheet)

    # ------------------------------------------------------------------------------ accessibility
    def name_widgets(self) -> None:
        """Accessible names for every named widget that has none yet (screen readers, UI automation)."""
        for widget in self.w.findChildren(QWidget):
            name = widget.objectName()
            if name and not name.startswith("qt_") and not widget.accessibleName():
                widget.setAccessibleName(_words(name))

    # ---------------------------------------------------------------------------------- styling
    def _plots(self) -> list:
        return [v.plot for v in (self.w.data_view, self.w.weight_view, self.w.lr_view, self.w.step_view)]

    def restyle(self) -> None:
        """Give every view the current theme and scale (theme.py's pens, fonts, legends; exact on return)."""
        t = th.get_theme(PRESENTATION_THEME if self.active else self.theme_name)
        # presenting: the scale the screen's height gave (screen_scale), the same as the app font's, so a 720p
        # projector's tick labels are not 1.5× its text
        scale = getattr(self, "active_scale", self.scale) if self.active else self.normal_scale
        if not self._marked:
            # the main series take their pens (colour + dash + marker) from theme.py's Okabe–Ito series
            for view, item, i, symbols in _SERIES:
                obj = getattr(getattr(self.w, view, None), item, None)
                if isinstance(obj, pg.PlotDataItem):
                    th.style_data_item(obj, i, t, 1.0, symbols=symbols)
            self._marked = True
        for plot in self._plots():
            th.style_plot(plot, t, scale)
        box = getattr(self.w.step_view, "lr_box", None)
        if box is not None:  # the LR curve lives in its own view box, which style_plot does not visit
            for item in list(box.addedItems):
                th.rescale_item(item, t, scale)
        for item in (getattr(self.w.weight_view, "legend_down", None), getattr(self.w.weight_view, "legend_up", None)):
            if item is not None:  # legend-only samples (the arrow styles): not in the plot, so not visited above
                th.rescale_item(item, t, scale)
        arrows = getattr(self.w.weight_view, "arrows", None)
        if arrows is not None:
            base = arrows.__dict__.setdefault("_gd_base", (arrows.width, arrows.head))
            arrows.width, arrows.head = base[0] * scale, base[1] * scale
            arrows.prepareGeometryChange()
            arrows.update()
        self.cheat_sheet.set_theme(t, scale)

    # ------------------------------------------------------------------------------ presentation
    def set_presentation(self, on: bool) -> None:
        """Enter or leave presentation mode: one flag, and the look that follows from it (idempotent)."""
        on = bool(on)
        self.actionPresentation.setChecked(on)
        if on == self.active:
            return
        if on:
            apply_presentation(self, self.screen_scale())
        else:
            remove_presentation(self)
        self.fit_step_box()
        self.presentationChanged.emit(on)
        if on:
            self.w.show_message("Presentation mode: F5 or P returns to the normal view, ? lists the keys.", "info", 4)

    def _set_compact(self, on: bool, saved: dict | None = None) -> dict:
        """Presentation mode's layout, so the plots get the screen: no toolbars; the scene's views side by side on a
        landscape screen (stacked on a portrait one), each view's caption wrapped under its title (one line kept, more
        when its text needs them); the compact narration (equation, loss, one line of events) without the timeline
        bar and the dock's title (← → and Back still step); no status bar (the narration says the step, the LR and
        the loss); the menu bar at the normal size (for the lecturer, not the room). Returns what was there, for
        the way back."""
        from .views import PRESENTATION_CAPTION_LINES

        w = self.w
        views = [w.data_view, w.weight_view, w.lr_view, w.step_view]
        study = getattr(w, "study", None)
        narration = getattr(study, "narration", None)
        timeline = getattr(study, "timeline", None)
        dock = getattr(study, "dock", None)
        before = {"lines": [(v.caption, v.caption.lines()) for v in views],
                  "narration": (narration.compact, narration.events.lines()) if narration is not None else None,
                  "timeline": timeline is not None and not timeline.isHidden(),
                  "status": not w.statusBar().isHidden(),
                  "toolbars": [(b, not b.isHidden()) for b in getattr(w, "toolbars", ())]}
        if on:
            # the room reads plots, not buttons: the lecturer drives by keys (? lists them) and the menus,
            # and toolbars at the projector's font size would take two rows of the plots' height
            for b in getattr(w, "toolbars", ()):  # (the speed box in the menu bar's corner stays)
                b.hide()
            for v in views:
                v.caption.set_lines(PRESENTATION_CAPTION_LINES)
            # a view's caption explains, the room reads the plot: its text a step smaller than the rest (still larger
            # than in the normal view), so a long one leaves the plot its 40 % of the screen; the scenario's caption
            # at the presentation text size (1.15× it in the normal view)
            for c, k in self._smaller_on_projector():
                f = QFont(c.font())
                f.setPointSizeF(f.pointSizeF() * k)
                c.setFont(f)
            self._arrange_views(side_by_side=self._landscape())
            if narration is not None:
                narration.set_compact(True, 1)
            if timeline is not None:
                timeline.hide()
            if dock is not None:
                dock.setTitleBarWidget(QWidget())
                if not dock.isFloating():  # the plots take the height the compact narration leaves
                    w.resizeDocks([dock], [dock.minimumSizeHint().height()], Qt.Orientation.Vertical)
            w.statusBar().hide()
        elif saved:
            for c, lines in saved["lines"]:
                c.set_lines(lines)
            for c, _k in self._smaller_on_projector():  # the size it was given, before the app font returns
                given = c.property("gdStudioGivenPt")
                if given is not None:
                    f = QFont(c.font())
                    f.setPointSizeF(float(given))
                    c.setFont(f)
            if narration is not None and saved["narration"] is not None:
                narration.set_compact(*saved["narration"])
            if timeline is not None:
                timeline.setVisible(saved["timeline"])
            if dock is not None:
                dock.setTitleBarWidget(None)
            w.statusBar().setVisible(saved["status"])
            for b, shown in saved.get("toolbars", ()):
                b.setVisible(shown)
        return before

    def _smaller_on_projector(self) -> list:
        w = self.w
        out = [(v.caption, PRESENTATION_CAPTION_FONT) for v in (w.data_view, w.weight_view, w.lr_view, w.step_view)]
        cap = getattr(getattr(w, "scenarios", None), "caption", None)
        if cap is not None:
            out.append((cap, 1 / 1.15))
        from PySide6.QtWidgets import QLabel

        for v in (w.data_view, w.weight_view, w.lr_view, w.step_view):
            title = v.widget.findChild(QLabel, "viewTitle")
            if title is not None:  # the views' names at the presentation text size (1.15× it in the normal view)
                out.append((title, 1 / 1.15))
        return out

    def _splitters(self) -> tuple:
        grid = getattr(self.w, "views_splitter", None)
        if grid is None:
            return ()
        return (grid, *(grid.widget(i) for i in range(grid.count()) if hasattr(grid.widget(i), "orientation")))

    def _splitter_state(self) -> list:
        return [(sp, sp.orientation(), sp.sizes()) for sp in self._splitters()]

    def _restore_splitters(self, state) -> None:
        for sp, orientation, sizes in state or ():
            sp.setOrientation(orientation)
            sp.setSizes(sizes)
        self._arrange_normal()  # the scene may have changed while presenting

    def _landscape(self) -> bool:
        screen = self.w.screen() or QApplication.primaryScreen()
        if screen is None:
            return True
        g = screen.availableGeometry()
        return g.width() >= g.height()

    def _arrange_views(self, side_by_side: bool) -> None:
        """The scene's two views side by side (a 16:9 projector: each gets the full height, about twice the data
        area of two stacked strips) or stacked (a portrait screen). The grid's rows become its columns; with every
        view shown this is still a 2×2 grid."""
        sps = self._splitters()
        if not sps:
            return
        grid, *rows = sps
        outer, inner = (Qt.Orientation.Horizontal, Qt.Orientation.Vertical) if side_by_side else \
            (Qt.Orientation.Vertical, Qt.Orientation.Horizontal)
        grid.setOrientation(outer)
        for row in rows:
            row.setOrientation(inner)
            row.setSizes([1000] * row.count())
        grid.setSizes([1000] * grid.count())
        self.lecture_widths()

    def lecture_widths(self) -> bool:
        """Presenting a scene's two views side by side: their widths (:data:`LECTURE_WIDTHS`), a function of the scene
        and the window's width only. Returns whether they changed."""
        sps = self._splitters()
        if not self.active or not self.actionLectureLayout.isChecked() or not sps:
            return False
        grid, *_rows = sps
        shares = LECTURE_WIDTHS.get(self.lecture_key())
        shown = [i for i in range(grid.count()) if not grid.widget(i).isHidden()]
        if grid.orientation() != Qt.Orientation.Horizontal or len(shown) != 2 or shares is None:
            return False
        total = sum(grid.sizes())
        first = int(round(total * shares[0]))
        want = [0] * grid.count()
        want[shown[0]], want[shown[1]] = first, total - first
        if grid.sizes() == want:
            return False
        grid.setSizes(want)
        return True

    def fit_density(self) -> None:
        """The normal view in a short window (1600×1000, a 1366×768 laptop): fewer caption lines and the compact
        narration, so the plots keep a readable height (the whole texts are in tooltips)."""
        if self.active:
            return
        screen = self.w.screen()
        real = QApplication.platformName() not in ("offscreen", "minimal")  # a virtual screen says nothing
        room = screen.availableGeometry().height() if screen is not None and real else 0
        # the screen counts too: on a short screen the full layout's minimum height would not even fit
        height = min(h for h in (self.w.height(), room) if h > 0) if max(self.w.height(), room) > 0 else 0
        level = 0
        for i, (below, *_rest) in enumerate(DENSITIES):
            if below is not None and 0 < height < below:
                level = i
        if level == self.density:
            return
        self.density = level
        _below, lines, _scenario_lines, events = DENSITIES[level]
        # the added views too: the loss surface's caption kept three lines' height for two at 720p
        for name in VIEW_NAMES + tuple(name for name, _action, _key in EXTRA_VIEWS):
            v = getattr(self.w, name, None)
            if v is not None:
                v.caption.set_lines(1 if name in STEADY_CAPTIONS else lines)
        narration = getattr(getattr(self.w, "study", None), "narration", None)
        if narration is not None:
            narration.set_compact(events is not None, events or 1)
        weight = getattr(self.w, "weight_view", None)
        if hasattr(weight, "set_compact"):
            weight.set_compact(level == len(DENSITIES) - 1)
        self._place_step_dock(level == len(DENSITIES) - 1)
        self.apply_views()  # a range test's scene on a short screen has a layout of its own
        scenarios = getattr(self.w, "scenarios", None)
        if scenarios is not None:
            scenarios.refresh_caption()
        self._caption_resized()

    def _place_step_dock(self, short: bool) -> None:
        """On a short screen (a 1280×720 projector) the step-by-step dock moves under the model-and-data panel
        (which scrolls), so the four views get the window's whole height; back to the bottom when it grows.
        A dock the user placed elsewhere (floating, right) stays where it is."""
        w = self.w
        dock = getattr(getattr(w, "study", None), "dock", None)
        self._place_scenario_caption(short)
        if dock is None or dock.isFloating():
            return
        area = w.dockWidgetArea(dock)
        if short and area == Qt.DockWidgetArea.BottomDockWidgetArea:
            self._narrow_step_dock(True)  # first: the column takes the dock's width hint as it moves
            size = w.size()
            w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            if w.dockWidgetArea(w.dock) == Qt.DockWidgetArea.LeftDockWidgetArea and not w.dock.isFloating():
                w.splitDockWidget(w.dock, dock, Qt.Orientation.Vertical)
            self.step_dock_moved = True

            self.narrow_docks(size)
            later(w, lambda: self.narrow_docks(size, grown_only=True))  # and once laid out
        elif not short and getattr(self, "step_dock_moved", False):
            if area == Qt.DockWidgetArea.LeftDockWidgetArea:
                w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            self.step_dock_moved = False
            self._narrow_step_dock(False)

    def relayout_after_restore(self) -> None:
        """After a saved dock arrangement is restored: the short-screen layout follows from this screen again (a
        state saved at 1080p restored on a 720p projector put the step-by-step dock back under the plots). The
        step-by-step dock in the left column counts as placed there by the short layout, so a tall screen takes it
        back to the bottom."""
        w = self.w
        dock = getattr(getattr(w, "study", None), "dock", None)
        if self.active or dock is None:
            return
        self.step_dock_moved = not dock.isFloating() and w.dockWidgetArea(dock) == Qt.DockWidgetArea.LeftDockWidgetArea
        self.density = -1
        self.fit_density()

    def balance_rows(self) -> bool:
        """The grid's two rows sized so their shortest plots are equally tall: a row whose captions wrap to more
        lines gets that much more height (at 1280×720 the loss-vs-weight row kept 181 px while the row below had
        240; at 1080p the loss-vs-weight view was 22 px shorter than the loss-vs-step view below). Called when a
        caption's height changes and when the window is resized."""
        grid = getattr(self.w, "views_splitter", None)
        if grid is None or self.active or grid.count() != 2:
            return False
        if grid.orientation() != Qt.Orientation.Vertical:
            return False
        rows = [grid.widget(i) for i in range(2)]
        if any(r.isHidden() for r in rows):
            return False
        over = []
        for row in rows:
            boxes = [row.widget(i) for i in range(row.count()) if not row.widget(i).isHidden()] \
                if hasattr(row, "count") else [row]
            if not boxes:
                return False
            # what each row spends on titles and captions above its shortest plot, from the layouts' own numbers
            # (a caption's new height is known at once; the geometry only once laid out)
            over.append(max(self._overhead(b) for b in boxes))
        total = sum(grid.sizes())
        top = int(round((total + over[0] - over[1]) / 2))
        top = min(max(top, rows[0].minimumSizeHint().height()), total - rows[1].minimumSizeHint().height())
        if grid.sizes()[0] != top:  # exactly: the sizes are a function of the captions now, not of earlier sizes
            grid.setSizes([top, total - top])
            return True
        return False

    @staticmethod
    def _overhead(box) -> int:
        rows = getattr(box, "_gd_rows", None)
        if rows is None:
            return 0
        lay, head, caption = rows
        m = lay.contentsMargins()
        # and what the plot spends around its data (the legend's strip where the title row had no room for it, the
        # axes: the LR view's log axis is taller), once laid out; these do not change with the row's height
        plot = lay.itemAt(lay.count() - 1).widget()
        inside = 0
        if hasattr(plot, "getPlotItem"):
            legend = getattr(plot.getPlotItem(), "legend", None)
            inside = getattr(legend, "_row_h", None) or 0
            data = plot.getPlotItem().vb.sceneBoundingRect().height()
            if plot.height() > 0 and data > 0:
                inside = max(inside, int(round(plot.height() - data)))
        return (m.top() + m.bottom() + head.sizeHint().height() + caption.maximumHeight() + 2 * lay.spacing()
                + inside)

    def _caption_resized(self, *_args) -> None:
        # at once, never from a timer: the same captions give the same rows however and whenever they came
        # (a recording's frame and a screenshot of the same step are the same picture)
        self.balance_rows()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.LayoutRequest:
            if obj is getattr(getattr(getattr(self.w, "study", None), "dock", None), "widget", lambda: None)():
                self.fit_step_box()
        elif event.type() == QEvent.Type.Resize:
            if event.size().height() != event.oldSize().height():
                self._caption_resized()
            if self.active and obj is getattr(self.w, "views_splitter", None):
                # the window maximised after the scene's widths were set: a splitter shares the change out
                # proportionally to earlier sizes; the widths are the scene's at every size (once the splitter has
                # taken its new size: this filter runs before it does)
                later(self.w, self.lecture_widths)
        return False

    def watch_captions(self) -> None:
        for v in (self.w.data_view, self.w.weight_view, self.w.lr_view, self.w.step_view):
            v.caption.installEventFilter(self)
        grid = getattr(self.w, "views_splitter", None)
        if grid is not None:
            grid.installEventFilter(self)

    def _place_scenario_caption(self, in_column: bool) -> None:
        """On a short screen the scenario's caption goes to the top of the step-by-step dock in the left column
        (wrapped there, the panel above scrolls), so the views keep their height (≥ 200 px per plot at 1280×720 with
        the panel shown); above the views again otherwise."""
        w = self.w
        cap = getattr(getattr(w, "scenarios", None), "caption", None)
        box = getattr(getattr(getattr(w, "study", None), "dock", None), "widget", lambda: None)()
        central = w.centralWidget().layout() if w.centralWidget() is not None else None
        if cap is None or box is None or box.layout() is None or central is None:
            return
        dock = w.study.dock
        self._caption_in_column = bool(in_column)
        target = central
        if in_column:
            if dock.isHidden() or dock.isFloating() or w.dockWidgetArea(dock) != Qt.DockWidgetArea.LeftDockWidgetArea:
                # no step-by-step dock in the column (a scenario hid it): the top of the panel, which scrolls
                panel_root = getattr(w.panel, "_root", None)
                target = panel_root if panel_root is not None else central
            else:
                target = box.layout()
        if target.indexOf(cap) < 0:
            hidden = cap.isHidden()
            for lay in (central, box.layout(), getattr(w.panel, "_root", None)):
                if lay is not None and lay.indexOf(cap) >= 0:
                    lay.removeWidget(cap)
            target.insertWidget(0, cap)
            cap.setVisible(not hidden)
        self.fit_scenario_caption()

    def _step_dock_shown(self, *_args) -> None:
        # the dock also reports being hidden while the window is destroyed (a script that ends with it open)
        if getattr(self, "_caption_in_column", False) and shiboken6.isValid(self.w):
            self._place_scenario_caption(True)  # follows the dock: hidden by a scenario, it takes the caption along

    def fit_scenario_caption(self) -> None:
        """In the column the dock must give the caption every line its text wraps to (a dock's layout does not
        ask heightForWidth by itself): its minimum height is set from the column's width."""
        w = self.w
        cap = getattr(getattr(w, "scenarios", None), "caption", None)
        box = getattr(getattr(getattr(w, "study", None), "dock", None), "widget", lambda: None)()
        if cap is None:
            return
        panel_root = getattr(w.panel, "_root", None)

        def wrapped_height(width: int) -> int:
            # QLabel's heightForWidth is never less than its minimum height: with the last scenario's minimum
            # still set, a shorter caption kept the longer one's height (the left column's split then depended on
            # the scenario shown before)
            cap.setMinimumHeight(0)
            return cap.heightForWidth(width) if cap.text() else 0

        if panel_root is not None and panel_root.indexOf(cap) >= 0:
            m = panel_root.contentsMargins()
            width = max(w.panel.viewport().width(), 200) - m.left() - m.right()
            cap.setMinimumHeight(wrapped_height(width))
        elif box is not None and box.layout() is not None and box.layout().indexOf(cap) >= 0:
            m = box.layout().contentsMargins()
            width = max(box.width(), w.dock.width(), 200) - m.left() - m.right()
            cap.setMinimumHeight(wrapped_height(width))
            self.fit_step_box()
        else:
            cap.setMinimumHeight(0)
            if self.active:
                self._one_line_on_a_short_projector(cap)

    def _one_line_on_a_short_projector(self, cap) -> None:
        """Presenting on a short screen (a 720p or 768p projector): the scenario's caption keeps one line, its title
        and claim if they fit on it, else the title alone (the whole caption is in its tooltip), so the scene's two
        plots keep their 40 % of the screen height each with the narration's events written out in full."""
        screen = self.w.screen() or QApplication.primaryScreen()
        current = getattr(getattr(self.w, "scenarios", None), "current", None)
        if screen is None or current is None or not current.title or screen.geometry().height() >= SHORT_PROJECTOR:
            return
        central = self.w.centralWidget()
        m = central.layout().contentsMargins() if central is not None and central.layout() is not None else None
        width = self.w.width() - (m.left() + m.right() if m is not None else 0)
        one_line = cap.fontMetrics().lineSpacing() + cap.contentsMargins().top() + cap.contentsMargins().bottom()
        if cap.heightForWidth(width) > one_line * 1.5:
            import html

            cap.setText(f"<b>{html.escape(current.title)}</b>")

    def narrow_docks(self, size=None, grown_only: bool = False) -> None:
        """The left column at the panel's width (QMainWindow gives a moved dock the bottom area's width), and the
        window back to ``size`` if the move stretched it."""
        w = self.w
        dock = getattr(getattr(w, "study", None), "dock", None)
        if not getattr(self, "step_dock_moved", False) or dock is None:
            return
        width = max(w.dock.minimumSizeHint().width(), dock.minimumSizeHint().width())
        w.resizeDocks([w.dock, dock], [width, width], Qt.Orientation.Horizontal)
        if size is None or w.isMaximized() or w.isFullScreen() or w.size() == size:
            return
        if not grown_only or w.width() > size.width() or w.height() > size.height():
            w.resize(size)  # the move stretched it (a size set since, smaller, is left alone)

    def _narrow_step_dock(self, on: bool) -> None:
        study = self.w.study
        study.timeline.set_narrow(on)
        study.narration.set_narrow(on)
        self._step_box_in_column = bool(on)
        self.fit_step_box()

    def fit_step_box(self) -> None:
        """In the column the step-by-step dock is exactly as tall as its content needs (taller is blank space the
        panel above, which scrolls, can use), so the split follows from the text shown, never from the height an
        earlier scenario's caption left there. Presenting, docked under the plots, likewise: its height was set once,
        on entering, from the narration at an earlier width (its events not yet beside the loss), and the blank
        below them took the plots' 40 % of the screen. Anywhere else it takes the room it is given."""
        dock = getattr(getattr(self.w, "study", None), "dock", None)
        box = dock.widget() if dock is not None else None
        if box is None:
            return
        if not getattr(self, "_step_box_watched", False):
            box.installEventFilter(self)  # its content's new minimum (a caption, the narration) arrives as a request
            self._step_box_watched = True
        fitted = getattr(self, "_step_box_in_column", False) or (self.active and not dock.isFloating())
        most = box.minimumSizeHint().height() if fitted else 16777215
        if box.maximumHeight() != most:
            box.setMaximumHeight(most)

    def scenario_caption_lines(self) -> int:
        return DENSITIES[self.density][2]

    def _message_shown(self, *_) -> None:
        # the banner sets a new style sheet with each message, and re-polishing gives its text back the font it had
        # when first polished: its remembered size is put back (in either view)
        with follow_app_font(self.w.banner, trust=True):
            pass

    def _own_font_widgets(self) -> tuple:
        # the cheat sheet sizes itself from the theme and the scale
        return (self.cheat_sheet,)

    def toggle_presentation(self) -> None:
        self.set_presentation(not self.active)

    def screen_scale(self) -> float:
        """The chosen scale is for a 1080-pixel-high screen; other screens scale it by their height, so a
        720p projector gets type that still fits (1.33× at the default 2×) and a 4K screen at DPR 1 type that
        is as large in the room; never below the normal view's size."""
        screen = self.w.screen() or QApplication.primaryScreen()
        if screen is None:
            return self.scale
        h = screen.geometry().height()  # the whole screen: a task bar must not change the type size
        return max(1.0, min(self.scale * 2.0, self.scale * h / REFERENCE_SCREEN_HEIGHT))

    def set_scale(self, scale: float) -> None:
        self.scale = th.presentation_scale(scale)
        settings.set_presentation_scale(self.scale)
        for s, a in self.scale_actions.items():
            a.setChecked(abs(s - self.scale) < 1e-9)
        if self.active:  # re-enter at the new size, from the saved normal state
            self.set_presentation(False)
            self.set_presentation(True)

    def set_theme(self, name: str) -> None:
        """Use and remember a theme; in presentation mode it applies when the mode is left."""
        if name not in th.THEMES:
            return
        self.theme_name = name
        settings.set_theme_name(name)
        self.theme_actions[name].setChecked(True)
        if not self.active:
            with follow_app_font(self.w, self._own_font_widgets()):  # a theme's base font size may differ
                th.apply_theme(QApplication.instance(), name, self.normal_scale)
            self.restyle()
        self.themeChanged.emit(name)

    def set_full_screen(self, on: bool) -> None:
        self.actionFullScreen.setChecked(bool(on))
        if on:
            self.w.showFullScreen()
        elif self.active:
            self.w.showMaximized()
        else:
            self.w.showNormal()

    # ----------------------------------------------------------------------------- cheat sheet
    def sections(self) -> list:
        """The cheat sheet's sections: the action registry's, so every action with keys is listed by construction."""
        return self.registry.sections()

    def toggle_cheat_sheet(self) -> None:
        if self.cheat_sheet.isVisible():
            self.cheat_sheet.close_sheet()
        else:
            self.cheat_sheet.set_sections(self.sections())
            self.cheat_sheet.open()
        self.actionCheatSheet.setChecked(self.cheat_sheet.isVisible())

    # ------------------------------------------------------------------------------- LR, speed
    def current_lr(self) -> float:
        return float(self.w.panel.lr.lr())

    def _change_lr(self, factor: float) -> None:
        from ..engine.config import MAX_LR

        new = snap_lr(self.current_lr() * factor)
        if new > MAX_LR or new < 1e-12:
            self.w.show_message(f"The learning rate stays at {fmt_lr(self.current_lr())}: "
                                f"{fmt_lr(new)} is outside the supported range.", "warning", 5)
            return
        self.w.set_lr(new)
        self.w.show_message(f"Learning rate {'×' if factor > 1 else '÷'} √10 → {fmt_lr(new)}", "info", 3)

    def lr_up(self) -> None:
        self._change_lr(SQRT10)

    def lr_down(self) -> None:
        self._change_lr(1.0 / SQRT10)

    def _speed_step(self, delta: int) -> None:
        combo = self.w.speed
        i = min(max(combo.currentIndex() + delta, 0), combo.count() - 1)
        combo.setCurrentIndex(i)
        self.w.show_message(f"Speed: {combo.currentText()}", "info", 2)

    # ---------------------------------------------------------------------------- lecture layout
    def lecture_scene(self) -> str:
        """"range_test" while a range test runs or its result is shown, else "descent"."""
        from .state import RANGE_TEST

        st = self.w.state
        return "range_test" if st.busy == RANGE_TEST or st.range_test is not None else "descent"

    def short_range_scene(self) -> bool:
        """The normal view of a short screen (a 720p projector, a 768p laptop) in a range test's scene, lecture layout
        on: the loss-vs-weight and loss-vs-LR views side by side at the grid's full height, the others out of the
        way (O shows every view), so those two plots are not 150-px strips under six lines of result caption."""
        return (not self.active and self.density == len(DENSITIES) - 1 and self.actionLectureLayout.isChecked()
                and self.lecture_scene() == "range_test")

    def short_empty_lr_view(self) -> bool:
        """The normal view of a short screen before any range test, outside a range-test scenario: the loss-vs-LR
        view holds nothing yet, and as a quarter of the grid it left the loss-vs-step view a 50-px strip under its
        legend at 720p. It stays out of the way until L (the range test's scene shows it; O shows every view)."""
        current = getattr(getattr(self.w, "scenarios", None), "current", None)
        return (not self.active and self.density == len(DENSITIES) - 1 and self.actionLectureLayout.isChecked()
                and self.lecture_scene() == "descent" and getattr(current, "range_test", None) is None)

    def scene_views(self) -> tuple[str, ...]:
        """The views shown now, by attribute name: in the lecture layout the scene's, else the scenario's."""
        actions = getattr(getattr(self.w, "scenarios", None), "view_actions", {})
        chosen = tuple(n for n in VIEW_NAMES if actions.get(_VIEW_PANEL[n]) is None
                       or actions[_VIEW_PANEL[n]].isChecked())
        if self.active and self.actionLectureLayout.isChecked():
            return LECTURE_VIEWS[self.lecture_key()]
        if self.short_range_scene():
            # of the views the scenario shows (one it hid stays hidden)
            return tuple(n for n in chosen if n in LECTURE_VIEWS["range_test"]) or chosen
        if self.short_empty_lr_view():
            return tuple(n for n in chosen if n != "lr_view") or chosen
        return chosen

    def _toggled_on(self, action: str) -> bool:
        """An extra view is asked for (its View-menu toggle, which a scenario sets)."""
        return action in self.registry and self.registry[action].isChecked()

    def lecture_key(self) -> str:
        """The lecture layout's scene (:data:`LECTURE_VIEWS`): :meth:`lecture_scene`; for a descent, "surface" with
        the loss-surface view shown, else "sharpness" with the sharpness view shown (:data:`EXTRA_VIEWS`)."""
        scene = self.lecture_scene()
        if scene == "descent":
            for _name, action, key in EXTRA_VIEWS:
                if self._toggled_on(action):
                    return key
        return scene

    def apply_views(self, *_args) -> None:
        """Show exactly :meth:`scene_views` (a row whose views are all hidden gives its height to the other)."""
        w = self.w
        shown = set(self.scene_views())
        extras = tuple((name, action) for name, action, _key in EXTRA_VIEWS if getattr(w, name, None) is not None)
        lecture = self.active and self.actionLectureLayout.isChecked()
        for name, action in extras:
            if self._toggled_on(action) and not (lecture and name not in shown):
                shown.add(name)  # shown with its toggle, except in a lecture scene without it
        moved = set(self._rehome_extras(shown, [name for name, _action in extras]))
        rows, changed = set(), set(moved)
        for name in VIEW_NAMES + tuple(name for name, _action in extras):
            widget = getattr(w, name).widget
            if widget.isHidden() == (name in shown):
                widget.setVisible(name in shown)
                changed.add(widget.parentWidget())
            if widget.parentWidget() is not None:
                rows.add(widget.parentWidget())
        # another scenario, or the other scene (a range test's result shown or gone): the views share the room as
        # in a fresh window, whatever split the scenes before left; within a scene (Space, pause, a step) a split
        # dragged by hand stays
        scene = (getattr(self, "_scenarios_opened", 0), self.lecture_scene())
        fresh = scene != getattr(self, "_rows_scene", None) and not self.active
        if not self.active:
            self._rows_scene = scene
        grid = getattr(w, "views_splitter", None)
        for row in rows:
            if row is not grid and hasattr(row, "count"):
                row.setVisible(any(not row.widget(i).isHidden() for i in range(row.count())))
                if (row in changed or fresh) and (not self.active or row in moved):
                    # its views changed (the empty loss-vs-LR view before a range test) or the scene did: equal
                    # shares, not the split an earlier scene left
                    row.setSizes([1000] * row.count())
        if fresh and grid is not None:
            grid.setSizes([1000] * grid.count())
        self._arrange_normal()
        if fresh:
            self.balance_rows()  # a short screen's rows follow their captions

    def _rehome_extras(self, shown: set, extras: list) -> list:
        """The normal view with a row of three views over a row of one (scenario 10: the loss surface beside the data
        and loss-vs-weight views, the loss-vs-step view alone below; at 720p the weight view was 300 px wide with
        seven caption lines over a 60-px plot): the added view moves to the other row, two and two, each twice as
        wide. Back in its own row otherwise; while presenting, see :meth:`_presented_extras`. Returns the rows whose
        views changed."""
        grid = getattr(self.w, "views_splitter", None)
        if grid is None or grid.count() != 2:
            return []
        rows = (grid.widget(0), grid.widget(1))
        homes = self._extra_homes
        views = {}
        for name in VIEW_NAMES + tuple(extras):
            widget = getattr(self.w, name).widget
            if name in extras:
                homes.setdefault(name, widget.parentWidget())
            views[name] = (widget, homes.get(name, widget.parentWidget()))
        count = {row: sum(1 for n, (_wd, home) in views.items() if n in shown and home is row) for row in rows}
        targets = self._presented_extras(shown, extras, views, rows) if self.active else {}
        moved = []
        for name in extras:
            widget, home = views[name]
            if home not in rows:
                continue
            other = rows[1] if home is rows[0] else rows[0]
            away = (not self.active and name in shown and count[home] - count[other] >= 2)
            target = targets.get(name, other if away else home)
            if widget.parentWidget() is not target:
                hidden = widget.isHidden()
                fonts = [(x, QFont(x.font())) for x in _font_widgets(widget, ())]
                target.addWidget(widget)
                widget.setHidden(hidden)
                # moved under the app's style sheet, it is polished again with the sizes it first had: presenting,
                # the title came back at the normal size and the caption larger than the other views'
                for x, font in fonts:
                    x.ensurePolished()
                    if x.font() != font:
                        x.setFont(font)
                moved += [home, other]
            if away:
                count[home] -= 1
                count[other] += 1
        return moved

    @staticmethod
    def _presented_extras(shown: set, extras: list, views: dict, rows: tuple) -> dict:
        """Presenting, the grid's rows are columns: each added view shown goes to the column with fewer views, the
        loss surface first (a map needs height) and the others away from it on a tie. Every view of scenario 09 at
        720p (O) stacked the surface under the data and loss-vs-weight views, a 55-px strip with its axis titles cut,
        beside the loss-vs-step view alone; now two and two (with the sharpness view, the surface shares its column
        with the loss-vs-step view only). A lecture scene's two views stand side by side as before."""
        count = {row: sum(1 for n, (_wd, home) in views.items() if n in shown and n not in extras and home is row)
                 for row in rows}
        out, maps = {}, set()
        for name in sorted((n for n in extras if n in shown), key=lambda n: n not in TALL_VIEWS):
            home = views[name][1]
            if home not in rows:
                continue
            a, b = rows
            if count[a] != count[b]:
                target = a if count[a] < count[b] else b
            elif maps:
                target = b if a in maps else a
            else:
                target = home
            out[name] = target
            count[target] += 1
            if name in TALL_VIEWS:
                maps.add(target)
        return out

    def _arrange_normal(self) -> None:
        """The normal view's grid: two rows of two views, or (:meth:`short_range_scene`) the rows turned into
        columns, so the top row's loss-vs-weight view and the bottom row's loss-vs-LR view stand side by side.
        A function of the scene and the screen, never of the sizes an earlier scene left."""
        sps = self._splitters()
        if self.active or not sps:
            return
        grid, *rows = sps
        side = self.short_range_scene()
        outer = Qt.Orientation.Horizontal if side else Qt.Orientation.Vertical
        if grid.orientation() == outer:
            return
        grid.setOrientation(outer)
        for row in rows:
            row.setOrientation(Qt.Orientation.Vertical if side else Qt.Orientation.Horizontal)
            row.setSizes([1000] * row.count())
        grid.setSizes([1000] * grid.count())
        self.balance_rows()

    def toggle_lecture_layout(self, on: bool | None = None) -> None:
        if on is not None and self.actionLectureLayout.isChecked() != bool(on):
            self.actionLectureLayout.setChecked(bool(on))
        scene = self.active or (self.density == len(DENSITIES) - 1 and self.lecture_scene() == "range_test")
        self.apply_views()
        if scene:
            self.w.show_message("Lecture layout: the scene's views" if self.actionLectureLayout.isChecked()
                                else "Every view of the scene", "info", 2)

    def view_chosen(self, panel: str, on: bool) -> None:
        """A person ticked or unticked a view in View → Views. A view the lecture layout leaves out (the range
        test's side-by-side scene on a short screen, a scene presented) is one they asked to see: the lecture layout
        gives way to every view they chose, in rows (O brings it back), instead of the view squeezing into the
        scene's two columns."""
        name = {p: n for n, p in _VIEW_PANEL.items()}.get(panel)
        if name is None:
            return
        if on and self.actionLectureLayout.isChecked() and name not in self.scene_views():
            self.toggle_lecture_layout(False)
        else:
            self.apply_views()

    def scenario_opened(self, *_args) -> None:
        """Another scenario (or the same one again) was opened: a new scene for the layout (see apply_views)."""
        self._scenarios_opened = getattr(self, "_scenarios_opened", 0) + 1
        self.scene_changed()

    def scene_changed(self, *_args) -> None:
        # presenting every view (O) too: a view toggled on then (K) goes to the emptier column (_presented_extras)
        # rather than under the loss surface
        self.apply_views()
        self.lecture_widths()

    def toggle_full_speed(self) -> None:
        """Full speed from any rung; pressed again, back to the rung it came from (10 steps/s at first)."""
        combo = self.w.speed
        if combo.currentIndex() != 0:
            self._speed_before_full = combo.currentIndex()
            combo.setCurrentIndex(0)
        else:
            back = getattr(self, "_speed_before_full", None)
            combo.setCurrentIndex(back if back is not None else combo.findData(10.0))
        self.w.show_message(f"Speed: {combo.currentText()}", "info", 2)

    def slower(self) -> None:
        self._speed_step(+1)  # the ladder runs from "full speed" (index 0) down to 0.5 steps/s

    def faster(self) -> None:
        self._speed_step(-1)


# Every widget's font size is a function of the app font's size: each widget remembers its size at a given app
# font size (dynamic properties), and gets base × app / base_app for another. A size that differs from the one
# last given here means the widget's owner set a new font since: that becomes its base, at the app size then.
# Qt cannot be left to pass fonts on by itself: under an application style sheet a child keeps the size it was
# first polished with, and re-polishing puts back stale sizes, so inheritance alone leaves widgets behind.
_BASE_PT = "gdStudioBasePt"
_BASE_APP_PT = "gdStudioBaseAppPt"
_GIVEN_PT = "gdStudioGivenPt"


def _font_widgets(root, skip) -> list:
    from PySide6.QtWidgets import QMenu, QMenuBar

    out = []
    bars = [b for b in root.findChildren(QMenuBar)] + ([root] if isinstance(root, QMenuBar) else [])
    for x in [root, *root.findChildren(QWidget)]:
        if isinstance(x, (QMenu, QMenuBar)) or x.font().pointSizeF() <= 0:
            continue  # menus stay the lecturer's size; pixel-sized fonts are not ours
        if any(b.isAncestorOf(x) for b in bars):
            continue  # so does what sits in the menu bar (the speed box in its corner)
        if any(s is not None and (s is x or s.isAncestorOf(x)) for s in skip):
            continue
        out.append(x)
    return out


def _bases(widgets, app_pt: float, trust: bool = False) -> list:
    """(widget, base size, app size of that base) for each widget, read before anything changes. With ``trust``
    a remembered base wins even over a changed font (a style sheet that put back a stale one)."""
    out = []
    for x in widgets:
        pt = x.font().pointSizeF()
        base, base_app, given = x.property(_BASE_PT), x.property(_BASE_APP_PT), x.property(_GIVEN_PT)
        if base is None or base_app is None or given is None or (not trust and abs(float(given) - pt) > 1e-9):
            base, base_app = pt, app_pt
        out.append((x, float(base), float(base_app)))
    return out


def _give(bases, app_pt: float) -> None:
    """Each widget its size for the app font's ``app_pt``: exactly its base at the base's app size."""
    for x, base, base_app in bases:
        pt = base if app_pt == base_app else base * app_pt / base_app
        if x.font().pointSizeF() != pt:
            f = QFont(x.font())
            f.setPointSizeF(pt)
            x.setFont(f)
        x.setProperty(_BASE_PT, base)
        x.setProperty(_BASE_APP_PT, base_app)
        x.setProperty(_GIVEN_PT, x.font().pointSizeF())


def follow_app_font(root, skip=(), trust: bool = False, before_pt: float | None = None):
    """Context manager: the app font changes inside; every widget under ``root`` then gets its size for the new
    app font, from its base (so any number of changes there and back ends exactly where it started)."""
    from contextlib import contextmanager

    @contextmanager
    def _follow():
        app_pt = before_pt if before_pt is not None else QApplication.font().pointSizeF()
        bases = _bases(_font_widgets(root, skip), app_pt, trust)
        yield
        _give(bases, QApplication.font().pointSizeF())

    return _follow()


def _menu_bar_fonts(w, font: QFont) -> None:
    """What sits in the menu bar (the speed box in its corner) at the menu bar's size: under the application's
    style sheet it would keep the size it was first polished with."""
    corner = w.menuBar().cornerWidget(Qt.Corner.TopRightCorner)
    if corner is None:
        return
    for x in [corner, *corner.findChildren(QWidget)]:
        f = QFont(font)
        f.setBold(x is corner or x.font().bold())
        x.setFont(f)


def apply_presentation(p: Presentation, scale: float) -> None:
    """Presentation look at ``scale`` for ``p``'s window: high-contrast theme, app font × scale and every widget's
    font with it, compact layout, panel hidden, maximised. Records what it replaces for remove_presentation."""
    app = QApplication.instance()
    w = p.w
    before = app.font().pointSizeF()
    p._saved = {
        "font": QFont(app.font()), "palette": QPalette(app.palette()), "sheet": app.styleSheet(),
        "props": (app.property("gdStudioTheme"), app.property("gdStudioScale")),
        "pg": (pg.getConfigOption("background"), pg.getConfigOption("foreground")),
        "dock": not w.dock.isHidden(), "state": w.windowState(), "geometry": w.normalGeometry(),
    }
    p._saved["step_dock"] = getattr(p, "step_dock_moved", False)
    step_dock = getattr(getattr(w, "study", None), "dock", None)
    # its height under the plots: presenting resizes it to the compact narration, and the normal view got back a
    # dock sized by the presentation's layout (at 1080p 230 px of mostly blank dock, the plots 90 px tall)
    p._saved["step_dock_height"] = (step_dock.height() if step_dock is not None and not step_dock.isFloating()
                                    and not step_dock.isHidden() else None)
    p._saved["splitters"] = p._splitter_state()  # before the lecture layout hides views (a hidden one has no size)
    # the panel and the left column go first: at the projector's type size their minimum height would stretch
    # the window past the screen
    w.dock.hide()
    p._place_step_dock(False)  # full width under the plots while presenting
    with follow_app_font(w, p._own_font_widgets()):
        # the app font becomes exactly the normal one × the scale (the plots get theme.py's sizes × scale)
        base = th.get_theme(PRESENTATION_THEME).base_font_pt
        th.apply_theme(app, PRESENTATION_THEME, scale * before / base if before > 0 else scale)
    p.active = True
    p.active_scale = scale
    p.apply_views()  # the lecture layout: the scene's views get the screen
    p._saved["compact"] = p._set_compact(True)
    w.menuBar().setFont(QFont(p._saved["font"]))
    _menu_bar_fonts(w, p._saved["font"])
    w.dock.hide()
    if w.isVisible() and not w.isFullScreen():
        w.showMaximized()
    p.restyle()


def remove_presentation(p: Presentation) -> None:
    """Back to exactly the normal look: the app's font, palette and style sheet as they were, every widget's font
    at its normal size (widgets created meanwhile included), the layout, the panel and the window state."""
    app = QApplication.instance()
    w = p.w
    s = p._saved or {}
    if s:  # first, at the presentation size: widgets that size their fonts themselves do it for the normal layout
        p._set_compact(False, s.get("compact"))
    p.active = False
    with follow_app_font(w, p._own_font_widgets()):
        if s:
            app.setFont(s["font"])
            app.setPalette(s["palette"])
            app.setStyleSheet(s["sheet"])
            app.setProperty("gdStudioTheme", s["props"][0])
            app.setProperty("gdStudioScale", s["props"][1])
            pg.setConfigOptions(background=s["pg"][0], foreground=s["pg"][1])
    # the scenario's views again, and the grid back to rows at the sizes it had (after apply_views: a hidden view's
    # size would be lost), before the panel comes back: side by side, the views' minimum width plus the panel's
    # would stretch the window past a 1280-px screen
    p.apply_views()
    splitters = s.get("splitters")
    p._restore_splitters(splitters)
    if s.get("step_dock"):
        p._place_step_dock(True)  # back in the column it was in, before the panel: its minimum height is the column's
    if s:
        w.menuBar().setFont(QFont())  # inherits again, as before
        _menu_bar_fonts(w, app.font())
        w.dock.setVisible(s["dock"])
        if w.isVisible() and not w.isFullScreen():
            w.setWindowState(s["state"])
            if not (s["state"] & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen)) \
                    and s["geometry"].isValid():
                # the size it had: entering, the projector-sized layout may have stretched the window before it
                # was maximised, and that stretched size is what a window manager would restore
                w.setGeometry(s["geometry"])
    dock_height = s.get("step_dock_height")
    p._saved = None
    p.restyle()
    p._restore_splitters(splitters)
    keep = getattr(w, "keep_on_screen", None)
    if keep is not None:
        keep()

    def step_dock_back() -> None:
        dock = getattr(getattr(w, "study", None), "dock", None)
        if (dock_height and dock is not None and not dock.isFloating() and not getattr(p, "step_dock_moved", False)
                and w.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea):
            w.resizeDocks([dock], [dock_height], Qt.Orientation.Vertical)

    step_dock_back()

    # and again once the re-shown views' deferred layout requests have run (they hand out sizes of their own)
    def settled() -> None:
        if not p.active:
            p._restore_splitters(splitters)
            step_dock_back()

    later(w, settled)


def install(ctx: FeatureContext, window, study=None) -> Presentation:
    """Presentation mode for ``window``. It takes the window itself, unlike the other features: it restyles and
    re-lays out the whole of it (every widget's font, the docks, toolbars, status bar, window state). The rest
    comes from ``ctx``: the state, the registry, the window's events; ``study`` owns the step-by-step dock."""
    p = Presentation(window)
    p.watch_captions()  # the rows follow their captions' heights (balance_rows)
    ctx.config_applied.connect(p._caption_resized)
    study_dock = getattr(study, "dock", None)
    if study_dock is not None:
        study_dock.visibilityChanged.connect(p._step_dock_shown)
    # and after each frame: a caption's new height is not always seen by the filter (laid out while hidden); the
    # check is a few geometry reads, and the sizes change only when a row's captions did
    ctx.snapshot_applied.connect(p._caption_resized)
    # a scene changes (a range test starts or ends, another scenario opens): the lecture layout follows
    ctx.state.busyChanged.connect(p.scene_changed)
    ctx.state.rangeTestChanged.connect(p.scene_changed)
    return p


__all__ = ["Presentation", "install", "menu", "snap_lr", "PRESENTATION_KEYS",
           "apply_presentation", "remove_presentation", "follow_app_font"]
