"""Themes, the Okabe–Ito palette and presentation scaling for widgets and pyqtgraph plots."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette, QPen
from PySide6.QtWidgets import QApplication

__all__ = [
    "OKABE_ITO",
    "Theme",
    "THEMES",
    "DEFAULT_THEME",
    "PEN_STYLES",
    "SYMBOLS",
    "PRESENTATION_SCALE_RANGE",
    "DEFAULT_PRESENTATION_SCALE",
    "get_theme",
    "presentation_scale",
    "series_color",
    "series_pen",
    "series_symbol",
    "series_kwargs",
    "apply_theme",
    "applied_theme",
    "style_plot",
    "style_data_item",
]

# The eight colours published by Okabe & Ito (2008), "Color Universal Design": distinguishable under
# the common forms of colour-vision deficiency.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# Dash patterns and marker shapes carry the series identity too, so nothing depends on colour alone
# (greyscale printouts, washed-out projectors, colour-vision deficiency).
PEN_STYLES: tuple[Qt.PenStyle, ...] = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
)
SYMBOLS: tuple[str, ...] = ("o", "s", "t", "d", "+", "x", "star", "p", "h", "t1")

PRESENTATION_SCALE_RANGE: tuple[float, float] = (1.5, 2.5)
DEFAULT_PRESENTATION_SCALE = 2.0

# pyqtgraph's defaults, the scale-1 values that style_plot multiplies.
_TICK_LENGTH = 5
_TICK_TEXT_OFFSET = 5
_LEGEND_SAMPLE_PEN = 1.0


@dataclass(frozen=True)
class Theme:
    """Colours (``#RRGGBB``), line widths (px) and the base font size (pt) of one look."""

    name: str
    label: str
    dark: bool
    background: str
    foreground: str
    surface: str  # widget backgrounds: text fields, lists, the cheat-sheet panel
    grid: str
    grid_alpha: float  # 0..1, the opacity of grid lines drawn in the grid colour
    accent: str  # selection, highlighted markers such as the steepest-LR line
    series: tuple[str, ...]
    line_width: float
    marker_size: float
    base_font_pt: float


_LIGHT_SERIES = tuple(
    OKABE_ITO[k]
    for k in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "black", "yellow")
)
# Okabe–Ito black is invisible on a dark background; white takes its role there.
_DARK_SERIES = tuple(
    OKABE_ITO[k]
    for k in ("sky_blue", "orange", "bluish_green", "reddish_purple", "yellow", "vermillion", "blue")
) + ("#FFFFFF",)
# Only the members with at least 3:1 contrast on white (WCAG 1.4.11 for graphics) stay in high contrast.
_HIGH_CONTRAST_SERIES = tuple(
    OKABE_ITO[k] for k in ("black", "blue", "vermillion", "bluish_green", "reddish_purple")
)

THEMES: dict[str, Theme] = {
    "light": Theme(
        name="light",
        label="Light",
        dark=False,
        background="#FFFFFF",
        foreground="#202020",
        surface="#F4F4F4",
        grid="#707070",
        grid_alpha=0.3,
        accent=OKABE_ITO["blue"],
        series=_LIGHT_SERIES,
        line_width=2.0,
        marker_size=8.0,
        base_font_pt=10.0,
    ),
    "dark": Theme(
        name="dark",
        label="Dark",
        dark=True,
        background="#1E1E1E",
        foreground="#E6E6E6",
        surface="#2B2B2B",
        grid="#A0A0A0",
        grid_alpha=0.3,
        accent=OKABE_ITO["sky_blue"],
        series=_DARK_SERIES,
        line_width=2.0,
        marker_size=8.0,
        base_font_pt=10.0,
    ),
    "high_contrast": Theme(
        name="high_contrast",
        label="High contrast",
        dark=False,
        background="#FFFFFF",
        foreground="#000000",
        surface="#FFFFFF",
        grid="#000000",
        grid_alpha=0.45,
        accent=OKABE_ITO["blue"],
        series=_HIGH_CONTRAST_SERIES,
        line_width=3.5,
        marker_size=11.0,
        base_font_pt=12.0,
    ),
}
DEFAULT_THEME = "light"

# Dynamic properties on the QApplication recording what apply_theme last set.
_APP_THEME_PROPERTY = "gdStudioTheme"
_APP_SCALE_PROPERTY = "gdStudioScale"
# Attribute on pyqtgraph items holding their scale-1 style, so a scale can be undone exactly.
_BASE_ATTR = "_gd_studio_base_style"


