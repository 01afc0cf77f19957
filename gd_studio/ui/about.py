"""Help → About: versions, where settings live, GD Studio's licence, the third-party notices and every licence text."""
from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QVBoxLayout)

from .. import __version__, licenses
from ..settings_location import settings_file


def versions_line() -> str:
    import numpy
    import PySide6
    import pyqtgraph
    from PySide6.QtCore import qVersion

    py = ".".join(map(str, sys.version_info[:3]))
    return (f"Qt {qVersion()} · PySide6 {PySide6.__version__} · NumPy {numpy.__version__} · "
            f"pyqtgraph {pyqtgraph.__version__} · Python {py}")


class AboutDialog(QDialog):
    """A list of licence documents on the left, the chosen one's full text on the right."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About GD Studio")
        header = QLabel(
            f"<b>GD Studio {__version__}</b><br>Gradient descent and Leslie Smith's LR range test, live. "
            "Descent subtracts: w ← w − r·dL/dw (the article's update writes + by mistake).<br>"
            f"{versions_line()}<br>Settings: {settings_file()}<br>"
            "GD Studio is free software under the MIT licence; the components below keep their own licences.")
        header.setObjectName("aboutHeader")
        header.setWordWrap(True)
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.documents = QListWidget()
        self.documents.setObjectName("licenceList")
        self.text = QPlainTextEdit()
        self.text.setObjectName("licenceText")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        for title, body in self._documents():
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, body)
            self.documents.addItem(item)
        self.documents.currentItemChanged.connect(self._show)
        self.documents.setCurrentRow(0)
        self.documents.setMaximumWidth(max(220, self.documents.sizeHintForColumn(0) + 30))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addWidget(self.documents)
        body.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.resize(900, 600)

    @staticmethod
    def _documents() -> list[tuple[str, str]]:
        docs = []
        for title, name in (("GD Studio — MIT licence", "LICENSE"), ("Third-party notices", "THIRD-PARTY-NOTICES.md")):
            try:
                docs.append((title, licenses.project_text(name)))
            except (OSError, ValueError) as exc:
                docs.append((title, f"{name} is missing from this installation ({exc})."))
        for lic in licenses.bundled_texts():
            label = f"{lic.component} {lic.version}".strip()
            docs.append((f"{label} — {lic.name}", lic.text))
        return docs

    def titles(self) -> list[str]:
        return [self.documents.item(i).text() for i in range(self.documents.count())]

    def _show(self, item, _previous=None) -> None:
        self.text.setPlainText(item.data(Qt.ItemDataRole.UserRole) if item is not None else "")


def show_about(parent=None) -> AboutDialog:
    """Open the About dialog (modeless, so a lecturer can leave it aside); returns it."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.show()
    return dialog
