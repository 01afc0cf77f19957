"""The layering written in pyproject's import-linter contracts holds (engine and live without Qt, and so on)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
lint = pytest.importorskip("importlinter.cli", reason="import-linter is in the test extra")


def test_the_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(ROOT)  # the contracts name gd_studio: analyse this checkout
    assert lint.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_a_broken_contract_is_reported(monkeypatch, tmp_path):
    """The check can fail: the window does import the engine, so forbidding it must be reported."""
    cfg = tmp_path / "contracts.toml"
    cfg.write_text('[tool.importlinter]\nroot_packages = ["gd_studio"]\n\n[[tool.importlinter.contracts]]\n'
                   'name = "ui without engine (false)"\ntype = "forbidden"\n'
                   'source_modules = ["gd_studio.ui.main_window"]\nforbidden_modules = ["gd_studio.engine"]\n')
    monkeypatch.chdir(ROOT)
    assert lint.lint_imports(config_filename=str(cfg), no_cache=True) == 1


# ---------------------------------------------------------------------------------------------------------------
# the window's code, read as source: no unused imports, no reaching into other objects' private attributes
import ast  # noqa: E402

UI = ROOT / "gd_studio" / "ui"


def unused_imports(source: str) -> list[str]:
    """Names a module imports and never uses (``__all__`` and ``__init__`` re-exports aside)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imported: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and "noqa" not in lines[node.lineno - 1]:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                imported.setdefault(name, node.lineno)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for node in ast.walk(tree):  # __all__ = [...] re-exports
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            used |= {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
    return [f"line {line}: {name}" for name, line in imported.items() if name not in used]


def test_the_unused_import_check_can_fail():
    assert unused_imports("from .compare import POLICIES, validation_lrs\nprint(POLICIES)\n") == [
        "line 1: validation_lrs"]
    assert unused_imports("import os.path\nos.path.join('a')\n") == []


@pytest.mark.parametrize("path", sorted(p for p in UI.rglob("*.py") if p.name != "__init__.py"),
                         ids=lambda p: str(p.relative_to(UI)))
def test_window_modules_import_nothing_they_do_not_use(path):
    assert unused_imports(path.read_text(encoding="utf-8")) == []