def get_theme(theme: Theme | str | None) -> Theme:
    """A Theme from itself or its name; None or an unknown name gives the default (light) theme."""
    if isinstance(theme, Theme):
        return theme
    if isinstance(theme, str) and theme in THEMES:
        return THEMES[theme]
    return THEMES[DEFAULT_THEME]


def presentation_scale(value: Any = None) -> float:
    """The presentation scale: ``value`` clamped to [1.5, 2.5]; 2.0 when None or not a finite number."""
    try:
        scale = float(value)
    except (TypeError, ValueError):
        return DEFAULT_PRESENTATION_SCALE
    if not math.isfinite(scale):
        return DEFAULT_PRESENTATION_SCALE
    lo, hi = PRESENTATION_SCALE_RANGE
    return min(max(scale, lo), hi)


def _check_scale(scale: float) -> float:
    scale = float(scale)
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return scale


def series_color(i: int, theme: Theme | str | None = None) -> str:
    """Colour (``#RRGGBB``) of series ``i`` in ``theme``; cycles through the theme's series colours."""
    t = get_theme(theme)
    return t.series[i % len(t.series)]


def series_pen(i: int, theme: Theme | str | None = None, scale: float = 1.0) -> QPen:
    """Cosmetic pen for series ``i``: its colour, its dash pattern, the theme's line width × scale."""
    t = get_theme(theme)
    pen = pg.mkPen(series_color(i, t), width=t.line_width * _check_scale(scale))
    pen.setStyle(PEN_STYLES[i % len(PEN_STYLES)])
    # Round caps keep short dots visible at projector sizes.
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def series_symbol(i: int) -> str:
    """pyqtgraph symbol name for series ``i`` ('o', 's', 't', 'd', '+', ...)."""
    return SYMBOLS[i % len(SYMBOLS)]


def series_kwargs(
    i: int, theme: Theme | str | None = None, scale: float = 1.0, *, symbols: bool = True
) -> dict[str, Any]:
    """Keyword arguments for ``PlotItem.plot``/``PlotDataItem`` drawing series ``i``."""
    t = get_theme(theme)
    scale = _check_scale(scale)
    kw: dict[str, Any] = {"pen": series_pen(i, t, scale)}
    if symbols:
        color = series_color(i, t)
        kw.update(
            symbol=series_symbol(i),
            symbolSize=t.marker_size * scale,
            symbolBrush=pg.mkBrush(color),
            # Outline in the background colour separates overlapping markers.
            symbolPen=pg.mkPen(t.background, width=scale),
        )
    else:
        kw["symbol"] = None
    return kw


# ----------------------------------------------------------------------------------------- widgets


def _font_pt(theme: Theme, scale: float) -> float:
    return theme.base_font_pt * scale


def _palette(t: Theme) -> QPalette:
    bg, fg, surface, accent = QColor(t.background), QColor(t.foreground), QColor(t.surface), QColor(t.accent)
    window = QColor(t.surface) if not t.dark else QColor(t.background)
    button = QColor(t.surface)
    disabled_fg = QColor(fg)
    disabled_fg.setAlphaF(0.45 if t.name != "high_contrast" else 0.6)
    highlighted_text = QColor("#000000") if t.dark else QColor("#FFFFFF")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: fg,
        QPalette.ColorRole.Base: bg,
        QPalette.ColorRole.AlternateBase: surface,
        QPalette.ColorRole.Text: fg,
        QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: fg,
        QPalette.ColorRole.BrightText: QColor(OKABE_ITO["vermillion"]),
        QPalette.ColorRole.Highlight: accent,
        QPalette.ColorRole.HighlightedText: highlighted_text,
        QPalette.ColorRole.ToolTipBase: surface,
        QPalette.ColorRole.ToolTipText: fg,
        QPalette.ColorRole.PlaceholderText: disabled_fg,
        QPalette.ColorRole.Link: accent,
        QPalette.ColorRole.LinkVisited: accent,
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled_fg)
    return pal


def _stylesheet(t: Theme, scale: float) -> str:
    border = max(1, round(scale))
    pad = round(3 * scale)
    return (
        f"QToolTip {{ color: {t.foreground}; background-color: {t.surface}; "
        f"border: {border}px solid {t.foreground}; padding: {pad}px; }}\n"
        # A visible keyboard focus ring: the app is meant to be driven from the keyboard.
        f"QAbstractButton:focus, QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus, "
        f"QSlider:focus {{ outline: {border}px solid {t.accent}; }}\n"
        f"QToolBar {{ spacing: {pad}px; }}\n"
        # a check box's square grows with the type (presentation mode): it stayed 13 px, a speck beside 24-pt text;
        # about 0.8 of the text's pixel height (1 pt = 4/3 px), only where that is larger than the style's own square
        + (f"QCheckBox::indicator {{ width: {box}px; height: {box}px; }}\n"
           if (box := round(_font_pt(t, scale) * 4 / 3 * 0.8)) > 16 else "")
    )


