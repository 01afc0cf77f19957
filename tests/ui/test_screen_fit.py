"""The window on small screens: it opens inside the screen, restores a saved size only if it fits, and at
1280×720 every toolbar control stays reachable; the first run goes at a pace a person can follow."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QToolBar

from gd_studio.engine.config import RunConfig
from gd_studio.ui.main_window import PREFERRED_SIZE, fitted_size

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 60, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(4,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=16,
                  seed=0, watch="W2[0,0]")


@pytest.mark.parametrize("screen", [(1280, 720), (1366, 768), (1920, 1080), (3840, 2160)])
def test_fitted_size_leaves_room_for_the_frame(screen):
    w, h = fitted_size(PREFERRED_SIZE, screen)
    assert w + 8 <= screen[0] and h + 36 <= screen[1]
    if screen[0] >= 1600:
        assert (w, h) == PREFERRED_SIZE  # a big screen keeps the designed size, not a full-screen sprawl


def test_the_first_window_fits_the_screen_it_opens_on(make_window):
    w = make_window(SMALL)
    avail = w.screen().availableGeometry()  # the tests' 1920×1080 offscreen screen (tests/conftest.py)
    assert (w.width(), w.height()) == fitted_size(PREFERRED_SIZE, (avail.width(), avail.height()))
    assert w.fits_screen()


def _reachable(w) -> dict[str, bool]:
    """objectName → whether the action's button is fully inside its visible toolbar (no overflow arrow)."""
    out = {}
    for bar in w.findChildren(QToolBar):
        if bar.isHidden():
            continue
        for a in bar.actions():
            if not a.objectName().startswith("action") or a.isSeparator():
                continue
            button = bar.widgetForAction(a)
            out[a.objectName()] = (button is not None and button.isVisible()
                                   and bar.rect().contains(button.geometry()))
    return out


def test_toolbar_controls_all_reachable_at_720p(make_window, qtbot):
    w = make_window(SMALL)
    w.resize(1272, 684)
    qtbot.waitUntil(lambda: w.width() == 1272, timeout=3000)
    for _ in range(3):
        QApplication.processEvents()
    seen = _reachable(w)
    for name in ("actionRun", "actionStep", "actionRangeTest", "actionValidateSuggestion",
                 "actionTrainCyclical", "actionKeepGhost"):
        assert seen.get(name), (name, seen)
    assert w.speed.isVisible() and w.speed_toolbar.rect().contains(w.speed.geometry())
    assert w.speed.mapTo(w, w.speed.rect().bottomRight()).x() <= w.width()
    # wide again: one row, no break left behind
    w.resize(1900, 1000)
    qtbot.waitUntil(lambda: w.width() == 1900, timeout=3000)
    QApplication.processEvents()
    assert all(_reachable(w).values())


def test_a_saved_geometry_larger_than_the_screen_is_not_restored(make_window, qtbot):
    from gd_studio.ui import app as app_mod
    from gd_studio.ui import settings

    w = make_window(SMALL)
    avail = w.screen().availableGeometry()
    w.resize(avail.width() + 900, avail.height() + 700)  # as saved on a 4K monitor
    settings.save_window(w)
    w2 = make_window(SMALL)
    settings.restore_window(w2)
    assert not w2.fits_screen()  # as saved, it would not fit: the old code kept it so
    app_mod._restore_layout(w2)
    assert w2.fits_screen()
    assert (w2.width(), w2.height()) == fitted_size(PREFERRED_SIZE, (avail.width(), avail.height()))


def test_full_speed_is_one_key_away_and_back(make_window):
    w = make_window(SMALL)
    w.scenarios.set_speed(10.0)
    assert w.speed.currentData() == 10.0
    w.actionFullSpeed.trigger()
    assert w.speed.currentData() is None
    w.actionFullSpeed.trigger()
    assert w.speed.currentData() == 10.0


def test_presentation_lecture_layout_follows_the_scene_and_o_shows_every_view(make_window, qtbot):
    w = make_window(SMALL)
    w.resize(1600, 1000)  # a tall window: every view in the normal view (a shorter one keeps the empty LR view out)
    qtbot.waitUntil(lambda: w.height() == 1000, timeout=3000)
    w.presentation.set_presentation(True)
    shown = lambda: {n for n in ("data_view", "weight_view", "lr_view", "step_view")  # noqa: E731
                     if getattr(w, n).widget.isVisible()}
    assert shown() == {"weight_view", "step_view"}  # a descent
    w.state.set_range_test(object())  # a range test's result is shown: its scene
    assert shown() == {"weight_view", "lr_view"}
    w.state.set_range_test(None)
    w.actionLectureLayout.trigger()  # O: every view of the scene
    assert shown() == {"data_view", "weight_view", "lr_view", "step_view"}
    w.actionLectureLayout.trigger()
    w.presentation.set_presentation(False)
    assert shown() == {"data_view", "weight_view", "lr_view", "step_view"}
