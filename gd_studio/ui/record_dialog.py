"""File → Export animation…: record the current run as GIF, MP4 or PNG frames, without disturbing it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMenu, QProgressBar, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from .. import media
from ..engine.errors import GDStudioError
from .context import FeatureContext

FORMATS = [("gif", "Animated GIF (.gif)", ".gif"), ("mp4", "MP4 video, H.264 (.mp4)", ".mp4"),
           ("png", "Folder of PNG frames", "")]
SIZES = ["1280x720", "1920x1080", "960x540", "640x360"]
VIEW_LABELS = [("data", "Data"), ("weight", "Loss vs weight"), ("lr", "Loss vs LR"), ("step", "Loss vs step")]


class RecordDialog(QDialog):
    """Settings, a progress bar and Cancel. The animation is rendered by a separate, unshown window
    replaying the current settings from the start, so the run on screen goes on as it was."""

    def __init__(self, ctx: FeatureContext, scenarios) -> None:
        super().__init__(ctx.parent)  # a dialog of the window: modal over it, centred on it
        self.ctx = ctx
        self.scenarios = scenarios  # what the window shows, as a scenario (features/scenarios.py)
        self.setObjectName("exportAnimationDialog")
        self.setWindowTitle("Export animation")
        # modal: the window's own run goes on underneath, but nothing else is started while this renders
        self.setModal(True)
        self.busy = False
        self._cancel = False
        self.result = None

        self.what = QComboBox()
        self.what.setObjectName("recordWhatCombo")
        self.what.addItem("Steps of the run", "steps")
        self.what.addItem("The LR range test", "range_test")
        self.view_boxes: dict[str, QCheckBox] = {}
        views = QWidget()
        vl = QHBoxLayout(views)
        vl.setContentsMargins(0, 0, 0, 0)
        for key, label in VIEW_LABELS:
            box = QCheckBox(label)
            box.setObjectName(f"recordView{key.capitalize()}")
            box.setToolTip("Record only the ticked views; none ticked records the whole window")
            self.view_boxes[key] = box
            vl.addWidget(box)
        self.from_step = QSpinBox()
        self.from_step.setObjectName("recordFromStep")
        self.to_step = QSpinBox()
        self.to_step.setObjectName("recordToStep")
        for box in (self.from_step, self.to_step):
            box.setRange(0, 100000)
        steps = QWidget()
        sl = QHBoxLayout(steps)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.from_step)
        sl.addWidget(QLabel("to"))
        sl.addWidget(self.to_step)
        self.size = QComboBox()
        self.size.setObjectName("recordSizeCombo")
        self.size.setEditable(True)
        self.size.addItems(SIZES)
        self.size.setToolTip("Width x height in pixels; the views area when views are ticked")
        self.fps = QDoubleSpinBox()
        self.fps.setObjectName("recordFpsInput")
        self.fps.setRange(0.5, 50.0)
        self.fps.setDecimals(1)
        self.fps.setValue(10.0)
        self.fps.setSuffix(" frames/s")
        self.fps.setToolTip("One frame per step: 10 frames/s shows ten steps a second")
        self.hold = QDoubleSpinBox()
        self.hold.setObjectName("recordHoldInput")
        self.hold.setRange(0.0, 60.0)
        self.hold.setValue(1.0)
        self.hold.setSuffix(" s")
        self.hold.setToolTip("How much longer the last frame stays, before a GIF loops or a video ends")
        self.format = QComboBox()
        self.format.setObjectName("recordFormatCombo")
        for key, label, _ext in FORMATS:
            self.format.addItem(label, key)
        if not media.mp4_available():
            item = self.format.model().item(1)
            item.setEnabled(False)
            item.setToolTip(media.INSTALL_HINT)
            self.format.setItemText(1, FORMATS[1][1] + " — needs gd-studio[video]")
        self.path = QLineEdit()
        self.path.setObjectName("recordPathInput")
        browse = QPushButton("Choose…")
        browse.setObjectName("recordBrowseButton")
        browse.clicked.connect(self._browse)
        where = QWidget()
        wl = QHBoxLayout(where)
        wl.setContentsMargins(0, 0, 0, 0)
        wl.addWidget(self.path, 1)
        wl.addWidget(browse)

        form = QFormLayout()
        form.addRow("Record", self.what)
        form.addRow("Views", views)
        form.addRow("From step", steps)
        form.addRow("Size", self.size)
        form.addRow("Speed", self.fps)
        form.addRow("Hold last frame", self.hold)
        form.addRow("Format", self.format)
        form.addRow("Save to", where)
        self.progress = QProgressBar()
        self.progress.setObjectName("recordProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("The current settings are replayed from the start in the background; "
                             "the run on screen is not touched.")
        self.status.setObjectName("recordStatus")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Record", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setObjectName("recordStartButton")
        self.cancel_button = self.buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setObjectName("recordCancelButton")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

        self.what.currentIndexChanged.connect(self._what_changed)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.prefill()

    # ------------------------------------------------------------------------------------- settings
    def prefill(self) -> None:
        """From the window: its scenario's steps (or the step it is at), its visible views, a file name."""
        cur = self.scenarios.current
        pre = int(cur.pre_run) if cur is not None else 0
        self.from_step.setMinimum(pre)
        self.to_step.setMinimum(pre)
        self.from_step.setValue(pre)
        if cur is not None and cur.steps:
            self.to_step.setValue(pre + int(cur.steps))  # the scene as its author meant it
        else:
            self.to_step.setValue(max(self.ctx.step_count(), pre + 30))
        if not self.path.text():
            title = (cur.title if cur is not None else "gd-studio run")
            stem = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
            stem = "-".join(p for p in stem.split("-") if p)[:60] or "animation"
            self.path.setText(str(Path.home() / f"{stem}.gif"))
        self._format_changed()

    def _what_changed(self) -> None:
        steps = self.what.currentData() == "steps"
        self.from_step.setEnabled(steps)
        self.to_step.setEnabled(steps)

    def _format_changed(self) -> None:
        fmt = self.format.currentData()
        ext = dict((k, e) for k, _l, e in FORMATS)[fmt]
        text = self.path.text().strip()
        if text:
            p = Path(text)
            stem = p.name[: -len(p.suffix)] if p.suffix.lower() in (".gif", ".mp4") else p.name
            self.path.setText(str(p.with_name(stem + ext)) + ("/" if fmt == "png" else ""))
        self.fps.setMaximum(50.0 if fmt == "gif" else 120.0)

    def _browse(self) -> None:
        fmt = self.format.currentData()
        if fmt == "png":
            path = QFileDialog.getExistingDirectory(self, "Folder for the PNG frames", self.path.text())
            path = path and path + "/"
        else:
            ext = ".gif" if fmt == "gif" else ".mp4"
            path, _ = QFileDialog.getSaveFileName(self, "Save the animation", self.path.text(),
                                                  f"{fmt.upper()} (*{ext})")
            if path and not path.lower().endswith(ext):
                path += ext
        if path:
            self.path.setText(path)

    def settings(self):
        """The RecordSettings the form describes, and the output path; GDStudioError says what is wrong."""
        from .record import RecordError, RecordSettings

        text = self.size.currentText().lower().replace("×", "x").replace(" ", "")
        try:
            width, height = (int(v) for v in text.split("x"))
        except ValueError:
            raise RecordError(f"size {self.size.currentText()!r}: give it as WIDTHxHEIGHT, e.g. 1280x720") from None
        if not (320 <= width <= 7680 and 240 <= height <= 4320):
            raise RecordError(f"size {width}x{height}: from 320x240 to 7680x4320")
        range_test = self.what.currentData() == "range_test"
        first, last = self.from_step.value(), self.to_step.value()
        if not range_test and last < first:
            raise RecordError(f"the last step ({last}) is before the first ({first})")
        pre = self.from_step.minimum()
        views = tuple(k for k, box in self.view_boxes.items() if box.isChecked())
        path = self.path.text().strip()
        if not path:
            raise RecordError("choose where to save the animation")
        fmt = self.format.currentData()
        media.check_output(path, self.fps.value(), fmt)
        return RecordSettings(steps=0 if range_test else last - first, start_step=first - pre, fps=self.fps.value(),
                              size=(width, height), views=views, range_test=range_test,
                              hold=self.hold.value()), path, fmt

    def scenario(self):
        """What the window shows, as a scenario: the run's settings; the scene's axes if one is open."""
        s = self.scenarios.scenario()
        cur = self.scenarios.current
        # the window's current zoom belongs to the step it is at; a replay from the start follows the data
        return dataclasses.replace(s, ranges=dict(cur.ranges) if cur is not None else {})

    # ------------------------------------------------------------------------------------ recording
    def start(self) -> None:
        if self.busy:
            return
        from .record import RecordCancelled, record

        try:
            settings, path, fmt = self.settings()
            scenario = self.scenario()
        except GDStudioError as exc:
            self._say(str(exc), error=True)
            return
        self.busy, self._cancel, self.result = True, False, None
        self._set_editing(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._say(f"Recording {Path(path).name}…")
        try:
            self.result = record(path, settings, scenario=scenario, fmt=fmt, progress=self._progress,
                                 cancelled=lambda: self._cancel, use_theme=False)
        except RecordCancelled:
            self._say("Cancelled: nothing was written.")
        except GDStudioError as exc:
            self._say(str(exc), error=True)
        except Exception as exc:  # noqa: BLE001 - the window must survive any rendering failure
            self._say(f"The recording failed: {type(exc).__name__}: {exc}", error=True)
        else:
            r = self.result
            note = " " + " ".join(n[0].upper() + n[1:] + "." for n in r.notes) if r.notes else ""
            text = f"Wrote {r.path} ({r.frames} frames, {r.size[0]}x{r.size[1]}).{note}"
            self._say(text)
            self.ctx.show_message(text, "info", 10)
            self.progress.setValue(self.progress.maximum())
        finally:
            self.busy = False
            self._set_editing(True)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def cancel(self) -> None:
        self._cancel = True

    def reject(self) -> None:  # Close, Esc and the title bar's ✕: while recording they cancel first
        if self.busy:
            self.cancel()
            return
        super().reject()

    def _set_editing(self, on: bool) -> None:
        for child in (self.what, *self.view_boxes.values(), self.from_step, self.to_step, self.size, self.fps,
                      self.hold, self.format, self.path, self.findChild(QPushButton, "recordBrowseButton"),
                      self.start_button):
            child.setEnabled(on)
        self.cancel_button.setText("Close" if on else "Cancel")
        if on:
            self._what_changed()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #B3261E;" if error else "")


class RecordController:
    """The File menu's Export animation… action of one window."""

    def __init__(self, ctx: FeatureContext, scenarios) -> None:
        self.ctx = ctx
        self.scenarios = scenarios
        self.dialog: RecordDialog | None = None
        reg = ctx.actions
        a = reg.add("actionExportAnimation", self.open)
        self.action = a
        file_menu = reg.menu("File")
        if file_menu is not None:
            # beside the Export submenu (or before Quit): where people look for "save as…"
            export_menu = file_menu.findChild(QMenu, "exportMenu")
            anchor = export_menu.menuAction() if export_menu is not None else None
            if anchor not in file_menu.actions():
                anchor = reg.get("actionQuit")
            if anchor is not None and anchor in file_menu.actions():
                file_menu.insertAction(anchor, a)
            else:
                file_menu.addAction(a)

    def open(self) -> RecordDialog:
        if self.dialog is None:
            self.dialog = RecordDialog(self.ctx, self.scenarios)
        else:
            self.dialog.prefill()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog


def install(ctx: FeatureContext, scenarios) -> RecordController:
    """``scenarios``: the window's ScenarioController, which says what it shows as a scenario (the replay's start)."""
    return RecordController(ctx, scenarios)