def apply_theme(app: QApplication | None, theme: Theme | str | None, scale: float = 1.0) -> Theme:
    """Apply ``theme`` to the whole application: palette, font (base pt × scale), a small stylesheet.

    Also sets pyqtgraph's default background/foreground so plots created later match; existing plots
    need :func:`style_plot`. Returns the Theme applied.
    """
    app = app or QApplication.instance()
    if app is None:
        raise RuntimeError("apply_theme needs a QApplication")
    t = get_theme(theme)
    scale = _check_scale(scale)
    # Fusion honours a custom palette on every OS (the native Windows and macOS styles partly ignore it),
    # so dark and high-contrast themes look the same everywhere.
    # (under a style sheet app.style() is Qt's style-sheet proxy, named "": the property remembers Fusion was set,
    # since setting it again re-polishes every widget, the slowest part of a theme change)
    if app.property("gdStudioFusion") is not True and app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
        app.setProperty("gdStudioFusion", True)
    app.setPalette(_palette(t))
    font = QFont(app.font())
    font.setPointSizeF(_font_pt(t, scale))
    app.setFont(font)
    app.setStyleSheet(_stylesheet(t, scale))
    pg.setConfigOptions(background=t.background, foreground=t.foreground)
    app.setProperty(_APP_THEME_PROPERTY, t.name)
    app.setProperty(_APP_SCALE_PROPERTY, scale)
    return t


def applied_theme(app: QApplication | None = None) -> tuple[Theme, float]:
    """The (Theme, scale) that :func:`apply_theme` last applied; (light, 1.0) before any call."""
    app = app or QApplication.instance()
    if app is None:
        return THEMES[DEFAULT_THEME], 1.0
    name = app.property(_APP_THEME_PROPERTY)
    scale = app.property(_APP_SCALE_PROPERTY)
    try:
        scale = _check_scale(scale) if scale is not None else 1.0
    except (TypeError, ValueError):
        scale = 1.0
    return get_theme(name), scale


# ------------------------------------------------------------------------------------------- plots


def _plot_item(target: Any) -> pg.PlotItem:
    if isinstance(target, pg.PlotItem):
        return target
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    raise TypeError(f"expected a pyqtgraph PlotWidget or PlotItem, got {type(target).__name__}")


def _scaled_pen(pen: QPen | None, width: float) -> QPen | None:
    if pen is None:
        return None
    pen = QPen(pen)
    pen.setWidthF(width)
    return pen


def _pen_width(pen: Any) -> float | None:
    if pen is None:
        return None
    return pg.mkPen(pen).widthF()


def style_data_item(
    item: pg.PlotDataItem, i: int, theme: Theme | str | None = None, scale: float = 1.0, *, symbols: bool = True
) -> None:
    """Give ``item`` the look of series ``i`` and remember ``i``, so :func:`style_plot` re-colours and
    re-scales it when the theme or the presentation scale changes."""
    t = get_theme(theme)
    kw = series_kwargs(i, t, scale, symbols=symbols)
    item.setPen(kw["pen"])
    if symbols:
        item.setSymbol(kw["symbol"])
        item.setSymbolSize(kw["symbolSize"])
        item.setSymbolBrush(kw["symbolBrush"])
        item.setSymbolPen(kw["symbolPen"])
    else:
        item.setSymbol(None)
    setattr(item, _BASE_ATTR, {"series": i, "symbols": symbols})


def _current_style(item: Any) -> dict[str, float] | None:
    """The widths and sizes of ``item`` that presentation scaling multiplies."""
    if isinstance(item, pg.PlotDataItem):
        o = item.opts
        return {
            "pen": _pen_width(o.get("pen")),
            "shadowPen": _pen_width(o.get("shadowPen")),
            "symbolPen": _pen_width(o.get("symbolPen")),
            "symbolSize": float(o["symbolSize"]) if o.get("symbolSize") is not None else None,
        }
    if isinstance(item, pg.ScatterPlotItem):
        return {"pen": _pen_width(item.opts.get("pen")), "size": float(item.opts["size"])}
    if isinstance(item, pg.InfiniteLine):
        style = {"pen": item.pen.widthF(), "hoverPen": item.hoverPen.widthF()}
        label = getattr(item, "label", None)
        if label is not None:
            style["font"] = label.textItem.font().pointSizeF()
        return style
    if isinstance(item, pg.TextItem):
        return {"font": item.textItem.font().pointSizeF()}
    if isinstance(item, pg.ArrowItem):
        return {
            "headLen": float(item.opts["headLen"]),
            "tailLen": float(item.opts["tailLen"]) if item.opts.get("tailLen") is not None else None,
            "tailWidth": float(item.opts["tailWidth"]),
            "pen": _pen_width(item.opts.get("pen")),
        }
    return None


