"""The SQLite database encrypted at rest with SQLCipher: its key, key file, engine and the
one-way migration of a plain file.

Keys (envelope encryption):

- The whole database file is encrypted by SQLCipher with a random 256-bit *data key*, given
  as a raw key (``PRAGMA key = "x'<64 hex>'"``): SQLCipher's own PBKDF2 is skipped, so a
  connection opens in milliseconds and the slow work is done once, by argon2id, at unlock.
- The data key is derived from the *recovery key* (160 random bits, shown once at set-up,
  written for people: nine groups of four characters, the last a checksum that catches a
  typo before anything is tried). The recovery key therefore opens the database even when
  the key file is lost or damaged: a recovery sheet that needed the key file as well would
  be worthless in exactly the case it is kept for.
- The *key file* next to the database (``<database>.key.json``, mode 0600, written
  atomically) holds the data key wrapped with AES-256-GCM under a key derived from the
  clinic passphrase with argon2id (parameters stored in the file), the associated data
  binding it to the database id; plus the format version, the database id, the clinic's
  name, the creation time and a key check value (an HMAC of the data key, which reveals
  nothing of it) that tells a wrong key from a damaged database. No secret is in it in
  clear. Changing the passphrase rewraps the data key; the database is not touched.
- Optionally the data key is kept in the OS keyring, so a workstation starts without the
  passphrase. Without a usable keyring (kiosk, headless) the passphrase is asked instead.

Every refusal is an :class:`EncryptionError` whose message is a sentence for the clinic
saying what is wrong and that nothing was changed; its ``kind`` says which case it is.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import unicodedata
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlcipher3.dbapi2 as sqlcipher  # type: ignore[import-untyped]
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import URL, Engine, create_engine, event

from kapdesk.storage.database import tune_sqlite

log = logging.getLogger(__name__)

KEY_FILE_SUFFIX = ".key.json"
KEY_FILE_FORMAT = "kapdesk database key file"
KEY_FILE_VERSION = 1
MIN_PASSPHRASE_LENGTH = 12
#: The first 16 bytes of every plain SQLite file; an SQLCipher file starts with its salt.
SQLITE_HEADER = b"SQLite format 3\x00"
#: Where a migration writes the encrypted copy before it takes the database's name.
TEMP_SUFFIX = ".encrypting"
KEYRING_SERVICE = "kapdesk"
PRIVATE_MODE = 0o600
SQLITE_NOTADB = 26

_RECOVERY_BYTES = 20  # 160 bits: 32 base32 characters
_RECOVERY_GROUPS = 9  # eight groups of data and one checksum group, four characters each
_RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U
_RECOVERY_READS_AS = {"O": "0", "I": "1", "L": "1"}  # what people write for 0 and 1
_DATA_KEY_INFO = b"kapdesk sqlcipher data key v1"
_KEY_CHECK_INFO = b"kapdesk key check v1|"
_RECOVERY_CHECK_INFO = b"kapdesk recovery key checksum v1|"
_WRAP_AAD = b"kapdesk key file v1|passphrase|"
_NOTHING_CHANGED = "Nothing was changed."


class Problem(StrEnum):
    """Which refusal an :class:`EncryptionError` is (the UI chooses its dialog by it)."""

    WEAK_PASSPHRASE = "weak passphrase"
    MISSING_CLINIC_NAME = "missing clinic name"
    WRONG_PASSPHRASE = "wrong passphrase"
    WRONG_RECOVERY_KEY = "wrong recovery key"
    RECOVERY_KEY_TYPO = "recovery key typo"
    WRONG_KEY = "key not of this key file"
    NO_KEY_FILE = "no key file"
    KEY_FILE_EXISTS = "key file exists"
    KEY_FILE_DAMAGED = "key file damaged"
    KEY_FILE_TOO_NEW = "key file too new"
    NO_DATABASE = "no database"
    NOT_A_DATABASE = "not a database"
    DATABASE_MISMATCH = "database does not match the key"
    DATABASE_PLAIN = "database not encrypted yet"
    DATABASE_ALREADY_ENCRYPTED = "database already encrypted"
    DATABASE_IN_USE = "database in use"
    MIGRATION_FAILED = "migration failed"
    FILE_ERROR = "file error"


class EncryptionError(RuntimeError):
    """The database cannot be set up, unlocked, opened or encrypted; nothing was changed.

    ``kind`` says which case it is; ``path`` the file concerned and ``field`` the key-file
    field at fault (for a damaged key file).
    """

    def __init__(
        self, kind: Problem, message: str, *, path: Path | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path
        self.field = field


@dataclass(frozen=True, eq=False)
class DataKey:
    """The 32-byte SQLCipher key of one database; its repr never shows it."""

    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise ValueError("a data key has 32 bytes")

    @property
    def pragma_value(self) -> str:
        """SQLCipher's raw-key literal: used as is, without SQLCipher's own key derivation."""
        return f"x'{self.raw.hex()}'"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataKey) and hmac.compare_digest(self.raw, other.raw)

    def __hash__(self) -> int:
        return hash(self.raw)


@dataclass(frozen=True)
class KdfParams:
    """argon2id's cost: memory in KiB, passes, lanes (stored in the key file)."""

    memory_kib: int = 64 * 1024
    time_cost: int = 3
    parallelism: int = 1


DEFAULT_KDF = KdfParams()
#: What a key file may ask for: beyond it the file is refused as damaged, rather than let a
#: tampered file make unlocking take all memory or hours.
_KDF_LIMITS = {"memory_kib": (8, 4 * 1024 * 1024), "time_cost": (1, 64), "parallelism": (1, 64)}


