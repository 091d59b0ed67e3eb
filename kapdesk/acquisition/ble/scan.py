"""One BLE scan for the whole app: the devices panel (``DeviceManager.scan``) and
``kapdesk devices list`` find devices, and the catalog profiles that fit them, the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kapdesk.acquisition.catalog import DeviceProfile


async def discover(seconds: float, backend: Any = None) -> list[tuple[Any, Any]]:
    """(BLEDevice, AdvertisementData) of every device heard in ``seconds``, by address.

    ``backend`` is a bumble backend for bleak (demo mode, tests); None is the OS stack."""
    from bleak import BleakScanner

    kwargs: dict[str, Any] = {} if backend is None else {"backend": backend.scanner}
    found = await BleakScanner.discover(timeout=seconds, return_adv=True, **kwargs)
    return sorted(found.values(), key=lambda item: item[0].address)


def fitting_profiles(
    profiles: Iterable[DeviceProfile], service_uuids: Iterable[str]
) -> tuple[str, ...]:
    """Catalog keys of the BLE profiles whose service a device advertises."""
    uuids = set(service_uuids)
    return tuple(p.key for p in profiles if p.ble is not None and p.ble.service_uuid in uuids)
