"""Opening a scenario whose data file lies outside its folder: ask the user before GD Studio reads it."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..engine import scenarios
from ..engine.scenarios import DataOutsideFolderError, ScenarioError


def ask(parent, problem: DataOutsideFolderError) -> bool:
    """A Yes/No question naming both files; No is the default, so Enter does not grant access."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setObjectName("outsideDataQuestion")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Read a file outside the scenario's folder?")
    box.setText(f"The scenario {problem.scenario_path.name} wants to read\n{problem.data_path}\n"
                f"which is outside its folder ({problem.scenario_path.resolve().parent}).")
    box.setInformativeText("Open it only if you trust where the scenario came from.")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def load_scenario(parent, path, question: Callable[[object, DataOutsideFolderError], bool] = ask
                  ) -> scenarios.Scenario:
    """scenarios.load, asking first when the scenario reads outside its folder; ScenarioError if declined."""
    try:
        return scenarios.load(path)
    except DataOutsideFolderError as problem:
        if not question(parent, problem):
            raise ScenarioError(f"{Path(path)}: not opened; its data file {problem.data_path} is outside its "
                                "folder and reading it was declined") from None
        return scenarios.load(path, allow_outside_folder=True)


def describe(scenario: scenarios.Scenario) -> str | None:
    """The sentence that tells the user which file a scenario reads (None for generated data)."""
    if scenario.data_file is None:
        return None
    where = "outside the scenario's folder" if scenario.outside_folder else "beside the scenario"
    return f"Data: {scenario.data_file} ({where})"
