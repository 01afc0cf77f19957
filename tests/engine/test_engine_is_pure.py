"""The engine is a library for scripts and the command line: it must import no Qt and no pyqtgraph."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import gd_studio.engine

ENGINE_MODULES = sorted(f"gd_studio.engine.{m.name}" for m in pkgutil.iter_modules(gd_studio.engine.__path__))

# Qt and pyqtgraph are made unimportable, so an engine import of either fails loudly here.
_PROBE = """
import importlib, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'):
            raise ImportError('engine must not import ' + name)
sys.meta_path.insert(0, Block())
for name in sys.argv[1:]:
    importlib.import_module(name)
import gd_studio.cli
print('ok', len(sys.argv) - 1)
"""


def test_engine_modules_import_without_qt():
    assert "gd_studio.engine.models" in ENGINE_MODULES and len(ENGINE_MODULES) >= 10
    done = subprocess.run([sys.executable, "-c", _PROBE, *ENGINE_MODULES], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ok {len(ENGINE_MODULES)}"


def test_headless_cli_runs_without_qt():
    probe = _PROBE.replace("import gd_studio.cli\nprint('ok', len(sys.argv) - 1)",
                           "from gd_studio.cli import main\nsys.exit(main(['train', '--steps', '5']))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "steps       5" in done.stdout
