"""The window with its engine in its own process (the default): running, pausing, stepping back, closing mid-run,
and carrying on in the worker's thread when that process dies."""
from __future__ import annotations

import pytest

from gd_studio.engine.config import RunConfig

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", lr=0.1, batch_size=16, seed=2,
                  watch="W1[0,1]")


@pytest.fixture(autouse=True)
def _engine_process(monkeypatch):
    monkeypatch.setenv("GD_STUDIO_ENGINE", "process")


def test_run_pause_step_back_and_close_mid_run(make_window, qtbot):
    w = make_window(SMALL)
    worker = w.controller.worker
    assert worker.in_process and worker.run.process.is_alive()
    w.start()
    qtbot.waitUntil(lambda: w.last_snapshot.running and w.last_snapshot.step > 50, timeout=10000)
    w.pause()
    qtbot.waitUntil(lambda: not w.last_snapshot.running, timeout=5000)
    paused_at = w.last_snapshot.step
    assert paused_at == w.step_count > 50
    w.actionStepBack.trigger()
    qtbot.waitUntil(lambda: w.last_snapshot.step == paused_at - 1, timeout=5000)
    w.start()
    qtbot.waitUntil(lambda: w.last_snapshot.running and w.last_snapshot.step > paused_at, timeout=10000)
    process = worker.run.process
    w.close()  # mid-run: the worker's thread and the engine's process both end
    assert not w.controller.is_running()
    process.join(1.0)
    assert not process.is_alive()


def test_a_dead_engine_process_is_replaced_by_the_worker_thread(make_window, qtbot):
    w = make_window(SMALL)
    worker = w.controller.worker
    worker.run.process.kill()
    worker.run.process.join(2.0)
    # noticed without any command (its pipe closes), said, and rebuilt at step 0 in the worker's thread
    qtbot.waitUntil(lambda: any("engine's process stopped" in text for _, text in w.messages), timeout=10000)
    assert not worker.in_process
    qtbot.waitUntil(lambda: w.config_info.generation == worker.generation and w.last_snapshot.step == 0,
                    timeout=10000)
    w.controller.step(4)  # it keeps working
    qtbot.waitUntil(lambda: w.last_snapshot.step == 4, timeout=10000)
