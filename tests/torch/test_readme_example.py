"""The README's "Your own PyTorch model" example runs as written (so it cannot rot)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("torch", reason='PyTorch is not installed (pip install "gd-studio[torch]")')

from gd_studio.engine import rangefile  # noqa: E402

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Your own PyTorch model", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_and_writes_a_file_that_opens(tmp_path, monkeypatch, capsys):
    code = example()
    assert len(code.strip().splitlines()) <= 13
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    printed = capsys.readouterr().out
    assert "×/÷" in printed and "median of 3 runs" in printed
    record = rangefile.load(tmp_path / "digits.gdrange")
    assert record.repeat is not None and record.suggestions["steepest"] is not None
    assert record.meta["model"].startswith("Sequential:")
