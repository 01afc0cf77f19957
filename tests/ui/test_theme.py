"""Themes: Okabe–Ito palette, series told apart without colour, presentation scaling undone exactly."""
from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gd_studio.ui import theme as th


@pytest.fixture
def restore_app(qapp):
    """apply_theme changes the whole application; put it back for the tests that follow."""
    saved = (
        qapp.style().name(),
        QPalette(qapp.palette()),
        qapp.font(),
        qapp.styleSheet(),
        {k: pg.getConfigOption(k) for k in ("background", "foreground")},
        qapp.property("gdStudioTheme"),
        qapp.property("gdStudioScale"),
    )
    yield qapp
    style, palette, font, sheet, pg_opts, name, scale = saved
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)
    qapp.setStyleSheet(sheet)
    pg.setConfigOptions(**pg_opts)
    qapp.setProperty("gdStudioTheme", name)
    qapp.setProperty("gdStudioScale", scale)


def _luminance(hex_color: str) -> float:
    c = QColor(hex_color)

    def chan(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * chan(c.redF()) + 0.7152 * chan(c.greenF()) + 0.0722 * chan(c.blueF())


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_okabe_ito_is_the_published_palette():
    assert set(th.OKABE_ITO.values()) == {
        "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
    }
    for name in ("light", "high_contrast"):
        assert set(th.THEMES[name].series) <= set(th.OKABE_ITO.values())


def test_three_themes_and_lookup():
    assert set(th.THEMES) == {"light", "dark", "high_contrast"}
    assert th.get_theme("dark") is th.THEMES["dark"]
    assert th.get_theme("no such theme") is th.THEMES["light"]
    assert th.get_theme(None) is th.THEMES["light"]
    assert th.THEMES["dark"].dark and not th.THEMES["high_contrast"].dark


def test_high_contrast_is_black_on_white_with_thick_lines():
    hc = th.THEMES["high_contrast"]
    assert hc.background == "#FFFFFF" and hc.foreground == "#000000"
    assert hc.line_width > th.THEMES["light"].line_width
    # Every series colour readable as a graphic (WCAG 1.4.11: 3:1) on white.
    assert all(_contrast(c, hc.background) >= 3.0 for c in hc.series)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_first_series_colours_stand_out_from_the_background(name):
    t = th.THEMES[name]
    assert all(_contrast(c, t.background) >= 3.0 for c in t.series[:4])


def test_first_four_pens_differ_in_style_not_only_colour():
    for t in th.THEMES.values():
        pens = [th.series_pen(i, t) for i in range(4)]
        assert len({p.style() for p in pens}) == 4
        assert pens[0].style() == Qt.PenStyle.SolidLine
        assert all(p.widthF() == t.line_width for p in pens)
        assert all(p.isCosmetic() for p in pens)
    assert th.series_pen(1, "light", scale=2.0).widthF() == 2 * th.THEMES["light"].line_width


def test_symbols_distinct_and_cycling():
    first = [th.series_symbol(i) for i in range(len(th.SYMBOLS))]
    assert first[:4] == ["o", "s", "t", "d"]
    assert len(set(first)) == len(first)
    assert th.series_symbol(len(th.SYMBOLS)) == "o"


def test_series_kwargs_make_a_plot(qtbot):
    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    item = pw.plot([0, 1, 2], [1, 0, 1], **th.series_kwargs(2, "dark", 1.5))
    assert item.opts["symbol"] == "t"
    assert item.opts["symbolSize"] == th.THEMES["dark"].marker_size * 1.5
    assert item.opts["pen"].style() == Qt.PenStyle.DotLine


def test_presentation_scale_clamped():
    assert th.presentation_scale() == 2.0
    assert th.presentation_scale(1.8) == 1.8
    assert th.presentation_scale(5) == 2.5
    assert th.presentation_scale(0.5) == 1.5
    assert th.presentation_scale("nonsense") == 2.0
    assert th.presentation_scale(float("nan")) == 2.0


def test_apply_theme_sets_palette_font_and_records_it(restore_app):
    app = restore_app
    t = th.apply_theme(app, "high_contrast", scale=2.0)
    pal = app.palette()
    assert pal.color(QPalette.ColorRole.Base) == QColor("#FFFFFF")
    assert pal.color(QPalette.ColorRole.Window) == QColor("#FFFFFF")
    assert pal.color(QPalette.ColorRole.WindowText) == QColor("#000000")
    assert pal.color(QPalette.ColorRole.Text) == QColor("#000000")
    assert app.font().pointSizeF() == t.base_font_pt * 2.0
    assert "QToolTip" in app.styleSheet()
    assert th.applied_theme(app) == (t, 2.0)
    th.apply_theme(app, "dark")
    assert app.palette().color(QPalette.ColorRole.Base) == QColor("#1E1E1E")
    assert app.font().pointSizeF() == th.THEMES["dark"].base_font_pt


def _plot_with_everything(qtbot):
    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    pw.addLegend()
    pw.setTitle("loss vs weight")
    pw.setLabel("bottom", "w")
    pw.showGrid(x=True, y=True)
    themed = pw.plot([0, 1, 2], [2, 0, 1], name="run")
    th.style_data_item(themed, 1, "light")
    plain = pw.plot([0, 1, 2], [1, 1, 1], pen=th.series_pen(0, "light"), symbol="o", symbolSize=7, name="b")
    line = pg.InfiniteLine(1.0, pen=pg.mkPen("k", width=1.5), label="lr")
    text = pg.TextItem("steepest")
    arrow = pg.ArrowItem(headLen=12, tailLen=10, tailWidth=2)
    scatter = pg.ScatterPlotItem([0.5], [0.5], size=9, pen=pg.mkPen("k", width=1))
    for it in (line, text, arrow, scatter):
        pw.addItem(it)
    return pw, themed, plain, line, text, arrow, scatter


def _snapshot(pw, themed, plain, line, text, arrow, scatter):
    axis = pw.getAxis("bottom")
    legend = pw.getPlotItem().legend
    return {
        "themed": (themed.opts["pen"].widthF(), themed.opts["symbolSize"], themed.opts["symbolPen"].widthF()),
        "plain": (plain.opts["pen"].widthF(), plain.opts["symbolSize"], plain.opts["pen"].style()),
        "line": (line.pen.widthF(), line.hoverPen.widthF(), line.label.textItem.font().pointSizeF()),
        "text": text.textItem.font().pointSizeF(),
        "arrow": (arrow.opts["headLen"], arrow.opts["tailLen"], arrow.opts["tailWidth"]),
        "scatter": (scatter.opts["size"], pg.mkPen(scatter.opts["pen"]).widthF()),
        "axis": (axis.pen().widthF(), axis.style["tickFont"].pointSizeF(), axis.style["tickLength"],
                 axis.labelStyle["font-size"]),
        "legend": legend.opts["labelTextSize"],
        "title": pw.getPlotItem().titleLabel.opts["size"],
    }


def test_style_plot_scales_and_restores_exactly(qtbot):
    items = _plot_with_everything(qtbot)
    pw = items[0]
    th.style_plot(pw, "light", 1.0)
    base = _snapshot(*items)
    th.style_plot(pw, "light", 2.0)
    scaled = _snapshot(*items)
    assert scaled["themed"] == tuple(2 * v for v in base["themed"])
    assert scaled["plain"][:2] == (2 * base["plain"][0], 2 * base["plain"][1])
    assert scaled["plain"][2] == base["plain"][2]  # dash pattern kept
    assert scaled["line"] == tuple(2 * v for v in base["line"])
    assert scaled["text"] == 2 * base["text"]
    assert scaled["arrow"] == tuple(2 * v for v in base["arrow"])
    assert scaled["scatter"] == tuple(2 * v for v in base["scatter"])
    assert scaled["axis"][1] == 2 * base["axis"][1]
    assert scaled["axis"][2] == 2 * base["axis"][2]
    assert scaled["legend"] != base["legend"] and scaled["title"] != base["title"]
    # Twice at the same scale does not compound.
    th.style_plot(pw, "light", 2.0)
    assert _snapshot(*items) == scaled
    th.style_plot(pw, "light", 1.0)
    assert _snapshot(*items) == base


def test_style_plot_recolours_and_keeps_app_pen_changes(qtbot):
    pw, themed, plain, *_ = _plot_with_everything(qtbot)
    th.style_plot(pw, "dark", 2.0)
    assert pw.backgroundBrush().color() == QColor("#1E1E1E")
    assert pw.getAxis("left").pen().color() == QColor(th.THEMES["dark"].foreground)
    assert themed.opts["pen"].color() == QColor(th.series_color(1, "dark"))
    # The app replaces a pen (at scale 1) while scaled: that becomes the new base.
    plain.setPen(pg.mkPen("r", width=3))
    th.style_plot(pw, "dark", 2.0)
    assert plain.opts["pen"].widthF() == 6
    th.style_plot(pw, "high_contrast", 1.0)
    assert plain.opts["pen"].widthF() == 3
    assert themed.opts["pen"].widthF() == th.THEMES["high_contrast"].line_width
    assert pw.backgroundBrush().color() == QColor("#FFFFFF")
    assert pw.getAxis("bottom").textPen().color() == QColor("#000000")


def test_text_created_under_a_scaled_app_font_is_not_scaled_twice(qtbot, restore_app):
    th.apply_theme(restore_app, "light", 2.0)
    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    text = pg.TextItem("late label")
    pw.addItem(text)
    th.style_plot(pw, "light", 2.0)
    assert text.textItem.font().pointSizeF() == th.THEMES["light"].base_font_pt * 2.0


def test_style_plot_accepts_a_plot_item_and_rejects_others(qtbot):
    pw = pg.PlotWidget()
    qtbot.addWidget(pw)
    th.style_plot(pw.getPlotItem(), "high_contrast", 1.5)
    assert pw.backgroundBrush().color() == QColor("#FFFFFF")
    with pytest.raises(TypeError):
        th.style_plot(object(), "light")
    with pytest.raises(ValueError):
        th.style_plot(pw, "light", 0)
