"""Where the key of an encrypted database comes from before anyone is asked: for a demo
database, the published demo passphrase (its data is fictitious); ``KAPDESK_PASSPHRASE``
(an unattended script; the clinic guards it as it guards the passphrase); the OS keyring
(when the clinic chose "remember on this computer"). ``None`` means a
person has to type the passphrase (or the recovery key).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kapdesk.storage.encryption import (
    DataKey,
    EncryptionError,
    Problem,
    create_key_file,
    key_file_info,
    key_file_path,
    key_from_keyring,
    unlock,
)

log = logging.getLogger(__name__)

#: The clinic name of a demo database's key file, and the passphrase it opens with. A key
#: file says so in clear; only such a file is opened without asking.
DEMO_CLINIC = "kapdesk demo (fictitious data)"
DEMO_PASSPHRASE = "kapdesk-demo-passphrase"


def has_key_file(path: Path) -> bool:
    return key_file_path(path).exists()


def known_key(path: Path) -> DataKey | None:
    """The key without asking anyone, or None. A wrong ``KAPDESK_PASSPHRASE`` raises
    (``EncryptionError``): a script must not silently fall back to a prompt."""
    info = key_file_info(path)
    if info.clinic_name == DEMO_CLINIC:  # no keyring for a demo (its lookup costs start-up)
        return unlock(path, DEMO_PASSPHRASE)
    env = os.environ.get("KAPDESK_PASSPHRASE")
    if env:
        return unlock(path, env)
    return key_from_keyring(info.database_id)


def set_up_demo_key(path: Path) -> DataKey:
    """A demo database is encrypted like a clinic's, with the demo passphrase."""
    if has_key_file(path):
        key = known_key(path)
        if key is None:
            raise EncryptionError(
                Problem.WRONG_PASSPHRASE, f"{path} is not a demo database. Nothing was changed."
            )
        return key
    return create_key_file(path, DEMO_PASSPHRASE, DEMO_CLINIC).data_key
