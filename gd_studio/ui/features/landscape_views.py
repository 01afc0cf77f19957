"""The sharpness and loss-surface views in the window: their places, View-menu toggles, the plane chooser."""
from __future__ import annotations

import math
from dataclasses import replace

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QFormLayout, QGroupBox, QSpinBox, QSplitter

from ...live.surface import SurfaceSpec, single_weight_reason
from ..context import FeatureContext
from ..plots.sharpness_view import SharpnessView
from ..plots.surface_view import LossSurfaceView

PLANE_CHOICES = (("weights", "two weights"), ("descent_random", "descent + random (filter-normalised)"),
                 ("random", "two random directions (filter-normalised)"), ("path", "through start, now and end"))


class PlaneChooser(QGroupBox):
    """The loss surface's plane: two weights, descent + random, or the plane through the run's start/now/end."""

    def __init__(self) -> None:
        super().__init__("Loss surface plane")
        self.setObjectName("surfacePlaneBox")
        f = QFormLayout(self)
        self.kind = QComboBox()
        self.kind.setObjectName("surfacePlaneCombo")
        for key, label in PLANE_CHOICES:
            self.kind.addItem(label, key)
        f.addRow("plane", self.kind)
        self.first = QComboBox()
        self.first.setObjectName("surfaceWeight1Combo")
        self.second = QComboBox()
        self.second.setObjectName("surfaceWeight2Combo")
        for c in (self.first, self.second):
            c.setMaxVisibleItems(20)
        f.addRow("weight α", self.first)
        f.addRow("weight β", self.second)
        self.seed = QSpinBox()
        self.seed.setObjectName("surfaceSeedInput")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the random direction")
        f.addRow("random seed", self.seed)
        self.kind.currentIndexChanged.connect(self.sync_fields)
        self.sync_fields()

    def sync_fields(self) -> None:
        """The weight boxes enabled for a plane of two weights, the seed for the others."""
        weights = self.kind.currentData() == "weights"
        self.first.setEnabled(weights)
        self.second.setEnabled(weights)
        self.seed.setEnabled(not weights)

    def set_weights(self, names, watch: str | None = None) -> None:
        """The model's weights to choose from. The same model keeps the choice; another one starts at the watched
        weight and the next one of its row (the first two weights were often a blank pixel's: a flat plane)."""
        names = list(names)
        same = names == [self.first.itemData(i) for i in range(self.first.count())]
        a = names.index(watch) if watch in names else 0
        b = a + 1 if a + 1 < len(names) else max(a - 1, 0)
        for combo, default in ((self.first, a), (self.second, b)):
            keep = combo.currentData() if same else None
            combo.blockSignals(True)
            combo.clear()
            for n in names:
                combo.addItem(n, n)
            i = combo.findData(keep) if keep is not None else -1
            combo.setCurrentIndex(i if i >= 0 else min(default, len(names) - 1))
            combo.blockSignals(False)

    def set_spec(self, spec: SurfaceSpec) -> None:
        for w in (self.kind, self.first, self.second, self.seed):
            w.blockSignals(True)
        self.kind.setCurrentIndex(max(self.kind.findData(spec.plane), 0))
        for combo, name in zip((self.first, self.second), spec.weights):
            i = combo.findData(name)
            if i >= 0:
                combo.setCurrentIndex(i)
        self.seed.setValue(int(spec.seed))
        for w in (self.kind, self.first, self.second, self.seed):
            w.blockSignals(False)
        self.sync_fields()

    def spec(self) -> SurfaceSpec:
        kind = self.kind.currentData()
        weights = (self.first.currentData(), self.second.currentData()) if kind == "weights" else ()
        return SurfaceSpec(kind, tuple(w for w in weights if w), int(self.seed.value()))


