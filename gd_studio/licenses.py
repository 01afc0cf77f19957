"""GD Studio's licence, the third-party notices and the licence texts of bundled components, wherever they ship."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ._resources import resources_path

_CHECKOUT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("LICENSE", "THIRD-PARTY-NOTICES.md")
# Distributions whose licence files a build carries (PyInstaller copies their metadata).
COMPONENTS = (("NumPy", "numpy"), ("pyqtgraph", "pyqtgraph"), ("PySide6", "PySide6-Essentials"),
              ("Shiboken6", "shiboken6"))


@dataclass(frozen=True)
class Licence:
    component: str
    version: str
    name: str      # file name, e.g. LICENSE.txt
    text: str


def _is_licence_file(f) -> bool:
    """A file in a dist-info's licenses/ folder (metadata 2.4), or a LICENSE*/COPYING* file at its top."""
    if not f.parts or not f.parts[0].endswith(".dist-info"):
        return False
    if len(f.parts) > 2 and f.parts[1] == "licenses":
        return True
    return len(f.parts) == 2 and f.name.upper().startswith(("LICENSE", "LICENCE", "COPYING", "THIRD-PARTY"))


def _from_metadata(dist_name: str, filename: str) -> str | None:
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.name == filename and _is_licence_file(f):
            try:
                return f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return None


def project_text(filename: str) -> str:
    """LICENSE or THIRD-PARTY-NOTICES.md: from the checkout when running from one, else the installed
    distribution's metadata (wheel and frozen build). Raises FileNotFoundError naming where it looked."""
    if filename not in PROJECT_FILES:
        raise ValueError(filename)
    checkout = _CHECKOUT / filename
    if (_CHECKOUT / "pyproject.toml").is_file() and checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    text = _from_metadata("gd-studio", filename)
    if text is not None:
        return text
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        for path in sorted(Path(frozen).glob(f"gd_studio-*.dist-info/licenses/{filename}")):
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"{filename} not found in {_CHECKOUT} or the gd-studio package metadata")


def bundled_texts() -> list[Licence]:
    """Full licence texts: LGPL-3.0/GPL-3.0 (Qt, PySide6), each component's own files, and Python's."""
    out: list[Licence] = []
    for name in ("LGPL-3.0.txt", "GPL-3.0.txt"):
        try:
            out.append(Licence("Qt and PySide6", "", name, resources_path("licenses", name).read_text(encoding="utf-8")))
        except OSError:
            pass
    for label, dist_name in COMPONENTS:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            continue
        for f in dist.files or ():
            if _is_licence_file(f):
                name = "/".join(f.parts[2:]) if f.parts[1:2] == ("licenses",) else f.name
                try:
                    out.append(Licence(label, dist.version, name, f.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError):
                    continue
    python = python_licence()
    if python is not None:
        out.append(python)
    return out


def python_licence() -> Licence | None:
    """The running interpreter's LICENSE.txt (a frozen build carries the one of the Python it was built with)."""
    import sysconfig

    version = ".".join(map(str, sys.version_info[:3]))
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates += sorted(Path(frozen).glob("gd_studio-*.dist-info/licenses/Python-LICENSE.txt"))
    else:
        candidates += [Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt", Path(sys.base_prefix) / "LICENSE.txt"]
    for path in candidates:
        try:
            return Licence("Python", version, "LICENSE.txt", path.read_text(encoding="utf-8"))
        except OSError:
            continue
    return None
