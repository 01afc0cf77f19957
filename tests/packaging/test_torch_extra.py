"""PyTorch is an optional extra: the core never imports it, and without it gd_studio.torch says how to get it."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# torch is made unimportable (whether or not it is installed), as on a machine without the extra.
_BLOCK = """
import importlib, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'torch':
            raise ImportError("No module named 'torch'")
sys.meta_path.insert(0, Block())
"""


def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _BLOCK + code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def test_without_torch_the_import_error_says_what_to_install(tmp_path):
    done = _run("import gd_studio.torch", tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: gd_studio.torch needs PyTorch") and 'pip install "gd-studio[torch]"' in last


def test_the_core_files_and_cli_work_without_torch(tmp_path):
    path = tmp_path / "run.gdrange"
    code = f"""
import pkgutil, importlib, gd_studio.engine
for m in pkgutil.iter_modules(gd_studio.engine.__path__):
    importlib.import_module('gd_studio.engine.' + m.name)
from gd_studio.engine import rangefile
from gd_studio.cli import main
import numpy as np
lrs = np.geomspace(1e-4, 1, 40)
rangefile.from_curve(lrs, 2 - np.tanh(np.log10(lrs) + 2) + 0.01 * np.sin(7 * np.arange(40))).save({str(path)!r})
code = main(['suggest', {str(path)!r}])
assert 'torch' not in sys.modules
sys.exit(code)
"""
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "steepest" in done.stdout


def test_the_extra_and_the_package_are_declared_and_kept_out_of_frozen_builds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(spec.replace(" ", "").startswith("torch>=") for spec in project["project"]["optional-dependencies"]["torch"])
    assert "gd_studio.torch" in project["tool"]["setuptools"]["packages"]
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import qtfilter
    finally:
        sys.path.pop(0)
    assert {"torch", "gd_studio.torch"} <= set(qtfilter.EXCLUDED_MODULES)
