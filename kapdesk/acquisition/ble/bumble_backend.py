"""A bleak backend on bumble: real GATT over an in-process ``bumble.link.LocalLink``.

With it, the same ``bleak.BleakScanner``/``bleak.BleakClient`` code that talks to a real
adapter talks to emulated peripherals instead (demo mode, training, tests): advertising,
connection, service discovery, CCCD writes, notifications and indications all go through
bumble's controller, host and ATT layers, so the transport under test is the real one.

bleak selects a backend by class (``BleakClient(device, backend=...)``), not by instance,
so ``bumble_backend(central)`` makes a pair of subclasses bound to one ``BumbleCentral``.
No bumble backend ships with bleak (one was proposed upstream but never merged), which is
why this module exists. Everything here must run on the loop that runs the LocalLink.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble import core, hci
from bumble.att import ATT_Error
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import Characteristic
from bumble.gatt_client import CharacteristicProxy
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

log = logging.getLogger(__name__)

T = TypeVar("T")

CENTRAL_ADDRESS = "F0:F0:F0:F0:F0:F0"
DEFAULT_MTU = 23

_PROPERTY_NAMES: tuple[tuple[Characteristic.Properties, CharacteristicPropertyName], ...] = (
    (Characteristic.Properties.BROADCAST, "broadcast"),
    (Characteristic.Properties.READ, "read"),
    (Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (Characteristic.Properties.WRITE, "write"),
    (Characteristic.Properties.NOTIFY, "notify"),
    (Characteristic.Properties.INDICATE, "indicate"),
    (Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
)

_SERVICE_UUID_LISTS = (
    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA = (
    AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID,
)


def bleak_uuid(value: core.UUID) -> str:
    """bumble UUID -> bleak's normalised form (lower-case 128-bit string)."""
    return str(uuidlib.UUID(bytes=bytes(reversed(value.to_bytes(force_128=True)))))


def bumble_uuid(value: str) -> core.UUID:
    return core.UUID(value)


def property_names(props: int) -> list[CharacteristicPropertyName]:
    return [name for flag, name in _PROPERTY_NAMES if props & flag]


class CancellableController(Controller):
    """bumble's controller with a working LE Create Connection Cancel.

    bumble 0.0.236 acknowledges the cancel but keeps the connection pending, so a connect
    that timed out (peripheral gone) hangs and every later connect is refused. The spec
    (Vol 4, Part E, 7.8.13) says: clear the pending connection and report an LE Connection
    Complete event with status Unknown Connection Identifier; that is all this adds.
    """

    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending = self.pending_le_connection
        self.pending_le_connection = None
        if pending is not None:
            failure = hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0,
                role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address.address_type,
                peer_address=pending.peer_address,
                connection_interval=0,
                peripheral_latency=0,
                supervision_timeout=0,
                central_clock_accuracy=0,
            )
            # After the command's own Command Complete, as a real controller orders them.
            asyncio.get_running_loop().call_soon(self.send_hci_packet, failure)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


def make_device(
    link: LocalLink, address: str, name: str, controller_class: type[Controller] = Controller
) -> Device:
    """A bumble device with its own controller on ``link`` (one radio in the room)."""
    controller = controller_class(name, link=link, public_address=address)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=Address(address), host=host)


def advertisement_data(adv: Advertisement) -> AdvertisementData:
    """bumble's parsed advertisement -> bleak's ``AdvertisementData``."""
    data = adv.data
    name = data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.Type.SHORTENED_LOCAL_NAME
    )
    service_uuids: list[str] = []
    for kind in _SERVICE_UUID_LISTS:
        for uuids in data.get_all(kind):
            if isinstance(uuids, list):
                service_uuids.extend(bleak_uuid(u) for u in uuids if isinstance(u, core.UUID))
    service_data: dict[str, bytes] = {}
    for kind in _SERVICE_DATA:
        for item in data.get_all(kind):
            if isinstance(item, tuple) and isinstance(item[0], core.UUID):
                service_data[bleak_uuid(item[0])] = bytes(item[1])
    manufacturer: dict[int, bytes] = {
        company: bytes(payload)
        for company, payload in data.get_all(AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA)
    }
    tx_power = data.get(AdvertisingData.Type.TX_POWER_LEVEL)
    return AdvertisementData(
        local_name=name if isinstance(name, str) else None,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=list(dict.fromkeys(service_uuids)),
        tx_power=tx_power if isinstance(tx_power, int) else None,
        rssi=adv.rssi,
        platform_data=(adv,),
    )


