"""File → Export: PNG and SVG of each view, CSV of the run and the range test, images and "Use in PyTorch" to
the clipboard. Every failure (ExportError, a bad setting) is said in the window's message banner."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QFileDialog

from ...engine import snippets
from ...engine.errors import GDStudioError
from .. import export, settings
from ..actions import FILE, VIEW, ActionSpec
from ..context import FeatureContext

VIEWS = {"data": ("data_view", "Data view"), "loss_vs_weight": ("weight_view", "Loss vs weight"),
         "loss_vs_lr": ("lr_view", "Loss vs learning rate"), "loss_vs_step": ("step_view", "Loss vs step")}
PNG_SCALE = 3.0  # slides and handouts: sharp at 3× the on-screen size


def _camel(key: str) -> str:
    return "".join(p.capitalize() for p in key.split("_"))


class ExportController(QObject):
    """The Export submenu of one MainWindow and the functions behind it (tests call those with a path)."""

    def __init__(self, ctx: FeatureContext) -> None:
        super().__init__(ctx.parent)
        self.ctx = ctx
        reg = ctx.actions
        fm = reg.menu("File")
        em = fm.addMenu("Export") if fm is not None else None
        if em is not None:
            em.setObjectName("exportMenu")
            # before Quit, which stays last
            quit_action = reg.get("actionQuit")
            if quit_action is not None and quit_action in fm.actions():
                fm.removeAction(em.menuAction())
                fm.insertMenu(quit_action, em)
                fm.insertSeparator(quit_action)
        self.actions = {}
        for key, (_attr, label) in VIEWS.items():
            for kind, text in (("Png", "PNG (high DPI)"), ("Svg", "SVG (vector)")):
                a = reg.add(ActionSpec(f"actionExport{kind}{_camel(key)}", f"{label} as {text}…", (),
                                       f"Save the {label.lower()} plot as {text}", FILE),
                            lambda _=False, k=key, f=kind.lower(): self.export_view_dialog(k, f))
                self.actions[a.objectName()] = a
                if em is not None:
                    em.addAction(a)
            if em is not None:
                em.addSeparator()
        self.actionExportRunCsv = reg.add("actionExportRunCsv", lambda: self.csv_dialog("run"))
        self.actionExportRangeTestCsv = reg.add("actionExportRangeTestCsv", lambda: self.csv_dialog("range"))
        copy_menu = em.addMenu("Copy image") if em is not None else None
        self.copy_actions = {}
        for key, (_attr, label) in VIEWS.items():
            a = reg.add(ActionSpec(f"actionCopyImage{_camel(key)}", label, (),
                                   f"Copy a picture of the {label.lower()} plot", VIEW),
                        lambda _=False, k=key: self.copy_view(k))
            self.copy_actions[key] = a
            if copy_menu is not None:
                copy_menu.addAction(a)
        self.actionCopyWindowImage = reg.add("actionCopyWindowImage", self.copy_window)
        self.actionUsePyTorch = reg.add("actionUsePyTorch", self.copy_pytorch)
        if em is not None:
            em.addAction(self.actionExportRunCsv)
            em.addAction(self.actionExportRangeTestCsv)
            em.addSeparator()
            if copy_menu is not None:
                copy_menu.addSeparator()
                copy_menu.addAction(self.actionCopyWindowImage)
            em.addSeparator()
            em.addAction(self.actionUsePyTorch)

    # -------------------------------------------------------------------------------------- views
    def plot(self, key: str):
        return getattr(self.ctx.views, VIEWS[key][0]).plot

    def _folder(self) -> str:
        last = settings.read_value("files/lastExportFolder", "")
        return last if last and Path(last).is_dir() else ""

    def _remember(self, path: Path) -> None:
        settings.write_value("files/lastExportFolder", str(path.parent))

    def _write(self, write, what: str, errors=(GDStudioError,)) -> Path | None:
        """Run one export; say where it went (and remember the folder) or why it failed."""
        try:
            out = write()
        except errors as exc:
            self.ctx.show_message(f"Export failed: {exc}", "error")
            return None
        self._remember(out)
        self.ctx.show_message(f"Saved the {what} to {out}.", "info", 5)
        return out

    def export_view(self, key: str, kind: str, path) -> Path | None:
        """Write one view as PNG (3× its size on screen) or SVG; None (and a message) when it fails."""
        path = Path(path)

        def write():
            if kind == "png":
                return export.export_png(self.plot(key), path, scale=PNG_SCALE)
            return export.export_svg(self.plot(key), path)

        return self._write(write, VIEWS[key][1].lower(), (GDStudioError, OSError, TypeError, ValueError))

    def export_view_dialog(self, key: str, kind: str) -> None:
        suffix = f".{kind}"
        start = str(Path(self._folder()) / f"{key}{suffix}") if self._folder() else f"{key}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self.ctx.parent, f"Save {VIEWS[key][1]} as {kind.upper()}", start,
                                              f"{kind.upper()} image (*{suffix})")
        if path:
            if not path.lower().endswith(suffix):
                path += suffix
            self.export_view(key, kind, path)

    def copy_view(self, key: str):
        try:
            image = export.copy_image_to_clipboard(self.plot(key), scale=2.0)
        except (GDStudioError, TypeError, ValueError) as exc:
            self.ctx.show_message(f"Copy failed: {exc}", "error")
            return None
        self.ctx.show_message(f"Copied a picture of the {VIEWS[key][1].lower()} to the clipboard.", "info", 4)
        return image

    def copy_window(self):
        image = export.copy_image_to_clipboard(self.ctx.parent)  # the whole window, as the action says
        self.ctx.show_message("Copied a picture of the window to the clipboard.", "info", 4)
        return image

    # ---------------------------------------------------------------------------------------- CSV
    def run_columns(self) -> dict:
        """The run's recorded steps (RUN_HISTORY_COLUMNS), asked of the worker after it pauses (queued: it
        answers once paused, and it stays the only thread that touches the run)."""
        w = self.ctx
        if w.worker.worker.running:
            w.pause()
        got = w.worker.history_columns()
        if got is None:
            raise export.ExportError("the engine did not answer in time; try again")
        cols, vals = got
        if not cols or not len(cols.get("step", ())):
            raise export.ExportError("there is no run to export yet: take a step first")
        val_at = {int(s): float(v) for s, v in zip(vals["step"], vals["val_loss"])}
        steps = [int(s) for s in cols["step"]]
        out = {"step": steps, "epoch": [int(e) for e in cols["epoch"]]}
        for name in export.RUN_HISTORY_COLUMNS[2:]:
            if name == "val_loss":
                out[name] = [val_at.get(s) for s in steps]
            else:
                out[name] = [float(v) for v in cols[name]]
        return out

    def export_run_csv(self, path) -> Path | None:
        thinned = ""

        def write():
            nonlocal thinned
            cols = self.run_columns()
            thinned = thinning_note(cols["step"])
            return export.write_csv(path, cols)

        out = self._write(write, "run history")
        if out is not None and thinned:
            self.ctx.show_message(f"Saved the run history to {out}. {thinned}", "info", 10)
        return out

    def export_range_test_csv(self, path) -> Path | None:
        result = self.ctx.state.range_test[0] if self.ctx.state.range_test is not None else None

        def write():
            if result is None:
                raise export.ExportError("there is no range test to export yet: press L to run one")
            return export.write_range_test_csv(path, result)

        return self._write(write, "range test")

    def csv_dialog(self, which: str) -> None:
        name = "run.csv" if which == "run" else "range-test.csv"
        start = str(Path(self._folder()) / name) if self._folder() else name
        path, _ = QFileDialog.getSaveFileName(self.ctx.parent, "Save as CSV", start, "CSV (*.csv)")
        if path:
            if not path.lower().endswith(".csv"):
                path += ".csv"
            (self.export_run_csv if which == "run" else self.export_range_test_csv)(path)

    # ---------------------------------------------------------------------------------- PyTorch
    def pytorch_code(self) -> str:
        cfg = self.ctx.state.config
        return snippets.pytorch_snippet(cfg.optimizer, dict(cfg.optimizer_params), float(cfg.lr), cfg.schedule,
                                        dict(cfg.schedule_params), total_steps=max(self.ctx.step_count(), 1000))

    def copy_pytorch(self) -> str | None:
        try:
            code = self.pytorch_code()
        except GDStudioError as exc:
            self.ctx.show_message(f"No PyTorch code: {exc}", "error")
            return None
        QApplication.clipboard().setText(code)
        cfg = self.ctx.state.config
        first = next((ln for ln in code.splitlines() if ln.startswith("optimizer =")), "")
        self.ctx.show_message(f"Copied PyTorch code to the clipboard ({cfg.optimizer}, {cfg.schedule} schedule): "
                              f"{first}", "info", 8)
        return code


def thinning_note(steps) -> str:
    """What a run's history left out, in words ("" when it has every step): a long run keeps its recent steps
    whole and older ones at a stride that doubles as the run grows (engine.descent.History)."""
    gaps = [b - a for a, b in zip(steps, steps[1:])]
    if not gaps or max(gaps) <= 1:
        return ""
    whole_from = next(steps[i + 1] for i in range(len(gaps) - 1, -1, -1) if gaps[i] > 1)
    return (f"It has {len(steps):,} of the run's {steps[-1]:,} steps: every step from {whole_from:,} on, and "
            f"before that one step in {max(gaps):,} (a long run keeps its older steps thinned; the step column "
            "says which).")


def install(ctx: FeatureContext) -> ExportController:
    return ExportController(ctx)


__all__ = ["ExportController", "install", "VIEWS"]
