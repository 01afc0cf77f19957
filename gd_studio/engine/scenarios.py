"""Scenario files: a versioned JSON description of a run, its views and its caption, for lectures and playlists.

A scenario file is UTF-8 JSON with the extension ``.gdscenario`` (EXTENSION; MIME type MIME_TYPE). One
extension of its own lets the installers associate it with GD Studio: Windows goes by the last extension
only, so a ``.x.json`` name would open in whatever edits JSON.
Format 1, every key at the top level in this order (``dumps`` writes them all, so a saved file pins every
setting and replays the same frames even if a later version changes a default)::

    {
      "version": 1,                      # required, whole number; files from a newer format are refused
      "title": "Too big a learning rate", # required, non-empty
      "caption": "What to say and see",   # optional, default ""
      "config": {...},                    # required: every RunConfig field (RunConfig.to_dict())
      "panels": ["data", "loss_vs_weight", "loss_vs_lr", "loss_vs_step", "narration"],  # optional, default all
      "ranges": {"loss_vs_weight": [xmin, xmax, ymin, ymax], "loss_vs_step": null},    # optional, default {}
      "pre_run": 0,                       # optional: steps run silently when the scenario opens
      "steps": 0,                         # optional: run pauses by itself after this many steps (0 = never)
      "speed": null,                      # optional: steps per second while autoplaying (null = keep the user's)
      "range_test": null,                 # optional: {"start_lr", "end_lr", "num_iter", "mode", "highlight"}
      "sharpness": {"every": 10, "subset": null},   # optional: show the sharpness view (λ_max against 2/η)
      "loss_surface": {"plane": "weights", "weights": ["W1[0,0]", "W1[1,0]"], "seed": 0, "span": 1.0,
                       "grid": 61}                  # optional: show the loss-surface view in this plane
    }

Some fields name what the window does and allow nothing else, so a file cannot promise what it does not get:
``range_test.highlight`` is "steepest" or "recommended" (the loss-vs-LR view marks both, those two first);
``sharpness.every`` is 10 and ``sharpness.subset`` null (λ_max every 10 steps of a batch, at a steady time
budget while running, over the training set or a fixed seeded subset of 512 samples when it is bigger).
``loss_surface.span`` is the least half-width of the window around the current point, in the plane's units,
and ``grid`` the points a side of the paused and rendered grid.

The last two are written only when set (absent means the view is off), so files without them, and the
files of earlier versions, stay byte for byte as they were.

Axis ranges are in data units (the loss-vs-LR view's x range is in learning rates, not their logarithm);
a view not named, or named with null, keeps automatic ranging.
"""
from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from dataclasses import replace as dataclasses_replace
from pathlib import Path
from typing import Any

from . import datasets, fileio, models, optimizers, schedules
from .config import RunConfig, check_lr
from .errors import ConfigError, GDStudioError

EXTENSION = ".gdscenario"
MIME_TYPE = "application/x-gd-studio-scenario"
FORMAT_VERSION = 1
PANELS = ("data", "loss_vs_weight", "loss_vs_lr", "loss_vs_step", "narration")
VIEWS = ("data", "loss_vs_weight", "loss_vs_lr", "loss_vs_step")  # panels that have axes
RANGE_TEST_MODES = ("exp", "linear")
HIGHLIGHTS = ("steepest", "recommended", "valley", "minimum/10", "base_lr", "max_lr")  # lr_finder suggestion keys
MARKED = ("steepest", "recommended")  # the suggestions the loss-vs-LR view always marks (and places first)
SHARPNESS_EVERY = 10  # live.run.SHARPNESS_EVERY: λ_max every this many steps of a batch of steps
SHARPNESS_SUBSET = 512  # live.curvature.SUBSET: bigger training sets use a fixed seeded subset of this many
MAX_FILE_BYTES = 1 << 20  # scenarios are a few kB; refusing huge files keeps a wrong pick from hanging the app
MAX_STEPS = 10_000_000
MAX_INT_DIGITS = 30  # no setting needs more; Python refuses to parse integers beyond 4,300 digits anyway
_TOP_KEYS = ("version", "title", "caption", "config", "panels", "ranges", "pre_run", "steps", "speed", "range_test",
             "sharpness", "loss_surface")
_REQUIRED_TOP = ("version", "title", "config")
_RANGE_TEST_KEYS = ("start_lr", "end_lr", "num_iter", "mode", "highlight")
# ConfigError messages open with a human name for the setting; map it back to the JSON key.
_CONFIG_ALIASES = {"batch size": "batch_size", "validation fraction": "val_fraction",
                   "validation interval": "val_every", "learning rate": "lr"}


