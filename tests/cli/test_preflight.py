"""The start-up check before the QApplication: display, X11 libraries (per distribution), Wayland fallback."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gd_studio import preflight
from gd_studio.preflight import PreflightError, check

ROOT = Path(__file__).resolve().parents[2]
OK = dict(connect=lambda display: None, missing=lambda plugin: [])


@pytest.fixture
def plugins(tmp_path):
    """A Qt plugins folder with an xcb platform plugin (and no Wayland one), as the frozen Linux build has."""
    folder = tmp_path / "Qt" / "plugins"
    (folder / "platforms").mkdir(parents=True)
    (folder / "platforms" / "libqxcb.so").write_bytes(b"\x7fELF")
    return folder


def test_no_display_says_so(plugins):
    with pytest.raises(PreflightError, match="no display to open the window on"):
        check({}, plugins=plugins, **OK)


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "offscreen:fontengine=freetype"])
def test_headless_platforms_need_nothing(platform, plugins):
    assert check({"QT_QPA_PLATFORM": platform}, plugins=plugins, connect=None, missing=None).notes == []


def test_missing_xcb_libraries_name_the_packages_for_this_distribution(plugins):
    lacking = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    for family, command in [("debian", "sudo apt install libxcb-icccm4 libxcb-keysyms1"),
                            ("fedora", "sudo dnf install xcb-util-wm xcb-util-keysyms"),
                            ("arch", "sudo pacman -S xcb-util-wm xcb-util-keysyms"),
                            ("suse", "sudo zypper install libxcb-icccm4 libxcb-keysyms1")]:
        with pytest.raises(PreflightError) as info:
            check({"DISPLAY": ":0"}, plugins=plugins, family=family, connect=lambda d: None,
                  missing=lambda plugin: lacking)
        message = str(info.value)
        assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message and message.endswith(command)
        assert "\n" not in message


def test_an_unknown_distribution_gets_every_family_on_one_line(plugins):
    with pytest.raises(PreflightError) as info:
        check({"DISPLAY": ":0"}, plugins=plugins, family=None, connect=lambda d: None,
              missing=lambda plugin: ["libxcb-cursor.so.0", "libfoo.so.3"])
    message = str(info.value)
    assert "Debian/Ubuntu: sudo apt install libxcb-cursor0 (the package providing libfoo.so.3)" in message
    assert "Fedora/RHEL: sudo dnf install xcb-util-cursor" in message and "\n" not in message


def test_an_unreachable_x_server_is_named(plugins):
    with pytest.raises(PreflightError, match="cannot connect to the X server at DISPLAY=:42"):
        check({"DISPLAY": ":42"}, plugins=plugins, missing=lambda p: [],
              connect=lambda d: f"cannot connect to the X server at DISPLAY={d}")


def test_wayland_without_the_plugin_falls_back_to_xcb_with_a_note(plugins):
    outcome = check({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, plugins=plugins, **OK)
    assert outcome.platform == "xcb"
    assert outcome.notes == ["this build has no Wayland platform plugin; using X11 instead (XWayland on a "
                             "Wayland desktop): QT_QPA_PLATFORM=xcb"]


def test_wayland_with_plugin_and_compositor_is_left_to_qt(plugins, tmp_path):
    (plugins / "platforms" / "libqwayland.so").write_bytes(b"\x7fELF")
    (tmp_path / "wayland-1").write_text("")
    env = {"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": str(tmp_path)}
    assert check(env, plugins=plugins, connect=None, missing=None).platform is None
    # the plugin but no compositor: X11 again, with the reason
    outcome = check({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0", "XDG_RUNTIME_DIR": str(tmp_path / "none")},
                    plugins=plugins, **OK)
    assert outcome.platform == "xcb" and "no Wayland compositor is running" in outcome.notes[0]


def test_prepare_gui_prints_the_note_even_when_the_start_then_fails(plugins, monkeypatch):
    monkeypatch.setattr(preflight, "qt_plugin_dir", lambda: plugins)
    monkeypatch.setattr(preflight.sys, "platform", "linux")
    env = {"QT_QPA_PLATFORM": "wayland"}
    err = io.StringIO()
    with pytest.raises(PreflightError, match="no display"):
        preflight.prepare_gui(env, err=err)
    assert err.getvalue().startswith("gd-studio: note: this build has no Wayland platform plugin")


def test_missing_libraries_reads_ldd(tmp_path):
    plugin = tmp_path / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"")
    out = ("\tlibGL.so.1 => /lib/libGL.so.1 (0x1)\n\tlibxcb-icccm.so.4 => not found\n"
           "\tlibxcb-icccm.so.4 => not found\n\tlibxcb-keysyms.so.1 => not found\n")
    seen = {}

    def fake_run(cmd, **kw):
        seen.update(kw["env"])
        return subprocess.CompletedProcess(cmd, 0, out, "")

    if not preflight.shutil.which("ldd"):
        pytest.skip("no ldd on this system")
    assert preflight.missing_libraries(plugin, run=fake_run) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert str(tmp_path / "Qt" / "lib") in seen["LD_LIBRARY_PATH"]  # Qt's own libraries are found, not reported


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's start-up check")
def test_the_real_plugin_on_this_machine_has_every_library_or_names_them():
    plugin = preflight.platform_plugin("xcb")
    if plugin is None:
        pytest.skip("this PySide6 has no xcb plugin")
    missing = preflight.missing_libraries(plugin)
    for soname in missing:  # whatever this machine lacks, the message can name a package for it
        assert soname in preflight.PACKAGES, soname


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.name != "posix", reason="Linux's start-up check")
def test_a_faked_missing_library_stops_the_start_with_one_line(tmp_path):
    """End to end: an ldd on PATH that reports two xcb libraries missing, a DISPLAY set: exit 2, one line."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "ldd").write_text('#!/bin/sh\necho "\tlibxcb-icccm.so.4 => not found"\n')
    (fake / "ldd").chmod(0o755)
    env = dict(os.environ, DISPLAY=":99", PATH=f"{fake}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(ROOT),
               GD_STUDIO_SETTINGS=str(tmp_path / "s.ini"))
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "gd_studio"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "libxcb-icccm.so.4" in lines[0]
    family = preflight.distro_family()
    expected = preflight.install_hint(["libxcb-icccm.so.4"], family)
    assert lines[0].endswith(expected)


def test_distribution_families_from_os_release():
    assert preflight.distro_family('ID=ubuntu\nID_LIKE=debian\n') == "debian"
    assert preflight.distro_family('ID="rocky"\nID_LIKE="rhel centos fedora"\n') == "fedora"
    assert preflight.distro_family("ID=opensuse-tumbleweed\nID_LIKE=\"opensuse suse\"\n") == "suse"
    assert preflight.distro_family("ID=endeavouros\nID_LIKE=arch\n") == "arch"
    assert preflight.distro_family("ID=nixos\n") is None


def test_every_xcb_library_has_a_package_in_every_family():
    for soname, packages in preflight.PACKAGES.items():
        assert set(packages) == set(preflight.FAMILIES), soname


def test_readme_quick_start_lists_the_packages_the_check_names():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for family, command in (("debian", "sudo apt install "), ("fedora", "sudo dnf install ")):
        line = next(line for line in readme.splitlines() if line.startswith(command))
        listed = line[len(command):].split()
        expected = list(dict.fromkeys(p[family] for p in preflight.PACKAGES.values()))
        assert listed == expected, family
