"""Issue 16 in the window: macOS open-file events, Help → About with the licences, settings location and a
settings file that is corrupt or unreadable."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from gd_studio import settings_location
from gd_studio.engine import scenarios
from gd_studio.engine.config import RunConfig
from gd_studio.ui import fileopen

ROOT = Path(__file__).resolve().parents[2]
SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 120, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(6,), activation="tanh", loss="cross_entropy", lr=0.05, batch_size=16, seed=2)


@pytest.fixture
def handler(qapp):
    h = fileopen.install(qapp, listen=True)  # as on macOS, where Qt sends QFileOpenEvent
    yield h
    fileopen.uninstall(qapp)
    h.window = None
    h.pending.clear()
    h.opened.clear()


def test_a_finder_open_event_opens_the_scenario(make_window, qtbot, handler):
    """Before issue 16 nothing handled QFileOpenEvent: double-clicking a scenario opened an empty window."""
    path = scenarios.bundled()[1]
    w = make_window(SMALL)
    handler.attach(w)
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000):
        QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(path)))
    assert w.config() == scenarios.load(path).config
    assert handler.opened == [path]


def test_an_open_event_before_the_window_waits_for_it(make_window, qtbot, handler):
    path = scenarios.bundled()[0]
    handler.window = None
    QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(QUrl.fromLocalFile(str(path))))
    assert handler.pending == [path]
    w = make_window(SMALL)
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000):
        handler.attach(w)
    assert w.config() == scenarios.load(path).config and handler.pending == []


def test_an_unknown_or_missing_file_is_a_message_and_changes_nothing(make_window, tmp_path, handler):
    w = make_window(SMALL)
    handler.attach(w)
    before = w.config()
    other = tmp_path / "notes.txt"
    other.write_text("hi")
    QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(other)))
    kind, text = w.messages[-1]
    assert kind == "error" and "notes.txt" in text and ".gdscenario" in text
    QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(tmp_path / "gone.gdscenario")))
    assert w.messages[-1] == ("error", f"{tmp_path / 'gone.gdscenario'}: no such file. Nothing was changed.")
    assert w.config() == before and handler.opened == []
    if hasattr(os, "mkfifo"):  # a FIFO named like a scenario was reported as "no such file"
        fifo = tmp_path / "pipe.gdscenario"
        os.mkfifo(fifo)
        QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(fifo)))
        kind, text = w.messages[-1]
        assert kind == "error" and "named pipe (FIFO), not a regular file" in text and text.endswith("Nothing was changed.")
        assert w.config() == before and handler.opened == []


def test_the_application_wide_filter_is_only_installed_on_macos(qapp):
    h = fileopen.install(qapp)
    assert h.listening is (sys.platform == "darwin")
    if sys.platform != "darwin":
        fileopen.uninstall(qapp)


def test_files_from_the_command_line_open_when_the_window_is_attached(make_window, qtbot, qapp):
    path = scenarios.bundled()[2]
    fileopen.open_at_start(path)
    w = make_window(SMALL)
    with qtbot.waitSignal(w.scenarios.scenarioApplied, timeout=15000):
        h = fileopen.install(qapp, w)
    assert w.config() == scenarios.load(path).config
    h.window = None
    h.opened.clear()


def test_help_about_shows_versions_and_every_licence(make_window, qtbot):
    import PySide6

    w = make_window(SMALL)
    w.actionAbout.trigger()
    dialog = w.about_dialog
    qtbot.waitUntil(dialog.isVisible)
    from PySide6.QtWidgets import QLabel

    header = dialog.findChild(QLabel, "aboutHeader")
    assert PySide6.__version__ in header.text() and "MIT" in header.text()
    assert str(settings_location.settings_file()) in header.text()
    titles = dialog.titles()
    assert titles[0].startswith("GD Studio") and titles[1] == "Third-party notices"
    assert any("LGPL-3.0" in t for t in titles) and any(t.startswith("NumPy") for t in titles)
    assert any(t.startswith("pyqtgraph") for t in titles) and any(t.startswith("Python") for t in titles)
    assert dialog.text.toPlainText().startswith("MIT License")
    dialog.documents.setCurrentRow(1)
    notices = dialog.text.toPlainText()
    assert "Replacing the Qt libraries" in notices and "OpenBLAS" in notices
    dialog.close()


# ------------------------------------------------------------------------------------ settings


@pytest.mark.parametrize("platform, env, expected", [
    ("linux", {"HOME": "/home/ada"}, "/home/ada/.config/gd-studio/gd-studio.ini"),
    ("linux", {"HOME": "/home/ada", "XDG_CONFIG_HOME": "/cfg"}, "/cfg/gd-studio/gd-studio.ini"),
    ("linux", {"HOME": "/home/ada", "XDG_CONFIG_HOME": "relative"}, "/home/ada/.config/gd-studio/gd-studio.ini"),
    ("darwin", {"HOME": "/Users/ada"}, "/Users/ada/Library/Preferences/org.gdstudio.GDStudio.ini"),
    ("win32", {"APPDATA": "C:/Users/ada/AppData/Roaming"}, "C:/Users/ada/AppData/Roaming/gd-studio/gd-studio.ini"),
])
def test_settings_live_in_the_platforms_place_without_a_space(platform, env, expected):
    path = settings_location.settings_file(platform, env)
    assert path.as_posix() == expected
    assert " " not in path.parent.name


def test_the_app_uses_that_file_and_carries_an_old_one_over(monkeypatch, tmp_path):
    from gd_studio.ui import settings

    monkeypatch.delenv("GD_STUDIO_SETTINGS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "appdata"))  # Windows: never the runner's real folder
    old = settings_location.legacy_settings_file()
    old.parent.mkdir(parents=True)
    old.write_text("[appearance]\ntheme=dark\n", encoding="utf-8")
    s = settings.app_settings()
    assert Path(s.fileName()) == settings_location.settings_file()
    if sys.platform.startswith("linux"):
        assert Path(s.fileName()) == tmp_path / "cfg" / "gd-studio" / "gd-studio.ini"
    assert s.value("appearance/theme") == "dark"
    assert old.is_file(), "the old file stays for an older build still installed"


STARTUP = """
import sys
from PySide6.QtCore import QTimer
from gd_studio.ui import app as gd_app
qapp = gd_app.make_app()
QTimer.singleShot(1500, qapp.quit)
sys.exit(gd_app.run_app())
"""


def _damage(kind: str, path: Path) -> None:
    if kind == "binary garbage":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "wrong types":
        path.write_text("[appearance]\ntheme=@Variant(\\0\\0\\0\\x7f\\0\\0)\npresentationScale=banana\n"
                        "[mainWindow]\ngeometry=not-a-geometry\nstate=@ByteArray(xyz)\n[settings]\nversion=-3\n",
                        encoding="utf-8")
    elif kind == "a folder, not a file":
        path.mkdir()
    elif kind == "a FIFO":
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    elif kind == "unreadable":
        path.write_text("[appearance]\ntheme=dark\n", encoding="utf-8")
        path.chmod(0)


@pytest.mark.parametrize("kind", ["binary garbage", "wrong types", "a folder, not a file", "a FIFO", "unreadable"])
def test_a_damaged_settings_file_never_stops_the_app(kind, tmp_path):
    if kind in ("unreadable", "a FIFO") and os.name != "posix":
        pytest.skip("POSIX file kinds")
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode (the FIFO and folder cases cover root)")
    settings_file = tmp_path / "gd-studio.ini"
    _damage(kind, settings_file)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GD_STUDIO_SETTINGS=str(settings_file),
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", STARTUP], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_only_a_regular_settings_file_is_read(tmp_path, monkeypatch):
    regular = tmp_path / "ok.ini"
    regular.write_text("[a]\nb=1\n")
    assert settings_location.usable_settings_file(regular) == (regular, None)
    assert settings_location.usable_settings_file(tmp_path / "new.ini") == (tmp_path / "new.ini", None)
    folder = tmp_path / "folder.ini"
    folder.mkdir()
    path, why = settings_location.usable_settings_file(folder)
    assert path != folder and "not a regular file" in why and "default settings" in why
    monkeypatch.setattr(settings_location, "MAX_SETTINGS_BYTES", 4)
    path, why = settings_location.usable_settings_file(regular)
    assert path != regular and "too large" in why