class ScenarioError(GDStudioError):
    """A scenario file that cannot be read, written or used; the message names the file and the place in it."""


class DataOutsideFolderError(ScenarioError):
    """A scenario whose data file lies outside the scenario's folder, loaded without permission to read it.

    A shared scenario could otherwise make GD Studio read any file the user can read. The window asks and
    loads again with ``allow_outside_folder=True``; the command line takes ``--allow-outside-data``.
    """

    def __init__(self, message: str, scenario_path: Path, data_path: Path) -> None:
        super().__init__(message)
        self.scenario_path = scenario_path
        self.data_path = data_path


@dataclass(frozen=True)
class RangeTestSettings:
    """How a range-test scenario runs the test; batch size, optimizer and seed come from the run config."""

    start_lr: float = 1e-7
    end_lr: float = 10.0
    num_iter: int = 100
    mode: str = "exp"  # "exp" (the usual) or "linear" (Smith's original)
    highlight: str = "steepest"  # "steepest" or "recommended": the view marks both (see the module docstring)

    def __post_init__(self) -> None:
        _check_range_test(self, "range_test")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in _RANGE_TEST_KEYS}


SURFACE_PLANES = ("weights", "descent_random", "random", "path")  # see landscape.make_plane
_SHARPNESS_KEYS = ("every", "subset")
_SURFACE_KEYS = ("plane", "weights", "seed", "span", "grid")


@dataclass(frozen=True)
class SharpnessSettings:
    """The sharpness view: λ_max every ``every`` steps, over the training set or a fixed subset of it."""

    every: int = 10
    subset: int | None = None

    def __post_init__(self) -> None:
        _check_sharpness(self, "sharpness")

    def to_dict(self) -> dict:
        return {"every": self.every, "subset": self.subset}


@dataclass(frozen=True)
class SurfaceSettings:
    """The loss-surface view: which plane (landscape.make_plane), and the grid (``grid`` points a side,
    ±``span`` along each direction; the path plane sizes itself to the recorded path)."""

    plane: str = "descent_random"
    weights: tuple[str, ...] = ()
    seed: int = 0
    span: float = 1.0
    grid: int = 61

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", tuple(self.weights))
        _check_surface(self, "loss_surface")

    def to_dict(self) -> dict:
        return {"plane": self.plane, "weights": list(self.weights), "seed": self.seed, "span": self.span,
                "grid": self.grid}


@dataclass(frozen=True)
class Scenario:
    """One lecture scene: the run to build, what the window shows, and the words that go with it.

    ``ranges`` maps a view name to ``(xmin, xmax, ymin, ymax)`` or None (automatic); treat it as read-only.
    """

    title: str
    config: RunConfig
    caption: str = ""
    panels: tuple[str, ...] = PANELS
    ranges: dict = field(default_factory=dict)
    pre_run: int = 0
    steps: int = 0
    speed: float | None = None
    range_test: RangeTestSettings | None = None
    version: int = FORMAT_VERSION
    sharpness: SharpnessSettings | None = None
    loss_surface: SurfaceSettings | None = None
    # Set by load(): the file it was read from, and whether config.data_path (made absolute against the
    # scenario's folder) points outside that folder. Not part of the file, not compared.
    source: str = field(default="", compare=False)
    outside_folder: bool = field(default=False, compare=False)

    @property
    def data_file(self) -> Path | None:
        """The CSV file this scenario reads, or None for a generated or bundled dataset."""
        return Path(self.config.data_path) if self.config.data_path else None

    def __post_init__(self) -> None:
        try:
            if isinstance(self.panels, str) or not hasattr(self.panels, "__iter__"):
                raise _Problem("panels", f"expected a sequence of panel names, got {self.panels!r}")
            object.__setattr__(self, "panels", tuple(self.panels))
            if not isinstance(self.ranges, Mapping):
                raise _Problem("ranges", f"expected a mapping of view name to ranges, got {self.ranges!r}")
            object.__setattr__(self, "ranges", {k: _box(f"ranges.{k}", v) for k, v in self.ranges.items()})
            _check_scenario(self)
        except _Problem as problem:
            raise ScenarioError(str(problem)) from None

    def to_dict(self) -> dict:
        """The JSON object ``dumps`` writes, keys in file order."""
        out = {
            "version": self.version,
            "title": self.title,
            "caption": self.caption,
            "config": self.config.to_dict(),
            "panels": list(self.panels),
            "ranges": {v: None if self.ranges[v] is None else list(self.ranges[v]) for v in VIEWS if v in self.ranges},
            "pre_run": self.pre_run,
            "steps": self.steps,
            "speed": self.speed,
            "range_test": None if self.range_test is None else self.range_test.to_dict(),
        }
        if self.sharpness is not None:
            out["sharpness"] = self.sharpness.to_dict()
        if self.loss_surface is not None:
            out["loss_surface"] = self.loss_surface.to_dict()
        return out


