"""Every action is declared once in ui/actions.py and made by the registry; the cheat sheet is the registry's list."""
from __future__ import annotations

from PySide6.QtGui import QAction

from gd_studio.engine.config import RunConfig
from gd_studio.ui.actions import CATALOGUE, SECTIONS, SPECS
from gd_studio.ui.cheatsheet import action_label, shortcut_text

SMALL = RunConfig(dataset="moons", dataset_params={"n_samples": 60, "noise": 0.2, "seed": 1}, model="mlp",
                  hidden=(4,), loss="cross_entropy", lr=0.1, batch_size=0, seed=0)


def test_the_catalogue_names_each_action_once_in_a_cheat_sheet_section():
    assert len(SPECS) == len(CATALOGUE)
    assert {s.section for s in CATALOGUE} <= set(SECTIONS)


def test_every_action_with_a_shortcut_is_the_registrys_and_in_the_cheat_sheet(make_window):
    w = make_window(SMALL)
    reg = w.action_registry
    sheet = w.presentation.cheat_sheet
    sheet.set_sections(w.presentation.sections())
    listed = {(text, keys) for _section, rows in sheet.entries() for text, keys in rows}
    in_sheet = {a.objectName() for _s, actions in reg.sections() for a in actions}
    summaries = {SPECS[n].section for n in SPECS if SPECS[n].cheat_keys}
    keyed = [a for a in {*w.actions(), *w.findChildren(QAction)} if any(not k.isEmpty() for k in a.shortcuts())]
    assert len(keyed) > 30
    for a in keyed:
        name = a.objectName()
        assert name in reg and reg[name] is a, f"{name or a.text()} has keys but was not made by the registry"
        spec = reg.spec(name)
        if spec.listed:
            assert name in in_sheet and (action_label(a), shortcut_text(a)) in listed, name
        else:  # a family member (the nine scenario keys): its section has the family's one row
            assert spec.section in summaries
    assert ("Open scenario 1 … 9 of the playlist", "1 … 9") in listed

    # in the catalogue's order
    sections = reg.sections()
    assert [s for s, _a in sections] == [s for s in SECTIONS if s in dict(sections)]
    run = [a.objectName() for a in dict(sections)["Run"]]
    assert run[:3] == ["actionRun", "actionStep", "actionStepBack"]
    speed = [a.objectName() for a in dict(sections)["Speed"]]
    assert speed == ["actionSlower", "actionFaster", "actionFullSpeed"]

    # looked up by name in the registry (w.actionLrUp reads it), never set on the window
    assert "actionLrUp" not in vars(w) and "actionPresentation" not in vars(w)
    assert w.actionLrUp is w.action_registry["actionLrUp"]
