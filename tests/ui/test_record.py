"""Recording scenarios: frames match screenshots, replays are identical, views, range test, cancel, CLI, dialog."""
from __future__ import annotations

import gc
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gd_studio import media
from gd_studio.ui.app import render_screenshot
from gd_studio.ui.record import RecordCancelled, RecordError, RecordSettings, frames, parse_views, record

ROOT = Path(__file__).resolve().parents[2]
SCENES = ROOT / "resources" / "scenarios"
OVERSHOOT = next(SCENES.glob("03-*.gdscenario"))
RANGE_TEST = next(SCENES.glob("05-*.gdscenario"))
SMALL = (320, 240)


def png(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def gif_frames(path) -> list[np.ndarray]:
    out = []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB")))
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def short_range_test(tmp_path):
    """The bundled range-test scenario with 8 steps instead of 100 (the test stays fast)."""
    data = json.loads(RANGE_TEST.read_text(encoding="utf-8"))
    data["range_test"]["num_iter"] = 8
    path = tmp_path / "rt.gdscenario"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_png_frames_match_screenshots_of_the_same_steps(qapp, app_look_restored, tmp_path):
    out = tmp_path / "frames"
    result = record(str(out) + "/", RecordSettings(steps=4, size=SMALL), scenario_path=OVERSHOOT)
    assert result.frames == 5 and result.size == SMALL and result.last_step == 4
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{i:05d}.png" for i in range(5)]
    for step, name in ((0, names[0]), (4, names[-1])):
        shot = tmp_path / f"shot{step}.png"
        render_screenshot(OVERSHOOT, shot, steps=step, size=SMALL)
        np.testing.assert_array_equal(png(out / name), png(shot))
    assert not np.array_equal(png(out / names[0]), png(out / names[-1]))  # the run moved
    # from step 2 to 4 (the dialog's "from step"): the same pictures as those steps of the whole recording
    part = tmp_path / "part"
    result = record(part, RecordSettings(steps=2, start_step=2, size=SMALL), scenario_path=OVERSHOOT, fmt="png")
    assert result.frames == 3 and result.last_step == 4
    for i in range(3):
        np.testing.assert_array_equal(png(part / f"frame_{i:05d}.png"), png(out / names[2 + i]))
    assert leftovers(tmp_path) == []


def test_two_renders_give_identical_frames_and_gif_bytes(qapp, app_look_restored, tmp_path):
    settings = RecordSettings(steps=5, size=SMALL, views=("weight", "step"))
    hashes = []
    for name in ("a.gif", "b.gif"):
        result = record(tmp_path / name, settings, scenario_path=OVERSHOOT)
        assert result.frames == 6
        hashes.append([hashlib.sha256(f.tobytes()).hexdigest() for f in gif_frames(tmp_path / name)])
    assert hashes[0] == hashes[1] and len(set(hashes[0])) == 6
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


def test_views_record_only_those_plots_at_the_size_asked(qapp, app_look_restored, tmp_path):
    from gd_studio.engine import scenarios
    from gd_studio.ui.offscreen import scenario_window

    with scenario_window(OVERSHOOT, size=SMALL) as sw:
        from gd_studio.ui.record import RecordResult, frame_target

        target = frame_target(sw, ("weight",), SMALL)
        assert target.findChild(type(target), "lossVsWeightPlot") is not None or \
            target.findChildren(object, "lossVsWeightPlot")
        assert not target.findChildren(object, "lossVsStepPlot") and not target.findChildren(object, "dataPlot")
        result = RecordResult(path=tmp_path, frames=0, size=(0, 0), last_step=0)
        got = [f.copy() for f in frames(sw, RecordSettings(steps=2, size=SMALL, views=("weight",)), result)]
    assert len(got) == 3 and all(f.shape == (240, 320, 3) for f in got)
    assert scenarios.load(OVERSHOOT).steps > 2
    with pytest.raises(RecordError, match="unknown view 'loss'"):
        parse_views("weight,loss")
    assert parse_views("loss_vs_step, weight,step") == ("step", "weight")


def test_mp4_of_a_scenario_decodes_with_one_frame_per_step(qapp, app_look_restored, tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "run.mp4"
    result = record(out, RecordSettings(steps=3, fps=25, size=SMALL, hold=0.2), scenario_path=OVERSHOOT)
    assert result.frames == 4 + 5  # steps 0..3, then the last one held 0.2 s at 25 fps
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert (s.width, s.height) == SMALL and s.codec_context.pix_fmt == "yuv420p"
        decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(decoded) == 9
    shot = tmp_path / "shot.png"
    render_screenshot(OVERSHOOT, shot, steps=3, size=SMALL)
    assert np.abs(decoded[-1].astype(int) - png(shot)).mean() < 6  # lossy, but the same picture


def test_range_test_records_one_frame_per_step(qapp, app_look_restored, tmp_path, short_range_test):
    out = tmp_path / "rt.gif"
    settings = RecordSettings(size=SMALL, views=("weight", "lr"), range_test=True)
    result = record(out, settings, scenario_path=short_range_test)
    # before the test, each of its 8 steps, and the finished curve with its steepest-slope marker
    assert result.frames == 10 and result.last_step == 8
    got = gif_frames(out)
    assert got[0].shape == (240, 320, 3) and len(got) == 10
    again = tmp_path / "again.gif"
    record(again, settings, scenario_path=short_range_test)
    assert again.read_bytes() == out.read_bytes()


def test_cancel_leaves_no_partial_file_and_keeps_an_old_one(qapp, app_look_restored, tmp_path):
    out = tmp_path / "run.gif"
    out.write_bytes(b"the previous animation")
    seen = []

    def progress(done, total):
        seen.append((done, total))

    with pytest.raises(RecordCancelled):
        record(out, RecordSettings(steps=20, size=SMALL), scenario_path=OVERSHOOT, progress=progress,
               cancelled=lambda: len(seen) >= 3)
    assert out.read_bytes() == b"the previous animation"
    assert leftovers(tmp_path) == [] and seen[0] == (1, 21)


def test_a_diverging_run_ends_the_recording_where_it_stopped(qapp, app_look_restored, tmp_path):
    data = json.loads(next(SCENES.glob("04-*.gdscenario")).read_text(encoding="utf-8"))
    data["config"]["lr"] = 50.0  # overflows within a few steps
    scene = tmp_path / "boom.gdscenario"
    scene.write_text(json.dumps(data), encoding="utf-8")
    result = record(tmp_path / "boom.gif", RecordSettings(steps=400, size=SMALL), scenario_path=scene)
    assert result.stop_reason and result.frames < 400 and result.notes
    assert len(gif_frames(tmp_path / "boom.gif")) >= 2


# --------------------------------------------------------------------------------------------- CLI
def _cli(*args, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GD_STUDIO_SETTINGS=str(tmp_path / "s.ini"))
    return subprocess.run([sys.executable, "-m", "gd_studio", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def _errors(proc) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if "propagateSizeHints" not in ln]


def test_cli_records_a_gif(tmp_path):
    out = tmp_path / "story.gif"
    proc = _cli("--scenario", OVERSHOOT, "--record", out, "--steps", 3, "--size", "320x240", "--fps", 5,
                "--views", "weight,step", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}: 4 frames, 320x240, 5 fps" in proc.stdout
    got = gif_frames(out)
    assert len(got) == 4 and got[0].shape == (240, 320, 3)


@pytest.mark.parametrize("args, message", [
    (["--record", "{tmp}/a.avi"], "unknown animation format '.avi'"),
    (["--record", "{tmp}/a.gif", "--fps", "0"], "--fps: '0' must be a finite number above 0"),
    (["--record", "{tmp}/a.gif", "--size", "10x10"], "the size must be from 320x240"),
    (["--record", "{tmp}/a.gif", "--fps", "60"], "too high for GIF"),
    (["--record", "{tmp}/no/a.gif"], "does not exist"),
    (["--record", "{tmp}/a.gif", "--views", "weight,nope"], "unknown view 'nope'"),
    (["--record", "{tmp}/a.gif", "--range-test", "--steps", "3"], "--steps does not apply to --range-test"),
    (["--fps", "5"], "need --record"),
])
def test_cli_bad_arguments_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    from gd_studio.cli import main

    code = main(["--scenario", str(OVERSHOOT), *(a.replace("{tmp}", str(tmp_path)) for a in args)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_cli_without_pyav_says_how_to_get_mp4(tmp_path, capsys, monkeypatch):
    from gd_studio.cli import main

    monkeypatch.setitem(sys.modules, "av", None)
    code = main(["--scenario", str(OVERSHOOT), "--record", str(tmp_path / "a.mp4")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "pip install 'gd-studio[video]'" in err[0]


# ------------------------------------------------------------------------------------------ dialog
def test_export_animation_dialog_records_without_disturbing_the_run(qtbot, make_window, tmp_path):
    from PySide6.QtWidgets import QWidget

    from gd_studio.engine import scenarios

    w = make_window()
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000):
        w.scenarios.open(OVERSHOOT)
    qtbot.waitUntil(lambda: w.last_snapshot is not None and w.last_snapshot.step == 0, timeout=5000)
    w.controller.stepRequested.emit(7)
    qtbot.waitUntil(lambda: w.step_count == 7, timeout=5000)
    before = (w.step_count, w.config(), w.last_snapshot.loss)

    action = w.findChild(QWidget, "actionExportAnimation") or next(
        a for a in w.actions() if a.objectName() == "actionExportAnimation")
    action.trigger()
    d = w.animation.dialog
    assert d is not None and d.isVisible()
    assert d.to_step.value() == scenarios.load(OVERSHOOT).steps  # the scene's own length
    d.to_step.setValue(4)
    d.size.setCurrentText("320x240")
    d.view_boxes["weight"].setChecked(True)
    out = tmp_path / "from-dialog.gif"
    d.path.setText(str(out))
    d.start()
    assert out.is_file(), d.status.text()
    assert d.result.frames == 5 + 10  # steps 0..4, then the last held 1 s at 10 fps
    with Image.open(out) as im:  # the GIF stores the held frames as one long one
        im.seek(im.n_frames - 1)
        assert im.n_frames == 5 and im.info["duration"] == 1100
    assert "Wrote" in d.status.text() and d.progress.value() == d.progress.maximum()
    assert (w.step_count, w.config(), w.last_snapshot.loss) == before  # the window's run is as it was

    # a bad size is said in the dialog, nothing is written
    d.size.setCurrentText("10x10")
    d.path.setText(str(tmp_path / "bad.gif"))
    d.start()
    assert "320x240" in d.status.text() and not (tmp_path / "bad.gif").exists()

    # cancel while recording: no file, no partial file
    d.size.setCurrentText("320x240")
    d.to_step.setValue(15)
    calls = []
    d._progress = lambda done, total: (calls.append(done), d.cancel() if done == 2 else None)
    d.path.setText(str(tmp_path / "cancelled.gif"))
    d.start()
    assert "Cancelled" in d.status.text()
    assert not (tmp_path / "cancelled.gif").exists() and leftovers(tmp_path) == []
    d.close()


def test_dialog_offers_mp4_only_with_its_encoder(qtbot, make_window, monkeypatch):
    from gd_studio.ui.record_dialog import RecordDialog

    w = make_window()
    monkeypatch.setattr(media, "mp4_available", lambda: False)
    d = RecordDialog(w.feature_context, w.scenarios)
    qtbot.addWidget(d)
    item = d.format.model().item(1)
    assert not item.isEnabled() and "gd-studio[video]" in item.toolTip()
    d.format.setCurrentIndex(2)
    assert d.path.text().endswith("/")


def test_a_recording_leaves_no_window_behind(qapp, app_look_restored, tmp_path):
    """Each recording or screenshot builds a hidden window of ~1,200 widgets; the app's Export animation
    made one per export and never freed it, so every later theme or presentation change slowed down."""
    before = len(qapp.allWidgets())
    record(str(tmp_path / "f") + "/", RecordSettings(steps=1, size=SMALL), scenario_path=OVERSHOOT)
    gc.collect()  # the parentless pieces (pyqtgraph's menus) go with their Python owners
    left = [w for w in qapp.allWidgets() if w.objectName() or type(w).__name__ != "QWidget"]
    assert len(qapp.allWidgets()) <= before, f"{len(left)} widgets left, e.g. {left[:5]}"