# --------------------------------------------------------------------------------------------------- reading


class _Problem(Exception):
    """Internal: a validation failure with its JSON path; turned into ScenarioError with the file name."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}" if where else what)


def load(path: str | os.PathLike, *, allow_outside_folder: bool = False) -> Scenario:
    """Read a scenario file; any problem raises ScenarioError naming the file and the place in it.

    A relative ``config.data_path`` is taken relative to the scenario's folder (where it was saved), made
    absolute in the result, and checked now: it must be a regular file whose header has the target column.
    A data file outside the scenario's folder is not opened at all unless ``allow_outside_folder``: the
    DataOutsideFolderError names it so the caller can ask first. ``Scenario.outside_folder`` says which.
    """
    path = Path(path)
    source = str(path)
    data = fileio.read_bytes(path, limit=MAX_FILE_BYTES, error=ScenarioError, what="a scenario file",
                             adjustable=False)
    try:
        text = data.decode("utf-8-sig")  # -sig: Windows editors like to add a byte-order mark
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1  # in bytes, 1-based like JSON's
        raise ScenarioError(
            f"{source}: not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {column}; "
            "a scenario file is UTF-8 JSON"
        ) from None
    scenario = loads(text, source=source)
    return _with_data_file(scenario, path, allow_outside_folder)


def _inside(child: Path, folder: Path) -> bool:
    try:
        child.relative_to(folder)
    except ValueError:
        return False
    return True


def _with_data_file(scenario: Scenario, path: Path, allow_outside_folder: bool) -> Scenario:
    source = str(path)
    config = scenario.config
    if not config.data_path:
        return dataclasses_replace(scenario, source=source)
    folder = path.resolve().parent
    given = Path(config.data_path).expanduser()
    data = given if given.is_absolute() else folder / given
    data = Path(os.path.abspath(data))
    # symlinks resolved: a link inside the folder that points outside it reads outside it
    outside = not _inside(data.resolve(), folder)
    if outside and not allow_outside_folder:
        raise DataOutsideFolderError(
            f"{source}: config.data_path: reads {data}, outside the scenario's folder ({folder}); "
            "open it only if you trust where the scenario came from (command line: --allow-outside-data)",
            path, data)
    where = f"{source}: config.data_path"
    try:
        fileio.check_regular(data, error=ScenarioError, limit=fileio.max_bytes(), what="a CSV file")
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    try:
        options = {k: config.dataset_params[k] for k in ("header",) if k in config.dataset_params}
        datasets.check_csv(data, config.target, **options)  # reads the file's start only
    except GDStudioError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    return dataclasses_replace(scenario, config=config.replace(data_path=str(data)), source=source,
                               outside_folder=outside)


def loads(text: str, source: str = "<string>") -> Scenario:
    """Parse a scenario from JSON text; ``source`` names it in error messages."""
    if not isinstance(text, str):
        raise ScenarioError(f"{source}: expected JSON text, got {type(text).__name__}")
    if not text.strip():
        raise ScenarioError(f"{source}: the file is empty")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants,
                          parse_int=lambda digits: _parse_int(digits, text))
    except json.JSONDecodeError as exc:
        unfinished = _unfinished(text)
        if unfinished or not text[exc.pos :].strip():
            inside = f", inside an unfinished {unfinished}" if unfinished else ""
            raise ScenarioError(
                f"{source}: the file ends early{inside}; is it truncated? "
                f"(JSON error at line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        raise ScenarioError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except _Problem as problem:
        raise ScenarioError(f"{source}: {problem}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: the JSON is nested too deeply") from None
    except ValueError as exc:  # anything else json refuses, without a position
        raise ScenarioError(f"{source}: not valid JSON ({exc})") from None
    try:
        return _from_data(data)
    except _Problem as problem:
        raise ScenarioError(f"{source}: {problem}") from None


def _unfinished(text: str) -> str | None:
    """What a JSON text leaves open at its end ("string", "object", "list"), or None if it closes everything."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    if in_string:
        return "string"
    if stack:
        return "object" if stack[-1] == "{" else "list"
    return None


