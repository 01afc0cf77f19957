"""Persistent preferences: one INI-format QSettings, a group per component, type-safe reads."""
from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from gd_studio.ui.theme import DEFAULT_THEME, THEMES, presentation_scale

__all__ = [
    "ORGANIZATION",
    "APPLICATION",
    "SETTINGS_ENV_VAR",
    "SETTINGS_VERSION",
    "VERSION_KEY",
    "MIGRATIONS",
    "app_settings",
    "settings_version",
    "save_state",
    "restore_state",
    "read_value",
    "write_value",
    "LAYOUT_VERSION",
    "save_window",
    "restore_window",
    "theme_name",
    "set_theme_name",
    "saved_presentation_scale",
    "set_presentation_scale",
    "last_scenario_path",
    "set_last_scenario_path",
]

log = logging.getLogger(__name__)

ORGANIZATION = "GD Studio"
APPLICATION = "GD Studio"
SETTINGS_ENV_VAR = "GD_STUDIO_SETTINGS"
SETTINGS_VERSION = 1
VERSION_KEY = "settings/version"

THEME_KEY = "appearance/theme"
SCALE_KEY = "appearance/presentationScale"
LAST_SCENARIO_KEY = "files/lastScenario"
WINDOW_GROUP = "mainWindow"
# the window's dock and toolbar arrangement changes with the app (issue 12 moved the step-by-step dock into the left
# column on short screens): a state saved by an older layout is dropped, not restored over the current default.
# 1: the short-screen column and the versioned state (QMainWindow.saveState's own version number)
LAYOUT_VERSION = 1

# MIGRATIONS[n] upgrades a file written at version n to version n + 1, in place.
MIGRATIONS: dict[int, Callable[[QSettings], None]] = {}

# Each settings file is checked and migrated once per process, not on every read.
_migrated: set[str] = set()


def app_settings() -> QSettings:
    """The QSettings to use: the INI file named by $GD_STUDIO_SETTINGS if set, else the user's INI file
    for organisation and application "GD Studio". Migrated to :data:`SETTINGS_VERSION` on first use."""
    # issue 16: an OS-appropriate file in a folder without a space, and never one that would block or
    # break start-up (a FIFO, a folder, a device): see gd_studio/settings_location.py
    from gd_studio.settings_location import prepared_settings_file, usable_settings_file

    override = os.environ.get(SETTINGS_ENV_VAR, "").strip()
    path, problem = usable_settings_file(Path(override) if override else prepared_settings_file())
    if problem and str(path) not in _migrated:
        log.warning("settings: %s", problem)
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    key = settings.fileName()
    if key not in _migrated:
        _migrated.add(key)
        _migrate(settings)
    return settings


def settings_version(settings: QSettings | None = None) -> int | None:
    """The version stored in the file; None when missing or unreadable."""
    s = settings if settings is not None else app_settings()
    return _as_version(s.value(VERSION_KEY))


def _as_version(raw: Any) -> int | None:
    try:
        text = str(raw).strip()
        return int(text) if text.isdigit() else None
    except (TypeError, ValueError):
        return None


def _migrate(settings: QSettings) -> None:
    version = _as_version(settings.value(VERSION_KEY))
    if version is None:
        # A new file, or one without a usable version: nothing to carry over, mark it current.
        version = SETTINGS_VERSION
    elif version > SETTINGS_VERSION:
        # Written by a newer GD Studio: read what we understand, never downgrade the file.
        log.info("settings %s are version %d, newer than %d", settings.fileName(), version, SETTINGS_VERSION)
        return
    while version < SETTINGS_VERSION:
        step = MIGRATIONS.get(version)
        if step is not None:
            step(settings)
        version += 1
    settings.setValue(VERSION_KEY, SETTINGS_VERSION)
    _sync(settings)


def _sync(settings: QSettings) -> bool:
    settings.sync()
    if settings.status() != QSettings.Status.NoError:
        # Preferences are a convenience: a read-only or full disk must not stop the app.
        log.warning("could not write settings to %s", settings.fileName())
        return False
    return True


