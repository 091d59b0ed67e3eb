"""The questionnaire tab of patient mode: one PHQ-9, GAD-7... form at a time.

It lives apart from the patient-mode window because it is a form of its own: it lays out
the items of one ``QuestionnaireForm``, knows when the answers are complete and shows the
outcome of a submission as the clinic chose (``journal.patient_sees_scores``). It holds no
store: the window submits the answers for its one patient and raises the safety flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapdesk.config.journal import QuestionnaireForm
from kapdesk.domain.questionnaires import Score
from kapdesk.ui.common.theme import set_role


def patient_result_text(view: str, name: str, total: int, max_total: int, band: str) -> str:
    """What a patient alone reads after a questionnaire, as the clinic chose
    (``journal.patient_sees_scores``): by default no number and no severity band."""
    if view == "band":
        return f"Thank you. {name} total {total} of {max_total} ({band})."
    if view == "total":
        return f"Thank you. {name} total {total} of {max_total}."
    return (
        f"Thank you. Your answers to the {name} are saved; your therapist will go "
        "through them with you."
    )


class QuestionnairePanel(QWidget):
    """One questionnaire at a time, radio buttons per item, scored on submit."""

    submitted = Signal(int, object)  # response id, Score

    def __init__(self, forms: dict[str, QuestionnaireForm], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.forms = forms
        self.form: QuestionnaireForm | None = None
        self.groups: list[QButtonGroup] = []
        self.functional_group = QButtonGroup(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        top.addWidget(QLabel("Questionnaire:"))
        self.chooser = QComboBox()
        for fid, form in forms.items():
            self.chooser.addItem(form.title, fid)
        self.chooser.currentIndexChanged.connect(self._build_current)
        top.addWidget(self.chooser, 1)
        lay.addLayout(top)
        note = QLabel(
            "Your answers and scores are always seen by your care team, even when a "
            "journal entry is private."
        )
        note.setObjectName("muted")
        note.setWordWrap(True)
        lay.addWidget(note)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        lay.addWidget(self.scroll_area, 1)
        bottom = QHBoxLayout()
        self.result = QLabel("")
        self.result.setWordWrap(True)
        set_role(self.result, "emphasis")
        self.submit_button = QPushButton("Submit answers")
        self.submit_button.setEnabled(False)
        bottom.addWidget(self.result, 1)
        bottom.addWidget(self.submit_button)
        lay.addLayout(bottom)
        self.flag_message = QLabel("")
        set_role(self.flag_message, "flag")
        self.flag_message.setWordWrap(True)
        self.flag_message.hide()
        lay.addWidget(self.flag_message)
        self._build_current()

    def select(self, form_id: str) -> None:
        self.chooser.setCurrentIndex(self.chooser.findData(form_id))

    def _build_current(self) -> None:
        fid = self.chooser.currentData()
        self.form = self.forms.get(fid) if fid else None
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(10)
        self.groups = []
        self.functional_group = QButtonGroup(self)
        if self.form is not None:
            stem = QLabel(self.form.stem)
            stem.setWordWrap(True)
            stem.setObjectName("heading")
            grid.addWidget(stem, 0, 0, 1, 5)
            for col, (_v, label) in enumerate(self.form.options, start=1):
                head = QLabel(label)
                head.setWordWrap(True)
                head.setAlignment(Qt.AlignmentFlag.AlignCenter)
                head.setObjectName("muted")
                grid.addWidget(head, 1, col)
            for i, item in enumerate(self.form.items):
                row = i + 2
                text = QLabel(f"{i + 1}. {item}")
                text.setWordWrap(True)
                grid.addWidget(text, row, 0)
                group = QButtonGroup(self)
                for col, (value, label) in enumerate(self.form.options, start=1):
                    rb = QRadioButton()
                    rb.setAccessibleName(f"item {i + 1}: {label}")
                    group.addButton(rb, value)
                    grid.addWidget(rb, row, col, alignment=Qt.AlignmentFlag.AlignCenter)
                group.idClicked.connect(self._changed)
                self.groups.append(group)
            row = len(self.form.items) + 2
            if self.form.functional_text:
                ft = QLabel(self.form.functional_text + " (optional)")
                ft.setWordWrap(True)
                ft.setObjectName("muted")
                grid.addWidget(ft, row, 0, 1, 5)
                opts = QHBoxLayout()
                for value, label in enumerate(self.form.functional_options):
                    rb = QRadioButton(label)
                    self.functional_group.addButton(rb, value)
                    opts.addWidget(rb)
                opts.addStretch(1)
                grid.addLayout(opts, row + 1, 0, 1, 5)
            cite = QLabel(self.form.citation)
            cite.setObjectName("muted")
            cite.setWordWrap(True)
            grid.addWidget(cite, row + 2, 0, 1, 5)
            grid.setColumnStretch(0, 1)
            grid.setRowStretch(row + 3, 1)
        self.scroll_area.setWidget(body)
        self._changed()

    def _changed(self, *_: Any) -> None:
        self.submit_button.setEnabled(bool(self.groups) and None not in self.answers())

    def answers(self) -> list[int | None]:
        return [g.checkedId() if g.checkedId() >= 0 else None for g in self.groups]

    def set_answers(self, answers: Sequence[int]) -> None:
        for group, value in zip(self.groups, answers, strict=True):
            button = group.button(value)
            if button is not None:
                button.setChecked(True)
        self._changed()

    def functional(self) -> int | None:
        fid = self.functional_group.checkedId()
        return fid if fid >= 0 else None

    def clear(self) -> None:
        self._build_current()

    def show_outcome(self, form: QuestionnaireForm, score: Score, patient_sees: str) -> None:
        """After a submission: an empty form again, what the patient alone may read of the
        score (``patient_sees``: the clinic's ``journal.patient_sees_scores``) and, when an
        answer raised a safety flag, the form's message for it."""
        self.clear()
        self.result.setText(
            patient_result_text(
                patient_sees,
                form.instrument.name,
                score.total,
                form.instrument.max_total,
                score.band,
            )
        )
        messages = [form.flag_messages.get(f, "") for f in score.flags]
        if score.flagged:
            self.flag_message.setText(
                " ".join(m for m in messages if m) or "Your therapist will see this today."
            )
            self.flag_message.show()
        else:
            self.flag_message.hide()