def _set_style(item: Any, style: dict[str, float | None]) -> None:
    if isinstance(item, pg.PlotDataItem):
        o = item.opts
        if style["pen"] is not None:
            item.setPen(_scaled_pen(pg.mkPen(o["pen"]), style["pen"]))
        if style["shadowPen"] is not None:
            item.setShadowPen(_scaled_pen(pg.mkPen(o["shadowPen"]), style["shadowPen"]))
        if style["symbolPen"] is not None:
            item.setSymbolPen(_scaled_pen(pg.mkPen(o["symbolPen"]), style["symbolPen"]))
        if style["symbolSize"] is not None:
            item.setSymbolSize(style["symbolSize"])
    elif isinstance(item, pg.ScatterPlotItem):
        if style["pen"] is not None:
            item.setPen(_scaled_pen(pg.mkPen(item.opts["pen"]), style["pen"]))
        item.setSize(style["size"])
    elif isinstance(item, pg.InfiniteLine):
        item.setPen(_scaled_pen(item.pen, style["pen"]))
        item.setHoverPen(_scaled_pen(item.hoverPen, style["hoverPen"]))
        label = getattr(item, "label", None)
        if label is not None and style.get("font"):
            font = QFont(label.textItem.font())
            font.setPointSizeF(style["font"])
            label.setFont(font)
    elif isinstance(item, pg.TextItem):
        if style["font"]:
            font = QFont(item.textItem.font())
            font.setPointSizeF(style["font"])
            item.setFont(font)
    elif isinstance(item, pg.ArrowItem):
        kw: dict[str, Any] = {"headLen": style["headLen"], "tailWidth": style["tailWidth"]}
        if style["tailLen"] is not None:
            kw["tailLen"] = style["tailLen"]
        if style["pen"] is not None:
            kw["pen"] = _scaled_pen(pg.mkPen(item.opts["pen"]), style["pen"])
        item.setStyle(**kw)


def _times(style: dict[str, float | None], theme: Theme, scale: float) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for k, v in style.items():
        if v is None:
            out[k] = None
        elif k == "font":
            # Fonts are kept relative to the base font: text items created while the app font is
            # already scaled would otherwise be scaled twice.
            out[k] = v * _font_pt(theme, scale)
        else:
            out[k] = v * scale
    return out


def _base_from(current: dict[str, float | None]) -> dict[str, float | None]:
    base = dict(current)
    font = base.get("font")
    if font is not None:
        app_pt = QApplication.font().pointSizeF()
        base["font"] = font / app_pt if font > 0 and app_pt > 0 else None
    return base


# pyqtgraph's default text colour, light grey: unreadable on a light background.
_PG_DEFAULT_TEXT = QColor(200, 200, 200)


def _recolor_default_text(item: Any, theme: Theme) -> None:
    """Give text left in pyqtgraph's default grey (or themed by us before) the theme's foreground."""
    texts = []
    if isinstance(item, pg.TextItem):
        texts.append(item)
    label = getattr(item, "label", None) if isinstance(item, pg.InfiniteLine) else None
    if isinstance(label, pg.TextItem):
        texts.append(label)
    for text in texts:
        if getattr(text, "_gd_studio_themed_text", False) or text.color == _PG_DEFAULT_TEXT:
            text.setColor(theme.foreground)
            text._gd_studio_themed_text = True


def _rescale_item(item: Any, theme: Theme, scale: float) -> None:
    _recolor_default_text(item, theme)
    record = getattr(item, _BASE_ATTR, None)
    if record is not None and "series" in record:
        style_data_item(item, record["series"], theme, scale, symbols=record["symbols"])
        return
    current = _current_style(item)
    if current is None:
        return
    # If the style differs from what we last applied, the app replaced a pen or a size since:
    # the values found now are taken as the new scale-1 base.
    if record is None or record.get("applied") != current:
        record = {"base": _base_from(current)}
    style = _times(record["base"], theme, scale)
    _set_style(item, style)
    record["applied"] = _current_style(item)
    setattr(item, _BASE_ATTR, record)