@dataclass(frozen=True)
class KeyFileInfo:
    """What a key file says in clear (nothing secret)."""

    key_file: Path
    database_id: str
    clinic_name: str
    created_at: str
    passphrase_changed_at: str
    kdf: KdfParams


@dataclass(frozen=True)
class SetUp:
    """What a set-up made: the data key, and the recovery key to show the clinic once."""

    data_key: DataKey = field(repr=False)
    recovery_key: str = field(repr=False)
    info: KeyFileInfo


# --- paths and small file helpers ------------------------------------------------------------


def key_file_path(db_path: str | os.PathLike[str]) -> Path:
    """The key file of a database: ``<database>.key.json`` beside it."""
    path = _absolute(db_path)
    return path.with_name(path.name + KEY_FILE_SUFFIX)


def _absolute(db_path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.fspath(db_path)))


def _temp_path(path: Path) -> Path:
    return path.with_name(path.name + TEMP_SUFFIX)


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return  # a directory cannot be opened for fsync on Windows; NTFS journals renames
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically, mode 0600: a crash leaves the old file or
    the new one, never half of either (temp file in the same directory, fsync, rename)."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, PRIVATE_MODE)  # in case the file system ignored the mode given to open
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _make_private(path: Path) -> None:
    """Mode 0600 for the database and the -wal/-shm that exist now.

    chmod rather than umask: the umask is the whole process's, and other threads (the
    recorder, the rescue file) create files at the same time. SQLite creates a -wal or -shm
    with the mode of its database file (``robust_open`` in os_unix.c), so once the database
    is 0600 the files made later are too; this catches ones left by an earlier process.
    """
    for p in [path, *_sidecars(path)]:
        try:
            if p.exists() and p.stat().st_mode & 0o777 != PRIVATE_MODE:
                os.chmod(p, PRIVATE_MODE)
        except OSError as exc:  # another user's file: opening still works, say so
            log.warning("cannot make %s private (mode 0600): %s", p, exc)


def _create_private_empty(path: Path) -> None:
    """An empty file, mode 0600, where none is: SQLite takes an empty file as a new
    database, and this way no moment exists when it is readable by others."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))


def _file_error(what: str, path: Path, exc: OSError) -> EncryptionError:
    return EncryptionError(
        Problem.FILE_ERROR,
        f"Cannot {what} {path}: {exc.strerror or exc}. {_NOTHING_CHANGED}",
        path=path,
    )


# --- what the database file is ----------------------------------------------------------------


def is_encrypted(db_path: str | os.PathLike[str]) -> bool:
    """Whether the file is not plain SQLite: a plain file starts with ``SQLite format 3\\0``,
    an SQLCipher file with random salt. A missing or empty file is not encrypted (it is a
    new database). A file that is no database at all also counts as encrypted here; opening
    it with a key then reports that it does not match."""
    path = _absolute(db_path)
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _file_error("read", path, exc) from exc
    return len(head) > 0 and head != SQLITE_HEADER


# --- the recovery key ---------------------------------------------------------------------------


def _encode_base32(data: bytes) -> str:
    bits = len(data) * 8
    value = int.from_bytes(data, "big")
    return "".join(_RECOVERY_ALPHABET[(value >> shift) & 31] for shift in range(bits - 5, -1, -5))


def _recovery_checksum(secret: bytes) -> str:
    digest = hashlib.sha256(_RECOVERY_CHECK_INFO + secret).digest()
    return _encode_base32(digest[:5])[:4]  # the first 20 bits


def _format_recovery_key(secret: bytes) -> str:
    text = _encode_base32(secret) + _recovery_checksum(secret)
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def _parse_recovery_key(text: str) -> bytes:
    """The 20 secret bytes of a recovery key as typed: case, spaces and dashes do not
    matter, and O, I, L are read as 0, 1, 1. A wrong length, a character no recovery key
    has, or a checksum that does not match is a typo, reported before anything is tried."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\n\r")
    cleaned = "".join(_RECOVERY_READS_AS.get(ch, ch) for ch in cleaned)
    expected = _RECOVERY_GROUPS * 4
    where = "Check it against the printed sheet, group by group."
    if len(cleaned) != expected:
        raise EncryptionError(
            Problem.RECOVERY_KEY_TYPO,
            f"The recovery key has {len(cleaned)} characters; a recovery key has {expected}"
            f" ({_RECOVERY_GROUPS} groups of 4). {where} {_NOTHING_CHANGED}",
        )
    bad = sorted({ch for ch in cleaned if ch not in _RECOVERY_ALPHABET})
    if bad:
        raise EncryptionError(
            Problem.RECOVERY_KEY_TYPO,
            f"The recovery key holds {', '.join(repr(c) for c in bad)}, which no recovery"
            f" key has. {where} {_NOTHING_CHANGED}",
        )
    data, check = cleaned[:-4], cleaned[-4:]
    value = 0
    for ch in data:
        value = (value << 5) | _RECOVERY_ALPHABET.index(ch)
    secret = value.to_bytes(_RECOVERY_BYTES, "big")
    if not hmac.compare_digest(_recovery_checksum(secret), check):
        raise EncryptionError(
            Problem.RECOVERY_KEY_TYPO,
            "The recovery key has a typo: its last group (the checksum) does not match the"
            f" others. {where} {_NOTHING_CHANGED}",
        )
    return secret


def recovery_key_problem(text: str) -> str | None:
    """Why ``text`` cannot be a recovery key (a typo), or None: for checking as it is typed."""
    try:
        _parse_recovery_key(text)
    except EncryptionError as exc:
        return str(exc)
    return None


def _data_key_from_recovery(secret: bytes) -> DataKey:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DATA_KEY_INFO)
    return DataKey(hkdf.derive(secret))


