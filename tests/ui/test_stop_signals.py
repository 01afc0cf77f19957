"""Ctrl+C and SIGTERM close the app like its close button: exit status 0, no traceback, engine process gone."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals sent with os.kill")

# The window runs for real (offscreen) with its engine in a child process; the signal arrives while the event
# loop is idle in C++, where before a Python handler only ran on the next timer (a KeyboardInterrupt traceback
# from a slot, the window staying open) and SIGTERM killed the process without saving or stopping the engine.
SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from PySide6.QtCore import QTimer
    from gd_studio.ui import app as gd_app
    qapp = gd_app.make_app()
    from gd_studio.ui.main_window import MainWindow
    def fire():
        (w,) = [t for t in qapp.topLevelWidgets() if isinstance(t, MainWindow)]
        if not w.controller.worker.in_process:  # the engine's process is still starting
            QTimer.singleShot(100, fire)
            return
        print("engine process", flush=True)
        os.killpg(os.getpgid(0), signal.{sig})  # as a terminal's Ctrl+C: the engine's process gets it too
    QTimer.singleShot(500, fire)
    QTimer.singleShot(20000, lambda: (print("still open", flush=True), qapp.exit(3)))
    code = gd_app.run_app()
    import multiprocessing
    print("children", len(multiprocessing.active_children()), "code", code, flush=True)
    sys.exit(code)
""")


def _run(script: str, tmp_path) -> subprocess.CompletedProcess:
    """The script in a fresh interpreter, offscreen, with its own settings and process group (for killpg)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, start_new_session=True)


# the engine's process taking seconds to start (a machine under heavy load), for the scripts below
SLOW_ENGINE = textwrap.dedent("""
    import gc, sys, time
    from PySide6.QtCore import QTimer
    from gd_studio.live import host
    from gd_studio.ui import app as gd_app, worker
    from gd_studio.ui.main_window import MainWindow
    real_init = host.RemoteRun.__init__
    def slow_init(self, *args, **kwargs):
        time.sleep(3)
        real_init(self, *args, **kwargs)
    host.RemoteRun.__init__ = slow_init
    qapp = gd_app.make_app()
""")


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_stop_signal_closes_the_window_cleanly(tmp_path, sig):
    proc = _run(SCRIPT.format(sig=sig), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "still open" not in proc.stdout
    assert "engine process\nchildren 0 code 0" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr
    assert "leaked" not in proc.stderr, proc.stderr


STUCK_START = SLOW_ENGINE + textwrap.dedent("""
    QTimer.singleShot(300, lambda: [t.close() for t in qapp.topLevelWidgets() if isinstance(t, MainWindow)])
    code = gd_app.run_app()
    print("code", code, flush=True)
    sys.exit(code)
""")


def test_closing_while_the_engine_process_is_still_starting_exits_cleanly(tmp_path):
    # Before, the worker thread was still inside the engine's start when the window went away: "QThread:
    # Destroyed while thread is still running" and SIGABRT (seen under heavy load in the suite).
    proc = _run(STUCK_START, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Destroyed while thread" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


STUCK_WINDOW = SLOW_ENGINE + textwrap.dedent("""
    qapp.setQuitOnLastWindowClosed(False)  # as in a test session: the process goes on after the window
    w = MainWindow()
    w.show()
    def close():
        global w
        w.close()
        print("finished in time", w.shutdown(), flush=True)
        w.deleteLater()
        w = None
        gc.collect()
    QTimer.singleShot(300, close)
    def done():
        if worker.live_threads():
            QTimer.singleShot(100, done)
            return
        import multiprocessing
        print("children", len(multiprocessing.active_children()), flush=True)
        qapp.quit()
    QTimer.singleShot(600, done)
    qapp.exec()