def rescale_item(item: Any, theme: Theme, scale: float) -> None:
    """One plot item in ``theme`` at ``scale``: for items style_plot does not visit (a second view box, legend
    samples)."""
    _rescale_item(item, theme, scale)


_GRID_LEVELS = 1  # pyqtgraph's tick levels below the labelled one that get a tick and a grid line


def style_plot(
    plot_widget: pg.PlotWidget | pg.PlotItem,
    theme: Theme | str | None = None,
    scale: float = 1.0,
    *,
    rescale_items: bool = True,
) -> None:
    """Style one plot for ``theme`` at ``scale``: background, axes (pens, tick fonts, tick lengths, label
    fonts), grid, legend and title.

    With ``rescale_items`` the plot's items (PlotDataItem, ScatterPlotItem, InfiniteLine, TextItem,
    ArrowItem) get their pen widths, marker sizes and fonts multiplied by ``scale`` from a recorded
    scale-1 base, so ``style_plot(p, t, 2.0)`` then ``style_plot(p, t, 1.0)`` restores them exactly.
    Items styled with :func:`style_data_item` are also re-coloured for the theme. Create other items at
    scale 1 (e.g. ``series_pen(i, theme)``) and let this function scale them. Text (TextItem, line
    labels) becomes the theme's base font × scale × its size relative to the app font when first seen.
    Call again after replacing an item's pen, showing a grid or adding items.
    """
    t = get_theme(theme)
    scale = _check_scale(scale)
    plot = _plot_item(plot_widget)
    if isinstance(plot_widget, pg.PlotWidget):
        plot_widget.setBackground(t.background)
    else:
        view = plot.getViewWidget()
        if isinstance(view, pg.GraphicsView):
            view.setBackground(t.background)

    pt = _font_pt(t, scale)
    tick_font = QFont()
    tick_font.setPointSizeF(pt)
    axis_width = max(1.0, scale)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(t.foreground, width=axis_width))
        axis.setTextPen(pg.mkPen(t.foreground))
        if name in ("right", "top") and axis.grid is not False and plot.getAxis(
                "left" if name == "right" else "bottom").isVisible():
            # a second axis (the LR on the loss-vs-step view's right) draws no grid of its own: its lines fell
            # between the first axis's, a double mesh that reads as a scale nobody labelled
            axis.setGrid(False)
        # With a grid shown the tick pen draws the grid lines, so it takes the grid colour.
        tick_color = QColor(t.grid if axis.grid is not False else t.foreground)
        axis.setTickPen(pg.mkPen(tick_color, width=axis_width))
        if axis.grid is not False:
            axis.setGrid(int(round(255 * t.grid_alpha)))
        axis.setStyle(
            tickFont=tick_font,
            tickLength=int(round(_TICK_LENGTH * scale)),
            tickTextOffset=int(round(_TICK_TEXT_OFFSET * scale)),
            # the labelled lines and one level between them: on a large (projector-sized) plot pyqtgraph's third
            # level put a grid line every ~10 px, a mesh in front of the data
            maxTickLevel=_GRID_LEVELS,
        )
        # labelStyle is the CSS of the axis label; setPen/setTextPen above already set its colour.
        axis.labelStyle["font-size"] = f"{pt:g}pt"
        axis._updateLabel()

    title = plot.titleLabel
    if title.isVisible() and title.text:
        plot.setTitle(title.text, color=t.foreground, size=f"{pt * 1.2:g}pt")
        # setTitle fixes the title row at 30 px, too short for projector-sized text.
        height = max(30, int(math.ceil(pt * 1.2 * 2.2)))
        plot.layout.setRowFixedHeight(0, height)
        title.setMaximumHeight(height)

    legend = plot.legend
    if legend is not None:
        legend.setLabelTextColor(t.foreground)
        legend.setLabelTextSize(f"{pt:g}pt")
        legend.setPen(pg.mkPen(t.foreground, width=_LEGEND_SAMPLE_PEN * scale))
        bg = QColor(t.background)
        bg.setAlphaF(0.85)
        legend.setBrush(pg.mkBrush(bg))
        # setLabelText* only store the new style on existing labels; re-setting the text renders it.
        for _sample, label in legend.items:
            label.setText(label.text)
        legend.updateSize()

    if rescale_items:
        for item in list(plot.items):
            _rescale_item(item, t, scale)
