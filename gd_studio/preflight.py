"""Checks before the QApplication exists, so a missing display or X11 library is one clear line, not a Qt abort."""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, MutableMapping

# Platforms that need no screen: nothing to check.
HEADLESS_PLATFORMS = {"offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay", "minimalegl"}

# What provides each library Qt's xcb platform plugin links against, per distribution family. Names as in
# Debian 12/Ubuntu 22.04, Fedora 40, Arch and openSUSE Tumbleweed; a library not listed is named as is.
FAMILIES = {
    "debian": ("Debian/Ubuntu", "sudo apt install"),
    "fedora": ("Fedora/RHEL", "sudo dnf install"),
    "arch": ("Arch", "sudo pacman -S"),
    "suse": ("openSUSE", "sudo zypper install"),
}
_X = "libxcb-{}"
PACKAGES: dict[str, dict[str, str]] = {
    # soname: {family: package}
    "libxcb.so.1": {"debian": "libxcb1", "fedora": "libxcb", "arch": "libxcb", "suse": "libxcb1"},
    "libX11.so.6": {"debian": "libx11-6", "fedora": "libX11", "arch": "libx11", "suse": "libX11-6"},
    "libX11-xcb.so.1": {"debian": "libx11-xcb1", "fedora": "libX11-xcb", "arch": "libx11", "suse": "libX11-xcb1"},
    "libxkbcommon.so.0": {"debian": "libxkbcommon0", "fedora": "libxkbcommon", "arch": "libxkbcommon",
                          "suse": "libxkbcommon0"},
    "libxkbcommon-x11.so.0": {"debian": "libxkbcommon-x11-0", "fedora": "libxkbcommon-x11",
                              "arch": "libxkbcommon-x11", "suse": "libxkbcommon-x11-0"},
    "libxcb-cursor.so.0": {"debian": "libxcb-cursor0", "fedora": "xcb-util-cursor", "arch": "xcb-util-cursor",
                           "suse": "libxcb-cursor0"},
    "libxcb-icccm.so.4": {"debian": "libxcb-icccm4", "fedora": "xcb-util-wm", "arch": "xcb-util-wm",
                          "suse": "libxcb-icccm4"},
    "libxcb-image.so.0": {"debian": "libxcb-image0", "fedora": "xcb-util-image", "arch": "xcb-util-image",
                          "suse": "libxcb-image0"},
    "libxcb-keysyms.so.1": {"debian": "libxcb-keysyms1", "fedora": "xcb-util-keysyms",
                            "arch": "xcb-util-keysyms", "suse": "libxcb-keysyms1"},
    "libxcb-render-util.so.0": {"debian": "libxcb-render-util0", "fedora": "xcb-util-renderutil",
                                "arch": "xcb-util-renderutil", "suse": "libxcb-render-util0"},
    "libxcb-util.so.1": {"debian": "libxcb-util1", "fedora": "xcb-util", "arch": "xcb-util",
                         "suse": "libxcb-util1"},
    "libEGL.so.1": {"debian": "libegl1", "fedora": "libglvnd-egl", "arch": "libglvnd", "suse": "libEGL1"},
    "libGL.so.1": {"debian": "libgl1", "fedora": "libglvnd-glx", "arch": "libglvnd", "suse": "libGL1"},
    "libOpenGL.so.0": {"debian": "libopengl0", "fedora": "libglvnd-opengl", "arch": "libglvnd",
                       "suse": "libOpenGL0"},
    "libfontconfig.so.1": {"debian": "libfontconfig1", "fedora": "fontconfig", "arch": "fontconfig",
                           "suse": "libfontconfig1"},
    "libfreetype.so.6": {"debian": "libfreetype6", "fedora": "freetype", "arch": "freetype2",
                         "suse": "libfreetype6"},
    "libdbus-1.so.3": {"debian": "libdbus-1-3", "fedora": "dbus-libs", "arch": "dbus", "suse": "libdbus-1-3"},
    "libglib-2.0.so.0": {"debian": "libglib2.0-0", "fedora": "glib2", "arch": "glib2", "suse": "libglib-2_0-0"},
    "libgthread-2.0.so.0": {"debian": "libglib2.0-0", "fedora": "glib2", "arch": "glib2",
                            "suse": "libgthread-2_0-0"},
}
# The core xcb extension libraries follow one naming pattern in every family but Fedora/Arch (one package).
for _ext, _n in (("randr", 0), ("shape", 0), ("shm", 0), ("sync", 1), ("xfixes", 0), ("render", 0),
                 ("xkb", 1), ("xinerama", 0), ("xinput", 0), ("glx", 0)):
    PACKAGES[f"libxcb-{_ext}.so.{_n}"] = {"debian": f"libxcb-{_ext}{_n}", "fedora": "libxcb", "arch": "libxcb",
                                          "suse": f"libxcb-{_ext}{_n}"}


