"""Release readiness: validators (appstreamcli, mandoc, shellcheck, actionlint), licences, man page, macOS minimum,
Windows path form, the desktop-entry installer's escaping, sdist/wheel contents and twine."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
import appinfo  # noqa: E402
import build  # noqa: E402
import macho  # noqa: E402
import manpage  # noqa: E402
import qtfilter  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]


# ------------------------------------------------------------------ paths written for shells on every OS


def test_build_info_writes_forward_slashes_for_windows_paths(tmp_path):
    """The Windows job sources build-info.sh in Git Bash: a backslash path would be mangled there."""
    exe = PureWindowsPath(r"C:\Users\runner\work\gd studio\dist\gd-studio\gd-studio-cli.exe")
    path = build.write_info(tmp_path, {"SELFTEST_EXE": exe, "FOLDER": PurePosixPath("/tmp/a b")})
    text = path.read_text(encoding="utf-8")
    assert "SELFTEST_EXE='C:/Users/runner/work/gd studio/dist/gd-studio/gd-studio-cli.exe'\n" in text
    assert "FOLDER='/tmp/a b'\n" in text
    assert "\\" not in text


# ------------------------------------------------------------------ validators CI installs


def test_workflows_pass_actionlint(tool):
    actionlint = tool("actionlint")
    tool("shellcheck")  # actionlint runs it on every run: step; without it those scripts go unchecked
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    proc = subprocess.run([actionlint, "-no-color", *map(str, workflows)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", [".ci/run", "packaging/ci_linux.sh", "packaging/linux/install-desktop-entry.sh"])
def test_shell_scripts_pass_shellcheck(script, tool):
    shellcheck = tool("shellcheck")
    proc = subprocess.run([shellcheck, "-x", str(ROOT / script)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_metainfo_passes_appstreamcli(tmp_path, tool):
    appstreamcli = tool("appstreamcli")
    path = tmp_path / build.metainfo_name()
    path.write_text(appinfo.render_file("linux/gd-studio.metainfo.xml.in"), encoding="utf-8")
    proc = subprocess.run([appstreamcli, "validate", "--no-net", "--explain", str(path)], capture_output=True,
                          text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert not re.search(r"^[EW]: ", out, re.MULTILINE), out


def test_metainfo_names_the_app_its_desktop_file_and_every_release():
    import xml.etree.ElementTree as ET

    root = ET.fromstring(appinfo.render_file("linux/gd-studio.metainfo.xml.in"))
    assert root.findtext("id") == appinfo.BUNDLE_ID
    assert root.findtext("launchable") == "gd-studio.desktop"
    assert root.findtext("project_license") == PYPROJECT["project"]["license"]
    assert root.find("provides/mediatype").text == appinfo.MIME_TYPE
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == VERSION, "the newest release must be pyproject's version"
    urls = {u.get("type"): u.text for u in root.iter("url")}
    assert urls["homepage"] == PYPROJECT["project"]["urls"]["Homepage"]


def test_changelog_has_a_dated_entry_for_this_version():
    assert appinfo.releases()[0][0] == VERSION


def test_man_page_lints_clean_and_lists_every_option(tool, tmp_path):
    mandoc = tool("mandoc")
    page = tmp_path / "gd-studio.1"
    page.write_text(manpage.render(), encoding="utf-8")
    proc = subprocess.run([mandoc, "-Tlint", "-W", "style", str(page)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    from gd_studio import cli

    text = page.read_text(encoding="utf-8").replace("\\-", "-")
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for p in [parser, *sub.choices.values()]:
        for action in p._actions:
            for opt in action.option_strings:
                assert opt in text, f"{opt} ({p.prog}) is not in the man page"
    for command in sub.choices:
        assert f".SS {command}" in text
    assert "(default: 100)" in text  # range-test --iters: defaults come from the parser
    assert f'"gd-studio {VERSION}"' in text


def test_man_page_renders_to_text(tool, tmp_path):
    mandoc = tool("mandoc")
    page = tmp_path / "gd-studio.1"
    page.write_text(manpage.render(), encoding="utf-8")
    out = subprocess.run([mandoc, "-Tascii", str(page)], capture_output=True, text=True, check=True).stdout
    plain = re.sub(r".\x08", "", out)
    assert "gd-studio [options] [FILE]" in plain and "range-test" in plain and "EXIT STATUS" in plain


# ------------------------------------------------------------------ the desktop-entry installer


def _unescape_exec(value: str) -> list[str]:
    """Parse an Exec value as the Desktop Entry spec says: string unescaping, then quoted arguments."""
    # string rule: \\ -> \, \s \n \t \r
    s, i, out = value, 0, []
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(s[i + 1], "\\" + s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    s = "".join(out)
    args, cur, i, quoted = [], None, 0, False
    while i < len(s):
        c = s[i]
        if quoted:
            if c == "\\":
                assert s[i + 1] in '"`$\\', f"bad escape {s[i:i + 2]!r} in a quoted argument"
                cur += s[i + 1]
                i += 2
                continue
            if c == '"':
                quoted = False
            else:
                cur += c
        elif c == '"':
            quoted, cur = True, cur or ""
        elif c == " ":
            if cur is not None:
                args.append(cur)
            cur = None
        else:
            cur = (cur or "") + c
        i += 1
    assert not quoted
    if cur is not None:
        args.append(cur)
    return [a.replace("%%", "%") for a in args]


WEIRD = "lab & demos | 100% $HOME `x` \"q\" back\\slash it's"


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell script")
def test_install_desktop_entry_survives_any_folder_name(tmp_path, tool):
    folder = tmp_path / WEIRD / "gd-studio-x"
    share = folder / "share"
    (share / "applications").mkdir(parents=True)
    for name in build.DESKTOP_FILES:
        (share / "applications" / name).write_text(appinfo.render_file(f"linux/{name}.in"), encoding="utf-8")
    (share / "mime" / "packages").mkdir(parents=True)
    (share / "mime" / "packages" / "gd-studio.xml").write_text("<mime-info/>", encoding="utf-8")
    (share / "icons" / "hicolor" / "48x48" / "apps").mkdir(parents=True)
    (share / "icons" / "hicolor" / "48x48" / "apps" / "gd-studio.png").write_bytes(b"png")
    script = folder / "install-desktop-entry.sh"
    script.write_bytes((PACKAGING / "linux" / "install-desktop-entry.sh").read_bytes())
    data = tmp_path / "data"
    env = dict(os.environ, XDG_DATA_HOME=str(data), HOME=str(tmp_path))
    proc = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    validate = tool("desktop-file-validate")
    exe = str(folder / "gd-studio")
    for name in build.DESKTOP_FILES:
        installed = data / "applications" / name
        check = subprocess.run([validate, str(installed)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        entry = dict(line.split("=", 1) for line in installed.read_text(encoding="utf-8").splitlines()
                     if "=" in line and not line.startswith("#"))
        args = _unescape_exec(entry["Exec"])
        assert args[0] == exe, (entry["Exec"], args)
        assert entry["TryExec"].replace("\\\\", "\\") == exe
        if "%f" in entry["Exec"]:
            assert args[1:] == ["%f"]  # the bare FILE, routed by its extension
    proc = subprocess.run(["sh", str(script), "--remove"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and not (data / "applications" / "gd-studio.desktop").exists()


# ------------------------------------------------------------------ Windows and macOS inputs


def test_inno_script_requires_windows_10_and_says_which_inno_setup():
    text = appinfo.render_file("windows/gd-studio.iss.in", {
        "SOURCE_DIR": "s", "OUTPUT_DIR": "o", "OUTPUT_BASENAME": "b", "ICON_FILE": "i.ico"})
    assert re.search(r"^MinVersion=10\.0$", text, re.MULTILINE)
    assert "Inno Setup 6.3 or newer" in text
    assert "EncodeVer(6, 3, 0)" in text  # the compiler itself refuses an older Inno Setup


OTOOL_NEW = """Load command 9
      cmd LC_BUILD_VERSION
  cmdsize 32
 platform 1
    minos 14.0
      sdk 14.2