@dataclass(frozen=True, slots=True)
class BumbleDeviceDetails:
    """What ``BLEDevice.details`` holds for this backend: the typed bumble address."""

    address: Address


AdvertisementListener = Callable[[Advertisement], None]


class BumbleCentral:
    """The computer's side of the emulated radio: one bumble device acting as the adapter.

    Several scanners and clients share it, as they share one adapter on a real machine:
    scanning is reference-counted and connection set-up is serialised (a controller
    accepts one pending LE connection at a time).
    """

    def __init__(self, link: LocalLink, address: str = CENTRAL_ADDRESS) -> None:
        self.link = link
        self.device = make_device(link, address, "kapdesk-central", CancellableController)
        self._listeners: list[AdvertisementListener] = []
        self._scan_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._known: dict[str, Address] = {}
        self.device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)

    async def power_on(self) -> None:
        await self.device.power_on()

    async def power_off(self) -> None:
        if self.device.is_scanning:
            await self.device.stop_scanning()
        for connection in list(self.device.connections.values()):
            await _disconnect_quietly(connection)
        await self.device.power_off()

    def _on_advertisement(self, adv: Advertisement) -> None:
        self._known[adv.address.to_string(False).upper()] = adv.address
        for listener in list(self._listeners):
            listener(adv)

    async def add_scan_listener(self, listener: AdvertisementListener) -> None:
        async with self._scan_lock:
            self._listeners.append(listener)
            if not self.device.is_scanning:
                await self.device.start_scanning(filter_duplicates=False)

    async def remove_scan_listener(self, listener: AdvertisementListener) -> None:
        async with self._scan_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if not self._listeners and self.device.is_scanning:
                await self.device.stop_scanning()

    def address_for(self, text: str) -> Address:
        """The typed address for a string: as last advertised, else a random address."""
        return self._known.get(text.upper()) or Address(text)

    async def connect(self, address: Address, timeout: float) -> Connection:
        async with self._connect_lock:
            try:
                return await self.device.connect(address, timeout=timeout)
            except core.TimeoutError:
                raise TimeoutError(f"no connection to {address.to_string(False)}") from None
            except core.BaseBumbleError as exc:
                raise BleakError(f"connection to {address.to_string(False)} failed: {exc}") from exc


async def _disconnect_quietly(connection: Connection) -> None:
    try:
        await connection.disconnect()
    except (core.BaseBumbleError, asyncio.CancelledError, OSError) as exc:
        log.debug("disconnect of %s failed: %s", connection, exc)


async def _gatt(what: str, operation: Awaitable[T]) -> T:
    """Run one GATT procedure, with bumble's failures as the exceptions bleak callers expect.

    When the link drops, bumble cancels the pending ATT request, which surfaces as
    CancelledError in the awaiting task although nobody cancelled that task; passing it
    on would end the caller's reconnect loop, so it becomes a BleakError.
    """
    try:
        return await operation
    except ATT_Error as exc:
        raise BleakGATTProtocolError(exc.error_code) from exc
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        raise BleakError(f"link lost during {what}") from None
    except core.BaseBumbleError as exc:
        raise BleakError(f"{what} failed: {exc}") from exc


@dataclass(frozen=True, slots=True)
class BumbleBackend:
    """The scanner and client classes to pass to bleak as ``backend=``."""

    central: BumbleCentral
    scanner: type[BaseBleakScanner]
    client: type[BaseBleakClient]


def bumble_backend(central: BumbleCentral) -> BumbleBackend:
    scanner = type("BumbleBleakScanner", (BumbleBleakScanner,), {"central": central})
    client = type("BumbleBleakClient", (BumbleBleakClient,), {"central": central})
    return BumbleBackend(central, scanner, client)


