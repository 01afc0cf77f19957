"""Installer inputs: spec, .desktop, MIME, deb control, Inno Setup and Info.plist carry the right names and version."""
from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
import appinfo  # noqa: E402
import build  # noqa: E402
import qtfilter  # noqa: E402

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def scenario_extension() -> str:
    try:
        from gd_studio.engine import scenarios
    except ImportError:
        return appinfo.DEFAULT_SCENARIO_EXTENSION
    return scenarios.EXTENSION


def parse_desktop(text: str) -> dict[str, dict[str, str]]:
    """A strict reader for the freedesktop Desktop Entry format (groups, Key=Value, comments)."""
    groups: dict[str, dict[str, str]] = {}
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"line {number}: bad group header"
            current = groups.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"line {number}: key before the first group"
        key, sep, value = line.partition("=")
        assert sep, f"line {number}: not Key=Value"
        assert key == key.strip() and re.fullmatch(r"[A-Za-z0-9-]+(\[[^\]]+\])?", key), f"line {number}: key {key!r}"
        assert key not in current, f"line {number}: duplicate key {key}"
        current[key] = value.strip()
    return groups


# Keys the Desktop Entry Specification (up to 1.5) defines; anything else must start with X-.
DESKTOP_KEYS = {
    "Type", "Version", "Name", "GenericName", "NoDisplay", "Comment", "Icon", "Hidden", "OnlyShowIn",
    "NotShowIn", "DBusActivatable", "TryExec", "Exec", "Path", "Terminal", "Actions", "MimeType", "Categories",
    "Implements", "Keywords", "StartupNotify", "StartupWMClass", "URL", "PrefersNonDefaultGPU", "SingleMainWindow",
}
MAIN_CATEGORIES = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics", "Network",
                   "Office", "Science", "Settings", "System", "Utility"}


def test_version_and_extension_sources():
    assert appinfo.version() == VERSION
    assert appinfo.scenario_extension() == scenario_extension()
    assert appinfo.range_extension() == ".gdrange"


def test_installers_register_every_type_the_app_opens():
    """appinfo's names (read without importing the app) match gd_studio.file_types, the app's own list."""
    from gd_studio.file_types import file_types

    expected = {(ft.extension, ft.mime_type, ft.description) for ft in file_types()}
    assert expected == {(appinfo.scenario_extension(), appinfo.MIME_TYPE, appinfo.SCENARIO_DESCRIPTION),
                        (appinfo.range_extension(), appinfo.RANGE_MIME_TYPE, appinfo.RANGE_DESCRIPTION)}
    assert appinfo.artefact_stem("linux").startswith(f"gd-studio-{VERSION}-linux-")
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", appinfo.numeric_version())


def test_render_refuses_unknown_placeholders():
    with pytest.raises(KeyError, match="@NOPE@"):
        appinfo.render("x @NOPE@ y")


def _check_desktop_entry(name: str) -> dict[str, str]:
    text = appinfo.render_file(f"linux/{name}.in")
    assert "@" not in text
    groups = parse_desktop(text)
    entry = groups["Desktop Entry"]
    assert list(groups)[0] == "Desktop Entry"
    for key in entry:
        assert key.split("[")[0] in DESKTOP_KEYS or key.startswith("X-"), f"unknown key {key}"
    # 1.4, not 1.5: desktop-file-validate 0.26 (Debian 12, Ubuntu 22.04) rejects "1.5" as unknown, and the
    # entries use nothing newer than 1.4.
    assert entry["Type"] == "Application" and entry["Version"] == "1.4"
    assert entry["Name"] == "GD Studio" and entry["Icon"] == "gd-studio"
    assert entry["Exec"].split()[0] == "gd-studio" and entry["TryExec"] == "gd-studio"
    assert set(re.findall(r"%.", entry["Exec"])) <= {"%f", "%F", "%u", "%U"}
    assert entry["Terminal"] == "false"
    for list_key in ("Categories", "MimeType", "Keywords"):
        assert entry.get(list_key, ";").endswith(";")
    assert entry["X-GD-Studio-Version"] == VERSION
    return entry


