"""Where the user's settings file lives on each system (Qt-free, so the CLI and the man page can name it)."""
from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Mapping

FOLDER = "gd-studio"                       # no space: easy to type, quote-free in scripts and bug reports
FILENAME = "gd-studio.ini"
MACOS_FILENAME = "org.gdstudio.GDStudio.ini"  # the bundle id, as macOS names preference files
LEGACY = ("GD Studio", "GD Studio.ini")    # Qt's default for organisation/application "GD Studio"


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME") or env.get("USERPROFILE")
    return Path(home) if home else Path.home()


def settings_file(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The settings file: ~/.config/gd-studio/gd-studio.ini ($XDG_CONFIG_HOME honoured) on Linux and other
    Unix systems, %APPDATA%\\gd-studio\\gd-studio.ini on Windows, ~/Library/Preferences/org.gdstudio.GDStudio.ini
    on macOS."""
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    if platform == "win32":
        base = env.get("APPDATA")
        root = Path(base) if base else _home(env) / "AppData" / "Roaming"
        return root / FOLDER / FILENAME
    if platform == "darwin":
        return _home(env) / "Library" / "Preferences" / MACOS_FILENAME
    config = env.get("XDG_CONFIG_HOME", "").strip()
    root = Path(config) if config and os.path.isabs(config) else _home(env) / ".config"
    return root / FOLDER / FILENAME


def legacy_settings_file(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where earlier builds kept settings (Qt's INI default: a folder with a space in its name)."""
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    if platform == "win32":
        base = env.get("APPDATA")
        root = Path(base) if base else _home(env) / "AppData" / "Roaming"
    else:  # Qt's IniFormat uses ~/.config on macOS too
        config = env.get("XDG_CONFIG_HOME", "").strip()
        root = Path(config) if config and os.path.isabs(config) and platform != "darwin" else _home(env) / ".config"
    return root / LEGACY[0] / LEGACY[1]


def prepared_settings_file(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """:func:`settings_file`, its folder created and an older build's file carried over once.

    Never raises: settings are a convenience, and a read-only home must not stop the app.
    """
    target = settings_file(platform, env)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        old = legacy_settings_file(platform, env)
        if not target.exists() and old.is_file():
            shutil.copyfile(old, target)
    except OSError:
        pass
    return target


MAX_SETTINGS_BYTES = 10 << 20  # real settings are a few kB; a huge file is not ours to read at start-up
_fallback: Path | None = None


def usable_settings_file(path: Path) -> tuple[Path, str | None]:
    """``path`` if QSettings can safely read it (a regular file of sane size, or none yet), else a scratch
    file for this run and the reason. A FIFO there would block start-up forever; a device or a folder is no
    settings file either. Never raises."""
    global _fallback
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path, None
    except OSError as exc:
        reason = f"{path} cannot be read ({exc.strerror or exc})"
    else:
        if not stat.S_ISREG(info.st_mode):
            reason = f"{path} is not a regular file"
        elif info.st_size > MAX_SETTINGS_BYTES:
            reason = f"{path} is {info.st_size} bytes, too large to be GD Studio's settings"
        else:
            return path, None
    if _fallback is None:
        _fallback = Path(tempfile.mkdtemp(prefix="gd-studio-settings-")) / FILENAME
    return _fallback, reason + "; starting with the default settings (changes are not kept)"
