"""The model & data panel: every setting of a run, turned into a validated RunConfig (or a clear message)."""
from __future__ import annotations

import inspect
import math
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSizePolicy,
                               QSlider, QSpinBox, QVBoxLayout, QWidget)

from ...engine import config as cfgmod
from ...engine import datasets
from ...engine.config import DESCENT_DIRECTION, RunConfig, check_lr
from ...engine.errors import ConfigError, then
from ..adapters import fmt_lr

# what datasets.make uses for a parameter a config leaves out
_MAKE_DEFAULTS = {k: p.default for k, p in inspect.signature(datasets.make).parameters.items()
                  if p.default is not inspect.Parameter.empty}

MODEL_LABELS = {"one_weight": "one weight (y = w·x)", "linear": "linear", "logistic": "logistic (softmax)",
                "mlp": "MLP (hidden layers)"}
LOSS_LABELS = {"squared_error": "squared error (the article's)", "cross_entropy": "cross entropy",
               "mse": "mean squared error (regression)"}
OPTIMIZER_LABELS = {"sgd": "SGD: w ← w − r·dL/dw", "momentum": "SGD + momentum", "nesterov": "Nesterov",
                    "rmsprop": "RMSProp", "adam": "Adam"}
SCHEDULE_LABELS = {"constant": "constant", "step": "step decay", "exponential": "exponential",
                   "linear": "linear", "triangular": "triangular (Smith's cyclical)", "one_cycle": "one-cycle"}

# the settings each optimizer and schedule shows: (key, label, default, kind)
OPTIMIZER_FIELDS = {
    "sgd": [("weight_decay", "weight decay", 0.0, float)],
    "momentum": [("momentum", "momentum μ", 0.9, float), ("weight_decay", "weight decay", 0.0, float)],
    "nesterov": [("momentum", "momentum μ", 0.9, float), ("weight_decay", "weight decay", 0.0, float)],
    "rmsprop": [("alpha", "α (decay)", 0.99, float), ("momentum", "momentum", 0.0, float),
                ("weight_decay", "weight decay", 0.0, float)],
    "adam": [("beta1", "β₁", 0.9, float), ("beta2", "β₂", 0.999, float), ("weight_decay", "weight decay", 0.0, float)],
}
SCHEDULE_FIELDS = {
    "constant": [],
    "step": [("step_size", "every (steps)", 100, int), ("gamma", "× gamma", 0.5, float)],
    "exponential": [("gamma", "gamma per step", 0.999, float)],
    "linear": [("end_lr", "end LR", 1e-3, float), ("total_steps", "over (steps)", 1000, int)],
    "triangular": [("max_lr", "max LR", 1.0, float), ("step_size", "half cycle (steps)", 200, int)],
    "one_cycle": [("max_lr", "max LR", 1.0, float), ("total_steps", "total steps", 1000, int)],
}
LR_MIN_EXP, LR_MAX_EXP, LR_TICKS_PER_DECADE = -6, 3, 20


def parse_hidden(text: str) -> tuple[int, ...]:
    """'16,16' → (16, 16); a clear ConfigError for anything else."""
    s = text.strip().replace(";", ",").replace(" ", ",")
    parts = [p for p in s.split(",") if p]
    if not parts:
        raise ConfigError("hidden layers: empty — type one size per layer, e.g. 16 or 16,16")
    sizes = []
    for p in parts:
        try:
            v = int(p)
        except ValueError:
            raise ConfigError(f"hidden layers: {p!r} is not a whole number (type sizes like 16,16)") from None
        if not 1 <= v <= 4096:
            raise ConfigError(f"hidden layers: {v} units is outside 1…4096")
        sizes.append(v)
    return tuple(sizes)


