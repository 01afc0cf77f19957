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
