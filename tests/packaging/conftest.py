"""Packaging test helpers: a validator that CI installs must be there under CI=true (fail), else the test skips."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def need_tool(name: str) -> str:
    """Path of command ``name`` (looked up beside this Python too, for tools pip installed into the venv).

    Missing: under CI=true on Linux the test fails (.ci/run and the workflow's Linux job install every one of
    them, so a missing tool is a CI bug, not a reason to pass quietly); elsewhere (a developer's machine, the
    Windows and macOS jobs, which have no use for Linux validators) it skips with the reason.
    """
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    message = f"{name} is not installed (.ci/run installs it)"
    if os.environ.get("CI", "").lower() == "true" and sys.platform.startswith("linux"):
        pytest.fail(message + "; CI=true, so this is a failure, not a skip")
    pytest.skip(message)


def need_module(name: str):
    """Import ``name`` with the same rule as :func:`need_tool` (fail under CI=true on Linux, else skip)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        message = f"Python module {name} is not installed (.ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true" and sys.platform.startswith("linux"):
            pytest.fail(message + "; CI=true, so this is a failure, not a skip")
        pytest.skip(message)


@pytest.fixture
def module():
    """``module("trove_classifiers")`` -> the module, by the same rule as ``tool``."""
    return need_module


@pytest.fixture
def tool():
    """``tool("appstreamcli")`` -> its path, failing under CI=true and skipping elsewhere when missing."""
    return need_tool
