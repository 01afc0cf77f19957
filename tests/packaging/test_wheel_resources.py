"""The wheel carries resources/, and an installed (not editable) copy finds a bundled dataset on its own.

How the check stays fast and offline:

* The wheel is built from a copy of the sources (top-level files, gd_studio/, resources/) so the
  checkout gets no build/ or *.egg-info, and a stale build/lib cannot leak old files into the wheel.
  It is built without build isolation when the running environment has a setuptools that can build
  wheels by itself (≥ 70.1, or older with the ``wheel`` package); otherwise pip builds it in an
  isolated environment, which needs the package index.
* The wheel is installed with ``pip --python`` (``--no-deps``) into a fresh virtual environment made
  without pip. That environment has no numpy, so a ``.pth`` file adds the directory numpy lives in to
  the end of its ``sys.path``. Paths from a ``.pth`` line come after the environment's own
  site-packages, so ``import gd_studio`` still gets the installed wheel even if the outer environment
  has GD Studio too; the test asserts exactly that, from a working directory outside the checkout and
  with ``python -I`` (no PYTHONPATH, no user site, no current directory on the path).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BUNDLED = ("iris.csv", "digits.csv.gz", "README.md")

CHECK = r"""
import json, sysconfig
import gd_studio
from gd_studio.engine import datasets
iris = datasets.make("iris")
digits = datasets.make("digits")
print(json.dumps({
    "package": gd_studio.__file__,
    "datasets_module": datasets.__file__,
    "iris_file": str(gd_studio.resources_path("datasets", "iris.csv")),
    "purelib": sysconfig.get_paths()["purelib"],
    "version": gd_studio.__version__,
    "iris": [iris.n_samples, iris.n_features, iris.class_counts().tolist(), list(iris.class_names)],
    "digits": [digits.n_samples, digits.n_features, digits.n_classes],
}))
"""


def _run(cmd: list[str], *, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({result.returncode})\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )
    return result


def _copy_sources(dst: Path) -> None:
    dst.mkdir()
    for item in REPO.iterdir():
        if item.is_file():
            shutil.copy2(item, dst / item.name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in ("gd_studio", "resources"):
        shutil.copytree(REPO / folder, dst / folder, ignore=ignore)


def _can_build_without_isolation() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    version = tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())
    if version >= (70, 1):  # bdist_wheel moved into setuptools
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return version >= (68, 0)


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def test_installed_wheel_loads_bundled_datasets(tmp_path):
    source = tmp_path / "src"
    _copy_sources(source)

    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(wheels), "-q"]
    if _can_build_without_isolation():
        build.append("--no-build-isolation")
    _run(build, cwd=tmp_path, timeout=180)
    (wheel,) = wheels.glob("gd_studio-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for filename in BUNDLED:
        assert f"gd_studio/resources/datasets/{filename}" in names, f"{filename} missing from {wheel.name}"
    assert "gd_studio/engine/datasets.py" in names
    assert not any(n.startswith("resources/") for n in names), "resources/ must ship inside gd_studio/"

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = _venv_python(venv)
    purelib = Path(_run([str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp_path).stdout.strip())
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
          str(wheel)], cwd=tmp_path)

    import numpy

    numpy_home = Path(numpy.__file__).resolve().parent.parent
    (purelib / "zz_outer_numpy.pth").write_text(f"{numpy_home}\n", encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    report = json.loads(_run([str(python), "-I", "-c", CHECK], cwd=elsewhere).stdout.strip().splitlines()[-1])

    site = Path(report["purelib"]).resolve()
    assert site == purelib.resolve()
    for key in ("package", "datasets_module", "iris_file"):
        found = Path(report[key]).resolve()
        assert found.is_relative_to(site), f"{key} resolved to {found}, not inside {site}"
        assert not found.is_relative_to(REPO), f"{key} came from the checkout: {found}"
    assert Path(report["iris_file"]).resolve() == site / "gd_studio" / "resources" / "datasets" / "iris.csv"
    assert report["iris"] == [150, 4, [50, 50, 50], ["setosa", "versicolor", "virginica"]]
    assert report["digits"] == [1797, 64, 10]
    assert report["version"] == wheel.name.split("-")[1]
