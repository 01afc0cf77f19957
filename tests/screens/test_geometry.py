"""Issue 12's screen suite: bundled scenarios after a few steps on 720p, 768p, 1080p and 4K (DPR 2) screens, normal and
presentation, laid out offscreen with fixed fonts; screenshots go to a folder. Assertions from geometry, not eyes:
the window fits its screen, no caption or label is elided or cut, every plot keeps its minimum size, presentation
plots get 40 % of the screen height each, a message banner never moves a plot, the cheat sheet fits.

One child process per screen size (the offscreen screen is fixed when Qt starts), all four at once; each reuses one
window for its scenarios. The subset covers every layout path: the short-screen layout (720p, 768p: captions in the
left column, rows balanced), the medium one (1080p: a 1880×1040 window), DPR 2; the descent scene (two views side by
side in presentation) and the range-test scene (four views in the normal view of a tall screen, the weight and LR
views side by side on a short one and presenting).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.screens.probes import run_probes

DESCENT = "03-too-big-overshooting.gdscenario"
RANGE_TEST = "05-lr-range-test.gdscenario"
DIGITS = "07-ten-digits.gdscenario"  # the longest captions and narration: the tightest presentation layout
SCREENS = {  # (width, height, dpr): scenarios
    (1280, 720, 1.0): (DESCENT, RANGE_TEST, DIGITS),
    (1366, 768, 1.0): (DIGITS, RANGE_TEST),
    # the first window on a 1080p screen (issue 12's last case: its plots' data were 92 px tall in scenario 3, 133 in 7)
    (1920, 1080, 1.0): (DESCENT, DIGITS),
    (1920, 1080, 2.0): (RANGE_TEST,),  # a 3840×2160 panel at 200 %
}
MIN_PLOT = 200  # px: the rule for the normal view with the panel shown, a plot's whole height
# and its data area (the view box, without axes and legend strip) in the normal view with the panel shown, by screen
# height: on a 1080p screen the issue's ~200 px for the data themselves; on a 720p or 768p screen two rows of views
# under the menu, the toolbar and the status bar leave less (each row's title, caption and bottom axis take ~100 px of
# ~300): there, what the two-row grid gives, a few pixels spare (the loss-vs-weight plot: 118 px at 720p before its
# legend moved to its title row, 153 now; 142 and 177 at 768p)
MIN_DATA = {1080: 200, 768: 170, 720: 145}
SHORT_WINDOW = 820  # px: a window less high than this has the short layout (presentation.DENSITIES)
SHARE = 0.40  # presentation: each of the scene's two plots' data area, as a share of the screen height
MARGIN = 0.01  # and this much more, so a pixel or two of layout drift does not break the rule


@pytest.fixture(scope="module")
def screens(tmp_path_factory):
    out = tmp_path_factory.mktemp("screens")
    return out, run_probes(out, SCREENS)


def _all(screens):
    for key, rows in screens[1].items():
        for r in rows:
            yield key, r


def _inside(rect, area) -> bool:
    x, y, w, h = rect
    ax, ay, aw, ah = area
    return ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah


def test_screenshots_are_written(screens):
    out, results = screens
    for (w, h, dpr), names in SCREENS.items():
        for name in names:
            for mode in ("normal", "presentation"):
                shot = out / f"{Path(name).stem}-{w}x{h}@{dpr:g}-{mode}.png"
                assert shot.stat().st_size > 10_000, shot


def test_window_fits_its_screen(screens):
    for key, r in _all(screens):
        where = (key, r["scenario"], r["mode"])
        assert _inside(r["frame"], r["avail"]), where
        assert r["min_hint"][0] <= r["avail"][2] and r["min_hint"][1] <= r["avail"][3], where
        if r.get("after_presentation"):  # leaving presentation mode puts the window back inside the screen
            assert _inside(r["after_presentation"], r["avail"]), where


def test_no_caption_or_label_is_elided_or_cut(screens):
    for key, r in _all(screens):
        # every label, check box and plot text item, in the normal view and presenting: the narration's events in
        # the narrow left column of a short screen and the loss-vs-weight header in a narrow view at 720p were
        # elided to "…" before they wrapped
        assert not r["texts"], (key, r["scenario"], r["mode"], r["texts"])


def test_legends_never_cover_data_on_any_screen(screens):
    """Normal and presentation, 720p to 4K: no legend over a data point, a curve sample or the ball; every legend
    strip above its data box, inside its plot."""
    problems = [(key, r["scenario"], r["mode"], p) for key, r in _all(screens) for p in r["legends"]]
    assert not problems, "\n".join(map(str, problems))


def test_every_plot_keeps_its_minimum_size(screens):
    for key, r in _all(screens):
        if r["mode"] != "normal":
            continue
        assert r["panel"]
        heights = {n: p["widget"][3] for n, p in r["plots"].items()}
        assert min(heights.values()) >= MIN_PLOT, (key, r["scenario"], heights)
        if "range-test" in r["scenario"] and r["window"][3] < SHORT_WINDOW:
            # a short window's range-test scene (720p, 768p): the two views it is about, side by side at the full
            # height (stacked under the rest they were ~150-px strips)
            assert set(heights) == {"weight_view", "lr_view"}, (key, heights)
            assert heights["lr_view"] >= 0.55 * r["window"][3], (key, heights)
        assert min(p["widget"][2] for p in r["plots"].values()) >= 300, (key, r["scenario"], r["plots"])
        data = {n: p["data"][1] for n, p in r["plots"].items()}
        assert min(data.values()) >= MIN_DATA[r["screen"][1]], (key, r["scenario"], data)


def test_presentation_plots_take_forty_percent_of_the_screen_height_each(screens):
    for key, r in _all(screens):
        if r["mode"] != "presentation":
            continue
        data = {n: p["data"] for n, p in r["plots"].items()}
        assert len(data) == 2, (key, r["scenario"], data)  # the lecture layout: the scene's two views
        screen_h = r["screen"][1]
        for name, (width, height) in data.items():
            # with a margin: the digits scenario's long captions and narration ran within 4 px of the rule at 768p
            assert height >= (SHARE + MARGIN) * screen_h, (key, r["scenario"], name, height, screen_h)
            assert width >= 0.3 * r["screen"][0], (key, r["scenario"], name, width)
        assert not r["panel"]


def test_presenting_the_narration_is_as_tall_as_its_text(screens):
    """Its dock's height was set once, on entering, from the narration at an earlier width: at 1080p a blank band
    under the events took 80 px from the plots (scenario 10's map fell under 40 % of the screen)."""
    for key, r in _all(screens):
        if r["mode"] == "presentation":
            height, least = r["step_box"]
            assert height <= least + 2, (key, r["scenario"], r["step_box"])


def test_presentation_scale_follows_the_screen_height(screens):
    scales = {key: r["scale"] for key, r in _all(screens) if r["mode"] == "presentation"}
    # the chosen 2× is for a 1080-px-high screen: a 720p projector gets 2 × 720 / 1080
    assert scales[(1280, 720, 1.0)] == pytest.approx(2 * 720 / 1080)
    assert scales[(1920, 1080, 1.0)] == pytest.approx(2.0)
    assert scales[(1920, 1080, 2.0)] == pytest.approx(2.0)  # DPR 2: the same logical screen, twice the pixels


def test_a_banner_never_moves_a_plot(screens):
    for key, r in _all(screens):
        b = r["banner"]
        assert b["visible"] > 0
        assert b["with"] == b["without"], (key, r["scenario"], r["mode"])


def test_cheat_sheet_fits_and_stays_readable_in_presentation(screens):
    for key, r in _all(screens):
        if r["mode"] != "presentation":
            continue
        c = r["cheat_sheet"]
        assert _inside(c["panel"], c["sheet"]), (key, c)
        assert c["row_pt"] >= c["normal_pt"], (key, c)  # never smaller than the normal view's text
