"""Shared test setup: Qt runs offscreen unless GD_STUDIO_TEST_DISPLAY=1 asks for a real screen.

Qt fixtures: every test gets its own settings file (never the user's), and a test that leaves a GD Studio
worker thread running fails.
"""
from __future__ import annotations

import gc
import os
import sys

import pytest

if os.environ.get("GD_STUDIO_TEST_DISPLAY") != "1":
    # a 1920×1080 screen (the offscreen plugin's own is 800×800, smaller than any screen the app supports, so
    # the window would open squeezed below its layout's minimum); tests/screens/ use other sizes in subprocesses
    from gd_studio.ui.offscreen import offscreen_platform

    os.environ["QT_QPA_PLATFORM"] = offscreen_platform(1920, 1080)


@pytest.fixture(autouse=True, scope="session")
def _collect_garbage_in_the_main_thread():
    """As the app does (gd_studio.ui.app.make_app): no automatic GC, which could run in a worker thread
    and deadlock against the GUI thread while destroying Qt objects; collect between tests instead."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    gc.collect()


@pytest.fixture(autouse=True, scope="session")
def _the_app_on_the_suite_screen():
    """This process's QApplication, made first, on the suite's 1920×1080 screen: made by whichever test needed it
    first, a rendering at 1280×720 (offscreen.ensure_app) gave every later window of the process that screen."""
    if os.environ.get("GD_STUDIO_TEST_DISPLAY") != "1":
        from gd_studio.ui.app import make_app

        make_app()
    yield


@pytest.fixture(autouse=True)
def _same_qt_platform_for_every_test():
    """The platform (and screen) this process's app is made with stays the suite's: a test that changed it before
    the process had an app chose the screen of every later test in that process (an order-dependent failure)."""
    before = os.environ.get("QT_QPA_PLATFORM")
    yield
    if before is not None and os.environ.get("QT_QPA_PLATFORM") != before:
        os.environ["QT_QPA_PLATFORM"] = before


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """Point QSettings (via gd_studio.ui.settings) at a throw-away INI file."""
    path = tmp_path_factory.mktemp("settings") / "gd-studio.ini"
    monkeypatch.setenv("GD_STUDIO_SETTINGS", str(path))
    yield path


@pytest.fixture(autouse=True)
def _no_stray_threads():
    """Fail a test that leaves a worker QThread running (after its widgets were closed)."""
    yield
    worker = sys.modules.get("gd_studio.ui.worker")
    if worker is None:
        return
    running = worker.live_threads()
    if not running:
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    for _ in range(50):  # a close in flight may need a few event-loop turns
        if app is not None:
            app.processEvents()
        running = [t for t in running if t.isRunning() and not t.wait(20)]
        if not running:
            return
    for t in running:  # stop them so the next test starts clean, then report
        t.quit()
        t.wait(2000)
    pytest.fail(f"{len(running)} GD Studio worker thread(s) still running after the test")


@pytest.fixture
def make_window(qtbot):
    """A factory for MainWindow with a given RunConfig, shown, built and drawn once; closed afterwards."""
    from gd_studio.ui import MainWindow

    windows = []

    def make(config=None, **kw):
        w = MainWindow(config=config, **kw)
        qtbot.addWidget(w)
        windows.append(w)
        with qtbot.waitSignal(w.snapshotApplied, timeout=10000):
            w.show()
        w.panel.rt_animate.setChecked(False)  # tests do not need to watch the range test
        return w

    yield make
    for w in windows:
        w.close()
        assert not w.controller.is_running(), "closing the window left its worker thread running"


@pytest.fixture(autouse=True)
def app_look_restored():
    """Themes change the whole application: put font, palette, style sheet and pyqtgraph colours back after every
    test, in every folder. A test that opened the app through run_app (the theme at the normal scale: font 12.5)
    or showed a scenario left its font to every later test in its process, whose windows then had other minimum
    sizes (a layout test read 1199 px for 1100 in some orders)."""
    widgets = sys.modules.get("PySide6.QtWidgets")  # a test without Qt does not load it here
    app = widgets.QApplication.instance() if widgets is not None else None
    if app is None:
        yield None
        return
    import pyqtgraph as pg
    from PySide6.QtGui import QFont, QPalette

    saved = (QFont(app.font()), QPalette(app.palette()), app.styleSheet(), app.property("gdStudioTheme"),
             app.property("gdStudioScale"), pg.getConfigOption("background"), pg.getConfigOption("foreground"))
    yield app
    app.setFont(saved[0])
    app.setPalette(saved[1])
    app.setStyleSheet(saved[2])
    app.setProperty("gdStudioTheme", saved[3])
    app.setProperty("gdStudioScale", saved[4])
    pg.setConfigOptions(background=saved[5], foreground=saved[6])