# --------------------------------------------------------------------------------- values and types


def _encode(value: Any) -> Any:
    """Stored form of a value: bytes as QByteArray (Qt's own binary form), the rest as JSON text, which
    keeps ints, floats (exactly), bools, None, lists and dicts apart where INI would make them strings."""
    if isinstance(value, (bytes, bytearray)):
        return QByteArray(bytes(value))
    if isinstance(value, QByteArray):
        return QByteArray(value)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot store {type(value).__name__} value {value!r} in settings") from exc


_MISSING = object()


def _decode(raw: Any) -> Any:
    """Value of a stored entry, or _MISSING when it cannot be read back."""
    if isinstance(raw, QByteArray):
        return raw
    if isinstance(raw, (bytes, bytearray)):
        return QByteArray(bytes(raw))
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            # Hand-edited plain text (theme=dark): usable where a string is expected.
            return _PlainText(raw)
    return _MISSING


class _PlainText(str):
    """A stored value that was not JSON; accepted only where the default is a string."""


def _coerce(value: Any, default: Any) -> Any:
    """``value`` if it has the type of ``default`` (ints are accepted as floats), else _MISSING."""
    if value is _MISSING:
        return _MISSING
    if default is None:
        return str(value) if isinstance(value, _PlainText) else value
    if isinstance(default, bool):
        return value if isinstance(value, bool) else _MISSING
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else _MISSING
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return _MISSING
    if isinstance(default, str):
        return str(value) if isinstance(value, str) else _MISSING
    if isinstance(default, (bytes, bytearray, QByteArray)):
        if isinstance(value, QByteArray):
            return bytes(value.data()) if isinstance(default, (bytes, bytearray)) else value
        return _MISSING
    if isinstance(default, (list, tuple)):
        if isinstance(value, list):
            return type(default)(value) if isinstance(default, tuple) else value
        return _MISSING
    if isinstance(default, dict):
        return value if isinstance(value, dict) else _MISSING
    return _MISSING


def read_value(key: str, default: Any = None, settings: QSettings | None = None) -> Any:
    """The value stored at ``key`` ("group/name"), or ``default`` when missing or of another type."""
    s = settings if settings is not None else app_settings()
    if not s.contains(key):
        return default
    value = _coerce(_decode(s.value(key)), default)
    return default if value is _MISSING else value


def write_value(key: str, value: Any, settings: QSettings | None = None) -> bool:
    """Store ``value`` (JSON-able, bytes or QByteArray) at ``key``; False if the file could not be written."""
    s = settings if settings is not None else app_settings()
    s.setValue(key, _encode(value))
    return _sync(s)


# ---------------------------------------------------------------------------------- component state


def _check_group(widget_key: str) -> str:
    if not isinstance(widget_key, str) or not widget_key.strip() or "/" in widget_key or "\\" in widget_key:
        raise ValueError(f"settings group must be a plain non-empty name, got {widget_key!r}")
    return widget_key


def save_state(widget_key: str, state: Mapping[str, Any], settings: QSettings | None = None) -> bool:
    """Replace the group ``widget_key`` with ``state`` (name → JSON-able value, bytes or QByteArray).

    Returns False (and logs) if the file could not be written; raises TypeError for values that cannot
    be stored, before anything is written.
    """
    group = _check_group(widget_key)
    encoded = {str(k): _encode(v) for k, v in state.items()}
    s = settings if settings is not None else app_settings()
    s.beginGroup(group)
    try:
        s.remove("")  # the whole group: names dropped from the state do not linger
        for k, v in encoded.items():
            s.setValue(k, v)
    finally:
        s.endGroup()
    return _sync(s)


