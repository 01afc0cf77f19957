"""The mouse wheel over the left panel scrolls the panel; a field under the pointer changes only once it has the focus."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QGroupBox, QSpinBox, QVBoxLayout

from gd_studio.ui.panels.model_data import ModelDataPanel


def _wheel(widget, notches: int = -1) -> None:
    """A wheel turn over the middle of ``widget`` (where Qt passes it once the spin box's text field, under the
    pointer, has left it unhandled)."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def _panel(qtbot) -> ModelDataPanel:
    panel = ModelDataPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 300)  # short: the panel scrolls
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    return panel


def _focus(qtbot, widget) -> None:
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=2000)


def test_the_wheel_over_unfocused_fields_scrolls_the_panel_and_changes_no_setting(qtbot):
    panel = _panel(qtbot)
    bar = panel.verticalScrollBar()
    assert bar.maximum() > 0, "the panel should scroll at this height"
    before = panel.config()
    fields = [(panel.noise, panel.noise.value), (panel.dataset, panel.dataset.currentIndex),
              (panel.lr.slider, panel.lr.slider.value)]
    fields += [(w, w.value) for w in panel.findChildren(QSpinBox) if w.isVisible()][:2]
    for widget, read in fields:
        bar.setValue(0)  # at the top: a wheel turn down must scroll
        value = read()
        _wheel(widget, -1)
        assert read() == value, f"{widget.objectName()} took a wheel turn without the focus"
        assert bar.value() > 0, f"the panel did not scroll under {widget.objectName()}"
        assert widget.focusPolicy() == Qt.FocusPolicy.StrongFocus
    panel.flush()
    assert panel.config() == before


def test_a_focused_field_takes_the_wheel(qtbot):
    panel = _panel(qtbot)
    panel.ensureWidgetVisible(panel.noise)
    _focus(qtbot, panel.noise)
    value = panel.noise.value()
    _wheel(panel.noise, +1)
    assert panel.noise.value() == value + panel.noise.singleStep()
    _focus(qtbot, panel.dataset)
    index = panel.dataset.currentIndex()
    _wheel(panel.dataset, -1)  # down the list
    assert panel.dataset.currentIndex() == index + 1


def test_a_section_added_later_is_guarded_too(qtbot):
    """A feature's own box (the loss surface's plane chooser) comes in through add_section."""
    panel = _panel(qtbot)
    box = QGroupBox("a feature")
    combo = QComboBox()
    combo.addItems(["a", "b", "c"])
    seed = QSpinBox()
    QVBoxLayout(box).addWidget(combo)
    box.layout().addWidget(seed)
    panel.add_section(box)
    for widget, read in ((combo, combo.currentIndex), (seed, seed.value)):
        value = read()
        _wheel(widget, +1 if widget is seed else -1)
        assert read() == value