def parse_lr(text: str) -> float:
    """A typed learning rate ('3e-3', '0.003', '1E-2') checked by the engine's rule."""
    s = text.strip().replace(",", ".").replace("×10^", "e").replace("x10^", "e")
    if not s:
        raise ConfigError("learning rate: empty — type a number such as 0.1 or 3e-3")
    try:
        value = float(s)
    except ValueError:
        raise ConfigError(f"learning rate: {text!r} is not a number (type e.g. 0.1 or 3e-3)") from None
    return check_lr(value, "learning rate")


def merged_params(base: dict, shown: dict, spec) -> dict:
    """The shown values over the config's own: a default the config never set stays unset, and a key the
    panel does not show is kept, so reading back unedited widgets gives an equal config (no spurious reset)."""
    defaults = {key: default for key, _label, default, _kind in spec}
    out = dict(base)
    for key, value in shown.items():
        if key not in base and key in defaults and value == defaults[key]:
            continue
        out[key] = value
    return out


class ParamsForm(QWidget):
    """A few labelled number fields for an optimizer's or a schedule's settings."""

    edited = Signal()

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, tuple[QLineEdit, type]] = {}

    def set_fields(self, spec, values: dict) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        for key, label, default, kind in spec:
            edit = QLineEdit()
            edit.setObjectName(f"{self.prefix}_{key}")
            v = values.get(key, default)
            edit.setText(f"{v:g}" if isinstance(v, float) else str(v))
            edit.editingFinished.connect(self.edited)
            edit.setAccessibleName(label)
            self.form.addRow(label, edit)
            self.fields[key] = (edit, kind)
        self.setVisible(bool(spec))

    def values(self, what: str) -> dict:
        out = {}
        for key, (edit, kind) in self.fields.items():
            text = edit.text().strip()
            try:
                v = kind(float(text)) if kind is int else float(text)
            except ValueError:
                raise ConfigError(f"{what} {key}: {text!r} is not a number") from None
            if not math.isfinite(v):
                raise ConfigError(f"{what} {key}: must be a finite number, got {text!r}")
            out[key] = v
        return out


class LearningRateControl(QWidget):
    """A log-scale slider and a typed number for the learning rate, kept in step."""

    lrChosen = Signal(float)
    invalid = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("learningRateSlider")
        self.slider.setAccessibleName("learning rate (log scale)")
        self.slider.setRange(LR_MIN_EXP * LR_TICKS_PER_DECADE, LR_MAX_EXP * LR_TICKS_PER_DECADE)
        self.slider.setPageStep(LR_TICKS_PER_DECADE // 2)
        self.slider.setToolTip("Learning rate, log scale: one notch = ×10^(1/20)")
        self.input = QLineEdit()
        self.input.setObjectName("learningRateInput")
        self.input.setAccessibleName("learning rate")
        self.input.setToolTip("Type a learning rate: 0.1, 3e-3, … (Enter applies it)")
        self.input.setMaximumWidth(110)
        self.input.setValidator(None)  # validated on commit with a message, not silently blocked
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.input)
        self._lr = 0.1
        self._slider_timer = QTimer(self)
        self._slider_timer.setSingleShot(True)
        self._slider_timer.setInterval(40)
        self._slider_timer.timeout.connect(self._slider_commit)
        self.slider.valueChanged.connect(self._slider_moved)
        self.input.editingFinished.connect(self.commit_text)
        self.set_lr(self._lr)

    def lr(self) -> float:
        return self._lr

    def set_lr(self, lr: float) -> None:
        """Show an LR without announcing it."""
        self._lr = float(lr)
        self.input.setText(fmt_lr(self._lr))
        self.slider.blockSignals(True)
        self.slider.setValue(round(math.log10(self._lr) * LR_TICKS_PER_DECADE))
        self.slider.blockSignals(False)

    def commit_text(self) -> bool:
        text = self.input.text()
        if text == fmt_lr(self._lr):
            return True
        try:
            lr = parse_lr(text)
        except ConfigError as exc:
            self.invalid.emit(then(exc, f"Kept lr = {fmt_lr(self._lr)}."))
            self.input.setText(fmt_lr(self._lr))
            return False
        self.set_lr(lr)
        self.input.setText(text.strip() if len(text.strip()) <= 12 else fmt_lr(lr))
        self.lrChosen.emit(lr)
        return True

    def _slider_moved(self, value: int) -> None:
        lr = 10.0 ** (value / LR_TICKS_PER_DECADE)
        lr = float(f"{lr:.3g}")
        self._lr = lr
        self.input.setText(fmt_lr(lr))
        self._slider_timer.start()

    def _slider_commit(self) -> None:
        self.lrChosen.emit(self._lr)