def _key_check(data_key: DataKey, database_id: str) -> bytes:
    msg = _KEY_CHECK_INFO + database_id.encode("ascii")
    return hmac.new(data_key.raw, msg, hashlib.sha256).digest()[:16]


# --- the key file -----------------------------------------------------------------------------


def _check_passphrase(passphrase: str) -> bytes:
    # NFC: the same passphrase typed on two systems may come as different code points.
    normal = unicodedata.normalize("NFC", passphrase)
    if len(normal.strip()) < MIN_PASSPHRASE_LENGTH:
        raise EncryptionError(
            Problem.WEAK_PASSPHRASE,
            f"The passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters (this one"
            f" has {len(normal.strip())}); a short sentence is easy to remember and hard to"
            f" guess. {_NOTHING_CHANGED}",
        )
    return normal.encode("utf-8")


def _kek(passphrase: bytes, salt: bytes, kdf: KdfParams) -> bytes:
    return hash_secret_raw(
        secret=passphrase,
        salt=salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def _passphrase_slot(
    data_key: DataKey, passphrase: bytes, database_id: str, kdf: KdfParams
) -> dict[str, Any]:
    salt, nonce = os.urandom(16), os.urandom(12)
    wrapped = AESGCM(_kek(passphrase, salt, kdf)).encrypt(
        nonce, data_key.raw, _WRAP_AAD + database_id.encode("ascii")
    )
    return {
        "kdf": "argon2id",
        "memory_kib": kdf.memory_kib,
        "time_cost": kdf.time_cost,
        "parallelism": kdf.parallelism,
        "salt": _b64(salt),
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
        "wrapped_key": _b64(wrapped),
        "changed_at": _now(),
    }


def _key_file_body(
    database_id: str,
    clinic_name: str,
    created_at: str,
    data_key: DataKey,
    passphrase_slot: dict[str, Any],
) -> bytes:
    body = {
        "format": KEY_FILE_FORMAT,
        "version": KEY_FILE_VERSION,
        "about": (
            "The key of the kapdesk database beside this file, encrypted with the clinic"
            " passphrase. Keep it with the database, in every backup: without it only the"
            " recovery key opens the database."
        ),
        "database_id": database_id,
        "clinic_name": clinic_name,
        "created_at": created_at,
        "database_cipher": "SQLCipher 4, raw 256-bit key",
        "key_check": _b64(_key_check(data_key, database_id)),
        "passphrase": passphrase_slot,
        "recovery": {"derivation": "HKDF-SHA256", "secret_bits": _RECOVERY_BYTES * 8},
    }
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class _KeyFile:
    info: KeyFileInfo
    key_check: bytes
    salt: bytes
    nonce: bytes
    wrapped_key: bytes


class _Reader:
    """Reads one key file's fields, each refusal naming the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def damaged(self, field_name: str, what: str) -> EncryptionError:
        return EncryptionError(
            Problem.KEY_FILE_DAMAGED,
            f"The key file {self.path} is damaged: {field_name} {what}. Restore it from a"
            f" backup, or use the recovery key. {_NOTHING_CHANGED}",
            path=self.path,
            field=field_name,
        )

    def get(self, obj: dict[str, Any], name: str, kind: type, prefix: str = "") -> Any:
        full = prefix + name
        if name not in obj:
            raise self.damaged(full, "is missing")
        value = obj[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = {int: "a whole number", str: "a text", dict: "a JSON object"}
            raise self.damaged(full, f"is not {names.get(kind, kind.__name__)}")
        return value

    def b64(self, obj: dict[str, Any], name: str, size: int, prefix: str = "") -> bytes:
        text = self.get(obj, name, str, prefix)
        try:
            data = base64.b64decode(text, validate=True)
        except ValueError:
            raise self.damaged(prefix + name, "is not base64") from None
        if len(data) != size:
            raise self.damaged(prefix + name, f"has {len(data)} bytes instead of {size}")
        return data


def _read_key_file(db_path: str | os.PathLike[str]) -> _KeyFile:
    path = key_file_path(db_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EncryptionError(
            Problem.NO_KEY_FILE,
            f"There is no key file {path} for the database {_absolute(db_path)}: restore it"
            f" from a backup, or use the recovery key. {_NOTHING_CHANGED}",
            path=path,
        ) from None
    except OSError as exc:
        raise _file_error("read the key file", path, exc) from exc
    r = _Reader(path)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise r.damaged("the whole file", f"is not JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("format") != KEY_FILE_FORMAT:
        raise r.damaged("format", f"is not {KEY_FILE_FORMAT!r}")
    version = r.get(body, "version", int)
    if version > KEY_FILE_VERSION:
        raise EncryptionError(
            Problem.KEY_FILE_TOO_NEW,
            f"The key file {path} has format version {version}, newer than this kapdesk"
            f" knows ({KEY_FILE_VERSION}): use a newer kapdesk. {_NOTHING_CHANGED}",
            path=path,
            field="version",
        )
    if version < 1:
        raise r.damaged("version", f"is {version}")
    database_id = r.get(body, "database_id", str)
    try:
        uuid.UUID(database_id)
    except ValueError:
        raise r.damaged("database_id", "is not a UUID") from None
    slot = r.get(body, "passphrase", dict)
    pre = "passphrase."
    if r.get(slot, "kdf", str, pre) != "argon2id":
        raise r.damaged("passphrase.kdf", "is not argon2id")
    if r.get(slot, "cipher", str, pre) != "AES-256-GCM":
        raise r.damaged("passphrase.cipher", "is not AES-256-GCM")
    costs: dict[str, int] = {}
    for name, (low, high) in _KDF_LIMITS.items():
        value = r.get(slot, name, int, pre)
        if not low <= value <= high:
            raise r.damaged(pre + name, f"is {value}, outside {low}..{high}")
        costs[name] = value
    kdf = KdfParams(**costs)
    if kdf.memory_kib < 8 * kdf.parallelism:
        raise r.damaged("passphrase.memory_kib", "is less than argon2id allows")
    info = KeyFileInfo(
        key_file=path,
        database_id=database_id,
        clinic_name=r.get(body, "clinic_name", str),
        created_at=r.get(body, "created_at", str),
        passphrase_changed_at=r.get(slot, "changed_at", str, pre),
        kdf=kdf,
    )
    return _KeyFile(
        info=info,
        key_check=r.b64(body, "key_check", 16),
        salt=r.b64(slot, "salt", 16, pre),
        nonce=r.b64(slot, "nonce", 12, pre),
        wrapped_key=r.b64(slot, "wrapped_key", 48, pre),
    )


def key_file_info(db_path: str | os.PathLike[str]) -> KeyFileInfo:
    """What the database's key file says in clear: its database id (the keyring entry's
    name), the clinic's name, when it was made; raises if it is missing or damaged."""
    return _read_key_file(db_path).info


