"""`gd-studio FILE` (a bare file argument, as Finder, Explorer and desktop files pass it) and --help's shape."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gd_studio import cli

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = sorted((ROOT / "resources" / "scenarios").glob("*.gdscenario"))[0]


@pytest.fixture
def opened(monkeypatch):
    """Stands in for the window: records what _open_window would open."""
    calls = []

    def fake_open(args):
        calls.append({"scenario": args.scenario, "presentation": args.presentation, "files": list(args.open_files)})
        return 0

    monkeypatch.setattr(cli, "_open_window", fake_open)
    return calls


def test_a_bare_scenario_opens_the_window_with_it(opened):
    # before issue 16 this was "invalid choice" and exit 2
    assert cli.main([str(SCENARIO)]) == 0
    assert opened == [{"scenario": str(SCENARIO), "presentation": False, "files": []}]


def test_a_bare_file_works_with_window_options_on_either_side(opened):
    assert cli.main(["--presentation", str(SCENARIO)]) == 0
    assert cli.main([str(SCENARIO), "--presentation"]) == 0
    assert cli.main(["--steps", "3", "--", str(SCENARIO)]) == 0
    assert [c["scenario"] for c in opened] == [str(SCENARIO)] * 3
    assert opened[0]["presentation"] and opened[1]["presentation"]


def test_the_extension_is_matched_without_regard_to_case(opened, tmp_path):
    upper = tmp_path / "LECTURE.GDSCENARIO"
    upper.write_bytes(SCENARIO.read_bytes())
    assert cli.main([str(upper)]) == 0
    assert opened[0]["scenario"] == str(upper)


@pytest.mark.parametrize("argv, words", [
    (["notes.txt"], "neither a command"),
    (["rangetest"], "range-test, train, suggest"),
    (["missing.gdscenario"], "no such file"),
])
def test_files_it_cannot_open_are_one_line_errors(argv, words, opened, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and err.startswith("gd-studio: error:")
    assert opened == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_named_like_a_scenario_is_called_a_fifo_not_missing(opened, capsys, tmp_path):
    fifo = tmp_path / "lecture.gdscenario"
    os.mkfifo(fifo)
    assert cli.main([str(fifo)]) == 2
    err = capsys.readouterr().err
    assert "named pipe (FIFO), not a regular file" in err and "no such file" not in err
    assert opened == []


def test_a_file_with_a_command_or_with_scenario_is_refused(opened, capsys):
    assert cli.main([str(SCENARIO), "train"]) == 2
    assert "cannot go with 'train'" in capsys.readouterr().err
    assert cli.main(["--scenario", str(SCENARIO), str(SCENARIO)]) == 2
    assert "not both" in capsys.readouterr().err
    assert opened == []


def test_commands_still_parse_as_commands():
    parser = cli.build_parser()
    argv, found = cli.split_file_argument(parser, ["--scenario", "a.gdscenario", "range-test", "--iters", "5"])
    assert found is None and argv[2] == "range-test"
    argv, found = cli.split_file_argument(parser, ["--size", "800x600", "x.gdscenario"])
    assert found == "x.gdscenario" and argv == ["--size", "800x600"]
    argv, found = cli.split_file_argument(parser, ["--scen", "a.gdscenario"])  # argparse's abbreviations
    assert found is None


def test_other_file_kinds_open_once_the_window_exists(opened, monkeypatch, tmp_path):
    """A later type (e.g. a saved range test) needs only a file_types entry and an opener: the CLI routes it."""
    from gd_studio import file_types

    kinds = file_types.file_types() + (file_types.FileType("range", ".gdrange", "GD Studio range test", "x/y"),)
    monkeypatch.setattr(file_types, "file_types", lambda: kinds)
    saved = tmp_path / "run.gdrange"
    saved.write_text("{}")
    assert cli.main([str(saved)]) == 0
    assert opened == [{"scenario": None, "presentation": False, "files": [str(saved)]}]


def test_help_shows_defaults_and_examples_for_every_command():
    parser = cli.build_parser()
    top = parser.format_help()
    assert "[FILE]" in top and "examples:" in top and "gd-studio lecture.gdscenario" in top
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in sub.choices.items():
        text = subparser.format_help()
        assert text.startswith(f"usage: gd-studio {name} "), text[:80]
        assert "examples:" in text and f"gd-studio {name}" in text.split("examples:")[1]
        assert "(default: None)" not in text and "(default: False)" not in text
    rt = sub.choices["range-test"].format_help()
    for shown in ("(default: 100)", "(default: 1e-07)", "(default: moons)", "(default: 16)", "(default: 32)"):
        assert shown in rt, shown
    assert "(default: 500)" in sub.choices["train"].format_help()


def test_windowed_launcher_passes_its_arguments(monkeypatch, opened):
    monkeypatch.setattr(sys, "argv", ["gd-studio-gui", str(SCENARIO)])
    assert cli.main_gui() == 0
    assert opened[0]["scenario"] == str(SCENARIO)


def test_no_display_is_one_line_not_a_qt_abort(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT)
    env["GD_STUDIO_SETTINGS"] = str(tmp_path / "s.ini")
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is Linux's (macOS and Windows always have a screen)")
    proc = subprocess.run([sys.executable, "-m", "gd_studio", str(SCENARIO)], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "gd-studio: error: " + __import__("gd_studio.preflight").preflight.NO_DISPLAY]