def _no_duplicates(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _Problem("", f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _parse_int(digits: str, text: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        at = text.find(digits)
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        raise _Problem("", f"a whole number of {len(digits.lstrip('-')):,} digits at line {line}, column {column}; "
                           f"no setting needs more than {MAX_INT_DIGITS}")
    return int(digits)


def _no_constants(name: str) -> Any:
    raise _Problem("", f"{name} is not allowed; numbers must be finite")


def _from_data(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise _Problem("", f"expected a JSON object at the top level, got {_json_type(data)}")
    # The version decides how the rest is read, so it is checked before anything else.
    if "version" not in data:
        raise _Problem("", "missing field 'version' (is this a GD Studio scenario?)")
    version = data["version"]
    if not _is_int(version):
        raise _Problem("version", f"expected a whole number, got {_show(version)}")
    if version > FORMAT_VERSION:
        raise _Problem(
            "version",
            f"made by a newer GD Studio (format {version}); this version reads format {FORMAT_VERSION}. "
            "Update GD Studio to open it",
        )
    if version < 1:
        raise _Problem("version", f"format {version} does not exist; formats start at 1")
    _check_keys(data, _TOP_KEYS, _REQUIRED_TOP, "")

    title = _typed(data, "title", str, "a string", "")
    caption = _typed(data, "caption", str, "a string", "", default="")
    config = _config_from(_typed(data, "config", dict, "an object", ""))

    raw_panels = _typed(data, "panels", list, "a list of panel names", "", default=list(PANELS))
    for i, name in enumerate(raw_panels):
        if not isinstance(name, str):
            raise _Problem(f"panels[{i}]", f"expected a panel name, got {_show(name)}")

    raw_ranges = _typed(data, "ranges", dict, "an object of view ranges", "", default={})
    ranges: dict = {}
    for view, value in raw_ranges.items():
        where = f"ranges.{view}"
        if value is None:
            ranges[view] = None
            continue
        if not isinstance(value, list) or len(value) != 4 or not all(_is_number(x) for x in value):
            raise _Problem(where, f"expected [xmin, xmax, ymin, ymax] (four numbers) or null, got {_show(value)}")
        ranges[view] = tuple(float(x) for x in value)

    pre_run = _typed(data, "pre_run", int, "a whole number", "", default=0)
    steps = _typed(data, "steps", int, "a whole number", "", default=0)
    speed = data.get("speed")
    if speed is not None and not _is_number(speed):
        raise _Problem("speed", f"expected a number of steps per second or null, got {_show(speed)}")

    range_test = None
    raw_rt = data.get("range_test")
    if raw_rt is not None:
        if not isinstance(raw_rt, dict):
            raise _Problem("range_test", f"expected an object or null, got {_json_type(raw_rt)}")
        _check_keys(raw_rt, _RANGE_TEST_KEYS, ("start_lr", "end_lr", "num_iter"), "range_test")
        start = _typed(raw_rt, "start_lr", (int, float), "a number", "range_test")
        end = _typed(raw_rt, "end_lr", (int, float), "a number", "range_test")
        num_iter = _typed(raw_rt, "num_iter", int, "a whole number", "range_test")
        mode = _typed(raw_rt, "mode", str, "a string", "range_test", default="exp")
        highlight = raw_rt.get("highlight", "steepest")
        if highlight is not None and not isinstance(highlight, str):
            raise _Problem("range_test.highlight", f"expected a suggestion name or null, got {_show(highlight)}")
        range_test = _build(RangeTestSettings, start_lr=float(start), end_lr=float(end), num_iter=num_iter,
                            mode=mode, highlight=highlight)

    sharpness = None
    raw_sh = data.get("sharpness")
    if raw_sh is not None:
        if not isinstance(raw_sh, dict):
            raise _Problem("sharpness", f"expected an object or null, got {_json_type(raw_sh)}")
        _check_keys(raw_sh, _SHARPNESS_KEYS, (), "sharpness")
        subset = raw_sh.get("subset")
        if subset is not None and not _is_int(subset):
            raise _Problem("sharpness.subset", f"expected a whole number of samples or null, got {_show(subset)}")
        sharpness = _build(SharpnessSettings, every=_typed(raw_sh, "every", int, "a whole number", "sharpness",
                                                           default=10), subset=subset)

    loss_surface = None
    raw_ls = data.get("loss_surface")
    if raw_ls is not None:
        if not isinstance(raw_ls, dict):
            raise _Problem("loss_surface", f"expected an object or null, got {_json_type(raw_ls)}")
        _check_keys(raw_ls, _SURFACE_KEYS, ("plane",), "loss_surface")
        names = _typed(raw_ls, "weights", list, "a list of two weight names", "loss_surface", default=[])
        for i, name in enumerate(names):
            if not isinstance(name, str):
                raise _Problem(f"loss_surface.weights[{i}]", f"expected a weight name, got {_show(name)}")
        loss_surface = _build(
            SurfaceSettings,
            plane=_typed(raw_ls, "plane", str, "a string", "loss_surface"),
            weights=tuple(names),
            seed=_typed(raw_ls, "seed", int, "a whole number", "loss_surface", default=0),
            span=float(_typed(raw_ls, "span", (int, float), "a number", "loss_surface", default=1.0)),
            grid=_typed(raw_ls, "grid", int, "a whole number", "loss_surface", default=61),
        )

    return _build(
        Scenario, version=version, title=title, caption=caption, config=config, panels=tuple(raw_panels),
        ranges=ranges, pre_run=pre_run, steps=steps, speed=None if speed is None else float(speed),
        range_test=range_test, sharpness=sharpness, loss_surface=loss_surface,
    )


def _build(cls: type, **kw: Any) -> Any:
    try:
        return cls(**kw)
    except ScenarioError as exc:  # raised by __post_init__ with the JSON path already in the message
        raise _Problem("", str(exc)) from None


def _config_from(raw: dict) -> RunConfig:
    names = [f.name for f in fields(RunConfig)]
    _check_keys(raw, names, names, "config")
    for f in fields(RunConfig):
        _check_config_type(f.name, str(f.type), raw[f.name])
    values = dict(raw)
    values["hidden"] = tuple(values["hidden"])
    for name in ("lr", "val_fraction"):
        values[name] = float(values[name])  # JSON writes 1.0 as 1
    try:
        config = RunConfig(**values)
    except ConfigError as exc:
        raise _Problem(*_config_where(str(exc))) from None
    _check_buildable(config)
    return config


def _check_config_type(name: str, annotation: str, value: Any) -> None:
    where = f"config.{name}"
    annotation = annotation.replace(" ", "")
    if annotation == "str":
        ok, want = isinstance(value, str), "a string"
    elif annotation in ("str|None", "Optional[str]"):
        ok, want = value is None or isinstance(value, str), "a string or null"
    elif annotation == "bool":
        ok, want = isinstance(value, bool), "true or false"
    elif annotation == "int":
        ok, want = _is_int(value), "a whole number"
    elif annotation == "float":
        ok, want = _is_number(value), "a number"
    elif annotation.startswith("dict"):
        ok, want = isinstance(value, dict), "an object"
        if ok:
            for key, item in value.items():
                if not (item is None or isinstance(item, (str, bool, int, float))
                        or (isinstance(item, list) and all(_is_number(x) for x in item))):
                    raise _Problem(f"{where}.{key}",
                                   f"expected a number, string, true/false or null, got {_show(item)}")
    elif annotation.startswith("tuple[int"):
        ok, want = isinstance(value, list) and all(_is_int(x) for x in value), "a list of whole numbers"
    else:  # a RunConfig field this module does not know yet: RunConfig's own validation decides
        ok, want = True, ""
    if not ok:
        raise _Problem(where, f"expected {want}, got {_show(value)}")


def _config_where(message: str) -> tuple[str, str]:
    head, sep, rest = message.partition(": ")
    if sep:
        key = _CONFIG_ALIASES.get(head, head.replace(" ", "_"))
        if key in {f.name for f in fields(RunConfig)}:
            return f"config.{key}", rest
    return "config", message


def _check_buildable(config: RunConfig) -> None:
    """Catch a bad dataset/optimizer/schedule setting at load time, not at the first step in front of a room."""
    if config.data_path is None:
        if config.dataset not in datasets.NAMES:
            raise _Problem("config.dataset",
                           f"unknown dataset {config.dataset!r}; choose one of {', '.join(datasets.NAMES)}")
        takes = {"n_samples", "noise", "seed", "n_classes", *datasets.PARAMETERS.get(config.dataset, ())}
        unknown = sorted(set(config.dataset_params) - takes)
        if unknown:
            raise _Problem(f"config.dataset_params.{unknown[0]}",
                           f"dataset {config.dataset!r} takes no such setting; it takes {', '.join(sorted(takes))}")
        try:
            datasets.check_params(config.dataset, **config.dataset_params)
        except GDStudioError as exc:
            raise _Problem("config.dataset_params", str(exc)) from None
        task, n_features = datasets.shape_of(config.dataset)
        if task == datasets.REGRESSION and config.loss == "cross_entropy":
            raise _Problem("config.loss", f"cross entropy needs classes, but {config.dataset!r} is a regression "
                                          "dataset; use mse")
        if task == datasets.CLASSIFICATION and config.loss == "mse":
            raise _Problem("config.loss", f"mse is for regression, but {config.dataset!r} has classes; use "
                                          "cross_entropy or squared_error")
        if config.model == "one_weight" and (n_features != 1 or task != datasets.REGRESSION):
            raise _Problem("config.model", f"one weight (y = w·x) needs a regression dataset with one feature; "
                                           f"{config.dataset!r} is not one (use line or sine)")
        if task == datasets.REGRESSION:
            n_outputs = 1
        else:
            n_outputs = {"iris": 3, "digits": 10}.get(config.dataset, 2)
            if config.dataset == "spiral":
                n_outputs = int(config.dataset_params.get("n_classes", 3))
        try:
            models.make(config.model, n_features, n_outputs, hidden=config.hidden, activation=config.activation,
                        loss=config.loss)
        except ConfigError as exc:
            raise _Problem(*_config_where(str(exc))) from None
    try:
        optimizers.make(config.optimizer, 1, **config.optimizer_params)
    except ConfigError as exc:
        raise _Problem("config.optimizer_params", str(exc)) from None
    try:
        schedules.make(config.schedule, config.lr, **config.schedule_params)
    except ConfigError as exc:
        raise _Problem("config.schedule_params", str(exc)) from None


def _check_keys(data: dict, known: tuple | list, required: tuple | list, where: str) -> None:
    prefix = f"{where}." if where else ""
    missing = [k for k in required if k not in data]
    if missing:
        listed = ", ".join(prefix + k for k in missing)
        raise _Problem(where, f"missing field{'s' if len(missing) > 1 else ''} {listed}")
    unknown = [k for k in data if k not in known]
    if unknown:
        parts = []
        for key in unknown:
            close = difflib.get_close_matches(key, list(known), n=1)
            parts.append(prefix + key + (f" (did you mean {prefix + close[0]}?)" if close else ""))
        raise _Problem(where, f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(parts)}")


def _typed(data: dict, key: str, types: Any, want: str, where: str, **kw: Any) -> Any:
    if key not in data:
        return kw["default"]
    value = data[key]
    if types is int:
        ok = _is_int(value)
    elif types == (int, float):
        ok = _is_number(value)
    else:
        ok = isinstance(value, types) and not isinstance(value, bool)
    if not ok:
        raise _Problem(f"{where}.{key}" if where else key, f"expected {want}, got {_show(value)}")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any) -> str:
    if value is None or isinstance(value, (bool, list, dict)):
        return _json_type(value) if isinstance(value, (list, dict)) else json.dumps(value)
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (str, int, float)) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


# ------------------------------------------------------------------------------------------------ validation


def _box(where: str, value: Any) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        box = tuple(float(x) for x in value)
    except (TypeError, ValueError):
        raise _Problem(where, f"expected [xmin, xmax, ymin, ymax] or None, got {value!r}") from None
    if len(box) != 4:
        raise _Problem(where, f"expected four numbers [xmin, xmax, ymin, ymax], got {len(box)}")
    return box


def _check_scenario(s: Scenario) -> None:
    if not _is_int(s.version) or not 1 <= s.version <= FORMAT_VERSION:
        raise _Problem("version", f"this version writes format {FORMAT_VERSION}, got {s.version!r}")
    if not isinstance(s.title, str) or not s.title.strip():
        raise _Problem("title", "must not be empty")
    if len(s.title) > 200:
        raise _Problem("title", f"at most 200 characters, got {len(s.title)}")
    if not isinstance(s.caption, str):
        raise _Problem("caption", f"expected a string, got {_show(s.caption)}")
    if not isinstance(s.config, RunConfig):
        raise _Problem("config", f"expected a RunConfig, got {type(s.config).__name__}")
    if not s.panels:
        raise _Problem("panels", f"name at least one of {', '.join(PANELS)}")
    seen = set()
    for i, name in enumerate(s.panels):
        if name not in PANELS:
            raise _Problem(f"panels[{i}]", f"unknown panel {name!r}; choose from {', '.join(PANELS)}")
        if name in seen:
            raise _Problem(f"panels[{i}]", f"{name!r} is listed twice")
        seen.add(name)
    for view, box in s.ranges.items():
        where = f"ranges.{view}"
        if view not in VIEWS:
            raise _Problem(where, f"unknown view {view!r}; views with axes: {', '.join(VIEWS)}")
        if box is None:
            continue
        if len(box) != 4 or not all(math.isfinite(x) for x in box):
            raise _Problem(where, "expected four finite numbers [xmin, xmax, ymin, ymax]")
        xmin, xmax, ymin, ymax = box
        if not xmin < xmax:
            raise _Problem(where, f"xmin ({xmin:g}) must be less than xmax ({xmax:g})")
        if not ymin < ymax:
            raise _Problem(where, f"ymin ({ymin:g}) must be less than ymax ({ymax:g})")
        if view == "loss_vs_lr" and xmin <= 0:
            raise _Problem(where, f"learning rates are drawn on a log axis, so xmin must be positive, got {xmin:g}")
    for name in ("pre_run", "steps"):
        value = getattr(s, name)
        if not _is_int(value) or not 0 <= value <= MAX_STEPS:
            raise _Problem(name, f"must be a whole number from 0 to {MAX_STEPS:,}, got {value!r}")
    if s.speed is not None and not (_is_number(s.speed) and 0 < s.speed <= 10_000):
        raise _Problem("speed", f"steps per second must be above 0 and at most 10,000 (or null), got {s.speed!r}")
    if s.range_test is not None and not isinstance(s.range_test, RangeTestSettings):
        raise _Problem("range_test", f"expected RangeTestSettings or None, got {type(s.range_test).__name__}")
    if s.sharpness is not None and not isinstance(s.sharpness, SharpnessSettings):
        raise _Problem("sharpness", f"expected SharpnessSettings or None, got {type(s.sharpness).__name__}")
    if s.loss_surface is not None and not isinstance(s.loss_surface, SurfaceSettings):
        raise _Problem("loss_surface", f"expected SurfaceSettings or None, got {type(s.loss_surface).__name__}")


def _check_sharpness(sh: SharpnessSettings, where: str) -> None:
    try:
        if not _is_int(sh.every) or not 1 <= sh.every <= 100_000:
            raise _Problem(f"{where}.every", f"must be a whole number of steps from 1 to 100,000, got {sh.every!r}")
        if sh.subset is not None and (not _is_int(sh.subset) or sh.subset < 1):
            raise _Problem(f"{where}.subset", f"must be a whole number of samples ≥ 1 or null, got {sh.subset!r}")
        if sh.every != SHARPNESS_EVERY:
            raise _Problem(f"{where}.every", f"GD Studio measures λ_max every {SHARPNESS_EVERY} steps of a batch of "
                           f"steps (and at a steady share of the time while running); another cadence is not "
                           f"supported: write {SHARPNESS_EVERY} or leave the field out (got {sh.every!r})")
        if sh.subset is not None:
            raise _Problem(f"{where}.subset", f"GD Studio takes the Hessian over the training set, or a fixed seeded "
                           f"subset of {SHARPNESS_SUBSET} samples when it is bigger; another subset is not "
                           f"supported: write null or leave the field out (got {sh.subset!r})")
    except _Problem as problem:
        raise ScenarioError(str(problem)) from None


def _check_surface(ls: SurfaceSettings, where: str) -> None:
    try:
        if ls.plane not in SURFACE_PLANES:
            raise _Problem(f"{where}.plane", f"unknown plane {ls.plane!r}; choose from {', '.join(SURFACE_PLANES)}")
        if ls.plane == "weights":
            if len(ls.weights) != 2 or not all(isinstance(w, str) and w for w in ls.weights):
                raise _Problem(f"{where}.weights", f"the weights plane needs two weight names, got {list(ls.weights)!r}")
            if ls.weights[0] == ls.weights[1]:
                raise _Problem(f"{where}.weights", f"choose two different weights, got {ls.weights[0]!r} twice")
        elif ls.weights:
            raise _Problem(f"{where}.weights", f"only the weights plane takes weight names (this is {ls.plane!r})")
        if not _is_int(ls.seed) or not 0 <= ls.seed < 2**32:
            raise _Problem(f"{where}.seed", f"must be a whole number from 0 to 2^32−1, got {ls.seed!r}")
        if not _is_number(ls.span) or ls.span <= 0:
            raise _Problem(f"{where}.span", f"must be a positive, finite number, got {ls.span!r}")
        if not _is_int(ls.grid) or not 5 <= ls.grid <= 201:
            raise _Problem(f"{where}.grid", f"must be a whole number of points from 5 to 201, got {ls.grid!r}")
    except _Problem as problem:
        raise ScenarioError(str(problem)) from None


def _check_range_test(rt: RangeTestSettings, where: str) -> None:
    try:
        for name in ("start_lr", "end_lr"):
            value = getattr(rt, name)
            if not _is_number(value) or value <= 0:
                raise _Problem(f"{where}.{name}", f"must be a positive, finite learning rate, got {value!r}")
            try:
                check_lr(value, name)  # the range test's own limits, checked now rather than in front of a room
            except ConfigError as exc:
                raise _Problem(f"{where}.{name}", str(exc).partition(": ")[2]) from None
        if not rt.start_lr < rt.end_lr:
            raise _Problem(f"{where}.end_lr", f"must be above start_lr ({rt.start_lr:g}), got {rt.end_lr:g}")
        if not _is_int(rt.num_iter) or not 5 <= rt.num_iter <= 100_000:
            raise _Problem(f"{where}.num_iter", f"must be a whole number from 5 to 100,000, got {rt.num_iter!r}")
        if rt.mode not in RANGE_TEST_MODES:
            raise _Problem(f"{where}.mode", f"unknown mode {rt.mode!r}; choose {' or '.join(RANGE_TEST_MODES)}")
        if rt.highlight is not None and rt.highlight not in HIGHLIGHTS:
            raise _Problem(f"{where}.highlight",
                           f"unknown suggestion {rt.highlight!r}; choose from {', '.join(HIGHLIGHTS)}")
        if rt.highlight not in MARKED:
            raise _Problem(f"{where}.highlight",
                           f"the loss-vs-LR view always marks the steepest and the recommended LR first (the others "
                           f"with their toggles); a scene cannot single out {rt.highlight!r}: write \"steepest\" or "
                           f"\"recommended\", or leave the field out")
    except _Problem as problem:
        raise ScenarioError(str(problem)) from None


# --------------------------------------------------------------------------------------------------- writing


def dumps(scenario: Scenario) -> str:
    """The scenario as JSON text: fixed key order, two-space indent, UTF-8 characters kept, newline at the end."""
    if not isinstance(scenario, Scenario):
        raise ScenarioError(f"expected a Scenario, got {type(scenario).__name__}")
    return _encode(scenario.to_dict(), "") + "\n"


def _encode(value: Any, indent: str) -> str:
    # json.dumps(indent=2) puts every number of a range on its own line; short lists of plain values
    # read better on one line, objects keep one key per line for clean diffs.
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_encode(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return json.dumps(list(value), ensure_ascii=False, allow_nan=False)
        return "[\n" + ",\n".join(inner + _encode(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def save(scenario: Scenario, path: str | os.PathLike) -> Path:
    """Write atomically: a temporary file beside the target, then os.replace, so a crash never leaves half a file.

    A symlink is written through to its target; a folder, device or FIFO is refused. A data file inside
    the scenario's folder is stored relative to it, so the folder can be moved or shared as a whole.
    """
    if not isinstance(scenario, Scenario):
        raise ScenarioError(f"expected a Scenario, got {type(scenario).__name__}")
    path = Path(path)
    data_path = scenario.config.data_path
    if data_path and Path(data_path).is_absolute():
        # as written, then with symlinks resolved (a temp folder may itself be a link, as on macOS)
        for resolve in (os.path.abspath, os.path.realpath):
            folder, data = Path(resolve(path)).parent, Path(resolve(data_path))
            if _inside(data, folder):
                scenario = dataclasses_replace(
                    scenario, config=scenario.config.replace(data_path=data.relative_to(folder).as_posix()))
                break
    text = dumps(scenario)
    fileio.atomic_write(path, text, error=ScenarioError)
    return path


# ------------------------------------------------------------------------------------------------- playlists


def _natural_key(path: Path) -> tuple:
    # "2-x" before "10-x", case ignored: the order a file manager shows.
    parts = re.split(r"(\d+)", path.name.casefold())
    return tuple((0, int(p), p) if p.isdigit() else (1, 0, p) for p in parts), path.name


def playlist(folder: str | os.PathLike) -> list[Path]:
    """The scenario files (``*.gdscenario``) of a folder in natural name order; hidden files are skipped."""
    folder = Path(folder)
    if not folder.exists():
        raise ScenarioError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: is not a folder")
    try:
        found = [p for p in folder.iterdir()
                 if p.name.endswith(EXTENSION) and not p.name.startswith(".") and p.is_file()]
    except OSError as exc:
        raise ScenarioError(f"{folder}: cannot be listed ({exc.strerror or exc})") from None
    return sorted(found, key=_natural_key)


def bundled() -> list[Path]:
    """The scenarios shipped with GD Studio, in the order keys 1–9 open them."""
    from .. import resources_path

    return playlist(resources_path("scenarios"))