def _require_key_of(kf: _KeyFile, data_key: DataKey) -> None:
    if not hmac.compare_digest(_key_check(data_key, kf.info.database_id), kf.key_check):
        raise EncryptionError(
            Problem.WRONG_KEY,
            f"This key is not the one the key file {kf.info.key_file} holds (it belongs to"
            f" another database). {_NOTHING_CHANGED}",
            path=kf.info.key_file,
        )


def create_key_file(
    db_path: str | os.PathLike[str],
    passphrase: str,
    clinic_name: str,
    *,
    kdf: KdfParams = DEFAULT_KDF,
) -> SetUp:
    """Set up encryption for a database: a new data key and recovery key, and the key file.

    Only the key file is written; the database is encrypted afterwards, by
    :func:`migrate_plain_to_encrypted` (a plain file) or by the first connection of
    :func:`create_encrypted_engine` (no file yet). The returned recovery key is to be shown
    once and written down or printed: it is stored nowhere. Refused, with nothing written:
    a passphrase under 12 characters, no clinic name, a key file that exists (it may be the
    only way into a database), a database already encrypted (its key file is missing:
    restore it, or :func:`restore_key_file` with the recovery key).
    """
    path = _absolute(db_path)
    secret_passphrase = _check_passphrase(passphrase)
    name = clinic_name.strip()
    if not name:
        raise EncryptionError(
            Problem.MISSING_CLINIC_NAME,
            f"The clinic's name is needed; it is shown when the database is unlocked."
            f" {_NOTHING_CHANGED}",
        )
    kf_path = key_file_path(path)
    if kf_path.exists():
        raise EncryptionError(
            Problem.KEY_FILE_EXISTS,
            f"The key file {kf_path} exists already: it may be the only way into the"
            f" database, so it is not replaced. {_NOTHING_CHANGED}",
            path=kf_path,
        )
    if is_encrypted(path):
        raise EncryptionError(
            Problem.DATABASE_ALREADY_ENCRYPTED,
            f"The database {path} is encrypted already and its key file is missing: restore"
            f" {kf_path.name} from a backup, or restore it with the recovery key."
            f" {_NOTHING_CHANGED}",
            path=path,
        )
    secret = secrets.token_bytes(_RECOVERY_BYTES)
    data_key = _data_key_from_recovery(secret)
    database_id = str(uuid.uuid4())
    slot = _passphrase_slot(data_key, secret_passphrase, database_id, kdf)
    body = _key_file_body(database_id, name, _now(), data_key, slot)
    try:
        _write_private_file(kf_path, body)
    except OSError as exc:
        raise _file_error("write the key file", kf_path, exc) from exc
    return SetUp(data_key, _format_recovery_key(secret), _read_key_file(path).info)


def unlock(db_path: str | os.PathLike[str], passphrase: str) -> DataKey:
    """The data key, unwrapped with the clinic passphrase (argon2id: the slow step, by
    design). Whether the database matches is checked when it is opened."""
    kf = _read_key_file(db_path)
    normal = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    aad = _WRAP_AAD + kf.info.database_id.encode("ascii")
    try:
        raw = AESGCM(_kek(normal, kf.salt, kf.info.kdf)).decrypt(kf.nonce, kf.wrapped_key, aad)
    except InvalidTag:
        raise EncryptionError(
            Problem.WRONG_PASSPHRASE,
            f"The passphrase is not right for {kf.info.clinic_name!r} (key file"
            f" {kf.info.key_file}). Try again, or use the recovery key. {_NOTHING_CHANGED}",
            path=kf.info.key_file,
        ) from None
    data_key = DataKey(raw)
    try:
        _require_key_of(kf, data_key)
    except EncryptionError:
        raise _Reader(kf.info.key_file).damaged("key_check", "does not match the key") from None
    return data_key


def unlock_with_recovery_key(db_path: str | os.PathLike[str], recovery_key: str) -> DataKey:
    """The data key, from the recovery key: for a forgotten passphrase, and also when the
    key file is lost or damaged (the key is then checked against the database itself; make
    a new key file with :func:`restore_key_file`). A typo is reported by the checksum
    before anything is tried; a well-formed key of another database is refused."""
    data_key = _data_key_from_recovery(_parse_recovery_key(recovery_key))
    wrong = EncryptionError(
        Problem.WRONG_RECOVERY_KEY,
        f"This recovery key is not the one of the database {_absolute(db_path)} (it is well"
        f" formed, so it may be another clinic's or another installation's)."
        f" {_NOTHING_CHANGED}",
        path=_absolute(db_path),
    )
    try:
        kf = _read_key_file(db_path)
    except EncryptionError as exc:
        if exc.kind not in (Problem.NO_KEY_FILE, Problem.KEY_FILE_DAMAGED):
            raise
        path = _absolute(db_path)
        if not is_encrypted(path):
            raise  # no encrypted database to recover: the key file's problem stands
        try:
            _check_database_key(path, data_key)
        except EncryptionError as mismatch:
            if mismatch.kind is Problem.DATABASE_MISMATCH:
                raise wrong from None
            raise
        return data_key
    if not hmac.compare_digest(_key_check(data_key, kf.info.database_id), kf.key_check):
        raise wrong
    return data_key