class BumbleBleakScanner(BaseBleakScanner):
    """Scans the LocalLink through the central's controller (active scanning)."""

    central: ClassVar[BumbleCentral]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._scanning = False

    async def start(self) -> None:
        self.seen_devices = {}
        if not self._scanning:
            await self.central.add_scan_listener(self._on_advertisement)
            self._scanning = True

    async def stop(self) -> None:
        if self._scanning:
            self._scanning = False
            await self.central.remove_scan_listener(self._on_advertisement)

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = advertisement_data(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = adv.address.to_string(False).upper()
        device = self.create_or_update_device(
            address, address, data.local_name, BumbleDeviceDetails(adv.address), data
        )
        self.call_detection_callbacks(device, data)


class BumbleBleakClient(BaseBleakClient):
    """A GATT client over a bumble connection, shaped as bleak expects a backend to be."""

    central: ClassVar[BumbleCentral]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        if isinstance(address_or_ble_device, BLEDevice):
            details = address_or_ble_device.details
            self._peer_address = (
                details.address
                if isinstance(details, BumbleDeviceDetails)
                else self.central.address_for(address_or_ble_device.address)
            )
            self._device_name = address_or_ble_device.name
        else:
            self._peer_address = self.central.address_for(address_or_ble_device)
            self._device_name = None
        self._service_filter = services
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}
        self._closing = False

    # -- connectivity -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        if pair:
            log.info("bumble backend: pairing is not emulated; connecting without it")
        self._closing = False
        connection = await self.central.connect(self._peer_address, self._timeout)
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._connection = connection
        self._peer = Peer(connection)
        try:
            async with asyncio.timeout(self._timeout):
                self.services = await _gatt("service discovery", self._discover(self._peer))
        except BaseException:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        await _disconnect_quietly(connection)
        self._forget_connection()

    def _on_disconnection(self, reason: int) -> None:
        unsolicited = not self._closing
        self._forget_connection()
        if unsolicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    def _forget_connection(self) -> None:
        self._connection = None
        self._peer = None
        self._subscribers.clear()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError("pairing is not supported by the emulated (bumble) backend")

    async def unpair(self) -> None:
        raise BleakError("pairing is not supported by the emulated (bumble) backend")

    # -- discovery --------------------------------------------------------------------------

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        wanted = [bumble_uuid(u) for u in self._service_filter or ()]
        for service in await peer.discover_services(wanted):
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for char in await service.discover_characteristics():
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    bleak_uuid(char.uuid),
                    property_names(char.properties),
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in await char.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, bleak_uuid(desc.type), bleak_char)
                    )
        return collection

    # -- I/O --------------------------------------------------------------------------------

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._read(characteristic.obj))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._read(descriptor.obj))

    async def _read(self, proxy: Any) -> bytes:
        return await _gatt("read", self._require_peer().read_value(proxy))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        await self._write(characteristic.obj, bytes(data), response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        await self._write(descriptor.obj, bytes(data), True)

    async def _write(self, proxy: Any, data: bytes, response: bool) -> None:
        await _gatt("write", self._require_peer().write_value(proxy, data, with_response=response))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require_peer()
        proxy: CharacteristicProxy[bytes] = characteristic.obj

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        # Notifications are preferred over indications when both are offered, as bleak's
        # backends do; bumble writes the CCCD and confirms indications itself.
        await _gatt("subscribe", peer.subscribe(proxy, on_value, prefer_notify=True))
        self._subscribers[characteristic.handle] = on_value

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require_peer()
        subscriber = self._subscribers.pop(characteristic.handle, None)
        await _gatt("unsubscribe", peer.unsubscribe(characteristic.obj, subscriber))


__all__ = [
    "BumbleBackend",
    "BumbleBleakClient",
    "BumbleBleakScanner",
    "BumbleCentral",
    "BumbleDeviceDetails",
    "advertisement_data",
    "bleak_uuid",
    "bumble_backend",
    "make_device",
]