""")


def test_a_window_deleted_while_its_engine_starts_leaves_no_running_thread_or_process(tmp_path):
    # An embedded window (tests, the recorder) goes through no run_app: its worker thread must outlive it, and the
    # engine's process started after the close must be closed, not left serving nobody.
    proc = _run(STUCK_WINDOW, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "finished in time False" in proc.stdout and "children 0" in proc.stdout, proc.stdout
    assert "Destroyed while thread" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


# Ctrl+C in the first second, as the app starts from a terminal (`gd-studio`): through cli.main, with the signal
# sent at a fixed point of the start-up instead of at a time
EARLY = textwrap.dedent("""
    import os, signal, sys
    from gd_studio import cli, preflight
    real_prepare = preflight.prepare_gui
    def prepare_gui():
        real_prepare()
        if "{where}" == "loading":
            os.kill(os.getpid(), signal.SIGINT)  # as Qt's modules load (inside shiboken's import: a fatal error)
            print("went on after the signal", flush=True)
    preflight.prepare_gui = prepare_gui
    from gd_studio.ui import main_window
    real_init = main_window.MainWindow.__init__
    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        if "{where}" == "building":
            os.kill(os.getpid(), signal.SIGINT)  # while the window is built, before its event loop runs
            print("went on after the signal", flush=True)
    main_window.MainWindow.__init__ = init
    code = cli.main([])
    import multiprocessing
    print("children", len(multiprocessing.active_children()), "code", code, flush=True)
    sys.exit(code)
""")


def test_ctrl_c_while_qt_loads_ends_the_start_up_with_one_line(tmp_path):
    proc = _run(EARLY.format(where="loading"), tmp_path)
    assert proc.returncode == 130, proc.stdout + proc.stderr
    assert "went on after the signal" in proc.stdout and "children 0 code 130" in proc.stdout, proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "gd-studio: interrupted", proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_ctrl_c_while_the_window_is_built_closes_it_once_its_loop_runs(tmp_path):
    # Before: a KeyboardInterrupt out of the window's constructor, "gd-studio: interrupted", and the worker thread
    # destroyed while running at exit (SIGABRT)
    proc = _run(EARLY.format(where="building"), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "went on after the signal" in proc.stdout and "children 0 code 0" in proc.stdout, proc.stdout
    assert "Destroyed while thread" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


LEFT_OPEN = textwrap.dedent("""
    import sys
    from gd_studio.ui import app as gd_app
    from gd_studio.ui.main_window import MainWindow
    from gd_studio.ui.offscreen import wait
    qapp = gd_app.make_app()
    w = MainWindow()
    w.show()
    w.scenarios.open(sys.argv[1])  # a scenario places its caption in the step dock's column: the dock's signals
    wait(qapp, lambda: w.last_snapshot is not None, 15)
    print("ending with the window open", flush=True)
""")


def test_a_script_that_ends_with_the_window_open_exits_cleanly(tmp_path):
    # Before: "QThread: Destroyed while thread is still running" (SIGABRT) as Python finalised, and a traceback
    # from the step dock's visibility signal reaching a deleted window
    scene = ROOT / "resources" / "scenarios" / "03-too-big-overshooting.gdscenario"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", LEFT_OPEN, str(scene)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ending with the window open" in proc.stdout
    assert "Destroyed while thread" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


# an engine's process the window's fork server forks, told to interrupt itself at once: before `serve` ignores
# Ctrl+C. Exit code 0 when it was ignored from birth; before, a KeyboardInterrupt traceback and exit code 1 (a
# Ctrl+C in the first second of a run, or a killpg in the tests above under load, printed that traceback)
BORN_DEAF = textwrap.dedent("""
    import signal, sys
    from PySide6.QtCore import QTimer
    from gd_studio.live import host
    from gd_studio.ui import app as gd_app
    from gd_studio.ui.main_window import MainWindow
    qapp = gd_app.make_app()
    def probe():
        (w,) = [t for t in qapp.topLevelWidgets() if isinstance(t, MainWindow)]
        if not w.controller.worker.in_process:
            QTimer.singleShot(100, probe)
            return
        p = host.context().Process(target=signal.raise_signal, args=(signal.SIGINT,))
        p.start()
        p.join(20)
        print("exitcode", p.exitcode, flush=True)
        w.close()
    QTimer.singleShot(300, probe)
    sys.exit(gd_app.run_app())
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's start method here")
def test_the_engines_process_ignores_ctrl_c_from_birth(tmp_path):
    proc = _run(BORN_DEAF, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exitcode 0" in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
