"""The devices panel with demo mode's emulated monitors on their real transports."""

from __future__ import annotations

import time

from access_support import CLINICIAN
from pytestqt.qtbot import QtBot

from kapdesk.acquisition.catalog import load_catalog
from kapdesk.acquisition.device_manager import DeviceManager
from kapdesk.acquisition.ingest import IngestHub, LinkState
from kapdesk.demo.mode import start_demo
from kapdesk.demo.monitors import CUFF, OXIMETER, STRAP
from kapdesk.domain.clock import SessionClock
from kapdesk.domain.readings import Reading
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.devices.panel import (
    COLUMNS,
    SELECT_DEVICE,
    SELECT_FOUND,
    DevicesPanel,
    channel_name,
)

CHANNELS_COLUMN = COLUMNS.index("Channels")
IMPLAUSIBLE = COLUMNS.index("Implausible")


def cell(panel: DevicesPanel, name: str, column: int) -> str:
    for i in range(panel.table.rowCount()):
        item = panel.table.item(i, 0)
        if item is not None and item.text() == name:
            other = panel.table.item(i, column)
            return other.text() if other else ""
    raise KeyError(name)


def test_panel_shows_status_feeds_disconnects_and_scans(qtbot: QtBot, db_url: str) -> None:
    rt = Runtime.build(open_database(db_url), speed=5.0, actor=CLINICIAN)
    try:
        start_demo(rt)
        panel = DevicesPanel(rt.devices)
        qtbot.addWidget(panel)
        panel.show()

        def refreshed_connected() -> bool:
            panel.refresh(rt.clock.now())
            return all(cell(panel, n, 1) == "connected" for n in (STRAP, CUFF, OXIMETER)) and all(
                ch in cell(panel, n, CHANNELS_COLUMN)
                for n, ch in ((STRAP, "RR interval"), (OXIMETER, "SpO\u2082"), (OXIMETER, "Pleth"))
            )

        qtbot.waitUntil(refreshed_connected, timeout=15000)
        # channels by name with their units, never the raw ids
        strap = cell(panel, STRAP, CHANNELS_COLUMN)
        assert "Heart rate (bpm)" in strap and "RR interval (s)" in strap
        assert "heart_rate" not in strap and "rr_interval" not in strap
        oximeter = cell(panel, OXIMETER, CHANNELS_COLUMN)
        assert "SpO\u2082 (%)" in oximeter and "Pleth" in oximeter and "spo2" not in oximeter
        assert cell(panel, OXIMETER, 3).endswith("/15")  # the oximeter's own signal figure
        assert cell(panel, STRAP, 4).endswith("%")  # battery level read over BLE
        assert "SpO\u2082 (%) \u2190 " + OXIMETER in panel.feeding.text()

        # A value outside SpO2's range is flagged and counted against its device (issue 11
        # point 5): staff see which monitor sends implausible values.
        before = int(cell(panel, OXIMETER, IMPLAUSIBLE))
        rt.hub.publish(Reading("spo2", 116.0, "%", t=rt.clock.now(), device=OXIMETER))
        panel.refresh(rt.clock.now())
        assert int(cell(panel, OXIMETER, IMPLAUSIBLE)) == before + 1

        # Staff disconnect the oximeter: it stays off (no automatic reconnection) and stops
        # feeding the session; connecting again brings it back.
        panel.table.selectRow(
            next(
                i
                for i in range(panel.table.rowCount())
                if panel.table.item(i, 0).text() == OXIMETER
            )
        )
        panel._disconnect()
        panel.refresh(rt.clock.now())
        assert cell(panel, OXIMETER, 1) == "off (by staff)"
        qtbot.wait(1500)
        panel.refresh(rt.clock.now())
        assert "SpO\u2082" not in panel.feeding.text()
        panel._reconnect()

        def back() -> bool:
            panel.refresh(rt.clock.now())
            return cell(panel, OXIMETER, 1) == "connected" and "SpO\u2082" in panel.feeding.text()

        qtbot.waitUntil(back, timeout=10000)

        # A connected BLE device stops advertising; once staff disconnect the strap, a scan
        # finds it through the bumble backend, with the catalog profile that fits it.
        rt.devices.disconnect(STRAP)
        panel.scan()
        qtbot.waitUntil(lambda: panel.scan_button.isEnabled(), timeout=20000)
        ble = [r for r in panel.results if r.transport == "ble"]
        assert any("generic-ble-heart-rate" in r.profiles for r in ble), panel.results
        assert all(r.service_uuids for r in ble)  # what each advertises, as the CLI lists
        strap = next(
            i for i, r in enumerate(panel.results) if "generic-ble-heart-rate" in r.profiles
        )
        panel.found.selectRow(strap)
        assert panel.profile_choice.currentData() == "generic-ble-heart-rate"
        panel.connect_selected()
        qtbot.waitUntil(
            lambda: any(
                e.state is LinkState.CONNECTED and e.address == panel.results[strap].address
                for e in rt.devices.entries()
            ),
            timeout=15000,
        )
    finally:
        rt.shutdown()


