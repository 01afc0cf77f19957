"""One resolver for bundled resources (datasets, icons, scenarios) in a checkout, a wheel or a frozen build."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _candidates() -> list[Path]:
    found = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:  # PyInstaller puts data files under the bundle's root
        found.append(Path(frozen_root) / "gd_studio" / "resources")
        found.append(Path(frozen_root) / "resources")
    found.append(_PACKAGE_DIR / "resources")  # installed wheel: package-dir maps resources/ here
    found.append(_PACKAGE_DIR.parent / "resources")  # source checkout
    return found


@lru_cache(maxsize=1)
def _root() -> Path:
    for candidate in _candidates():
        if (candidate / "datasets").is_dir():
            return candidate
    searched = ", ".join(str(c) for c in _candidates())
    raise FileNotFoundError(f"GD Studio resources not found; looked in: {searched}")


def resources_path(*parts: str) -> Path:
    """Path of a bundled resource, e.g. ``resources_path("datasets", "iris.csv")``."""
    return _root().joinpath(*parts)