class LandscapeViews(QObject):
    """Owns the two views in the window; the worker computes what they show (live/curvature, live/surface)."""

    def __init__(self, w) -> None:
        super().__init__(w)
        self.w = w
        self.sharpness_view = SharpnessView()
        self.surface_view = LossSurfaceView()
        grid: QSplitter = w.views_splitter
        top, bottom = grid.widget(0), grid.widget(1)
        top.addWidget(self.surface_view.widget)
        bottom.addWidget(self.sharpness_view.widget)
        for view in (self.sharpness_view, self.surface_view):
            view.widget.hide()
            view.plot.gate = w.controller.worker.ui_gate
        reg = w.action_registry
        self.actionShowSharpness = reg.add("actionShowSharpness")
        self.actionShowLossSurface = reg.add("actionShowLossSurface")
        self.actionShowSharpness.toggled.connect(self._sharpness_toggled)
        self.actionShowLossSurface.toggled.connect(self._surface_toggled)
        # at 720p the panel's chooser sits far down a scrolled dock: a lecturer steps through the planes by key
        self.actionNextSurfacePlane = reg.add("actionNextSurfacePlane", self.next_plane)
        w.view_menu.addSeparator()
        w.view_menu.addAction(self.actionShowSharpness)
        w.view_menu.addAction(self.actionShowLossSurface)
        w.view_menu.addAction(self.actionNextSurfacePlane)
        self.param_names: tuple[str, ...] = ()  # the model's weights (one weight: no surface to show)
        self.sent_aspect: float | None = None  # the map's shape the last plane sent was framed for
        self._reshape = QTimer(self)
        self._reshape.setSingleShot(True)
        self._reshape.setInterval(150)
        self._reshape.timeout.connect(self._reshaped)
        self.surface_view.plot.getPlotItem().vb.sigResized.connect(self._map_resized)
        self.chooser = PlaneChooser()
        self.scene_surface = None  # the open scenario's loss_surface settings (its window span and grid), or None
        self.chooser.setVisible(False)  # shown with the view it steers
        add = getattr(w.panel, "add_section", None)
        if add is not None:
            add(self.chooser)
        for c in (self.chooser.kind, self.chooser.first, self.chooser.second):
            c.currentIndexChanged.connect(self._plane_changed)
        self.chooser.seed.valueChanged.connect(self._plane_changed)
        w.snapshotApplied.connect(self._on_snapshot)
        w.configApplied.connect(self._on_configured)
        pres = getattr(w, "presentation", None)
        if pres is not None:  # the theme and presentation scale, as the other views get them
            pres.presentationChanged.connect(self.restyle)
            pres.themeChanged.connect(self.restyle)
            # the lecture layout follows: presenting, a descent with the surface shows it and the loss-vs-step view
            self.actionShowLossSurface.toggled.connect(pres.scene_changed)
            self.actionShowSharpness.toggled.connect(pres.scene_changed)
        self.restyle()

    def restyle(self, *_) -> None:
        from .. import theme as th
        from ..presentation import PRESENTATION_THEME

        pres = getattr(self.w, "presentation", None)
        if pres is None:
            return
        t = th.get_theme(PRESENTATION_THEME if pres.active else pres.theme_name)
        # presenting: the scale the screen's height gave, as the other views' (the chosen one is for a 1080-px screen:
        # at 720p the surface's tick labels were 1.5× the other views')
        scale = getattr(pres, "active_scale", pres.scale) if pres.active else pres.normal_scale
        for view in (self.sharpness_view, self.surface_view):
            th.style_plot(view.plot, t, scale)
        for item in self.surface_view.ghost_items():
            self._edge(item)
        # the colour bar's axes at the plot's type size (pyqtgraph's default font there stayed small on a projector)
        th.style_plot(self.surface_view.colorbar, t, scale, rescale_items=False)
        self.surface_view.refit_axes()
        ref = getattr(getattr(self.w, "weight_view", None), "caption", None)
        if ref is not None:  # captions as the other views' (presentation: one line kept, a smaller projector font)
            for view in (self.sharpness_view, self.surface_view):
                view.caption.set_lines(ref.lines())
                view.caption.setFont(ref.font())
        title = self._title(getattr(self.w, "step_view", None))
        if title is not None:  # and their titles at the others' size (presenting: a step smaller than the text)
            for view in (self.sharpness_view, self.surface_view):
                own = self._title(view)
                if own is not None:
                    own.setFont(title.font())
        arrows = self.surface_view.arrow
        base = arrows.__dict__.setdefault("_gd_base", (arrows.width, arrows.head))
        arrows.width, arrows.head = base[0] * scale, base[1] * scale
        arrows.prepareGeometryChange()
        arrows.update()

    @staticmethod
    def _title(view):
        from PySide6.QtWidgets import QLabel

        widget = getattr(view, "widget", None)
        return widget.findChild(QLabel, "viewTitle") if widget is not None else None

    # ------------------------------------------------------------------------------------ toggles
    @staticmethod
    def _share_row(widget) -> None:
        """Give the views of the row the new view joined an equal share, so it is not squeezed to a strip."""
        row = widget.parentWidget()
        if isinstance(row, QSplitter):
            shown = [i for i in range(row.count()) if not row.widget(i).isHidden()]
            total = sum(row.sizes()) or row.width()
            if shown and total > 0:
                row.setSizes([total // len(shown) if i in shown else 0 for i in range(row.count())])

    def _sharpness_toggled(self, on: bool) -> None:
        self.sharpness_view.widget.setVisible(on)
        if on:
            self._share_row(self.sharpness_view.widget)
        if on and self.w.last_snapshot is not None:
            self.sharpness_view.show_sharpness(self.w.last_snapshot.sharpness, self.w.last_snapshot.step)

    def _surface_toggled(self, on: bool) -> None:
        if on and len(self.param_names) == 1:
            # refused with the reason: shown, the view would only say it, and presenting it would take the place of
            # the loss-vs-weight view, the one its text points to
            self.actionShowLossSurface.setChecked(False)
            self.w.show_message(single_weight_reason(self.param_names), "info")
            return
        self.surface_view.widget.setVisible(on)
        if on:
            self._share_row(self.surface_view.widget)
        focus = QApplication.focusWidget()
        if not on and focus is not None and self.chooser.isAncestorOf(focus):
            # hidden with the focus in it, Qt hands the focus to the panel's next field ("weight decay"): the run's
            # keys (− and +) then typed there instead of changing the LR
            self.w.focus_views()
        self.chooser.setVisible(on)
        self._send_plane()

    def next_plane(self) -> None:
        """The chooser's next plane (the view shown first when it is hidden), said in the status message."""
        if not self.actionShowLossSurface.isChecked():
            self.actionShowLossSurface.setChecked(True)
            if not self.actionShowLossSurface.isChecked():
                return  # refused (a model with one weight), with its reason
        else:
            kind = self.chooser.kind
            kind.setCurrentIndex((kind.currentIndex() + 1) % kind.count())
        self.w.show_message(f"Loss surface plane: {self.chooser.kind.currentText()}", "info", 3)

    def _plane_changed(self, *_) -> None:
        if self.actionShowLossSurface.isChecked():
            self._send_plane()

    def _map_resized(self, *_) -> None:
        self._reshape.start()  # once the resizing stops: a window dragged wider recomputes the grid once

    def _reshaped(self) -> None:
        """The map's shape changed (a resize, presentation, a row's views): a grid framed for the new shape."""
        if not self.actionShowLossSurface.isChecked() or self.sent_aspect is None:
            return
        now = self.surface_view.map_aspect()
        if now is not None and abs(math.log(now / self.sent_aspect)) > self.surface_view.ASPECT_SLACK:
            self._send_plane()

    def _send_plane(self) -> None:
        on = self.actionShowLossSurface.isChecked()
        try:
            spec = self.chooser.spec() if on else None
            scene = self.scene_surface
            if spec is not None and scene is not None:  # the scene's grid; its span only in the plane it names
                spec = SurfaceSpec(spec.plane, spec.weights, spec.seed, grid=int(scene.grid),
                                   span=float(scene.span) if spec.plane == scene.plane else None)
            self.sent_aspect = self.surface_view.map_aspect() if spec is not None else None
            if spec is not None and self.sent_aspect is not None:
                spec = replace(spec, aspect=self.sent_aspect)
        except Exception as exc:  # noqa: BLE001 - a bad choice: say so, keep the last plane
            self.w.show_message(str(exc), "error")
            return
        self.w.controller.surfaceRequested.emit(spec)

    # ------------------------------------------------------------------------------------ ghosts
    def keep_ghost(self, label: str, series: int, snap) -> None:
        """A ghost kept with G: its path on the surface, when the surface shown was a plane of two weights (their
        values are the same on any later run's plane of the same two; a random plane's coordinates are not)."""
        from .. import theme as th

        info = getattr(snap, "surface", None)
        if info is None or info.kind != "weights":
            return
        xy = LossSurfaceView.drawn_path(info)
        item = pg.PlotDataItem(name=f"ghost: {label}")
        th.style_data_item(item, series)  # the step view's ghost series: its colour, dash and symbol
        item.setData(xy[:, 0], xy[:, 1], skipFiniteCheck=True)
        item.setObjectName(f"ghostSurface{len(self.surface_view.ghosts)}")
        self.surface_view.add_ghost(item, tuple(info.labels))
        self.restyle()  # in the window's theme and presentation scale, as the view's other marks

    @staticmethod
    def _edge(item) -> None:
        """A dark edge under a ghost's series colour: it stays visible on the map's dark and light ends alike."""
        item.setShadowPen(pg.mkPen("#000000", width=item.opts["pen"].widthF() + 2.5))

    def clear_ghosts(self) -> None:
        self.surface_view.clear_ghosts()

    # ------------------------------------------------------------------------------------ scenarios
    def apply_scenario(self, s) -> None:
        """A scene shows these views when its file asks for them (absent: hidden)."""
        self.actionShowSharpness.setChecked(getattr(s, "sharpness", None) is not None)
        surface = getattr(s, "loss_surface", None)
        self.scene_surface = surface if hasattr(surface, "span") and hasattr(surface, "grid") else None
        if surface is not None:
            try:
                self.chooser.set_spec(SurfaceSpec(surface.plane, tuple(surface.weights), int(surface.seed)))
            except Exception:  # noqa: BLE001 - an unknown plane: keep the chooser's own
                pass
        else:  # a scene of its own: U shows the two-weight plane, not the plane the last scene chose
            self.chooser.kind.blockSignals(True)
            self.chooser.kind.setCurrentIndex(self.chooser.kind.findData("weights"))
            self.chooser.kind.blockSignals(False)
            self.chooser.sync_fields()
        self.actionShowLossSurface.setChecked(surface is not None)
        if surface is not None:
            self._send_plane()

    def scene_settings(self) -> dict:
        """What a saved scenario records of these views: {"sharpness": …, "loss_surface": …}, None for a view that
        is off, so the file reopens with the views and plane the window shows (apply_scenario reads them back).
        Raises ScenarioError for a plane a file cannot hold (the same weight twice)."""
        from ...engine.scenarios import SharpnessSettings, SurfaceSettings
        from ...live.surface import FINE

        sharpness = SharpnessSettings() if self.actionShowSharpness.isChecked() else None
        if not self.actionShowLossSurface.isChecked():
            return {"sharpness": sharpness, "loss_surface": None}
        spec = self.chooser.spec()
        scene = self.scene_surface
        grid = int(scene.grid) if scene is not None else FINE  # the window keeps a scene's grid in any plane
        if scene is not None and spec.plane == scene.plane:
            span = float(scene.span)
        else:
            # a window sized by itself: the file asks for no more than the reach the view draws around the current
            # point (3 figures, rounded down), so reopened at this step it frames the same; nothing drawn yet: the
            # format's default
            span = SurfaceSettings().span
            info = self.surface_view.info
            if info is not None and info.kind == spec.plane and (spec.plane != "weights"
                                                                  or tuple(info.labels) == tuple(spec.weights)):
                (cx, cy), a, b = info.current, info.alphas, info.betas
                reach = min(cx - a[0], a[-1] - cx, cy - b[0], b[-1] - cy)
                if math.isfinite(reach) and reach > 0:
                    unit = 10.0 ** (math.floor(math.log10(reach)) - 2)
                    span = float(f"{math.floor(reach / unit) * unit:.3g}")
        surface = SurfaceSettings(plane=spec.plane, weights=tuple(spec.weights), seed=int(spec.seed), span=span,
                                  grid=grid)
        return {"sharpness": sharpness, "loss_surface": surface}

    # ------------------------------------------------------------------------------------ data
    def _on_configured(self, info) -> None:
        self.sharpness_view.clear()
        self.surface_view.clear()
        self.param_names = tuple(info.param_names)
        self.chooser.set_weights(info.param_names, getattr(info, "watch", None))
        if self.actionShowLossSurface.isChecked():
            self._send_plane()  # the weight names may have changed with the model

    def _on_snapshot(self, snap) -> None:
        if self.actionShowSharpness.isChecked() and snap.sharpness is not None:
            self.sharpness_view.show_sharpness(snap.sharpness, snap.step, live=snap.running)
        if self.actionShowLossSurface.isChecked():
            error = getattr(snap, "surface_error", "")
            if snap.surface is not None:
                self.surface_view.show_surface(snap.surface)
            elif error and self.surface_view.info is not None:
                # no surface of this plane at all (a new plane that cannot be drawn here): the last plane's picture
                # would show another plane under this one's name
                self.surface_view.clear()
            self.surface_view.show_problem(error, snap.step)


class _ContextHost(QObject):
    """The few names LandscapeViews reads, taken from the FeatureContext, not the window. (Its body keeps the
    window's names while the loss-surface work in it lands; it can then take the context itself.)"""

    def __init__(self, ctx: FeatureContext, presentation) -> None:
        super().__init__(ctx.parent)
        self._ctx = ctx
        self.views_splitter = ctx.views_splitter
        self.controller = ctx.worker
        self.action_registry = ctx.actions
        self.view_menu = ctx.menus["View"]
        self.panel = ctx.panel
        self.snapshotApplied = ctx.snapshot_applied
        self.configApplied = ctx.config_applied
        self.show_message = ctx.show_message
        self.presentation = presentation  # the theme and scale the two views follow
        # the views whose caption and title sizes these two take (restyle): without them the surface kept the
        # normal view's caption lines and title size while presenting
        self.weight_view = ctx.views.weight_view
        self.step_view = ctx.views.step_view

    @property
    def last_snapshot(self):
        return self._ctx.last_snapshot()

    def focus_views(self) -> None:
        """The keyboard focus to the window's views, where the run's keys act (QMainWindow API)."""
        self._ctx.parent.centralWidget().setFocus()


def install(ctx: FeatureContext, presentation=None) -> LandscapeViews:
    """The sharpness and loss-surface views; the window names them (sharpness_view, surface_view) itself."""
    return LandscapeViews(_ContextHost(ctx, presentation))


__all__ = ["install", "LandscapeViews", "PlaneChooser"]
