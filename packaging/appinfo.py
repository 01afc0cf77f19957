"""Names, version and file type shared by the spec, build.py, the installer templates and their tests."""
from __future__ import annotations

import ast
import platform
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - build machines run 3.11+, but keep the error readable
    tomllib = None

PACKAGING_DIR = Path(__file__).resolve().parent
ROOT = PACKAGING_DIR.parent

APP_NAME = "GD Studio"
EXE_NAME = "gd-studio"            # executable, .deb package, icon and desktop-file name
BUNDLE_ID = "org.gdstudio.GDStudio"
PUBLISHER = "GD Studio developers"
# No public address exists yet; .invalid marks the placeholder (set it before publishing a .deb).
MAINTAINER = "GD Studio developers <maintainers@gd-studio.invalid>"
SUMMARY = "Explore learning rates with live gradient descent and the LR range test"
# Inno Setup identifies the installed app by this GUID across upgrades: never change it.
WINDOWS_APP_ID = "{6B0E3C52-7D1A-4F53-9C0B-5E2F1D7A8C41}"
DEFAULT_SCENARIO_EXTENSION = ".gdscenario"
MIME_TYPE = "application/x-gd-studio-scenario"
SCENARIO_UTI = "org.gdstudio.scenario"
SCENARIO_DESCRIPTION = "GD Studio scenario"
# A saved LR range test (gd_studio/engine/rangefile.py): the window opens it like a scenario (gd_studio/file_types.py).
DEFAULT_RANGE_EXTENSION = ".gdrange"
RANGE_MIME_TYPE = "application/x-gd-studio-range-test"
RANGE_UTI = "org.gdstudio.rangetest"
RANGE_DESCRIPTION = "GD Studio range test"


def _pyproject() -> dict:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if tomllib is None:
        raise SystemExit("packaging needs Python 3.11+ (tomllib) to read pyproject.toml")
    return tomllib.loads(text)


def urls() -> dict[str, str]:
    """[project.urls] from pyproject.toml: the one place the project's addresses are written."""
    return dict(_pyproject()["project"].get("urls", {}))


def releases() -> list[tuple[str, str]]:
    """(version, date) of every dated release in CHANGELOG.md, newest first."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## \[(\d[^\]]*)\] - (\d{4}-\d\d-\d\d)", text, re.MULTILINE)


def version() -> str:
    """The one version number, from pyproject.toml."""
    return str(_pyproject()["project"]["version"])


def _string_constant(module: str, name: str) -> str | None:
    """A module-level string constant of gd_studio/engine/<module>.py, read without importing it (no NumPy)."""
    path = ROOT / "gd_studio" / "engine" / f"{module}.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == name:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value
    return None


def _extension(module: str, name: str, default: str) -> str:
    ext = _string_constant(module, name) or default
    return ext if ext.startswith(".") else "." + ext


def scenario_extension() -> str:
    """``EXTENSION`` from gd_studio/engine/scenarios.py; the default if it cannot be read."""
    return _extension("scenarios", "EXTENSION", DEFAULT_SCENARIO_EXTENSION)


def range_extension() -> str:
    """``SUFFIX`` from gd_studio/engine/rangefile.py; the default if it cannot be read."""
    return _extension("rangefile", "SUFFIX", DEFAULT_RANGE_EXTENSION)


def machine() -> str:
    """Architecture tag for artefact names: x86_64, arm64, …"""
    m = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(m, m or "unknown")


def deb_arch() -> str:
    return {"x86_64": "amd64", "arm64": "arm64", "i686": "i386", "armv7l": "armhf"}.get(machine(), machine())


def artefact_stem(os_tag: str) -> str:
    """e.g. gd-studio-0.1.0-linux-x86_64"""
    return f"{EXE_NAME}-{version()}-{os_tag}-{machine()}"


def numeric_version(v: str | None = None) -> str:
    """Four dotted integers for Windows version resources and CFBundleVersion-like fields."""
    parts = [int(x) for x in re.findall(r"\d+", v or version())[:4]]
    return ".".join(str(x) for x in (parts + [0, 0, 0, 0])[:4])


def substitutions() -> dict[str, str]:
    ext = scenario_extension()
    return {
        "APP_NAME": APP_NAME,
        "EXE_NAME": EXE_NAME,
        "VERSION": version(),
        "NUMERIC_VERSION": numeric_version(),
        "SHORT_VERSION": ".".join(numeric_version().split(".")[:3]),
        "BUNDLE_ID": BUNDLE_ID,
        "PUBLISHER": PUBLISHER,
        "MAINTAINER": MAINTAINER,
        "SUMMARY": SUMMARY,
        "WINDOWS_APP_ID": WINDOWS_APP_ID,
        "SCENARIO_EXT": ext,                 # ".gdscenario"
        "SCENARIO_EXT_BARE": ext.lstrip("."),  # "gdscenario"
        "MIME_TYPE": MIME_TYPE,
        "SCENARIO_UTI": SCENARIO_UTI,
        "SCENARIO_DESCRIPTION": SCENARIO_DESCRIPTION,
        "RANGE_EXT": range_extension(),
        "RANGE_EXT_BARE": range_extension().lstrip("."),
        "RANGE_MIME_TYPE": RANGE_MIME_TYPE,
        "RANGE_UTI": RANGE_UTI,
        "RANGE_DESCRIPTION": RANGE_DESCRIPTION,
        "DEB_ARCH": deb_arch(),
        "HOMEPAGE_URL": urls().get("Homepage", ""),
        "ISSUES_URL": urls().get("Issues", ""),
        "SOURCE_URL": urls().get("Source", ""),
        "METAINFO_ID": BUNDLE_ID,
        "RELEASES": "\n".join(f'    <release version="{v}" date="{d}"/>' for v, d in releases()),
    }


_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def render(text: str, extra: dict[str, str] | None = None) -> str:
    """Replace @NAME@ placeholders; an unknown placeholder is an error, not a silent leftover."""
    values = substitutions()
    values.update(extra or {})

    def sub(match: re.Match) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"unknown placeholder @{key}@")
        return str(values[key])

    return _PLACEHOLDER.sub(sub, text)


def render_file(name: str, extra: dict[str, str] | None = None) -> str:
    """Render a template under packaging/, e.g. ``render_file("linux/gd-studio.desktop.in")``."""
    return render((PACKAGING_DIR / name).read_text(encoding="utf-8"), extra)