def change_passphrase(
    db_path: str | os.PathLike[str],
    data_key: DataKey,
    new_passphrase: str,
    *,
    kdf: KdfParams = DEFAULT_KDF,
) -> KeyFileInfo:
    """Wrap the data key under a new passphrase (the old one stops working at once); the
    database is untouched and the recovery key stays valid. ``data_key`` must be the key
    file's (checked), so a mistake cannot lock the clinic out."""
    secret = _check_passphrase(new_passphrase)
    kf = _read_key_file(db_path)
    _require_key_of(kf, data_key)
    slot = _passphrase_slot(data_key, secret, kf.info.database_id, kdf)
    body = _key_file_body(
        kf.info.database_id, kf.info.clinic_name, kf.info.created_at, data_key, slot
    )
    try:
        _write_private_file(kf.info.key_file, body)
    except OSError as exc:
        raise _file_error("write the key file", kf.info.key_file, exc) from exc
    return _read_key_file(db_path).info


def restore_key_file(
    db_path: str | os.PathLike[str],
    recovery_key: str,
    new_passphrase: str,
    clinic_name: str,
    *,
    kdf: KdfParams = DEFAULT_KDF,
) -> KeyFileInfo:
    """A new key file for an encrypted database whose key file is lost or damaged, from its
    recovery key (checked against the database) and a new passphrase. A damaged key file
    is kept beside as ``<key file>.damaged``. The database id is new, so a keyring entry
    under the old one is no longer found (store the key again)."""
    path = _absolute(db_path)
    secret = _check_passphrase(new_passphrase)
    name = clinic_name.strip()
    if not name:
        raise EncryptionError(
            Problem.MISSING_CLINIC_NAME,
            f"The clinic's name is needed; it is shown when the database is unlocked."
            f" {_NOTHING_CHANGED}",
        )
    if not is_encrypted(path):
        raise EncryptionError(
            Problem.NO_DATABASE,
            f"There is no encrypted database at {path} to make a key file for. {_NOTHING_CHANGED}",
            path=path,
        )
    kf_path = key_file_path(path)
    try:
        _read_key_file(path)
    except EncryptionError as exc:
        if exc.kind not in (Problem.NO_KEY_FILE, Problem.KEY_FILE_DAMAGED):
            raise
    else:
        raise EncryptionError(
            Problem.KEY_FILE_EXISTS,
            f"The key file {kf_path} is in order; change the passphrase instead of replacing"
            f" it. {_NOTHING_CHANGED}",
            path=kf_path,
        )
    data_key = unlock_with_recovery_key(path, recovery_key)  # checked against the database
    database_id = str(uuid.uuid4())
    slot = _passphrase_slot(data_key, secret, database_id, kdf)
    body = _key_file_body(database_id, name, _now(), data_key, slot)
    try:
        if kf_path.exists():
            os.replace(kf_path, kf_path.with_name(kf_path.name + ".damaged"))
        _write_private_file(kf_path, body)
    except OSError as exc:
        raise _file_error("write the key file", kf_path, exc) from exc
    return _read_key_file(path).info


# --- connections and the engine ---------------------------------------------------------------


def _mismatch(path: Path) -> EncryptionError:
    return EncryptionError(
        Problem.DATABASE_MISMATCH,
        f"The database {path} does not match its key: it belongs to another key file"
        " (another clinic's or another installation's database, or a different file put in"
        f" its place), or it is damaged. {_NOTHING_CHANGED}",
        path=path,
    )


def _key_connection(conn: Any, data_key: DataKey, path: Path) -> None:
    """Key a fresh sqlcipher3 connection, before anything else touches the file, and prove
    the key by reading ``sqlite_master``: with a wrong key SQLCipher cannot decrypt page 1
    and says "file is not a database"; nothing has been written by then."""
    # The value is hex digits only: no quoting problem, and pragmas take no parameters.
    conn.execute(f'PRAGMA key = "{data_key.pragma_value}"')
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == SQLITE_NOTADB:
            raise _mismatch(path) from None
        raise