class PreflightError(Exception):
    """The window cannot open here; the message says why and what to do, in one line."""


@dataclass
class Outcome:
    """What the preflight decided: notes to print (the start goes on) and the platform Qt should use."""

    notes: list[str]
    platform: str | None = None


def distro_family(os_release: str | None = None) -> str | None:
    """'debian', 'fedora', 'arch' or 'suse' from /etc/os-release's ID and ID_LIKE; None when unknown."""
    if os_release is None:
        for path in ("/etc/os-release", "/usr/lib/os-release"):
            try:
                os_release = Path(path).read_text(encoding="utf-8", errors="replace")
                break
            except OSError:
                continue
        else:
            return None
    ids: list[str] = []
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("ID", "ID_LIKE"):
            ids += value.strip().strip("\"'").lower().split()
    for word in ids:
        if word in ("debian", "ubuntu", "linuxmint", "pop", "raspbian"):
            return "debian"
        if word in ("fedora", "rhel", "centos", "rocky", "almalinux"):
            return "fedora"
        if word in ("arch", "manjaro", "endeavouros"):
            return "arch"
        if "suse" in word:
            return "suse"
    return None


def install_hint(missing: list[str], family: str | None) -> str:
    """'sudo apt install a b' for a known family, else every family's command on one line."""
    def packages(fam: str) -> list[str]:
        out: list[str] = []
        for soname in missing:
            pkg = PACKAGES.get(soname, {}).get(fam, f"(the package providing {soname})")
            if pkg not in out:
                out.append(pkg)
        return out

    if family in FAMILIES:
        return f"{FAMILIES[family][1]} {' '.join(packages(family))}"
    return "; ".join(f"{label}: {cmd} {' '.join(packages(fam))}" for fam, (label, cmd) in FAMILIES.items())


