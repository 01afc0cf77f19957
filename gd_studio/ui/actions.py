"""Every window action declared once (objectName, keys, text, tip, cheat-sheet section), and the registry that makes them.

Features ask the registry for their actions by name instead of building QActions and setting attributes on
the window; the cheat sheet, the menus and the tests all find an action the same way (its objectName).
Families of actions (one per view, one per scenario number) are declared where their members are listed,
with the same ActionSpec.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

RUN, LR, SPEED, COMPARE, SCENARIOS, VIEW, FILE = ("Run", "Learning rate", "Speed", "Compare", "Scenarios", "View",
                                                 "File")
SECTIONS = (RUN, LR, SPEED, COMPARE, SCENARIOS, VIEW, FILE)


@dataclass(frozen=True)
class ActionSpec:
    name: str  # objectName: how tests, the cheat sheet and accessibility tools find it
    text: str
    keys: tuple = ()  # key sequences (strings or QKeySequence.StandardKey)
    tip: str = ""
    section: str = VIEW  # where the cheat sheet lists it
    checkable: bool = False
    listed: bool = True  # False: a family member the cheat sheet sums up in one row (actionScenarioKeys)
    cheat_keys: str = ""  # what the cheat sheet writes for the keys, when not the keys themselves ("1 … 9")


# in the cheat sheet's order: sections as SECTIONS lists them, actions within a section as declared here
CATALOGUE: tuple[ActionSpec, ...] = (
    # run
    ActionSpec("actionRun", "Run", ("Space",), "Run or pause training", RUN, checkable=True),
    ActionSpec("actionStep", "Step", ("Right",), "Take one step", RUN),
    ActionSpec("actionStepBack", "◀ Back", ("Left",),
               "Step back: the exact state one step earlier (weights, optimizer, random state); change the LR "
               "there and step on to fork the run", RUN),
    ActionSpec("actionReset", "Reset", ("R",), "Back to step 0 with the same initial weights", RUN),
    ActionSpec("actionReseed", "Reseed", ("Shift+R",), "New initial weights (next seed)", RUN),
    ActionSpec("actionCancel", "Cancel", ("Esc",), "Stop the range test or the run", RUN),
    # learning rate ("=" and "_": the unshifted keys of + and − on a US layout)
    ActionSpec("actionLrUp", "Learning rate × √10", ("+", "="),
               "Multiply the learning rate by √10 ≈ 3.16 (two presses: ×10)", LR),
    ActionSpec("actionLrDown", "Learning rate ÷ √10", ("-", "_"),
               "Divide the learning rate by √10 ≈ 3.16 (two presses: ÷10)", LR),
    ActionSpec("actionRangeTest", "Range test", ("L",), "Leslie Smith's LR range test", LR),
    ActionSpec("actionUseSuggestedLr", "Use suggested LR", ("Return", "Enter"),
               "Use the range test's recommended learning rate (the steepest slope when there is none)", LR),
    # speed
    ActionSpec("actionSlower", "Slower", ("[",), "Fewer steps per second (down to 0.5 steps/s)", SPEED),
    ActionSpec("actionFaster", "Faster", ("]",), "More steps per second (up to unthrottled)", SPEED),
    ActionSpec("actionFullSpeed", "Full speed", ("F",), "Full speed, or back to the speed before (one key either way)",
               SPEED),
    # compare
    ActionSpec("actionKeepGhost", "Keep as ghost", ("G",),
               "Freeze this run's loss curve and steps as a labelled overlay", COMPARE),
    ActionSpec("actionClearGhosts", "Clear ghosts", ("Shift+G",), "Remove every ghost run", COMPARE),
    ActionSpec("actionValidateSuggestion", "Validate suggestion", ("V",),
               "Short trainings from the same start at a few LRs around the recommended one; the best is picked",
               COMPARE),
    ActionSpec("actionTrainCyclical", "Train cyclical", ("C",),
               "Restart the run with a cyclical LR between the base_lr and max_lr markers on the loss-vs-LR view",
               COMPARE),
    # scenarios
    ActionSpec("actionOpenScenario", "Open…", ("Ctrl+O",),
               "Open a scenario (.gdscenario: its folder becomes the playlist) or a saved range test (.gdrange)",
               SCENARIOS),
    ActionSpec("actionSaveScenario", "Save scenario…", ("Ctrl+S",),
               "Save the run, the view and the caption as a .gdscenario file", SCENARIOS),
    # one row for the nine number keys (each actionOpenScenarioN is declared unlisted where they are made)
    ActionSpec("actionScenarioKeys", "Open scenario 1 … 9 of the playlist", ("1",),
               "Open scenario 1 … 9 of the playlist", SCENARIOS, cheat_keys="1 … 9"),
    ActionSpec("actionPreviousScenario", "Previous scenario", ("PgUp",), "Previous scenario of the playlist",
               SCENARIOS),
    ActionSpec("actionNextScenario", "Next scenario", ("PgDown",),
               "Next scenario of the playlist (the opened file's folder)", SCENARIOS),
    # view
    ActionSpec("actionPresentation", "Presentation mode", ("F5", "P"),
               "Projector view: large text and lines, high contrast, panel hidden (F5 or P again to leave)", VIEW,
               checkable=True),
    ActionSpec("actionLectureLayout", "Lecture layout", ("O",),
               "Presentation mode: only the views the scene is about (loss vs weight and vs step while descending, "
               "loss vs weight and vs LR in a range test), or every view of the scene", VIEW, checkable=True),
    ActionSpec("actionFullScreen", "Full screen", ("F11",), "Full screen on or off", VIEW, checkable=True),
    ActionSpec("actionCheatSheet", "Keyboard shortcuts", ("?", "F1"), "Show every keyboard shortcut", VIEW,
               checkable=True),
    ActionSpec("actionShowOtherSuggestions", "Other LR suggestions", (), "Show the other LR suggestions", VIEW,
               checkable=True),
    ActionSpec("actionShowSmithBounds", "Smith's bounds (base_lr, max_lr)", (), "Show Smith's base_lr and max_lr",
               VIEW, checkable=True),
    ActionSpec("actionLogLoss", "Log loss axis (loss vs weight)", ("Y",),
               "Show the loss against the weight on a log axis: a diverging run stays readable over orders of "
               "magnitude", VIEW, checkable=True),
    ActionSpec("actionShowSharpness", "Sharpness view (λ_max vs 2/η)", ("K",),
               "Show the whole network's sharpness λ_max over the steps against the limit 2/η (the edge of "
               "stability)", VIEW, checkable=True),
    ActionSpec("actionShowLossSurface", "Loss surface view", ("U",),
               "Show the loss in a plane through the run, with the path of the steps (choose the plane in the "
               "panel)", VIEW, checkable=True),
    ActionSpec("actionNextSurfacePlane", "Next loss-surface plane", ("Shift+U",),
               "The loss surface in the next plane: two weights, descent + random, two random directions, "
               "start/now/end (the panel's chooser, from the keyboard)", VIEW),
    ActionSpec("actionCopyWindowImage", "Copy image of the window", ("Ctrl+Shift+C",),
               "Copy a picture of the whole window", VIEW),
    ActionSpec("actionUsePyTorch", "Use in PyTorch (copy code)", ("Ctrl+Shift+P",),
               "Copy a torch.optim snippet with this optimizer, LR and schedule", VIEW),
    # file
    ActionSpec("actionImportCsv", "Import CSV…", ("Ctrl+I",), "Load a CSV dataset", FILE),  # Ctrl+O: scenarios
    ActionSpec("actionExportRunCsv", "Run history as CSV…", (), "Every recorded step as CSV", FILE),
    ActionSpec("actionExportRangeTestCsv", "Range test as CSV…", (), "The range test's curve as CSV", FILE),
    ActionSpec("actionExportAnimation", "Export animation…", ("Ctrl+Shift+E",),
               "Record the run as a GIF, an MP4 video or PNG frames for slides", FILE),
    ActionSpec("actionAbout", "About GD Studio", (), "About GD Studio", FILE),
    ActionSpec("actionQuit", "Quit", (QKeySequence.StandardKey.Quit,), "Quit", FILE),
)
SPECS = {spec.name: spec for spec in CATALOGUE}


def key_sequences(keys: Iterable) -> list[QKeySequence]:
    return [QKeySequence(k) for k in keys if k]


class ActionRegistry(QObject):
    """Makes each declared action once, on a host widget (so its keys work with menus and toolbar hidden)."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.host = host
        self._actions: dict[str, QAction] = {}
        self._specs: dict[str, ActionSpec] = {}

    def add(self, spec: ActionSpec | str, slot: Callable | None = None, *, live: bool = True) -> QAction:
        """The QAction for ``spec`` (a catalogue name or a spec), connected to ``slot``.

        ``live=False`` makes an action whose keys are not bound (it is not the window's: only listed, or only in a
        menu); the cheat sheet still lists its keys.
        """
        if isinstance(spec, str):
            spec = SPECS[spec]
        if spec.name in self._actions:
            raise ValueError(f"action {spec.name} is declared twice")
        a = QAction(spec.text, self.host if live else self)
        a.setObjectName(spec.name)
        keys = key_sequences(spec.keys)
        a.setShortcuts(keys)
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        shown = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
        a.setToolTip(f"{spec.tip} ({shown})" if shown else spec.tip)
        a.setStatusTip(spec.tip)
        a.setCheckable(spec.checkable)
        if spec.cheat_keys:
            a.setProperty("cheatSheetKeys", spec.cheat_keys)
        if slot is not None:
            a.triggered.connect(slot)
        if live:
            self.host.addAction(a)
        self._actions[spec.name] = a
        self._specs[spec.name] = spec
        return a

    def adopt(self, action: QAction, section: str = VIEW) -> QAction:
        """List an action Qt made (a dock's toggle) under its objectName."""
        name = action.objectName()
        self._actions[name] = action
        self._specs[name] = ActionSpec(name, action.text(), (), action.statusTip(), section, action.isCheckable())
        return action

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def __contains__(self, name: str) -> bool:
        return name in self._actions

    def get(self, name: str) -> QAction | None:
        return self._actions.get(name)

    def names(self) -> list[str]:
        return list(self._actions)

    def spec(self, name: str) -> ActionSpec:
        return self._specs[name]

    def sections(self) -> list[tuple[str, list[QAction]]]:
        """The cheat sheet's list, by construction every listed action that has keys: (section, actions), sections
        in SECTIONS order, actions in CATALOGUE order (then in the order they were added)."""
        rank = {name: i for i, name in enumerate(SPECS)}
        added = {name: len(rank) + i for i, name in enumerate(self._actions)}
        out: dict[str, list[str]] = {}
        for name, a in self._actions.items():
            if any(not k.isEmpty() for k in a.shortcuts()) and self._specs[name].listed:
                out.setdefault(self._specs[name].section, []).append(name)
        order = {s: i for i, s in enumerate(SECTIONS)}
        return [(section, [self._actions[n] for n in sorted(names, key=lambda n: rank.get(n, added[n]))])
                for section, names in sorted(out.items(), key=lambda kv: order.get(kv[0], len(order)))]

    def menu(self, title: str) -> QMenu | None:
        """The host window's top-level menu titled ``title`` (mnemonic ampersands ignored)."""
        return find_menu(self.host, title) if hasattr(self.host, "menuBar") else None


def find_menu(window, title: str) -> QMenu | None:
    """``window``'s top-level menu titled ``title`` (mnemonic ampersands ignored).

    Found among the window's QMenu children, never through the QAction's menu getter: PySide6 6.6–6.11.1 hand back a
    wrapper of an already deleted object from it."""
    top = set(window.menuBar().actions())
    for m in window.findChildren(QMenu):
        if m.menuAction() in top and m.title().replace("&", "") == title:
            return m
    return None

__all__ = ["ActionSpec", "ActionRegistry", "find_menu", "CATALOGUE", "SPECS", "SECTIONS", "key_sequences", "RUN", "LR",
           "SPEED", "COMPARE", "SCENARIOS", "VIEW", "FILE"]