def restore_state(
    widget_key: str, defaults: Mapping[str, Any] | None = None, settings: QSettings | None = None
) -> dict[str, Any]:
    """The state saved under ``widget_key``.

    With ``defaults`` the result has exactly their keys; a stored value replaces a default only when it
    has the default's type (a float default also takes an int); a default of None takes anything.
    Without ``defaults`` every readable stored value is returned. Unreadable entries are skipped, so a
    damaged file gives defaults, never an exception.
    """
    group = _check_group(widget_key)
    s = settings if settings is not None else app_settings()
    s.beginGroup(group)
    try:
        stored = {k: _decode(s.value(k)) for k in s.childKeys()}
    finally:
        s.endGroup()
    if defaults is None:
        return {
            k: (str(v) if isinstance(v, _PlainText) else v) for k, v in stored.items() if v is not _MISSING
        }
    result = dict(defaults)
    for k, default in defaults.items():
        if k in stored:
            value = _coerce(stored[k], default)
            if value is not _MISSING:
                result[k] = value
    return result


# ------------------------------------------------------------------------------------- conveniences


def save_window(window: QMainWindow, key: str = WINDOW_GROUP, settings: QSettings | None = None) -> bool:
    """Store the window's geometry and its toolbar/dock layout (QMainWindow.saveGeometry/saveState), with the
    layout's version (:data:`LAYOUT_VERSION`)."""
    return save_state(
        key,
        {"geometry": window.saveGeometry(), "state": window.saveState(LAYOUT_VERSION), "layoutVersion": LAYOUT_VERSION},
        settings=settings,
    )


def restore_window(window: QMainWindow, key: str = WINDOW_GROUP, settings: QSettings | None = None) -> bool:
    """Restore what :func:`save_window` stored; True if both geometry and layout were restored.

    A layout saved by another layout version (an older app, or none recorded) is not restored: the window keeps its
    current default arrangement, and only the geometry comes back (the caller checks that it fits a screen).
    Missing or damaged data leaves the window as it is.
    """
    state = restore_state(key, {"geometry": QByteArray(), "state": QByteArray(), "layoutVersion": 0},
                          settings=settings)
    ok_geometry = not state["geometry"].isEmpty() and window.restoreGeometry(state["geometry"])
    current = state["layoutVersion"] == LAYOUT_VERSION
    if not current and not state["state"].isEmpty():
        log.info("settings: window layout of version %s dropped (now %s)", state["layoutVersion"], LAYOUT_VERSION)
    ok_state = current and not state["state"].isEmpty() and window.restoreState(state["state"], LAYOUT_VERSION)
    return bool(ok_geometry and ok_state)


def theme_name(default: str = DEFAULT_THEME, settings: QSettings | None = None) -> str:
    """The saved theme name, or ``default`` if none is saved or it names no known theme."""
    name = read_value(THEME_KEY, default, settings)
    return name if name in THEMES else default


def set_theme_name(name: str, settings: QSettings | None = None) -> bool:
    """Save the theme name (one of theme.THEMES)."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    return write_value(THEME_KEY, name, settings)


def saved_presentation_scale(settings: QSettings | None = None) -> float:
    """The saved presentation scale, clamped to [1.5, 2.5]; 2.0 if none is saved."""
    return presentation_scale(read_value(SCALE_KEY, presentation_scale(), settings))


def set_presentation_scale(scale: float, settings: QSettings | None = None) -> bool:
    """Save the presentation scale (clamped to [1.5, 2.5])."""
    return write_value(SCALE_KEY, presentation_scale(scale), settings)


def last_scenario_path(settings: QSettings | None = None) -> Path | None:
    """The scenario file opened last, or None. The file may have been moved since: check before use."""
    value = read_value(LAST_SCENARIO_KEY, "", settings)
    return Path(value) if value else None


def set_last_scenario_path(path: str | os.PathLike[str] | None, settings: QSettings | None = None) -> bool:
    """Remember the scenario file opened last (None forgets it)."""
    s = settings if settings is not None else app_settings()
    if path is None:
        s.remove(LAST_SCENARIO_KEY)
        return _sync(s)
    return write_value(LAST_SCENARIO_KEY, os.fspath(Path(path).resolve()), s)
