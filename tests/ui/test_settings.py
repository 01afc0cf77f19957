"""Settings: a temporary INI file, exact round trips, damaged values fall back to defaults."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QToolBar

from gd_studio.ui import settings as st


@pytest.fixture
def ini(tmp_path, monkeypatch) -> Path:
    """Point GD Studio's settings at a fresh INI file for this test only."""
    path = tmp_path / "s.ini"
    monkeypatch.setenv(st.SETTINGS_ENV_VAR, str(path))
    return path


def test_env_var_selects_an_ini_file(ini):
    s = st.app_settings()
    assert Path(s.fileName()) == ini
    assert s.format() == QSettings.Format.IniFormat
    assert ini.exists()  # the version key was written


def test_default_location_is_the_user_ini(monkeypatch):
    monkeypatch.delenv(st.SETTINGS_ENV_VAR, raising=False)
    s = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, st.ORGANIZATION, st.APPLICATION)
    # Only the path is checked: a test must never write the real user's settings.
    assert "GD Studio" in s.fileName() and s.fileName().endswith(".ini")


def test_version_key_written(ini):
    st.app_settings()
    assert st.settings_version() == st.SETTINGS_VERSION == 1
    assert "version=1" in ini.read_text()
    assert "[settings]" in ini.read_text()


def test_migration_hook_runs_from_older_versions(tmp_path, monkeypatch):
    path = tmp_path / "old.ini"
    path.write_text("[settings]\nversion=0\n[view]\nold=\"1\"\n")
    monkeypatch.setenv(st.SETTINGS_ENV_VAR, str(path))
    seen = []

    def upgrade(s: QSettings) -> None:
        seen.append(s.fileName())
        s.setValue("view/new", s.value("view/old"))
        s.remove("view/old")

    monkeypatch.setitem(st.MIGRATIONS, 0, upgrade)
    s = st.app_settings()
    assert seen == [str(path)]
    assert st.settings_version(s) == 1
    assert st.restore_state("view") == {"new": 1}
    st.app_settings()
    assert len(seen) == 1  # once per process


def test_newer_version_is_read_not_downgraded(tmp_path, monkeypatch):
    path = tmp_path / "future.ini"
    path.write_text("[settings]\nversion=7\n[appearance]\ntheme=\"dark\"\n")
    monkeypatch.setenv(st.SETTINGS_ENV_VAR, str(path))
    assert st.theme_name() == "dark"
    assert st.settings_version() == 7


def test_state_round_trip_keeps_types_exactly(ini):
    state = {
        "lr": 0.1 + 0.2,
        "steps": 12,
        "visible": False,
        "name": "moons, with noise",
        "hidden": [16, 8],
        "ranges": {"x": [-1.5, 2.0], "log": True},
        "nothing": None,
        "quote": 'say "hi"',
        "raw": b"\x00\xffbytes",
    }
    assert st.save_state("lossView", state)
    back = st.restore_state("lossView")
    assert back.pop("raw") == QByteArray(b"\x00\xffbytes")
    expected = dict(state)
    expected.pop("raw")
    assert back == expected
    assert type(back["steps"]) is int and type(back["visible"]) is bool
    # With defaults of the same types, bytes come back as bytes.
    assert st.restore_state("lossView", {"raw": b"", "lr": 1.0})["raw"] == b"\x00\xffbytes"


def test_save_replaces_the_group(ini):
    st.save_state("panel", {"a": 1, "b": 2})
    st.save_state("panel", {"a": 3})
    assert st.restore_state("panel") == {"a": 3}


def test_defaults_fill_missing_and_wrong_types(ini):
    st.save_state("panel", {"lr": 3, "steps": 2.5, "flag": 1, "name": 5, "extra": "x"})
    got = st.restore_state("panel", {"lr": 0.1, "steps": 10, "flag": True, "name": "a", "missing": [1]})
    # An int is a fine float; a float is not an int, 1 is not a bool, 5 is not a str.
    assert got == {"lr": 3.0, "steps": 10, "flag": True, "name": "a", "missing": [1]}
    assert type(got["lr"]) is float


def test_corrupt_ini_values_give_defaults(ini, qtbot):
    ini.write_text(
        "[settings]\nversion=banana\n"
        "[appearance]\ntheme=\"no-such-theme\"\npresentationScale=lots\n"
        "[files]\nlastScenario=[1, 2\n"
        "[mainWindow]\ngeometry=garbage\nstate=@ByteArray(\\0\\x1)\n"
        "[lossView]\nlr={not json\nsteps=1e400\nflag=\"yes\"\nlist=a, b, c\nplain=hello world\n"
        "\x00\x01 binary noise ]]][[\n"
    )
    assert st.theme_name() == "light"
    assert st.saved_presentation_scale() == 2.0
    assert st.last_scenario_path() is None
    got = st.restore_state("lossView", {"lr": 0.1, "steps": 5, "flag": False, "list": ["z"], "plain": "x"})
    # Hand-edited plain text is still fine where text is expected.
    assert got == {"lr": 0.1, "steps": 5, "flag": False, "list": ["z"], "plain": "hello world"}
    win = QMainWindow()
    try:
        geometry = win.saveGeometry()
        assert st.restore_window(win) is False
        assert win.saveGeometry() == geometry
    finally:
        win.deleteLater()
    # A file with no usable version is taken as current again.
    assert st.settings_version() == st.SETTINGS_VERSION


def test_binary_garbage_file_gives_defaults(ini):
    ini.write_bytes(bytes(range(256)) * 8)
    assert st.theme_name("dark") == "dark"
    assert st.restore_state("x", {"a": 1}) == {"a": 1}
    assert st.restore_state("x") == {}


def test_theme_scale_and_last_scenario(ini, tmp_path):
    assert st.theme_name() == "light"
    st.set_theme_name("high_contrast")
    assert st.theme_name() == "high_contrast"
    with pytest.raises(ValueError, match="unknown theme"):
        st.set_theme_name("neon")
    st.set_presentation_scale(9)
    assert st.saved_presentation_scale() == 2.5
    scenario = tmp_path / "one_weight.json"
    st.set_last_scenario_path(scenario)
    assert st.last_scenario_path() == scenario.resolve()
    st.set_last_scenario_path(None)
    assert st.last_scenario_path() is None


def test_window_geometry_and_state_round_trip(ini, qtbot):
    win = QMainWindow()
    qtbot.addWidget(win)
    win.setCentralWidget(QLabel("plots"))
    bar = QToolBar("Run")
    bar.setObjectName("runToolBar")
    win.addToolBar(bar)
    dock = QDockWidget("Model & data")
    dock.setObjectName("modelDock")
    win.addDockWidget(qtbot_area(), dock)
    win.resize(700, 500)
    assert st.save_window(win)
    other = QMainWindow()
    qtbot.addWidget(other)
    bar2 = QToolBar("Run")
    bar2.setObjectName("runToolBar")
    other.addToolBar(bar2)
    dock2 = QDockWidget("Model & data")
    dock2.setObjectName("modelDock")
    other.addDockWidget(qtbot_area(), dock2)
    assert st.restore_window(other)
    assert other.saveState() == win.saveState()


def qtbot_area():
    from PySide6.QtCore import Qt

    return Qt.DockWidgetArea.LeftDockWidgetArea


def test_unstorable_values_and_bad_group_names(ini):
    with pytest.raises(TypeError):
        st.save_state("panel", {"f": object()})
    with pytest.raises(TypeError):
        st.save_state("panel", {"nan": float("nan")})
    with pytest.raises(ValueError):
        st.save_state("a/b", {})
    with pytest.raises(ValueError):
        st.restore_state("")