def qt_plugin_dir() -> Path | None:
    """Qt's plugins folder, found without importing PySide6 (frozen build or installed wheel)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidate = Path(frozen) / "PySide6" / "Qt" / "plugins"
        if candidate.is_dir():
            return candidate
    spec = importlib.util.find_spec("PySide6")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "Qt" / "plugins"
        if candidate.is_dir():
            return candidate
    return None


def platform_plugin(name: str, plugins: Path | None = None) -> Path | None:
    plugins = plugins if plugins is not None else qt_plugin_dir()
    if plugins is None:
        return None
    path = plugins / "platforms" / f"libq{name}.so"
    return path if path.is_file() else None


_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def missing_libraries(plugin: Path, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> list[str]:
    """Shared libraries ``plugin`` needs that the dynamic loader cannot find (ldd), in ldd's order."""
    ldd = shutil.which("ldd")
    if ldd:
        qt_lib = plugin.parents[2] / "lib"
        env = dict(os.environ)
        # The frozen build keeps Qt's libraries in _internal/ and _internal/PySide6/Qt/lib.
        extra = [str(qt_lib)] + ([str(Path(sys._MEIPASS))] if getattr(sys, "_MEIPASS", None) else [])
        env["LD_LIBRARY_PATH"] = os.pathsep.join(extra + [p for p in [env.get("LD_LIBRARY_PATH", "")] if p])
        try:
            out = run([ldd, str(plugin)], capture_output=True, text=True, env=env, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            out = None
        if out is not None:
            return list(dict.fromkeys(_NOT_FOUND.findall(out)))
    # No ldd (a minimal container): the loader names the first library it could not open.
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        found = re.search(r"(lib[^\s:/]+\.so[.\d]*): cannot open shared object file", str(exc))
        return [found.group(1)] if found else []
    return []


def _x_server_error(display: str) -> str | None:
    """None when an X connection to ``display`` works, else a short reason (libxcb is asked directly)."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None  # reported as a missing library instead
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        code = xcb.xcb_connection_has_error(conn)
    finally:
        xcb.xcb_disconnect(conn)
    return None if code == 0 else f"cannot connect to the X server at DISPLAY={display}"


def _wayland_socket(env: Mapping[str, str]) -> Path | None:
    name = env.get("WAYLAND_DISPLAY") or "wayland-0"
    if os.path.isabs(name):
        path = Path(name)
    elif env.get("XDG_RUNTIME_DIR"):
        path = Path(env["XDG_RUNTIME_DIR"]) / name
    else:
        return None
    return path if path.exists() else None


NO_DISPLAY = ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set): start it from a "
              "desktop session, or use the command-line subcommands ('gd-studio --help'); "
              "QT_QPA_PLATFORM=offscreen renders without a screen")


def check(env: Mapping[str, str] | None = None, *, plugins: Path | None = None, family: str | None = "detect",
          connect: Callable[[str], str | None] = _x_server_error,
          missing: Callable[[Path], list[str]] = missing_libraries, notes: list[str] | None = None) -> Outcome:
    """Decide whether Qt can open a window here; raise PreflightError with one line when it cannot.

    Only Linux needs this: macOS and Windows always have their platform plugin's libraries.
    """
    env = os.environ if env is None else env
    notes = [] if notes is None else notes  # filled even when PreflightError follows
    requested = [p.split(":", 1)[0].strip() for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if requested and (requested[0] in HEADLESS_PLATFORMS
                      or not (requested[0] == "xcb" or requested[0].startswith("wayland"))):
        return Outcome(notes)  # no screen needed, or a platform this check does not know: Qt decides
    plugins = plugins if plugins is not None else qt_plugin_dir()
    wayland_plugin = platform_plugin("wayland", plugins) if plugins else None
    wants_wayland = bool(requested) and requested[0].startswith("wayland")
    if wants_wayland or (not requested and env.get("WAYLAND_DISPLAY")):
        if wayland_plugin is not None and _wayland_socket(env) is not None:
            return Outcome(notes)  # Qt talks to the compositor itself
        if wants_wayland:
            why = ("this build has no Wayland platform plugin" if wayland_plugin is None
                   else "no Wayland compositor is running")
            notes.append(f"{why}; using X11 instead (XWayland on a Wayland desktop): QT_QPA_PLATFORM=xcb")
    display = env.get("DISPLAY", "").strip()
    if not display:
        raise PreflightError(NO_DISPLAY)
    xcb = platform_plugin("xcb", plugins) if plugins else None
    if xcb is not None:
        lacking = missing(xcb)
        if lacking:
            family = distro_family() if family == "detect" else family
            raise PreflightError(
                f"the window needs system libraries this computer lacks ({', '.join(lacking)}); "
                f"install them with: {install_hint(lacking, family)}")
    problem = connect(display)
    if problem:
        raise PreflightError(f"{problem}: is an X server (or XWayland) running, and may this user use it "
                             "(XAUTHORITY)? The command-line subcommands work without one ('gd-studio --help')")
    return Outcome(notes, "xcb" if wants_wayland else None)


def prepare_gui(env: MutableMapping[str, str] | None = None, err=None) -> None:
    """Run :func:`check` on Linux before a QApplication is made: print notes, switch platform if needed.

    Raises PreflightError (one line) when the window cannot open.
    """
    if not sys.platform.startswith("linux"):
        return
    env = os.environ if env is None else env
    notes: list[str] = []
    try:
        outcome = check(env, notes=notes)
    finally:
        stream = err if err is not None else sys.stderr
        for note in notes:
            if stream is not None:
                print(f"gd-studio: note: {note}", file=stream)
    if outcome.platform:
        env["QT_QPA_PLATFORM"] = outcome.platform
