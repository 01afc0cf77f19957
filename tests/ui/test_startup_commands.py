"""Commands sent while the window is still starting (the worker building the first run) queue behind it, never lost."""
from __future__ import annotations

from PySide6.QtCore import Qt

from gd_studio.engine.config import RunConfig

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=16,
                  seed=2, watch="W2[0,0]")


def _window(qtbot, config):
    from gd_studio.ui import MainWindow

    w = MainWindow(config)
    qtbot.addWidget(w)
    return w


def test_steps_sent_before_the_first_build_all_run(qtbot):
    w = _window(qtbot, SMALL)
    w.run_steps(25)  # before the worker has built anything: queued behind the first build
    w.show()
    qtbot.waitUntil(lambda: w.step_count == 25 and not w.controller.steps_pending(), timeout=10000)
    assert not w.actionCancel.isEnabled()  # done: nothing left to cancel
    w.close()


def test_esc_still_stops_a_pre_run_sent_at_start_up(qtbot):
    """The start-up frame (step 0) arrives after the pre-run was sent, but before it ran: it must not end it."""
    w = _window(qtbot, SMALL)
    w.show()
    w.activateWindow()
    w.run_steps(200_000)
    with qtbot.waitSignal(w.snapshotApplied, timeout=10000):
        pass
    assert w.step_count == 0 and w.controller.steps_pending()
    assert w.actionCancel.isEnabled(), "the start-up frame ended the pre-run's Esc"
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.step_count > 0 and not w.controller.steps_pending(), timeout=3000)
    assert w.step_count < 200_000
    assert not w.actionCancel.isEnabled()
    w.close()


def test_steps_with_no_run_to_take_them_say_so(qtbot, tmp_path):
    """The first build failed (a missing CSV): steps sent then get an answer, and Esc is not left armed."""
    w = _window(qtbot, SMALL.replace(data_path=str(tmp_path / "missing.csv")))
    w.show()
    qtbot.waitUntil(lambda: any(k == "error" for k, _ in w.messages), timeout=10000)
    w.run_steps(5)
    qtbot.waitUntil(lambda: not w.controller.steps_pending(), timeout=5000)
    qtbot.waitUntil(lambda: "no run to step" in w.messages[-1][1], timeout=3000)
    assert w.step_count == 0
    assert not w.actionCancel.isEnabled()
    w.close()