"""
OTOOL_OLD = """Load command 8
      cmd LC_VERSION_MIN_MACOSX
  cmdsize 16
  version 10.13
      sdk 10.15
"""
OTOOL_UNIVERSAL = OTOOL_NEW.replace("14.0", "11.0") + OTOOL_OLD.replace("10.13", "10.15")


def test_macos_minimum_is_read_from_both_load_commands():
    assert macho.minimum_from_otool(OTOOL_NEW) == "14.0"
    assert macho.minimum_from_otool(OTOOL_OLD) == "10.13"
    assert macho.minimum_from_otool(OTOOL_UNIVERSAL) == "11.0"
    assert macho.minimum_from_otool("not a Mach-O file") is None
    # "sdk 14.2" and a "version" outside LC_VERSION_MIN_MACOSX are not minimums
    assert macho.minimum_from_otool("      cmd LC_SOURCE_VERSION\n  version 1.2.3\n") is None


def test_macos_minimum_is_the_highest_over_every_binary():
    # QtCore says 13.0, NumPy's OpenBLAS-free wheel 14.0: the bundle needs 14.0, not QtCore's 13.0
    minimums = {"QtCore": "13.0", "_multiarray_umath.so": "14.0", "libpython": "11.0", "data.txt": None}
    floor, who = macho.highest_minimum(minimums, "13.0", minimums.get)
    assert (floor, who) == ("14.0", "_multiarray_umath.so")
    assert macho.highest_minimum([], "13.0", minimums.get) == ("13.0", None)
    assert macho.highest_minimum(["x"], "12", {"x": "11.0"}.get) == ("12.0", None)


def test_spec_derives_the_minimum_from_every_bundled_binary():
    spec = (PACKAGING / "gd-studio.spec").read_text(encoding="utf-8")
    assert "highest_minimum([src for _dest, src, _typecode in a.binaries]" in spec
    assert 'Path(dest).name == "QtCore"' not in spec


def test_hdiutil_is_retried(monkeypatch):
    calls = []

    def flaky(cmd):
        calls.append(cmd)
        if len(calls) < 3:
            raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(build.time, "sleep", lambda s: None)
    build.retry(["hdiutil", "create"], tries=5, runner=flaky)
    assert len(calls) == 3
    failures = []

    def broken(cmd):
        failures.append(cmd)
        raise subprocess.CalledProcessError(1, cmd)

    with pytest.raises(subprocess.CalledProcessError):
        build.retry(["hdiutil", "create"], tries=2, runner=broken)
    assert len(failures) == 2


def test_workflow_builds_intel_macs_and_retries_hdiutil():
    text = (ROOT / ".github" / "workflows" / "build.yml").read_text(encoding="utf-8")
    assert "macos-15-intel" in text and "hdiutil attach" in text
    attach = text[text.index("hdiutil attach") - 300:text.index("hdiutil attach")]
    assert "for attempt in" in attach
    for action, major in re.findall(r"uses: (actions/[\w-]+)@v(\d+)", text):
        assert int(major) >= {"checkout": 5, "setup-python": 6, "upload-artifact": 5,
                              "download-artifact": 6}[action.split("/")[1]], action
    dependabot = (ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8")
    assert 'package-ecosystem: "github-actions"' in dependabot and 'package-ecosystem: "pip"' in dependabot


# ------------------------------------------------------------------ smaller bundles


@pytest.mark.parametrize("dest, kept", [
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("_internal/PySide6/Qt/translations/qt_help_fr.qm", False),
    ("gd_studio/resources/translations/readme.txt", True),  # only Qt's own are dropped
    ("PySide6/Qt/lib/libQt6Core.so.6", True),
])
def test_qt_translations_do_not_ship(dest, kept):
    assert qtfilter.keep_in_bundle(dest) is kept


def test_readline_is_left_out_and_tarball_is_xz():
    assert "readline" in qtfilter.EXCLUDED_MODULES
    assert build.MAX_FOLDER_MB == 200
    src = (PACKAGING / "build.py").read_text(encoding="utf-8")
    assert '"w:xz"' in src and ".tar.xz" in src and '"-T0"' in src
    assert "MAX_MB=200" in (PACKAGING / "ci_linux.sh").read_text(encoding="utf-8")


# ------------------------------------------------------------------ licences and the PyPI package


def test_licence_files_exist_and_say_what_they_must():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    notices = (ROOT / "THIRD-PARTY-NOTICES.md").read_text(encoding="utf-8")
    for must in ("LGPL-3.0", "Replacing the Qt libraries", "libQt6", "PSF", "NumPy", "OpenBLAS", "pyqtgraph"):
        assert must in notices, must
    for name in ("LGPL-3.0.txt", "GPL-3.0.txt"):
        text = (ROOT / "resources" / "licenses" / name).read_text(encoding="utf-8")
        assert "GNU" in text and "Version 3, 29 June 2007" in text


def test_pyproject_metadata_is_complete(module):
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert set(project["license-files"]) == {"LICENSE", "THIRD-PARTY-NOTICES.md"}
    urls = project["urls"]
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls)
    classifiers = set(project["classifiers"])
    for needed in ("Operating System :: POSIX :: Linux", "Operating System :: MacOS",
                   "Operating System :: Microsoft :: Windows :: Windows 10", "Development Status :: 4 - Beta",
                   "Intended Audience :: Education"):
        assert needed in classifiers
    low = tuple(int(x) for x in project["requires-python"].lstrip(">=").split("."))
    versions = [c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions and min(tuple(map(int, v.split("."))) for v in versions) == low
    # the trove classifiers must be real ones (trove-classifiers ships the list with build's dependencies)
    trove = module("trove_classifiers")
    assert classifiers <= trove.classifiers


def _setuptools_can_build_here() -> bool:
    """pyproject's build-system needs setuptools>=77 (license-files); a venv may seed an older one."""
    try:
        import setuptools
    except ImportError:
        return False
    return tuple(int(p) for p in setuptools.__version__.split(".")[:1]) >= (77,)


