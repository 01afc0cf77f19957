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


# features get a FeatureContext (ui/context.py), not the window, and reach into no other object's private names
FEATURES = sorted((UI / "features").glob("*.py")) + [UI / "record_dialog.py", UI / "keys.py", UI / "presentation.py"]
# these two are about the window itself, and say why where they take it: the key router guards a top-level
# window's keyboard, presentation mode restyles and re-lays out the whole window
TAKE_THE_WINDOW = {"keys.py", "presentation.py"}


def private_reaches(source: str) -> list[str]:
    """``x._name`` where x is not an object of this module: another object's private attribute (a window's, a
    view's, another module's function). Its own are self, cls, and names this module binds to its own classes (a
    parameter annotated with one, a variable assigned one's instance)."""
    tree = ast.parse(source)
    own_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    own = {"self", "cls"}
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and isinstance(node.annotation, (ast.Name, ast.Constant)):
            ann = node.annotation.id if isinstance(node.annotation, ast.Name) else node.annotation.value
            if ann in own_classes:
                own.add(node.arg)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Name) and node.value.func.id in own_classes:
            own |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in own):
                out.append(f"line {node.lineno}: {ast.unparse(node)}")
    return out


def install_parameters(source: str) -> list[str]:
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "install":
            return [a.arg for a in node.args.args]
    return []


def test_the_private_reach_check_can_fail():
    assert private_reaches("def install(window):\n    window._closing = True\n    self._x = 1\n") == [
        "line 2: window._closing"]
    assert private_reaches("self.lr_view._declutter()") == ["line 1: self.lr_view._declutter"]
    assert private_reaches("th._rescale_item(x)") == ["line 1: th._rescale_item"]
    own = "class P:\n    pass\ndef f(p: P, q):\n    p._saved = q._saved\n    r = P()\n    r._x = 1\n"
    assert private_reaches(own) == ["line 4: q._saved"]


@pytest.mark.parametrize("path", FEATURES, ids=lambda p: str(p.relative_to(UI)))
def test_features_reach_no_private_names(path):
    assert private_reaches(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", FEATURES, ids=lambda p: str(p.relative_to(UI)))
def test_features_are_installed_with_a_context_not_the_window(path):
    params = install_parameters(path.read_text(encoding="utf-8"))
    if not params:
        pytest.skip("no install(): a library of widgets the features use")
    if path.name in TAKE_THE_WINDOW:
        assert "window" in params
    else:
        assert params[0] == "ctx" and "window" not in params and "w" not in params, params
