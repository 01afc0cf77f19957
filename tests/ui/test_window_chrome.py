"""The window's title and menus: what the title bar says, and menus that survive on the oldest PySide6 we allow."""
from __future__ import annotations

import pathlib
import re

import pytest
from PySide6.QtWidgets import QApplication

from gd_studio.engine.config import RunConfig

PARABOLA = RunConfig(dataset="line", dataset_params={"n_samples": 60, "noise": 0.1, "seed": 0}, model="one_weight",
                     loss="mse", lr=0.1, batch_size=0, seed=0, watch="w", val_fraction=0.0)


@pytest.fixture
def named_app():
    """The application named as gd-studio names it (make_app), names put back afterwards."""
    from gd_studio.ui.app import make_app

    app = QApplication.instance()
    saved = (app.applicationName(), app.organizationName(), app.applicationDisplayName())
    yield make_app()
    app.setApplicationName(saved[0])
    app.setOrganizationName(saved[1])
    app.setApplicationDisplayName(saved[2])


def _title_bar(title: str, display_name: str) -> str:
    # what Qt writes in the title bar on Linux and Windows (QPlatformWindow::formatWindowTitle): the display
    # name is appended unless the title already ends with it
    if display_name and not title.endswith(display_name):
        return f"{title} \u2014 {display_name}" if title else display_name
    return title


def test_the_title_bar_names_the_app_once(named_app, make_window):
    w = make_window(PARABOLA)
    shown = _title_bar(w.windowTitle(), QApplication.applicationDisplayName())
    assert QApplication.applicationDisplayName() == "GD Studio"
    assert shown.count("GD Studio") == 1, shown
    assert "learning rates, live" in shown.lower()


def test_every_menu_is_alive_and_reachable(make_window):
    """PySide6 6.6–6.11.1 delete a menu whose Python wrapper is dropped and return dead wrappers from
    QAction.menu(): with them the window did not open at all. Each menu is kept and found without it."""
    import gc

    from gd_studio.ui.presentation import menu

    w = make_window(PARABOLA)
    gc.collect()
    for title, action in (("File", "actionImportCsv"), ("Run", "actionStep"), ("View", "actionPresentation"),
                          ("Compare", "actionKeepGhost"), ("Help", "actionCheatSheet")):
        m = menu(w, title)
        assert m is not None, title
        assert action in {a.objectName() for a in m.actions()}, title
    assert w.run_menu.title() == "&Run" and w.view_menu.title() == "&View"


def test_no_code_fetches_a_menu_back_from_its_action():
    root = pathlib.Path(__file__).resolve().parents[2] / "gd_studio"
    offenders = [f"{p.relative_to(root)}:{i}" for p in root.rglob("*.py")
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\.menu\(\)", line.split("#")[0])]
    assert not offenders, f"QAction.menu() returns dead wrappers on PySide6 < 6.11.2: {offenders}"
