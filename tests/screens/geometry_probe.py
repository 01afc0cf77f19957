"""Run in a child process (the offscreen screen's size is fixed when Qt starts): open scenarios on one screen size,
normal and presentation, and print what test_geometry asserts, as JSON; screenshots go to a folder.

Usage: python -m tests.screens.geometry_probe WIDTH HEIGHT DPR OUT_DIR SCENARIO...
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEPS = 6  # steps run in each scenario before measuring (arrows, a caption with numbers, a few loss points)
FONT_FAMILY = "DejaVu Sans"  # fixed fonts: the same text widths on every machine that runs the suite


def _ancestors(item):
    parent = item.parentItem()
    while parent is not None:
        yield parent
        parent = parent.parentItem()


def main(argv: list[str]) -> None:
    width, height, dpr, out = int(argv[0]), int(argv[1]), float(argv[2]), Path(argv[3])
    names = argv[4:]
    from gd_studio.ui.offscreen import offscreen_platform

    os.environ["QT_QPA_PLATFORM"] = offscreen_platform(width, height, dpr)
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QFont
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QCheckBox, QLabel

    from gd_studio.ui import theme
    from gd_studio.ui.app import NORMAL_SCALE, make_app

    app = make_app([])
    theme.apply_theme(app, "light", NORMAL_SCALE)
    f = QFont(app.font())
    f.setFamily(FONT_FAMILY)
    app.setFont(f)
    from gd_studio.ui.main_window import MainWindow
    from gd_studio.ui.offscreen import wait
    from gd_studio.ui.plots.common import Caption
    from tests.screens.legends import legend_problems
    from tests.screens.surface_checks import surface_problems

    def pump(until, timeout=10.0):
        return wait(app, until, timeout)

    def settle(seconds=0.15, rounds=12):
        # the time, and at least ``rounds`` passes of the event loop: a new text's re-layout climbs from the label to
        # the window one posted event a pass, and on a loaded machine (CI: two test workers and four probes on two
        # cores) a single pass can outlast the time
        end = time.monotonic() + seconds
        done = 0
        while time.monotonic() < end or done < rounds:
            app.processEvents()
            done += 1
            time.sleep(0.005)

    normal_pt = app.font().pointSizeF()
    w = MainWindow()
    w.show()
    settle(0.3)
    views = ("data_view", "weight_view", "lr_view", "step_view", "surface_view")

    def plots():
        out = {}
        for n in views:
            v = getattr(w, n)
            if v.plot.isVisible():
                vb = v.plot.getPlotItem().vb.sceneBoundingRect()
                top_left = v.plot.mapTo(w, QPoint(0, 0))
                out[n] = {"widget": [top_left.x(), top_left.y(), v.plot.width(), v.plot.height()],
                          "data": [round(vb.width()), round(vb.height())]}
        return out

    def texts():
        """Every visible label, button text and plot text item: whether it shows its whole text in its rect."""
        bad = []
        for lab in w.findChildren(QLabel):
            if not lab.isVisible() or not lab.text() or lab.width() <= 1:
                continue
            shown = QLabel.text(lab)
            full = lab.text()  # a label that elides (Caption, ElidedLabel) keeps its whole text here
            name = lab.objectName() or type(lab).__name__
            if isinstance(lab, Caption):
                if lab.elided:
                    bad.append(f"{name} elided: {lab.text()!r}")
                need = lab.fontMetrics().lineSpacing() * (shown.count("\n") + 1)
                if need > lab.height() + 1:
                    bad.append(f"{name} clipped: {need} > {lab.height()} px")
            elif " ".join(shown.split()) != " ".join(full.split()) or ("…" in shown and "…" not in full):
                bad.append(f"{name} elided: {shown!r} shows {full!r}")
            elif lab.wordWrap():
                if lab.hasHeightForWidth() and lab.heightForWidth(lab.width()) > lab.height() + 1:
                    bad.append(f"{name} clipped: {lab.heightForWidth(lab.width())} > {lab.height()} px: {shown!r}")
            elif "<" not in shown and "\n" not in shown:
                advance = lab.fontMetrics().horizontalAdvance(shown)
                room = lab.contentsRect().width() - lab.indent() if lab.indent() > 0 else lab.contentsRect().width()
                # a label inside a scroll area (the panel) may be wider than the viewport: the scroll bar reaches it
                if advance > room + 1:
                    bad.append(f"{name} cut: {shown!r} needs {advance} px, has {room}")
        for box in w.findChildren(QCheckBox):  # a check box's text is cut, never elided, where its room is short
            if box.isVisible() and box.text() and box.width() < box.sizeHint().width() - 1:
                bad.append(f"{box.objectName() or 'check box'} cut: {box.text()!r} "
                           f"needs {box.sizeHint().width()} px, has {box.width()}")
        bad += plot_texts()
        return bad

    def plot_texts():
        """Text items in the plots (marker labels, legend entries, axis titles): whole, inside their plot."""
        bad = []
        for n in views:
            v = getattr(w, n)
            if not v.plot.isVisible():
                continue
            pi = v.plot.getPlotItem()
            area = pi.sceneBoundingRect()
            for line in pi.items:  # pyqtgraph places a line's label lazily (on the paint after a resize): place it
                if isinstance(line, pg.InfiniteLine) and getattr(line, "label", None) is not None:
                    line.label.updatePosition()
            for item in v.plot.scene().items():
                if not isinstance(item, (pg.TextItem, pg.LabelItem)) or not item.isVisible():
                    continue
                if any(not a.isVisible() for a in _ancestors(item)):
                    continue
                text = item.textItem.toPlainText() if isinstance(item, pg.TextItem) else item.item.toPlainText()
                if not text.strip():
                    continue
                if "…" in text:
                    bad.append(f"{n}: text item elided: {text!r}")
                r = item.sceneBoundingRect() if isinstance(item, pg.LabelItem) else \
                    item.mapRectToScene(item.textItem.mapRectToParent(item.textItem.boundingRect()))
                if not (area.left() - 1 <= r.left() and r.right() <= area.right() + 1
                        and area.top() - 1 <= r.top() and r.bottom() <= area.bottom() + 1):
                    bad.append(f"{n}: text item {text!r} at {r.getRect()} runs out of its plot {area.getRect()}")
            bad += [f"{n}: {m}" for m in unlabelled_ticks(pi.getAxis("bottom"))]
        return bad

    def unlabelled_ticks(axis):
        """Ticks of the labelled level that pyqtgraph drew without a label (it drops one not wholly inside the axis:
        the LR axis's leftmost decade)."""
        from gd_studio.ui.plots.common import axis_draw_specs

        if not axis.isVisible() or axis.linkedView() is None:
            return []
        _line, _ticks, drawn = axis_draw_specs(axis)
        lo, hi = sorted(axis.linkedView().viewRange()[0])
        levels = axis.tick_levels()  # at the length the axis chose them for (its width is 2 px shorter)
        if not levels:
            return []
        spacing, values = levels[0]
        values = [v for v in values if lo <= v <= hi]
        want = axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
        shown = {t[2] for t in drawn}
        missing = [s for s in want if s not in shown]
        return [f"bottom axis ticks {missing} have no label (labels: {sorted(shown)})"] if missing else []

    def state(mode):
        scr = w.screen()
        avail = scr.availableGeometry()
        frame = w.frameGeometry()
        return {"mode": mode, "window": [w.x(), w.y(), w.width(), w.height()],
                "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
                "avail": [avail.x(), avail.y(), avail.width(), avail.height()],
                "screen": [scr.geometry().width(), scr.geometry().height()],
                "min_hint": [w.minimumSizeHint().width(), w.minimumSizeHint().height()],
                "step_box": [w.study.dock.widget().height(), w.study.dock.widget().minimumSizeHint().height()],
                "panel": w.dock.isVisible(), "plots": plots(), "texts": texts(), "legends": legend_problems(w),
                "surface": surface_problems(w)}

    def banner_check():
        before = plots()
        w.banner.hide()
        settle(0.05)
        without = plots()
        w.show_message("A message long enough to wrap onto a second line on a narrow window: the plots must stay "
                       "exactly where they are while it shows, and when it goes. " * 2, "warning", 0)
        settle(0.1)
        with_banner = plots()
        w.banner.hide()
        return {"before": before, "without": without, "with": with_banner, "visible": w.banner.geometry().height()}

    results = []
    for name in names:
        path = ROOT / "resources" / "scenarios" / name
        done = {"n": 0}
        w.scenarios.scenarioApplied.connect(lambda *_: done.__setitem__("n", done["n"] + 1))
        before = done["n"]
        w.scenarios.open(str(path))
        pump(lambda: done["n"] > before, 20)
        start = w.step_count
        w.run_steps(STEPS)
        pump(lambda: w.step_count >= start + STEPS and not w.last_snapshot.running, 20)
        if "range-test" in name:
            finished = {"ok": False}
            w.rangeTestFinished.connect(lambda *_: finished.__setitem__("ok", True))
            w.panel.rt_animate.setChecked(False)
            w.start_range_test()
            pump(lambda: finished["ok"], 30)
        settle(0.3)
        stem = f"{Path(name).stem}-{width}x{height}@{dpr:g}"
        r = state("normal")
        r["banner"] = banner_check()
        r["scenario"] = name
        w.grab().save(str(out / f"{stem}-normal.png"))
        results.append(r)

        w.presentation.set_presentation(True)
        settle(0.4)
        r = state("presentation")
        r["banner"] = banner_check()
        r["scenario"] = name
        r["scale"] = w.presentation.active_scale
        w.presentation.toggle_cheat_sheet()
        settle(0.1)
        sheet = w.presentation.cheat_sheet
        panel = sheet._panel.geometry()
        r["cheat_sheet"] = {"panel": [panel.x(), panel.y(), panel.width(), panel.height()],
                            "sheet": [0, 0, sheet.width(), sheet.height()],
                            "min_pt": min(lab.font().pointSizeF() for lab in sheet._labels),
                            # a section heading: its rows are the same size (1.3× the sheet's base)
                            "row_pt": sheet._labels[1].font().pointSizeF(),
                            "normal_pt": normal_pt,
                            "app_pt": QApplication.font().pointSizeF()}
        if name == names[0]:
            w.grab().save(str(out / f"{stem}-cheatsheet.png"))
        w.presentation.toggle_cheat_sheet()
        w.grab().save(str(out / f"{stem}-presentation.png"))
        if w.surface_view.plot.isVisible():  # a surface scene presented with every view (O), once its message went
            w.presentation.actionLectureLayout.trigger()
            settle(0.2)
            w.banner.hide()
            settle(0.2)
            r["every_view"] = {"plots": plots(), "surface": surface_problems(w)}
            w.grab().save(str(out / f"{stem}-presentation-every-view.png"))
            w.presentation.actionLectureLayout.trigger()
            w.banner.hide()
            settle(0.2)
        results.append(r)
        w.presentation.set_presentation(False)
        settle(0.3)
        results[-2]["after_presentation"] = [w.x(), w.y(), w.width(), w.height()]
    print("RESULT " + json.dumps(results))
    w.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
