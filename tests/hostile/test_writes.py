"""Every writer writes through symlinks to their target and refuses folders, devices and FIFOs."""
from __future__ import annotations

import contextlib
import io
import os
import stat

import pytest

from gd_studio.cli import main
from gd_studio.engine import datasets, fileio, scenarios
from gd_studio.engine.config import RunConfig

from hostile_corpus import ROOT, limited_run


def _scenario():
    return scenarios.Scenario(title="t", config=RunConfig(dataset="moons", dataset_params={"n_samples": 40}))


def _save_scenario(path):
    scenarios.save(_scenario(), path)


def _save_csv(path):
    datasets.save_csv(datasets.make("blobs", n_samples=10), path)


def _cli(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    if code != 0:
        raise fileio.FileAccessError(err.getvalue())


def _cli_json(path):
    _cli(["train", "--dataset", "line", "--model", "one_weight", "--steps", "3", "--json", str(path)])


def _cli_csv(path):
    _cli(["range-test", "--dataset", "blobs", "--samples", "60", "--iters", "10", "--csv", str(path)])


def _export(path):
    from gd_studio.ui import export  # Qt imported, no window needed

    export.write_csv(path, {"a": [1.0, 2.0]})


WRITERS = [_save_scenario, _save_csv, _cli_json, _cli_csv, _export]


@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
def test_a_symlink_is_written_through_and_keeps_pointing_at_its_target(tmp_path, write, capsys):
    real = tmp_path / "real" / "file.out"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.out"
    link.symlink_to(real)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() != "old" and len(real.read_text()) > 3
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the file keeps its permissions
    assert sorted(p.name for p in real.parent.iterdir()) == ["file.out"]  # no temp file left
    capsys.readouterr()


def _fifo(tmp_path):
    path = tmp_path / "pipe.out"
    os.mkfifo(path)
    return path


def _device(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    path = tmp_path / "null.out"  # a private /dev/null: if it were replaced, nothing else would notice
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


def _link_to_fifo(tmp_path):
    target = _fifo(tmp_path)
    link = tmp_path / "link.out"
    link.symlink_to(target)
    return link


@pytest.mark.parametrize("make", [_fifo, _device, _link_to_fifo], ids=lambda m: m.__name__.strip("_"))
@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
def test_devices_and_fifos_are_refused_not_replaced(tmp_path, write, make, capsys):
    path = make(tmp_path)
    before = os.stat(path)
    try:
        write(path)
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        from gd_studio.engine.errors import GDStudioError

        assert isinstance(exc, GDStudioError), repr(exc)
        assert "not a regular file" in str(exc) and str(path) in str(exc)
    else:
        err = capsys.readouterr().err  # the command line returns 2 and prints the message
        raise AssertionError(f"no error; stderr: {err}")
    after = os.stat(path)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_cli_write_errors_are_one_line(tmp_path, capsys):
    path = _fifo(tmp_path)
    assert main(["train", "--dataset", "line", "--model", "one_weight", "--steps", "3", "--json", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"cannot write {path}: it is a named pipe (FIFO), not a regular file" in lines[0]


def test_screenshot_refuses_a_device_and_says_nothing_else(tmp_path):
    out = _device(tmp_path)
    scene = ROOT / "resources" / "scenarios" / "01-a-good-learning-rate.gdscenario"
    done = limited_run(["--scenario", str(scene), "--screenshot", str(out)], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot write {out}: it is a device" in lines[0], done.stderr
    assert stat.S_ISCHR(os.stat(out).st_mode)


def test_screenshot_writes_through_a_symlink_with_a_quiet_stderr(tmp_path):
    real = tmp_path / "shots" / "a.png"
    real.parent.mkdir()
    link = tmp_path / "a.png"
    link.symlink_to(real)
    scene = ROOT / "resources" / "scenarios" / "01-a-good-learning-rate.gdscenario"
    done = limited_run(["--scenario", str(scene), "--screenshot", str(link), "--size", "800x600"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "This plugin does not support propagateSizeHints()"
    assert link.is_symlink() and real.read_bytes().startswith(b"\x89PNG")