def _open_keyed(path: Path, data_key: DataKey) -> Any:
    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        _key_connection(conn, data_key, path)
        conn.execute("PRAGMA temp_store=MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def _check_database_key(path: Path, data_key: DataKey) -> None:
    """Raise "does not match" unless ``data_key`` opens the encrypted file. Nothing is
    written; the connection is not ``mode=ro`` because a read-only connection to a WAL
    database leaves its -wal and -shm behind, where this one's close removes them."""
    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        _key_connection(conn, data_key, path)
    finally:
        conn.close()


def _refuse_plain(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > 0 and not is_encrypted(path):
            raise EncryptionError(
                Problem.DATABASE_PLAIN,
                f"The database {path} is not encrypted yet: its encryption was interrupted or"
                " has not run, and starting kapdesk again finishes it"
                f" (migrate_plain_to_encrypted). {_NOTHING_CHANGED}",
                path=path,
            )


def _engine_url(path: Path, read_only: bool) -> URL:
    # URL.create, not a string: a path holding '?' or '#' stays a path
    if read_only:
        return URL.create(
            "sqlite+pysqlite",
            database=f"file:{quote(str(path))}",
            query={"mode": "ro", "uri": "true"},
        )
    return URL.create("sqlite+pysqlite", database=str(path))


def encrypted_engine_url(db_path: str | os.PathLike[str], *, read_only: bool = False) -> str:
    """The SQLAlchemy URL of an encrypted database, for messages and logs: there is no key
    in it, and alone it opens nothing (:func:`create_encrypted_engine` adds the driver and
    the key)."""
    return _engine_url(_absolute(db_path), read_only).render_as_string()


def create_encrypted_engine(
    db_path: str | os.PathLike[str], data_key: DataKey, *, read_only: bool = False
) -> Engine:
    """An SQLAlchemy engine on the encrypted database, its key checked before it is returned.

    Every new connection is keyed first, the key proved by reading ``sqlite_master``, then
    tuned as the plain engine is (``database.tune_sqlite``: WAL, synchronous=FULL, foreign
    keys, busy timeout) plus ``temp_store=MEMORY``, so sorts and temporary tables never
    reach the disk in clear. The database and its -wal/-shm are made mode 0600. A missing
    file becomes a new, encrypted database, but only with the key its key file holds (a
    database whose key is recorded nowhere is never made). ``read_only`` opens the file
    with ``mode=ro`` and ``query_only`` (no WAL pragma, nothing created), for the
    read-only commands. Alembic runs on it as on the plain engine (``database.migrate``).

    Refused, nothing written: the key not the key file's, a database that does not match
    the key, a plain database (the migration has to run first).
    """
    path = _absolute(db_path)
    _refuse_plain(path)
    has_data = path.exists() and path.stat().st_size > 0
    try:
        _require_key_of(_read_key_file(path), data_key)
    except EncryptionError as exc:
        # A lost key file does not keep an encrypted database closed to its key (from the
        # keyring or the recovery key): the database itself proves the key below.
        if exc.kind not in (Problem.NO_KEY_FILE, Problem.KEY_FILE_DAMAGED) or not has_data:
            raise
        log.warning("opening %s without its key file: %s", path, exc)
    if read_only and not has_data:
        raise EncryptionError(
            Problem.NO_DATABASE, f"There is no database at {path}. {_NOTHING_CHANGED}", path=path
        )
    # Why the pysqlite dialect with sqlcipher3 as its module, keyed in do_connect: the
    # sqlite+pysqlcipher dialect keys from the URL's password (the key would sit in
    # engine.url), issues `PRAGMA key=""` when there is none (which SQLCipher refuses, so
    # it cannot be keyed any other way) and pools with SingletonThreadPool. Here the pool is
    # the plain engine's (QueuePool, check_same_thread off), DBAPI errors are sqlcipher3's
    # and wrapped by SQLAlchemy as usual, the dialect is "sqlite" (database.migrate's BEGIN
    # IMMEDIATE applies), and the key is set before SQLAlchemy's own connect handlers run.
    engine = create_engine(_engine_url(path, read_only), module=sqlcipher)

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        if not read_only:
            _create_private_empty(path)
        conn = sqlcipher.connect(*cargs, **cparams)
        try:
            _key_connection(conn, data_key, path)
            cur = conn.cursor()
            cur.execute("PRAGMA temp_store=MEMORY")
            if read_only:
                cur.execute("PRAGMA query_only=ON")
                cur.execute("PRAGMA busy_timeout=10000")
            else:
                _make_private(path)  # after the key proved right: a mismatch changes nothing
                tune_sqlite(conn)
            cur.close()
        except BaseException:
            conn.close()
            raise
        return conn

    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except BaseException:
        engine.dispose()
        raise
    _ENGINE_KEYS[engine] = data_key
    return engine


# --- what else kapdesk writes for an encrypted database ------------------------------------

#: The key of each encrypted engine, so what kapdesk writes beside the database for it (a
#: rescue file after a full disk) is sealed with it too; weak: a disposed engine drops out.
_ENGINE_KEYS: weakref.WeakKeyDictionary[Engine, DataKey] = weakref.WeakKeyDictionary()
_SEAL_INFO = b"kapdesk sealed file v1|"


def engine_key(engine: Engine) -> DataKey | None:
    """The data key of an engine made by ``create_encrypted_engine`` (None: a plain one)."""
    return _ENGINE_KEYS.get(engine)


def _seal_key(data_key: DataKey, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO + purpose.encode()
    ).derive(data_key.raw)


def seal(data_key: DataKey, purpose: str, plaintext: bytes) -> bytes:
    """AES-256-GCM under a key derived from the database's (one per purpose): nonce and
    ciphertext, for files that hold what the database would (a rescue file)."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(_seal_key(data_key, purpose)).encrypt(nonce, plaintext, None)


def unseal(data_key: DataKey, purpose: str, sealed: bytes) -> bytes:
    """The plaintext of ``seal``; ``InvalidTag`` for another key or a changed file."""
    return AESGCM(_seal_key(data_key, purpose)).decrypt(sealed[:12], sealed[12:], None)


# --- the migration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCheck:
    """One table as verified: its rows and their digest, the same in both files."""

    name: str
    rows: int
    digest: str


@dataclass(frozen=True)
class MigrationReport:
    """What :func:`migrate_plain_to_encrypted` did; ``migrated`` is false when the file was
    encrypted (or empty) already and nothing had to be done."""

    database: Path
    migrated: bool
    tables: tuple[TableCheck, ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def describe(self) -> str:
        if not self.migrated:
            return f"The database {self.database} was encrypted already; nothing was done."
        return (
            f"The database {self.database} is encrypted: {len(self.tables)} tables and"
            f" {self.rows} rows verified against the plain file ({self.seconds:.1f} s)."
        )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row_order(conn: Any, table: str) -> str:
    """Rowid order, or primary-key order for a WITHOUT ROWID table (FTS5's _idx, _config)."""
    q = _quote_ident(table)
    try:
        conn.execute(f"SELECT rowid FROM {q} LIMIT 0").fetchall()
        return "rowid"
    except sqlcipher.OperationalError:
        pass
    info = conn.execute(f"PRAGMA table_info({q})").fetchall()
    keys = sorted((r[5], r[1]) for r in info if r[5] > 0) or [(1, r[1]) for r in info]
    return ", ".join(_quote_ident(name) for _, name in keys)


def _table_digest(conn: Any, table: str) -> tuple[int, str]:
    """The row count and a SHA-256 of every row's values, in rowid (or key) order.

    Rowids that are not a column (a table without an INTEGER PRIMARY KEY, such as
    alembic_version) are not in it: ``sqlcipher_export`` copies with ``SELECT *``, which
    renumbers them, and nothing refers to them. Values are hashed by their repr, which
    tells apart every SQLite value (1 and 1.0, '1' and b'1') and gives floats exactly.
    """
    q = _quote_ident(table)
    digest = hashlib.sha256()
    rows = 0
    cur = conn.execute(f"SELECT * FROM {q} ORDER BY {_row_order(conn, table)}")
    while batch := cur.fetchmany(2000):
        for row in batch:
            digest.update(repr(row).encode("utf-8"))
            digest.update(b"\n")
        rows += len(batch)
    return rows, digest.hexdigest()


def _schema(conn: Any) -> list[tuple[str, str, str, str]]:
    return sorted(
        (t, n, tn, s or "")
        for t, n, tn, s in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
    )


def _verify_copy(plain: Any, tmp: Path, data_key: DataKey) -> tuple[TableCheck, ...]:
    """Compare the encrypted copy, opened afresh with the key, with the plain file: schema,
    user_version, then each table's row count and digest; the copy must also pass SQLite's
    and SQLCipher's integrity checks. Raises at the first difference."""
    copy = _open_keyed(tmp, data_key)
    try:

        def differs(what: str) -> EncryptionError:
            return EncryptionError(
                Problem.MIGRATION_FAILED,
                f"The encrypted copy differs from the plain database ({what}), so it was"
                " not used: the plain database was left as it was. Please report this.",
            )

        if _schema(copy) != _schema(plain):
            raise differs("the schema")
        for pragma in ("user_version", "application_id"):
            if (
                copy.execute(f"PRAGMA {pragma}").fetchone()
                != plain.execute(f"PRAGMA main.{pragma}").fetchone()
            ):
                raise differs(pragma)
        integrity = copy.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            raise differs(f"integrity check: {integrity[0][0]}")
        if copy.execute("PRAGMA cipher_integrity_check").fetchall():
            raise differs("SQLCipher's page check")
        tables = [
            n
            for (n,) in plain.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        checks = []
        for table in tables:
            rows, digest = _table_digest(plain, table)
            copy_rows, copy_digest = _table_digest(copy, table)
            if copy_rows != rows:
                raise differs(f"table {table}: {copy_rows} rows instead of {rows}")
            if copy_digest != digest:
                raise differs(f"table {table}: the rows' contents")
            checks.append(TableCheck(table, rows, digest))
        return tuple(checks)
    finally:
        copy.close()


def _remove_temp(tmp: Path) -> None:
    for p in [tmp, *_sidecars(tmp)]:
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            raise _file_error("remove the unfinished copy", p, exc) from exc


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows flushes only a file open for writing
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _closing(conn: Any) -> Iterator[Any]:
    try:
        yield conn
    finally:
        conn.close()


def migrate_plain_to_encrypted(
    db_path: str | os.PathLike[str], data_key: DataKey
) -> MigrationReport:
    """Encrypt a plain database in place, one way, verified before the plain file goes.

    Run it at start-up before any engine on the database is open: it refuses, changing
    nothing, while another process has the file open. In this process every plain engine
    on the file must be disposed first: the stdlib ``sqlite3`` and sqlcipher3 are two copies
    of SQLite, which do not see each other's locks (closing one's file drops the other's
    POSIX locks, and the plain -wal is removed under it). ``data_key`` must be the key
    file's (checked), so the database is never encrypted with a key recorded nowhere.

    Steps: the plain WAL is checkpointed into the file; ``sqlcipher_export`` copies it into
    ``<database>.encrypting`` (mode 0600) under the key, with ``user_version`` (Alembic's
    revision is in the alembic_version table, copied with the rest); the copy, opened afresh
    with the key, is compared with the plain file, table by table (every table in
    sqlite_master, FTS5's shadow tables and alembic_version included): row count and a
    digest of all rows in rowid/key order, plus the schema and integrity checks. Only when
    everything matches is the copy synced and renamed over the plain file (atomic), after
    the plain -wal/-shm are gone, and made 0600. On any difference or error the copy is
    removed and the plain file is left untouched. After a crash at any step it can simply
    run again: a stale copy is removed and the migration redone; an encrypted file is left
    alone (only its key is checked).

    The old plain pages are not wiped: on SSDs (wear levelling) and journalling or
    copy-on-write file systems they may stay readable on the disk until overwritten, and
    copies in backups stay plain. Treat a computer that held the plain database, and its
    backups, as holding patient data in clear (full-disk encryption, secure disposal).
    """
    start = time.perf_counter()
    path = _absolute(db_path)
    tmp = _temp_path(path)
    _remove_temp(tmp)  # a copy left by an interrupted run is never trusted

    def done(migrated: bool, tables: tuple[TableCheck, ...] = ()) -> MigrationReport:
        return MigrationReport(path, migrated, tables, time.perf_counter() - start)

    if not path.exists():
        raise EncryptionError(
            Problem.NO_DATABASE,
            f"There is no database at {path} to encrypt. {_NOTHING_CHANGED}",
            path=path,
        )
    _require_key_of(_read_key_file(path), data_key)
    if is_encrypted(path):
        _check_database_key(path, data_key)
        _make_private(path)
        return done(False)
    if path.stat().st_size == 0:  # a new database: its first connection will encrypt it
        _make_private(path)
        return done(False)

    in_use = EncryptionError(
        Problem.DATABASE_IN_USE,
        f"The database {path} is open in another program (another kapdesk?): close it and"
        f" start again to encrypt the database. {_NOTHING_CHANGED}",
        path=path,
    )
    try:
        with _closing(sqlcipher.connect(str(path), isolation_level=None)) as plain:
            plain.execute("PRAGMA busy_timeout=10000")
            try:
                plain.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlcipher.DatabaseError as exc:
                raise EncryptionError(
                    Problem.NOT_A_DATABASE,
                    f"The file {path} is not a database ({exc}). {_NOTHING_CHANGED}",
                    path=path,
                ) from None
            plain.execute("PRAGMA temp_store=MEMORY")
            busy, _, _ = plain.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                raise in_use
            _create_private_empty(tmp)
            plain.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(tmp), data_key.pragma_value))
            plain.execute("BEGIN IMMEDIATE")  # no other writer while copying
            plain.execute("SELECT sqlcipher_export('encrypted')").fetchall()
            for pragma in ("user_version", "application_id"):
                (value,) = plain.execute(f"PRAGMA main.{pragma}").fetchone()
                plain.execute(f"PRAGMA encrypted.{pragma} = {int(value)}")
            plain.execute("COMMIT")
            plain.execute("DETACH DATABASE encrypted")
            plain.execute("BEGIN IMMEDIATE")  # and none until the copy is verified
            tables = _verify_copy(plain, tmp, data_key)
            plain.execute("ROLLBACK")
        # Closing the last connection checkpointed and removed the plain -wal and -shm; if
        # they are still there another connection has the file open, and a write it makes
        # would go to the plain file after the copy: refuse rather than lose it. (This also
        # means no plain WAL can ever be replayed onto the encrypted file.)
        if any(p.exists() for p in _sidecars(path)):
            raise in_use
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError, EncryptionError):
            _remove_temp(tmp)
        if isinstance(exc, EncryptionError):
            raise
        if isinstance(exc, sqlcipher.Error | OSError):
            raise EncryptionError(
                Problem.MIGRATION_FAILED,
                f"The database {path} could not be encrypted ({exc}); the plain database was"
                " left as it was, and the unfinished copy removed.",
                path=path,
            ) from exc
        raise
    try:  # the rename is done: from here on the database is the encrypted one
        _fsync_dir(path.parent)
    except OSError as exc:
        log.warning("cannot sync the directory of %s: %s", path, exc)
    _make_private(path)
    return done(True, tables)


# --- the OS keyring ---------------------------------------------------------------------------


def _keyring() -> Any:
    """The keyring module, imported when first needed: finding its backends costs
    start-up time a demo or a passphrase start does not need to pay."""
    import keyring
    import keyring.backends.fail
    import keyring.errors

    return keyring


def _keyring_entry(database_id: str) -> str:
    return f"database key {database_id}"


def keyring_problem() -> str | None:
    """Why the data key cannot be kept in the OS keyring here, or None if it can: so the
    set-up offers "remember on this computer" only where it works."""
    keyring = _keyring()
    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        return f"the keyring cannot be used ({exc})"
    if isinstance(backend, keyring.backends.fail.Keyring) or backend.priority <= 0:
        return (
            "there is no keyring on this computer (a kiosk or headless session):"
            " the passphrase is asked at every start"
        )
    return None


def store_in_keyring(database_id: str, data_key: DataKey) -> bool:
    """Keep the data key in the OS keyring; False (and the reason logged) when there is no
    usable keyring or it refuses. Never raises: the passphrase always works instead."""
    keyring = _keyring()
    problem = keyring_problem()
    if problem is None:
        try:
            keyring.set_password(KEYRING_SERVICE, _keyring_entry(database_id), data_key.raw.hex())
            if key_from_keyring(database_id) == data_key:  # some backends drop it silently
                return True
            problem = "the keyring did not keep the key"
        except Exception as exc:  # any backend's failure (D-Bus, locked, refused)
            problem = f"the keyring refused the key ({exc})"
    log.info("database key not kept in the keyring: %s", problem)
    return False


def key_from_keyring(database_id: str) -> DataKey | None:
    """The data key kept in the keyring, or None (not kept, no keyring, any keyring error:
    logged). Whether it opens the database is checked when the engine is made."""
    keyring = _keyring()
    if (problem := keyring_problem()) is not None:
        log.info("no database key from the keyring: %s", problem)
        return None
    try:
        text = keyring.get_password(KEYRING_SERVICE, _keyring_entry(database_id))
    except Exception as exc:
        log.warning("no database key from the keyring: %s", exc)
        return None
    if text is None:
        return None
    try:
        return DataKey(bytes.fromhex(text))
    except ValueError:
        log.warning("the keyring's entry for database %s is not a key", database_id)
        return None


def forget_keyring(database_id: str) -> bool:
    """Remove the data key from the keyring; True if none is kept there afterwards."""
    keyring = _keyring()
    if keyring_problem() is not None:
        return True  # nothing can be kept where there is no keyring
    try:
        keyring.delete_password(KEYRING_SERVICE, _keyring_entry(database_id))
    except keyring.errors.PasswordDeleteError:
        pass  # it was not there
    except Exception as exc:
        log.warning("cannot remove the database key from the keyring: %s", exc)
        return False
    return key_from_keyring(database_id) is None
