"""Fixtures for the window tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_look_restored():
    """Themes change the whole application: put font, palette, style sheet and pyqtgraph colours back."""
    import pyqtgraph as pg
    from PySide6.QtGui import QFont, QPalette
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        yield None
        return
    saved = (QFont(app.font()), QPalette(app.palette()), app.styleSheet(), app.property("gdStudioTheme"),
             app.property("gdStudioScale"), pg.getConfigOption("background"), pg.getConfigOption("foreground"))
    yield app
    app.setFont(saved[0])
    app.setPalette(saved[1])
    app.setStyleSheet(saved[2])
    app.setProperty("gdStudioTheme", saved[3])
    app.setProperty("gdStudioScale", saved[4])
    pg.setConfigOptions(background=saved[5], foreground=saved[6])