class WheelGuard(QObject):
    """The mouse wheel over the panel scrolls it: a spin box, combo box or slider under the pointer takes the wheel
    only once it has the keyboard focus (clicked or tabbed to), so scrolling past the noise or the learning rate
    on the way to another setting changes nothing (by default each took the wheel and changed the run)."""

    TAKERS = (QAbstractSpinBox, QComboBox, QSlider)  # not scroll bars (a combo's list scrolls by its own)

    def __init__(self, panel: QScrollArea) -> None:
        super().__init__(panel)
        self.panel = panel

    def guard(self, root: QWidget) -> None:
        for w in [root, *root.findChildren(QWidget)]:
            if isinstance(w, self.TAKERS):
                w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel does not give them the focus either
                w.installEventFilter(self)  # installed twice, Qt keeps one

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            # to the panel's scroll bar, as the scroll area itself passes a wheel on
            QCoreApplication.sendEvent(self.panel.verticalScrollBar(), event)
            return True
        return False


class ModelDataPanel(QScrollArea):
    """Dataset, model, optimizer, LR, seed, watched weight and range-test settings."""

    configEdited = Signal(object)  # a RunConfig that validated; the run resets
    lrEdited = Signal(float)  # live LR change, no reset
    watchEdited = Signal(str)
    invalid = Signal(str)  # a message; the previous settings are back in the widgets
    importRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("modelDataPanel")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self.setWidget(inner)
        root = QVBoxLayout(inner)
        root.setContentsMargins(6, 6, 6, 6)
        self._root = root
        self._config = RunConfig()
        self._csv_path: str | None = None
        self._loading = False
        self._emit_timer = QTimer(self)
        self._emit_timer.setSingleShot(True)
        self._emit_timer.setInterval(120)
        self._emit_timer.timeout.connect(self._emit_config)

        # -- data ----------------------------------------------------------------------------------
        g = QGroupBox("Data")
        f = QFormLayout(g)
        self.dataset = QComboBox()
        self.dataset.setObjectName("datasetCombo")
        for name in datasets.NAMES:
            self.dataset.addItem(name, name)
            self.dataset.setItemData(self.dataset.count() - 1, datasets.DESCRIPTIONS.get(name, ""),
                                     Qt.ItemDataRole.ToolTipRole)
        f.addRow("dataset", self.dataset)
        self.samples = self._spin("samplesInput", 2, 100000, 200, step=50)
        f.addRow("samples", self.samples)
        self.noise = QDoubleSpinBox()
        self.noise.setObjectName("noiseInput")
        self.noise.setRange(0.0, 5.0)
        self.noise.setSingleStep(0.05)
        self.noise.setDecimals(2)
        self.noise.setKeyboardTracking(False)
        f.addRow("noise", self.noise)
        self.data_seed = self._spin("dataSeedInput", 0, 2**31 - 1, 0)
        f.addRow("data seed", self.data_seed)
        self.classes = self._spin("classesInput", 2, 26, 3)
        f.addRow("classes", self.classes)
        row = QHBoxLayout()
        self.import_button = QPushButton("Import CSV…")
        self.import_button.setObjectName("importCsvButton")
        self.import_button.setToolTip("Load a CSV file (or drop one on the window); the last column is the target")
        self.target = QLineEdit()
        self.target.setObjectName("csvTargetInput")
        self.target.setPlaceholderText("target: last column")
        self.target.setToolTip("Name of the CSV column to predict (blank: the last column)")
        row.addWidget(self.import_button)
        row.addWidget(self.target, 1)
        f.addRow(row)
        self.data_note = QLabel("")
        self.data_note.setObjectName("datasetDescription")
        self.data_note.setWordWrap(True)
        f.addRow(self.data_note)
        root.addWidget(g)

        # -- model ---------------------------------------------------------------------------------
        g = QGroupBox("Model")
        f = QFormLayout(g)
        self.model = self._combo("modelCombo", MODEL_LABELS)
        f.addRow("model", self.model)
        self.hidden = QLineEdit("16")
        self.hidden.setObjectName("hiddenInput")
        self.hidden.setToolTip("Hidden layer sizes, e.g. 16 or 16,16")
        f.addRow("hidden layers", self.hidden)
        self.activation = self._combo("activationCombo", {a: a for a in cfgmod.ACTIVATIONS})
        f.addRow("activation", self.activation)
        self.loss = self._combo("lossCombo", LOSS_LABELS)
        f.addRow("loss", self.loss)
        self.model_note = QLabel("")
        self.model_note.setObjectName("modelDescription")
        self.model_note.setWordWrap(True)
        f.addRow(self.model_note)
        root.addWidget(g)

        # -- training ------------------------------------------------------------------------------
        g = QGroupBox("Training")
        f = QFormLayout(g)
        self.lr = LearningRateControl()
        f.addRow("learning rate", self.lr)
        self.optimizer = self._combo("optimizerCombo", OPTIMIZER_LABELS)
        f.addRow("optimizer", self.optimizer)
        self.optimizer_form = ParamsForm("optimizer")
        f.addRow(self.optimizer_form)
        self.batch = self._spin("batchSizeInput", 0, 100000, 32)
        self.batch.setSpecialValueText("full batch")
        self.batch.setToolTip("Samples per step; 0 = the whole training set (full batch)")
        f.addRow("batch size", self.batch)
        self.schedule = self._combo("scheduleCombo", SCHEDULE_LABELS)
        f.addRow("LR schedule", self.schedule)
        self.schedule_form = ParamsForm("schedule")
        f.addRow(self.schedule_form)
        self.seed = self._spin("seedInput", 0, 2**31 - 1, 0)
        self.seed.setToolTip("Seed of the initial weights and the batch shuffling (Shift+R: next seed)")
        f.addRow("seed", self.seed)
        self.watch = QComboBox()
        self.watch.setObjectName("watchCombo")
        self.watch.setToolTip("The weight the loss-vs-weight view slices along")
        self.watch.setMaxVisibleItems(20)
        f.addRow("watched weight", self.watch)
        root.addWidget(g)

        # -- range test ----------------------------------------------------------------------------
        g = QGroupBox("LR range test")
        f = QFormLayout(g)
        self.rt_start = QLineEdit("1e-7")
        self.rt_start.setObjectName("rangeTestStartInput")
        self.rt_end = QLineEdit("10")
        self.rt_end.setObjectName("rangeTestEndInput")
        lr_row = QHBoxLayout()
        lr_row.addWidget(self.rt_start)
        lr_row.addWidget(QLabel("to"))
        lr_row.addWidget(self.rt_end)
        f.addRow("LR from", lr_row)
        self.rt_iters = self._spin("rangeTestItersInput", 5, 10000, 100, step=10, emits=False)
        f.addRow("steps", self.rt_iters)
        self.rt_mode = QComboBox()
        self.rt_mode.setObjectName("rangeTestModeCombo")
        self.rt_mode.addItem("exponential", "exp")
        self.rt_mode.addItem("linear (Smith's original)", "linear")
        f.addRow("LR growth", self.rt_mode)
        self.rt_repeats = self._spin("rangeTestRepeatsInput", 1, 20, 1, emits=False)
        self.rt_repeats.setToolTip("Repeat over this many seeds: median curve, band, and each suggestion's spread")
        f.addRow("seeds", self.rt_repeats)
        self.rt_animate = QCheckBox("slow enough to watch (≈3 s)")
        self.rt_animate.setObjectName("rangeTestAnimateCheck")
        self.rt_animate.setChecked(True)
        f.addRow(self.rt_animate)
        root.addWidget(g)
        root.addStretch(1)
        inner.setMinimumWidth(330)
        self.setMinimumWidth(360)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        # -- wiring --------------------------------------------------------------------------------
        for w in (self.dataset, self.model, self.activation, self.loss, self.optimizer, self.schedule):
            w.currentIndexChanged.connect(self._changed)
        for w in (self.samples, self.data_seed, self.classes, self.batch, self.seed):
            w.valueChanged.connect(self._changed)
        self.noise.valueChanged.connect(self._changed)
        self.hidden.editingFinished.connect(self._hidden_edited)
        self.target.editingFinished.connect(self._target_edited)
        self.optimizer.currentIndexChanged.connect(self._optimizer_kind_changed)
        self.schedule.currentIndexChanged.connect(self._schedule_kind_changed)
        self.optimizer_form.edited.connect(self._changed)
        self.schedule_form.edited.connect(self._changed)
        self.lr.lrChosen.connect(self.lrEdited)
        self.lr.invalid.connect(self.invalid)
        self.watch.activated.connect(self._watch_activated)
        self.import_button.clicked.connect(self.importRequested)
        self.set_config(self._config)
        self._wrap_long_rows(inner)
        self.wheel_guard = WheelGuard(self)
        self.wheel_guard.guard(inner)

    @staticmethod
    def _wrap_long_rows(root: QWidget) -> None:
        # the column is narrow (no horizontal scroll bar): a field too wide for its row goes under its label,
        # which keeps its whole text ("watched weight", "LR growth" were cut at 1280×720)
        for form in root.findChildren(QFormLayout):
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

    def add_section(self, box: QWidget) -> None:
        """A feature's own group (e.g. the loss surface's plane), below the others."""
        self._root.insertWidget(self._root.count() - 1, box)  # above the closing stretch
        self._wrap_long_rows(box)
        self.wheel_guard.guard(box)

    # -- helpers -----------------------------------------------------------------------------------
    def _spin(self, name: str, lo: int, hi: int, value: int, step: int = 1, emits: bool = True) -> QSpinBox:
        s = QSpinBox()
        s.setObjectName(name)
        s.setRange(lo, hi)
        s.setValue(value)
        s.setSingleStep(step)
        s.setKeyboardTracking(False)  # typed digits apply on Enter/focus-out, not per keystroke
        return s

    def _combo(self, name: str, labels: dict) -> QComboBox:
        c = QComboBox()
        c.setObjectName(name)
        for key, label in labels.items():
            c.addItem(label, key)
        return c

    @staticmethod
    def _select(combo: QComboBox, key) -> None:
        i = combo.findData(key)
        if i >= 0:
            combo.setCurrentIndex(i)

    # -- config in and out -------------------------------------------------------------------------
    def config(self) -> RunConfig:
        """The last configuration that built successfully."""
        return self._config

    def set_config(self, config: RunConfig) -> None:
        """Show a configuration in the widgets without announcing it."""
        self._loading = True
        try:
            self._config = config
            self._csv_path = config.data_path
            csv_index = self.dataset.findData("__csv__")
            if config.data_path:
                label = f"CSV: {Path(config.data_path).name}"
                if csv_index < 0:
                    self.dataset.addItem(label, "__csv__")
                    csv_index = self.dataset.count() - 1
                self.dataset.setItemText(csv_index, label)
                self.dataset.setItemData(csv_index, config.data_path, Qt.ItemDataRole.ToolTipRole)
                self.dataset.setCurrentIndex(csv_index)
                self.target.setText(config.target or "")
            else:
                self._select(self.dataset, config.dataset)
            dp = config.dataset_params or {}
            self.samples.setValue(int(dp.get("n_samples", 200)))
            self.noise.setValue(float(dp.get("noise", 0.1)))
            self.data_seed.setValue(int(dp.get("seed", 0)))
            self.classes.setValue(int(dp.get("n_classes", 3)))
            self._select(self.model, config.model)
            self.hidden.setText(",".join(str(h) for h in config.hidden))
            self._select(self.activation, config.activation)
            self._select(self.loss, config.loss)
            self._select(self.optimizer, config.optimizer)
            op = dict(config.optimizer_params)
            if "betas" in op:
                op["beta1"], op["beta2"] = op.pop("betas")
            self.optimizer_form.set_fields(OPTIMIZER_FIELDS.get(config.optimizer, []), op)
            self.batch.setValue(int(config.batch_size))
            self._select(self.schedule, config.schedule)
            self.schedule_form.set_fields(SCHEDULE_FIELDS.get(config.schedule, []), dict(config.schedule_params))
            self.seed.setValue(int(config.seed))
            self.lr.set_lr(config.lr)
            self._update_enabled()
        finally:
            self._loading = False

    def set_watch_names(self, names, current: str) -> None:
        self.watch.blockSignals(True)
        self.watch.clear()
        for n in names:
            self.watch.addItem(n, n)
        i = self.watch.findData(current)
        self.watch.setCurrentIndex(max(i, 0))
        self.watch.blockSignals(False)

    def set_descriptions(self, dataset_text: str, model_text: str) -> None:
        self.data_note.setText(dataset_text)
        self.model_note.setText(model_text)

    def _update_enabled(self) -> None:
        name = self.dataset.currentData()
        params = datasets.PARAMETERS.get(name, ()) if name != "__csv__" else ()
        self.samples.setEnabled("n_samples" in params)
        self.noise.setEnabled("noise" in params)
        self.data_seed.setEnabled("seed" in params)
        self.classes.setEnabled("n_classes" in params)
        self.target.setEnabled(name == "__csv__")
        is_mlp = self.model.currentData() == "mlp"
        self.hidden.setEnabled(is_mlp)
        self.activation.setEnabled(is_mlp)

    def build_config(self) -> RunConfig:
        """A RunConfig from the widgets; ConfigError with a clear message when something is off."""
        name = self.dataset.currentData()
        base = self._config
        if name == "__csv__":
            data_path, dataset, dp = self._csv_path, base.dataset, dict(base.dataset_params)
            target = self.target.text().strip() or None
        else:
            params = datasets.PARAMETERS.get(name, ())
            # parameters the panel does not show (a scenario's line slope) stay as the config has them
            dp = dict(base.dataset_params) if name == base.dataset and not base.data_path else {}
            shown = {"n_samples": self.samples.value(), "noise": round(self.noise.value(), 4),
                     "seed": self.data_seed.value(), "n_classes": self.classes.value()}
            for key, value in shown.items():
                # a key the config leaves out means the generator's default: reading it back unedited must
                # give the same config (else a stray edit signal looks like a change and resets the run)
                if key in params and (key in dp or value != _MAKE_DEFAULTS.get(key)):
                    dp[key] = value
            data_path, dataset, target = None, name, None
        model = self.model.currentData()
        hidden = parse_hidden(self.hidden.text()) if model == "mlp" else base.hidden
        opt, sched = self.optimizer.currentData(), self.schedule.currentData()
        op = self.optimizer_form.values(opt)
        spec = list(OPTIMIZER_FIELDS.get(opt, []))
        if "beta1" in op or "beta2" in op:
            op["betas"] = (op.pop("beta1", 0.9), op.pop("beta2", 0.999))
            spec.append(("betas", "", (0.9, 0.999), tuple))
        op_base = dict(base.optimizer_params) if opt == base.optimizer else {}
        if "betas" in op_base:
            op_base["betas"] = tuple(op_base["betas"])
        op = merged_params(op_base, op, spec)
        sp = self.schedule_form.values(f"{sched} schedule")
        sp = merged_params(dict(base.schedule_params) if sched == base.schedule else {}, sp,
                           SCHEDULE_FIELDS.get(sched, []))
        return base.replace(dataset=dataset, dataset_params=dp, data_path=data_path, target=target, model=model,
                            hidden=hidden, activation=self.activation.currentData(), loss=self.loss.currentData(),
                            optimizer=self.optimizer.currentData(), optimizer_params=op,
                            schedule=self.schedule.currentData(), schedule_params=sp,
                            batch_size=self.batch.value(), seed=self.seed.value(), lr=self.lr.lr())

    def range_test_settings(self) -> dict:
        try:
            start = parse_lr(self.rt_start.text())
            end = parse_lr(self.rt_end.text())
        except ConfigError as exc:
            raise ConfigError(f"range test {exc}") from None
        if end <= start:
            raise ConfigError(f"range test: the end LR ({end:g}) must be above the start LR ({start:g})")
        return {"start_lr": start, "end_lr": end, "num_iter": self.rt_iters.value(),
                "mode": self.rt_mode.currentData(), "repeats": self.rt_repeats.value(),
                "pace": 3.0 if self.rt_animate.isChecked() else 0.0}

    # -- reacting to edits -------------------------------------------------------------------------
    def _changed(self, *_) -> None:
        if self._loading:
            return
        self._update_enabled()
        self._emit_timer.start()

    def flush(self) -> None:
        """Apply pending edits now (tests, and before a range test)."""
        if self._emit_timer.isActive():
            self._emit_timer.stop()
            self._emit_config()

    def _emit_config(self) -> None:
        try:
            config = self.build_config()
        except ConfigError as exc:
            self.invalid.emit(then(exc, "The previous settings are kept."))
            self.set_config(self._config)
            return
        if config != self._config:
            self.configEdited.emit(config)

    def _hidden_edited(self) -> None:
        if self.hidden.text().strip() != ",".join(str(h) for h in self._config.hidden):
            self._changed()

    def _target_edited(self) -> None:
        if (self.target.text().strip() or None) != self._config.target and self.dataset.currentData() == "__csv__":
            self._changed()

    def _optimizer_kind_changed(self) -> None:
        if not self._loading:
            self.optimizer_form.set_fields(OPTIMIZER_FIELDS.get(self.optimizer.currentData(), []), {})

    def _schedule_kind_changed(self) -> None:
        if not self._loading:
            lr = self.lr.lr()
            defaults = {"max_lr": float(f"{min(lr * 10, cfgmod.MAX_LR):.3g}"),
                        "end_lr": float(f"{lr / 100:.3g}")}
            self.schedule_form.set_fields(SCHEDULE_FIELDS.get(self.schedule.currentData(), []), defaults)

    def _watch_activated(self, index: int) -> None:
        name = self.watch.itemData(index)
        if name:
            self.watchEdited.emit(name)

    def select_csv(self, path: str) -> RunConfig:
        """The config that loads ``path`` (the worker reads it; a bad file keeps the previous data)."""
        return self._config.replace(data_path=str(path), target=self.csv_target())

    def csv_target(self) -> str | None:
        """The target column typed for a CSV (None: the last column)."""
        return self.target.text().strip() or None

    def bind(self, state) -> None:
        """Show an AppState: its config and live LR are what the widgets show and what edits start from."""
        state.configChanged.connect(self.set_config)
        state.lrChanged.connect(self._show_live_lr)

    def _show_live_lr(self, lr: float) -> None:
        self._config = self._config.replace(lr=float(lr))
        self.lr.set_lr(lr)


__all__ = ["ModelDataPanel", "LearningRateControl", "parse_hidden", "parse_lr", "DESCENT_DIRECTION"]
