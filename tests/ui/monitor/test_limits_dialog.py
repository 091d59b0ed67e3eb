"""The alarm limits dialog (issue 10): grouped by channel with units, a low limit cannot
pass a high one, priorities stay in order, and Apply waits until the set makes sense."""

from __future__ import annotations

import pytest
from access_support import NURSE, THERAPIST
from PySide6.QtWidgets import QDialog, QDoubleSpinBox

from kapdesk.config.alarms import load_protocol_alarms
from kapdesk.config.paths import find_protocol, protocol_ids
from kapdesk.domain.access import Actor
from kapdesk.domain.alarms import AlarmLimits, Condition, LimitRule, Priority
from kapdesk.ui.monitor.limits_dialog import LimitsDialog, limit_problems

LOW, HIGH = Condition.BELOW_LOW_LIMIT, Condition.ABOVE_HIGH_LIMIT
RISE, FALL = Condition.RISE_FROM_BASELINE, Condition.FALL_FROM_BASELINE
MED, HI = Priority.MEDIUM, Priority.HIGH


pytestmark = pytest.mark.usefixtures("app_theme")


def limits(name: str = "esketamine-nasal") -> AlarmLimits:
    return load_protocol_alarms(find_protocol(name)).limits


def make(qtbot, lim: AlarmLimits | None = None, staff: Actor | None = NURSE) -> LimitsDialog:
    dialog = LimitsDialog(lim or limits(), staff)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_limits_are_grouped_by_channel_with_units(qtbot) -> None:
    dialog = make(qtbot)
    titles = [box.title() for box in dialog.group_boxes.values()]
    assert titles == [
        "Heart rate (bpm)",
        "Pulse rate (bpm)",
        "SpO\u2082 (%)",
        "NIBP systolic (mmHg)",
        "NIBP diastolic (mmHg)",
    ]
    assert dialog.spin_for("heart_rate", LOW, MED).suffix() == " bpm"
    assert dialog.spin_for("spo2", LOW, HI).suffix() == " %"
    assert dialog.spin_for("spo2", LOW, HI).value() == 88
    rise = dialog.spin_for("nibp_systolic", RISE, MED)
    assert (rise.prefix(), rise.suffix(), rise.value()) == ("+", " mmHg", 40)
    # every spin box of a channel sits in that channel's box
    box = dialog.group_boxes["heart_rate"]
    in_box = box.findChildren(QDoubleSpinBox)
    assert dialog.spin_for("heart_rate", HIGH, HI) in in_box
    assert dialog.spin_for("spo2", LOW, MED) not in in_box
    assert dialog.ok_button.isEnabled() and not dialog.message.isVisible()


def test_a_low_limit_above_the_high_limit_blocks_apply(qtbot) -> None:
    dialog = make(qtbot)
    dialog.spin_for("heart_rate", LOW, MED).setValue(125)  # above the medium high of 120
    assert not dialog.ok_button.isEnabled()
    text = dialog.message.text()
    assert dialog.message.isVisible() and dialog.message.property("role") == "error"
    assert "Heart rate" in text and "125 bpm" in text and "120 bpm" in text
    assert "must be below" in text
    dialog.accept()  # Enter, or a caller: still refused
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    dialog.spin_for("heart_rate", LOW, MED).setValue(55)  # fixed: the message goes at once
    assert dialog.ok_button.isEnabled() and not dialog.message.isVisible()
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [(r.channel, r.condition, r.priority, v) for r, v in dialog.changes()] == [
        ("heart_rate", LOW, MED, 55.0)
    ]


def test_equal_low_and_high_limits_are_refused(qtbot) -> None:
    dialog = make(qtbot)
    dialog.spin_for("heart_rate", HIGH, MED).setValue(50)  # = the medium low limit
    assert not dialog.ok_button.isEnabled()


def test_priorities_out_of_order_block_apply(qtbot) -> None:
    dialog = make(qtbot)
    dialog.spin_for("spo2", LOW, HI).setValue(94)  # high-priority 94 above medium 92
    assert not dialog.ok_button.isEnabled()
    text = dialog.message.text()
    assert "SpO\u2082 low limit" in text and "94 %" in text and "92 %" in text
    assert "never escalates" in text
    dialog.spin_for("spo2", LOW, HI).setValue(92)  # equal is allowed (as the engine)
    assert dialog.ok_button.isEnabled()
    dialog.spin_for("heart_rate", HIGH, HI).setValue(110)  # high 110 below medium 120
    assert not dialog.ok_button.isEnabled() and "at or above" in dialog.message.text()


def test_problems_for_baseline_changes_follow_the_engine() -> None:
    rise_med = LimitRule("nibp_systolic", RISE, MED, 40)
    rise_hi = LimitRule("nibp_systolic", RISE, HI, 60)
    fall_med = LimitRule("nibp_systolic", FALL, MED, 20)
    fall_hi = LimitRule("nibp_systolic", FALL, HI, 30)
    good = [(rise_med, 40.0), (rise_hi, 60.0), (fall_med, 20.0), (fall_hi, 30.0)]
    assert limit_problems(good) == []
    assert limit_problems([(rise_med, 40.0), (rise_hi, 30.0)])  # a smaller rise outranks
    assert limit_problems([(fall_med, 20.0), (fall_hi, 10.0)])  # a smaller fall outranks


def test_a_change_is_medical_staffs_and_shows_who_is_signed_in(qtbot) -> None:
    """No typed name: the signed-in user is shown, and a therapist cannot apply."""
    dialog = make(qtbot, staff=THERAPIST)
    assert "Tess Therapist (therapist)" in dialog.staff.text()
    assert dialog.ok_button.isEnabled()  # nothing changed yet
    dialog.spin_for("spo2", LOW, MED).setValue(91)
    assert not dialog.ok_button.isEnabled() and "medical staff" in dialog.message.text()
    nurse = make(qtbot, staff=NURSE)
    nurse.spin_for("spo2", LOW, MED).setValue(91)
    assert nurse.ok_button.isEnabled() and "Nia Nurse" in nurse.staff.text()


@pytest.mark.parametrize("protocol", protocol_ids())
def test_every_shipped_protocol_opens_valid_and_fits_1280x720(qtbot, protocol: str) -> None:
    dialog = make(qtbot, limits(protocol))
    assert dialog.ok_button.isEnabled(), dialog.message.text()
    for size in (dialog.minimumSizeHint(), dialog.minimumSize()):
        assert size.width() <= 1280 and size.height() <= 720 - 80, size
    assert dialog.width() <= 1280 and dialog.height() <= 720 - 40
    dialog.resize(dialog.minimumSize())
    qtbot.wait(10)
    assert dialog.buttons.geometry().bottom() <= dialog.height()


def test_a_long_list_scrolls_instead_of_growing(qtbot) -> None:
    rules = []
    for channel in ("heart_rate", "pulse_rate", "spo2", "nibp_systolic", "nibp_diastolic",
                    "nibp_mean", "perfusion_index"):  # fmt: skip
        for priority, (low, high) in ((Priority.LOW, (30, 60)), (MED, (20, 70)), (HI, (10, 80))):
            rules += [LimitRule(channel, LOW, priority, low),
                      LimitRule(channel, HIGH, priority, high)]  # fmt: skip
    dialog = make(qtbot, AlarmLimits(tuple(rules)))
    assert dialog.minimumSize().height() <= 720 - 80
    dialog.resize(1000, 600)
    qtbot.wait(10)
    assert dialog.form_scroll.verticalScrollBar().maximum() > 0
    assert dialog.buttons.geometry().bottom() <= dialog.height()
