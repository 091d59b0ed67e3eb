"""The devices panel with demo mode's emulated monitors on their real transports."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kapdesk.acquisition.emulated_devices import CUFF, OXIMETER, STRAP
from kapdesk.acquisition.ingest import LinkState
from kapdesk.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.devices_panel import DevicesPanel


def cell(panel: DevicesPanel, name: str, column: int) -> str:
    for i in range(panel.table.rowCount()):
        item = panel.table.item(i, 0)
        if item is not None and item.text() == name:
            other = panel.table.item(i, column)
            return other.text() if other else ""
    raise KeyError(name)


def test_panel_shows_status_feeds_disconnects_and_scans(qtbot: QtBot, db_url: str) -> None:
    rt = Runtime.build(open_database(db_url), speed=5.0)
    try:
        rt.start_demo()
        panel = DevicesPanel(rt.devices)
        qtbot.addWidget(panel)
        panel.show()

        def refreshed_connected() -> bool:
            panel.refresh(rt.clock.now())
            return all(cell(panel, n, 1) == "connected" for n in (STRAP, CUFF, OXIMETER)) and all(
                ch in cell(panel, n, 5)
                for n, ch in ((STRAP, "rr_interval"), (OXIMETER, "spo2"), (OXIMETER, "pleth"))
            )

        qtbot.waitUntil(refreshed_connected, timeout=15000)
        assert "heart_rate" in cell(panel, STRAP, 5) and "rr_interval" in cell(panel, STRAP, 5)
        assert "spo2" in cell(panel, OXIMETER, 5) and "pleth" in cell(panel, OXIMETER, 5)
        assert cell(panel, OXIMETER, 3).endswith("/15")  # the oximeter's own signal figure
        assert cell(panel, STRAP, 4).endswith("%")  # battery level read over BLE
        assert "spo2 \u2190 " + OXIMETER in panel.feeding.text()

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
        assert "spo2" not in panel.feeding.text()
        panel._reconnect()

        def back() -> bool:
            panel.refresh(rt.clock.now())
            return cell(panel, OXIMETER, 1) == "connected" and "spo2" in panel.feeding.text()

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