class Idle:
    """A connection that never sends: enough for the panel's table and buttons."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def test_channels_are_named_with_units_and_actions_need_a_selection(qtbot: QtBot) -> None:
    manager = DeviceManager(IngestHub(), SessionClock(time.monotonic, time.time))
    profile = next(p for p in load_catalog() if p.transport == "serial")
    manager._add("Bedside monitor", "serial", profile, "/dev/ttyS9", Idle)
    manager._add("Finger oximeter", "serial", profile, "/dev/ttyS8", Idle)
    for channel, value, unit in (
        ("nibp_diastolic", 80, "mm[Hg]"), ("nibp_systolic", 120, "mm[Hg]"),
        ("heart_rate", 70, "/min"),
    ):  # fmt: skip
        manager.hub.publish(Reading(channel, value, unit, t=1.0, device="Bedside monitor"))
    manager.hub.publish(Reading("spo2", 97, "%", t=1.0, device="Finger oximeter"))
    panel = DevicesPanel(manager)
    qtbot.addWidget(panel)
    panel.show()
    panel.refresh(1.5)
    # in the monitor's display order, each with its unit
    assert cell(panel, "Bedside monitor", CHANNELS_COLUMN) == (
        "Heart rate (bpm), NIBP systolic (mmHg), NIBP diastolic (mmHg)"
    )
    assert cell(panel, "Finger oximeter", CHANNELS_COLUMN) == "SpO\u2082 (%)"
    assert "SpO\u2082 (%) \u2190 Finger oximeter" in panel.feeding.text()
    assert "NIBP diastolic (mmHg) \u2190 Bedside monitor" in panel.feeding.text()
    assert channel_name("no_such_channel") == "no_such_channel"

    # nothing selected: the actions are off and the panel says why
    assert not panel.disconnect_button.isEnabled() and not panel.reconnect_button.isEnabled()
    assert panel.device_note.text() == SELECT_DEVICE == "Select a device in the table first."
    assert panel.disconnect_button.toolTip() == SELECT_DEVICE
    panel._disconnect()  # e.g. a shortcut: it says so instead of doing nothing
    assert panel.device_note.text() == SELECT_DEVICE
    assert all(e.enabled for e in manager.entries())

    row = next(i for i in range(panel.table.rowCount())
               if panel.table.item(i, 0).text() == "Finger oximeter")  # fmt: skip
    panel.table.selectRow(row)
    assert panel.disconnect_button.isEnabled() and not panel.reconnect_button.isEnabled()
    assert panel.device_note.text() == ""
    panel.disconnect_button.click()
    assert "Finger oximeter disconnected" in panel.device_note.text()
    assert not panel.disconnect_button.isEnabled() and panel.reconnect_button.isEnabled()
    panel.refresh(2.0)
    assert cell(panel, "Finger oximeter", 1) == "off (by staff)"
    assert panel.reconnect_button.isEnabled()  # the selection survives a refresh
    panel.reconnect_button.click()
    assert next(e for e in manager.entries() if e.name == "Finger oximeter").enabled
    panel.table.clearSelection()
    assert not panel.disconnect_button.isEnabled()
    assert panel.device_note.text() == SELECT_DEVICE

    # connecting needs a scan result: the button waits for one
    assert not panel.connect_button.isEnabled()
    assert panel.connect_button.toolTip() == SELECT_FOUND
    panel.connect_selected()
    assert panel.error.text() == SELECT_FOUND
    assert panel.error.property("role") == "muted"