def test_desktop_files_validate():
    assert set(build.DESKTOP_FILES) == {"gd-studio.desktop", "gd-studio-scenario.desktop"}
    menu = _check_desktop_entry("gd-studio.desktop")
    assert MAIN_CATEGORIES & set(menu["Categories"].split(";"))
    # Started from the menu there is no file: a field code after --scenario would leave a bare option.
    assert menu["Exec"] == "gd-studio" and "MimeType" not in menu
    opener = _check_desktop_entry("gd-studio-scenario.desktop")
    assert opener["NoDisplay"] == "true"
    # the bare FILE: gd-studio routes it by extension (tests/cli/test_file_argument.py covers both kinds)
    assert opener["Exec"] == "gd-studio %f"
    assert opener["MimeType"].split(";")[:-1] == [appinfo.MIME_TYPE, appinfo.RANGE_MIME_TYPE]


def test_cli_accepts_the_scenario_option_the_installers_use():
    from gd_studio import cli

    args = cli.build_parser().parse_args(["--scenario", "lecture" + scenario_extension()])
    assert args.scenario == "lecture" + scenario_extension()


@pytest.mark.parametrize("name", build.DESKTOP_FILES)
def test_desktop_file_passes_desktop_file_validate(tmp_path, name, tool):
    validate = tool("desktop-file-validate")
    path = tmp_path / name
    path.write_text(appinfo.render_file(f"linux/{name}.in"), encoding="utf-8")
    result = subprocess.run([validate, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mime_types_register_the_scenario_and_range_test_extensions():
    root = ET.fromstring(appinfo.render_file("linux/gd-studio-mime.xml.in"))
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    globs = {m.get("type"): m.find("m:glob", ns).get("pattern") for m in root.findall("m:mime-type", ns)}
    assert globs == {appinfo.MIME_TYPE: "*" + scenario_extension(), appinfo.RANGE_MIME_TYPE: "*.gdrange"}
    metainfo = appinfo.render_file("linux/gd-studio.metainfo.xml.in")
    assert all(f"<mediatype>{t}</mediatype>" in metainfo for t in globs)


def test_deb_control_fields():
    text = appinfo.render_file("linux/control.in", {"INSTALLED_SIZE": "1234",
                                                     "DEPENDS": ", ".join(build.deb_depends())})
    fields, last = {}, None
    for line in text.rstrip("\n").split("\n"):
        assert line, "no blank lines inside a control paragraph"
        if line.startswith(" "):
            fields[last] += "\n" + line
        else:
            last, _, value = line.partition(": ")
            fields[last] = value
    assert fields["Package"] == "gd-studio"
    assert fields["Version"] == VERSION
    assert fields["Architecture"] == appinfo.deb_arch()
    assert re.fullmatch(r".+ <[^@\s]+@[^@\s]+>", fields["Maintainer"])
    depends = [d.strip().split()[0] for d in fields["Depends"].split(",")]
    for lib in ("libxcb-cursor0", "libxkbcommon-x11-0", "libegl1", "libgl1", "libfontconfig1",
                "libdbus-1-3", "libxcb-icccm4"):
        assert lib in depends
    assert len(fields["Description"].split("\n")[0]) <= 80


def test_inno_setup_script():
    text = appinfo.render_file("windows/gd-studio.iss.in", {
        "SOURCE_DIR": r"C:\b\gd-studio", "OUTPUT_DIR": r"C:\out", "ICON_FILE": r"C:\i.ico",
        "OUTPUT_BASENAME": appinfo.artefact_stem("windows") + "-setup"})
    assert "@" not in text.replace("{@", "")  # no placeholder left
    assert f'#define AppVersion "{VERSION}"' in text
    assert f'#define ScenarioExt "{scenario_extension()}"' in text
    assert re.search(r"^AppId=\{\{[0-9A-F-]{36}\}$", text, re.M), "AppId braces must be escaped"
    assert f"OutputBaseFilename=gd-studio-{VERSION}-windows-" in text
    assert "{uninstallexe}" in text and "{group}" in text
    assert "shell\\open\\command" in text and '--scenario ""%1""' in text
    assert "ChangesAssociations=yes" in text
    assert '#define RangeExt ".gdrange"' in text
    assert re.search(r'RangeProgId\}\\shell\\open\\command".*""\{app\}\\\{#AppExe\}"" ""%1"""', text)


def test_info_plist():
    info = plistlib.loads(appinfo.render_file("macos/Info.plist.in").encode("utf-8"))
    assert info["CFBundleIdentifier"] == appinfo.BUNDLE_ID
    assert info["CFBundleShortVersionString"] == VERSION
    assert info["CFBundleExecutable"] == "gd-studio"
    assert info["CFBundleIconFile"] == "gd-studio.icns"
    assert info["NSHighResolutionCapable"] is True
    docs, utis = info["CFBundleDocumentTypes"], info["UTExportedTypeDeclarations"]
    assert [d["LSItemContentTypes"] for d in docs] == [[u["UTTypeIdentifier"]] for u in utis]
    tags = {u["UTTypeIdentifier"]: u["UTTypeTagSpecification"] for u in utis}
    assert tags == {
        appinfo.SCENARIO_UTI: {"public.filename-extension": [scenario_extension().lstrip(".")],
                               "public.mime-type": appinfo.MIME_TYPE},
        appinfo.RANGE_UTI: {"public.filename-extension": ["gdrange"], "public.mime-type": appinfo.RANGE_MIME_TYPE}}


def test_spec_bundles_resources_and_excludes_unused_modules():
    text = (PACKAGING / "gd-studio.spec").read_text(encoding="utf-8")
    compile(text, "gd-studio.spec", "exec")
    assert '"gd_studio/resources"' in text  # where gd_studio/_resources.py looks in a frozen build
    resolver = (ROOT / "gd_studio" / "_resources.py").read_text(encoding="utf-8")
    assert '"gd_studio" / "resources"' in resolver
    assert "excludes=EXCLUDED_MODULES" in text and "console=False" in text
    for module in ("tkinter", "matplotlib", "scipy", "sklearn", "pyqtgraph.opengl", "PySide6.QtWebEngineCore",
                   "PySide6.Qt3DCore", "PySide6.QtMultimedia", "PySide6.QtQml", "PySide6.QtQuick"):
        assert module in qtfilter.EXCLUDED_MODULES, module


BLOCKED_RUN = """
import importlib.abc, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
blocked = set(sys.argv[1:])

class Block(importlib.abc.MetaPathFinder):
    # What the frozen build lacks cannot be imported: the same ImportError the build would raise.
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            raise ImportError(f"No module named {name!r} (left out of the frozen build)")
        return None

sys.meta_path.insert(0, Block())
from PySide6.QtWidgets import QApplication
app = QApplication([])
import gd_studio.cli, gd_studio.selftest
from gd_studio.ui import MainWindow
window = MainWindow()
window.show()
app.processEvents()
window.close()
app.processEvents()
print("opened")
"""


def test_window_opens_without_the_modules_the_build_leaves_out():
    try:
        from gd_studio.ui import MainWindow  # noqa: F401
    except ImportError:
        pytest.skip("gd_studio.ui.MainWindow not written yet")
    proc = subprocess.run([sys.executable, "-c", BLOCKED_RUN, *qtfilter.EXCLUDED_MODULES], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "opened" in proc.stdout, proc.stderr[-3000:]


@pytest.mark.parametrize("dest, kept", [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
    ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
    ("PySide6/Qt/plugins/platforms/libqminimalegl.so", False),
    ("PySide6\\plugins\\platforms\\qwindows.dll", True),
    ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", True),
    ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
    ("PySide6/Qt/plugins/imageformats/libqpdf.so", False),
    ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", False),
    ("PySide6/Qt/plugins/qmltooling/libqmldbg_debugger.so", False),
    ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
    ("PySide6/Qt/lib/libQt6Core.so.6", True),
    ("PySide6/Qt/lib/libQt6XcbQpa.so.6", True),
    ("PySide6/Qt/lib/libQt6Svg.so.6", True),
    ("PySide6/Qt/lib/libQt6Quick.so.6", False),
    ("PySide6/Qt/lib/libQt6Pdf.so.6", False),
    ("PySide6/Qt/lib/libQt6WaylandClient.so.6", False),
    ("PySide6/Qt6Network.dll", False),
    ("PySide6/Qt/lib/QtQml.framework/Versions/A/QtQml", False),
    ("PySide6/Qt/lib/QtWidgets.framework/Versions/A/QtWidgets", True),
    ("gd_studio/resources/datasets/iris.csv", True),
    ("numpy.libs/libscipy_openblas64_-32a4b2a6.so", True),
])
def test_qt_plugin_and_library_selection(dest, kept):
    assert qtfilter.keep_in_bundle(dest) is kept


def test_prune_keeps_what_roots_reach():
    binaries = [
        ("numpy/_core/_multiarray_umath.so", "/s/um.so", "EXTENSION"),
        ("numpy.libs/libopenblas.so", "/s/ob.so", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/xcb.so", "BINARY"),
        ("libxcb-cursor.so.0", "/s/cursor.so", "BINARY"),
        ("libcairo.so.2", "/s/cairo.so", "BINARY"),  # only the dropped GTK plugin wanted it
        ("libpython3.11.so.1.0", "/s/py.so", "BINARY"),
        ("libz.so.1", "/s/z.so", "BINARY"),
    ]
    imports = {"/s/um.so": ["libopenblas.so"], "/s/xcb.so": ["/usr/lib/libxcb-cursor.so.0"],
               "/s/py.so": ["libz.so.1"], "/s/cairo.so": ["libz.so.1"]}
    kept, dropped = qtfilter.prune_unreferenced(binaries, lambda src: imports.get(src, []))
    assert dropped == ["libcairo.so.2"]
    assert len(kept) == len(binaries) - 1


def test_build_info_is_shell_sourceable(tmp_path):
    path = build.write_info(tmp_path, {"VERSION": VERSION, "FOLDER": tmp_path / "a b", "ARTEFACTS": "x y"})
    if not shutil.which("bash"):
        pytest.skip("no bash")
    out = subprocess.run(["bash", "-c", f'. "{path}"; printf "%s|%s|%s" "$VERSION" "$FOLDER" "$ARTEFACTS"'],
                         capture_output=True, text=True, check=True).stdout
    # build-info.sh holds forward slashes on every system (Git Bash on Windows runs C:/x/y.exe too), so the
    # expectation is the POSIX form: str() would give backslashes on Windows.
    assert out == f"{VERSION}|{(tmp_path / 'a b').as_posix()}|x y"


@pytest.mark.skipif(not shutil.which("bash"), reason="no bash")
@pytest.mark.parametrize("script", ["ci_linux.sh", "linux/install-desktop-entry.sh"])
def test_shell_scripts_parse(script):
    path = PACKAGING / script
    subprocess.run(["bash", "-n", str(path)], check=True)
    if os.name == "posix":
        assert os.access(path, os.X_OK), f"{script} should be executable"


def test_workflow_builds_all_three_platforms_and_releases_on_tags():
    text = (ROOT / ".github" / "workflows" / "build.yml").read_text(encoding="utf-8")
    for runner in ("ubuntu-22.04", "windows-latest", "macos-latest", "macos-15-intel"):
        assert runner in text
    assert "packaging/build.py" in text and "--self-test" in text
    assert "upload-artifact" in text and "v*" in text