@pytest.mark.slow
def test_sdist_and_wheel_carry_the_licences_and_pass_twine(tmp_path, tool):
    twine = tool("twine")
    out = tmp_path / "dist"
    cmd = [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)]
    if _setuptools_can_build_here():
        cmd.append("--no-isolation")  # faster; otherwise build fetches setuptools>=77 into a fresh env
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("LICENSE", "THIRD-PARTY-NOTICES.md", "resources/licenses/LGPL-3.0.txt"):
        assert needed in names, f"{needed} missing from {sdist.name}"
    with zipfile.ZipFile(wheel) as zf:
        wnames = set(zf.namelist())
        metadata = zf.read(f"gd_studio-{VERSION}.dist-info/METADATA").decode()
    dist_info = f"gd_studio-{VERSION}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in wnames and f"{dist_info}/licenses/THIRD-PARTY-NOTICES.md" in wnames
    assert "gd_studio/resources/licenses/LGPL-3.0.txt" in wnames
    assert "License-Expression: MIT" in metadata and "Project-URL: Source, " in metadata
    check = subprocess.run([twine, "check", "--strict", str(sdist), str(wheel)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_tarball_is_xz_reproducible_and_carries_licences_metainfo_and_man_page(tmp_path, monkeypatch):
    """build.make_tarball on a stand-in folder build: the real code path, without PyInstaller."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    folder = tmp_path / "gd-studio"
    (folder / "_internal").mkdir(parents=True)
    (folder / "gd-studio").write_bytes(b"#!/bin/sh\n")
    (folder / "gd-studio").chmod(0o755)
    (folder / "_internal" / "lib.so").write_bytes(os.urandom(1000) * 50)
    build.add_notices(folder)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        out.mkdir()
        outs.append(build.make_tarball(folder, out, tmp_path / f"work-{run}"))
    assert outs[0].name.endswith("-linux-" + appinfo.machine() + ".tar.xz")
    assert outs[0].read_bytes() == outs[1].read_bytes(), "same input, same tarball"
    assert outs[0].read_bytes()[:6] == b"\xfd7zXZ\x00"
    with tarfile.open(outs[0]) as tar:
        names = set(tar.getnames())
        top = appinfo.artefact_stem("linux")
        for needed in ("gd-studio", "LICENSE", "THIRD-PARTY-NOTICES.md", "install-desktop-entry.sh",
                       f"share/metainfo/{build.metainfo_name()}", "share/man/man1/gd-studio.1.gz",
                       "share/applications/gd-studio.desktop"):
            assert f"{top}/{needed}" in names, needed
        if os.name == "posix":  # Windows has no executable bit to carry over
            assert tar.getmember(f"{top}/gd-studio").mode & 0o111
