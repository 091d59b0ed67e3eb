"""The devices panel: which monitors are connected and how they are doing, which channels
feed the session, and scanning for and connecting new ones (serial ports and BLE)."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapdesk.acquisition.device_manager import DeviceEntry, DeviceManager, ScanResult
from kapdesk.acquisition.ingest import LinkState
from kapdesk.domain import time_text
from kapdesk.domain.channels import CHANNELS
from kapdesk.ui.common.gui_thread import ThreadInbox
from kapdesk.ui.common.theme import set_role

STATE_TEXT = {
    LinkState.CONNECTING: "connecting\u2026",
    LinkState.CONNECTED: "connected",
    LinkState.NO_DATA: "NO DATA",
    LinkState.DISCONNECTED: "disconnected",
}
COLUMNS = [
    "Device",
    "Link",
    "Last reading",
    "Signal",
    "Battery",
    "Dropped",
    "Implausible",
    "Channels",  # last: the long one, stretched and elided (in full in its tooltip)
]
COLUMN_TIPS = {
    "Dropped": "Frames that failed to parse (checksum, framing): dropped, never shown",
    "Implausible": "Values outside the channel's physiological range: flagged invalid,"
    " never drawn or alarmed as a measurement",
}
SELECT_DEVICE = "Select a device in the table first."
SELECT_FOUND = "Select a device from the scan results first."
_ORDER = {name: i for i, name in enumerate(CHANNELS)}


def channel_name(name: str) -> str:
    """A channel as staff read it: "SpO₂ (%)", "NIBP diastolic (mmHg)", "Pleth"."""
    info = CHANNELS.get(name)
    if info is None:
        return name
    return f"{info.label} ({info.display_unit})" if info.display_unit else info.label


def channels_text(names: set[str] | list[str]) -> str:
    """Channels in display order (heart rate first, as on the monitor), by name."""
    ordered = sorted(names, key=lambda n: (_ORDER.get(n, len(_ORDER)), n))
    return ", ".join(channel_name(n) for n in ordered)


def link_text(e: DeviceEntry) -> str:
    text = STATE_TEXT[e.state]
    if not e.enabled:
        return "off (by staff)"
    return f"{text} ({e.detail})" if e.detail and e.state is not LinkState.CONNECTED else text


def signal_text(e: DeviceEntry) -> str:
    if "sensor_off" in e.flags:
        return "sensor off"
    if e.signal is not None:
        return f"{e.signal:.0f}/15"  # CONTEC-style 0-15 strength
    return "ok" if e.state is LinkState.CONNECTED else "-"


def _label(text: str, role: str) -> QLabel:
    label = QLabel(text)
    set_role(label, role)
    return label


class DevicesPanel(QWidget):
    def __init__(self, manager: DeviceManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.setWindowTitle("kapdesk \u2014 devices")
        lay = QVBoxLayout(self)
        lay.addWidget(_label("Connected monitors", "heading"))
        self.entries: list[DeviceEntry] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for j, tip in COLUMN_TIPS.items():
            header = self.table.horizontalHeaderItem(COLUMNS.index(j))
            if header is not None:
                header.setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        lay.addWidget(self.table, 2)
        row = QHBoxLayout()
        self.disconnect_button = QPushButton("Disconnect")
        self.reconnect_button = QPushButton("Connect again")
        self.disconnect_button.clicked.connect(self._disconnect)
        self.reconnect_button.clicked.connect(self._reconnect)
        row.addWidget(self.disconnect_button)
        row.addWidget(self.reconnect_button)
        #: why the buttons are disabled, or what the last action did
        self.device_note = QLabel("")
        self.device_note.setWordWrap(True)
        set_role(self.device_note, "muted")
        row.addWidget(self.device_note, 1)
        lay.addLayout(row)
        self.feeding = QLabel("")
        self.feeding.setWordWrap(True)
        lay.addWidget(self.feeding)

        lay.addWidget(_label("Find monitors", "heading"))
        scan_row = QHBoxLayout()
        self.scan_button = QPushButton("Scan serial ports and Bluetooth")
        self.scan_button.clicked.connect(self.scan)
        self.scan_note = _label("", "muted")
        self.scan_note.setWordWrap(True)
        scan_row.addWidget(self.scan_button)
        scan_row.addWidget(self.scan_note, 1)
        lay.addLayout(scan_row)
        self.found = QTableWidget(0, 4)
        self.found.setHorizontalHeaderLabels(["Transport", "Address / port", "Name", "Signal"])
        self.found.verticalHeader().setVisible(False)
        self.found.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.found.horizontalHeader().setStretchLastSection(True)
        self.found.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.found.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.found.itemSelectionChanged.connect(self._found_selected)
        lay.addWidget(self.found, 1)
        connect_row = QHBoxLayout()
        connect_row.addWidget(QLabel("Device type"))
        self.profile_choice = QComboBox()
        connect_row.addWidget(self.profile_choice, 1)
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(self.connect_selected)
        connect_row.addWidget(self.connect_button)
        lay.addLayout(connect_row)
        self.profile_choice.currentIndexChanged.connect(self._update_buttons)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        set_role(self.error, "muted")
        lay.addWidget(self.error)

        self.catalog = manager.catalog
        self.results: list[ScanResult] = []
        self._scans: ThreadInbox[tuple[list[ScanResult], str]] = ThreadInbox(
            lambda r: self._scan_done(*r), self, 100
        )
        self.resize(1180, 660)  # fits a 1280x720 laptop screen
        self.refresh(0.0)
        self._update_buttons()

    # -- the connected devices ------------------------------------------------------------

    def refresh(self, now: float) -> None:
        entries = self.manager.entries()
        self.entries = entries
        if self.table.rowCount() != len(entries):
            self.table.setRowCount(len(entries))
        for i, e in enumerate(entries):
            last = e.last_reading_t
            age = "-" if last is None else time_text.ago(max(0.0, now - last))
            battery = "-" if e.battery_percent is None else f"{e.battery_percent} %"
            cells = [
                e.name,
                link_text(e),
                age,
                signal_text(e),
                battery,
                str(e.malformed),
                str(e.implausible),  # flagged invalid: never drawn or alarmed as a value
                channels_text(e.channels),
            ]
            for j, text in enumerate(cells):
                item = self.table.item(i, j)
                if item is None:
                    item = QTableWidgetItem(text)
                    self.table.setItem(i, j, item)
                elif item.text() != text:
                    item.setText(text)
                if j == 0:
                    item.setData(Qt.ItemDataRole.UserRole, e.name)
                elif j == len(cells) - 1:
                    item.setToolTip(text)
        for j in range(len(COLUMNS) - 1):  # the channels column takes what is left
            self.table.resizeColumnToContents(j)
        feeding = self.manager.session_channels(now)
        ordered = sorted(feeding.items(), key=lambda kv: (_ORDER.get(kv[0], len(_ORDER)), kv[0]))
        text = "; ".join(f"{channel_name(ch)} \u2190 {', '.join(devs)}" for ch, devs in ordered)
        self.feeding.setText(f"Feeding this session: {text or 'nothing yet'}")
        self._update_buttons()

    def selected_device(self) -> str | None:
        rows = {i.row() for i in self.table.selectedItems()}
        if len(rows) != 1:
            return None
        item = self.table.item(rows.pop(), 0)
        if item is None:
            return None
        name = item.data(Qt.ItemDataRole.UserRole)
        return str(name) if name else item.text()

    def _selected_entry(self) -> DeviceEntry | None:
        name = self.selected_device()
        return next((e for e in self.entries if e.name == name), None)

    def _update_buttons(self) -> None:
        """Actions need a selection: without one they are disabled and the note says so."""
        entry = self._selected_entry()
        self.disconnect_button.setEnabled(entry is not None and entry.enabled)
        self.reconnect_button.setEnabled(entry is not None and not entry.enabled)
        for button in (self.disconnect_button, self.reconnect_button):
            button.setToolTip("" if entry is not None else SELECT_DEVICE)
        if entry is None:
            self.device_note.setText(SELECT_DEVICE if self.entries else "No monitors yet.")
        elif self.device_note.text() in (SELECT_DEVICE, "No monitors yet."):
            self.device_note.setText("")
        found = self.selected_result() is not None and self.profile_choice.currentData()
        self.connect_button.setEnabled(bool(found))
        self.connect_button.setToolTip("" if found else SELECT_FOUND)

    def _disconnect(self) -> None:
        name = self.selected_device()
        if not name:
            self.device_note.setText(SELECT_DEVICE)
            return
        self.manager.disconnect(name)
        self.entries = self.manager.entries()
        self.device_note.setText(f"{name} disconnected; it stays off until you connect it again.")
        self._update_buttons()

    def _reconnect(self) -> None:
        name = self.selected_device()
        if not name:
            self.device_note.setText(SELECT_DEVICE)
            return
        self.manager.reconnect(name)
        self.entries = self.manager.entries()
        self.device_note.setText(f"Connecting {name} again\u2026")
        self._update_buttons()

    # -- scanning and connecting ------------------------------------------------------------

    def scan(self) -> None:
        """Scan on a worker thread (BLE scanning takes seconds); results come back queued."""
        self.scan_button.setEnabled(False)
        self.scan_note.setText("Scanning\u2026")

        manager, put = self.manager, self._scans.put  # no Qt object on the worker thread

        def work() -> None:
            try:
                results, note = manager.scan()
            except Exception as exc:  # report any failure in the panel, never crash
                results, note = [], f"Scan failed: {exc}"
            put((results, note))

        threading.Thread(target=work, name="kapdesk-scan", daemon=True).start()

    def _scan_done(self, results: list[ScanResult], note: str) -> None:
        self.results = results
        self.found.setRowCount(len(results))
        for i, r in enumerate(results):
            rssi = "" if r.rssi is None else f"{r.rssi} dBm"
            for j, text in enumerate((r.transport, r.address, r.name, rssi)):
                self.found.setItem(i, j, QTableWidgetItem(text))
        self.found.resizeColumnsToContents()
        self.scan_button.setEnabled(True)
        self.scan_note.setText(note or f"{len(results)} found")
        self._update_buttons()

    def _found_selected(self) -> None:
        r = self.selected_result()
        self.profile_choice.clear()
        if r is None:
            self._update_buttons()
            return
        keys = r.profiles or tuple(k for k, p in self.catalog.items() if p.transport == r.transport)
        for key in keys:
            self.profile_choice.addItem(self.catalog[key].name, key)
        self._update_buttons()

    def selected_result(self) -> ScanResult | None:
        rows = {i.row() for i in self.found.selectedItems()}
        return self.results[rows.pop()] if len(rows) == 1 else None

    def connect_selected(self) -> None:
        r = self.selected_result()
        key = self.profile_choice.currentData()
        self.error.setText("")
        set_role(self.error, "muted")
        if r is None:
            self.error.setText(SELECT_FOUND)
            return
        if key is None:
            self.error.setText("Choose the device type first.")
            return
        profile = self.catalog[key]
        try:
            if r.transport == "ble":
                self.manager.connect_ble(profile, r.address, name=r.name or None)
            else:
                self.manager.connect_serial(profile, r.address)
        except ValueError as exc:
            set_role(self.error, "error")
            self.error.setText(str(exc))
