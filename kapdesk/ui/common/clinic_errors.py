"""The start-up dialog for clinic files kapdesk cannot use: file, line, field, why."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from kapdesk.config.errors import ConfigFileError


def clinic_errors_text(errors: Sequence[ConfigFileError]) -> str:
    lines = "\n".join(f"• {e}" for e in errors)
    return (
        "kapdesk did not start: a clinic settings file has a value it cannot use, and "
        "monitoring with a wrong setting could hide an alarm.\n\n"
        f"{lines}\n\n"
        "Correct the file (the number after the file name is its line) and start kapdesk again."
    )


def show_clinic_file_errors(
    errors: Sequence[ConfigFileError], parent: QWidget | None = None
) -> None:
    """A modal message box (plain text, so a path is never read as markup)."""
    box = QMessageBox(parent)
    box.setObjectName("clinic-file-errors")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("kapdesk: clinic settings")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(clinic_errors_text(errors))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.exec()
