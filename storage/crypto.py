"""Encryption at rest for free text (answers, names, phone numbers): AES-GCM with a key ring.

A stored value looks like `enc1:<key id>:<base64 of nonce + ciphertext>`. The key id lets old
rows be read while `dinplan keys rotate` re-encrypts them with the newest key.

Rotation (`rotate_key_file`, `reencrypt_all`): the new key is written first, with the old ones
kept; every EncryptedText column of every table is re-encrypted in one transaction, again until a
pass finds nothing left under an old key; only then are the old keys dropped. A process that read
its keys from the key file notices the new file at its next use of a key (`active_keyring`), so a
running bot writes with the new key while the rotation runs and never with a dropped one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.types import Text, TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.schema import MetaData

PREFIX = "enc1"
KEY_BYTES = 32


class EncryptionKeyError(RuntimeError):
    """No usable key: a clear start-up error instead of storing health data in clear text."""


def new_key() -> str:
    return key_text(secrets.token_bytes(KEY_BYTES))


def key_text(key: bytes) -> str:
    """A key as it is written in the key file and in DINPLAN_ENCRYPTION_KEY."""
    return base64.urlsafe_b64encode(key).decode()


def parse_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError) as error:
        raise EncryptionKeyError("an encryption key is not valid base64") from error
    if len(key) != KEY_BYTES:
        raise EncryptionKeyError(f"an encryption key must be {KEY_BYTES} bytes, base64-encoded")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class Keyring:
    """The current key (first) and older ones still needed to read rows not yet rotated."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise EncryptionKeyError("no encryption key")
        self._keys = {key_id(k): AESGCM(k) for k in keys}
        self.current_id = key_id(keys[0])
        self.key_ids = tuple(key_id(k) for k in keys)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.current_id].encrypt(nonce, plaintext.encode(),
                                                     self.current_id.encode())
        return f"{PREFIX}:{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        prefix, kid, payload = token.split(":", 2)
        if prefix != PREFIX:
            raise ValueError("not an encrypted value")
        if kid not in self._keys:
            raise EncryptionKeyError(f"the key {kid} that encrypted a stored value is missing")
        raw = base64.b64decode(payload)
        return self._keys[kid].decrypt(raw[:12], raw[12:], kid.encode()).decode()

    def is_current(self, token: str) -> bool:
        return token.startswith(f"{PREFIX}:{self.current_id}:")

    def decrypt_or_none(self, token: str) -> str | None:
        """The plain text, or None if the value is not one of ours or no key of this ring opens
        it."""
        try:
            return self.decrypt(token)
        except (ValueError, EncryptionKeyError, InvalidTag, UnicodeDecodeError):
            return None

    def can_decrypt(self, token: str) -> bool:
        """True if the value is one of ours and a key of this ring opens it."""
        return self.decrypt_or_none(token) is not None


def read_key_file(path: Path) -> list[bytes]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [parse_key(line) for line in lines if line and not line.startswith("#")]


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Newest key first; written to a temporary file and renamed, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Din plan encryption keys, newest first. Keep secret; back up safely.\n")
        handle.writelines(f"{key}\n" for key in keys)
    temporary.replace(path)


def load_keyring(*, key_setting: str | None, key_file: Path, create_if_missing: bool) -> Keyring:
    """From DINPLAN_ENCRYPTION_KEY (comma-separated, newest first), or else the key file."""
    if key_setting:
        return Keyring([parse_key(part) for part in key_setting.split(",") if part.strip()])
    if key_file.is_file():
        return Keyring(read_key_file(key_file))
    if not create_if_missing:
        raise EncryptionKeyError(
            "no encryption key: set DINPLAN_ENCRYPTION_KEY or DINPLAN_ENCRYPTION_KEY_FILE "
            "(create one with `dinplan keys new`)")
    write_key_file(key_file, [new_key()])
    return Keyring(read_key_file(key_file))


class _ActiveKeyring:
    """The process's key ring, set once at start-up (`use_keyring`), read by the column type."""

    ring: Keyring | None = None
    # The key file the ring was read from and how the file looked then, while it is that ring.
    watched: tuple[Keyring, Path, tuple[int, int, int] | None] | None = None


def _file_state(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def use_keyring(ring: Keyring, *, key_file: Path | None = None) -> None:
    """Use this ring from now on; with `key_file`, the ring follows that file's changes."""
    _ActiveKeyring.ring = ring
    _ActiveKeyring.watched = (ring, key_file, _file_state(key_file)) if key_file else None


def _follow_key_file(ring: Keyring) -> Keyring:
    """The ring again from the key file if `dinplan keys rotate` has rewritten it since."""
    watched = _ActiveKeyring.watched
    if watched is None or watched[0] is not ring:
        return ring  # set by hand (a test, a one-off tool): nothing to follow
    _ring, path, state = watched
    now = _file_state(path)
    if now == state or now is None:
        return ring
    try:
        fresh = Keyring(read_key_file(path))
    except (OSError, EncryptionKeyError):
        return ring  # mid-way or broken: keep the keys that worked, look again next time
    use_keyring(fresh, key_file=path)
    return fresh


def active_keyring() -> Keyring:
    ring = _ActiveKeyring.ring
    if ring is None:
        from storage.settings import get_settings

        settings = get_settings()
        ring = settings.keyring()
        use_keyring(ring, key_file=None if settings.encryption_key else
                    settings.encryption_key_file)
        return ring
    return _follow_key_file(ring)


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; Python code only ever sees the clear text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else active_keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else active_keyring().decrypt(value)


# -- re-encryption: rotation and migrations ---------------------------------------------------

def encrypted_columns(metadata: MetaData | None = None) -> dict[str, list[str]]:
    """Table name -> its EncryptedText columns, over every table of the models."""
    if metadata is None:
        from storage.models import all_tables  # models imports this module

        tables = all_tables()
    else:
        tables = tuple(metadata.sorted_tables)
    found: dict[str, list[str]] = {}
    for table in tables:
        columns = [c.name for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            found[table.name] = columns
    return found


def transform_values(connection: Connection, table: str, columns: Sequence[str],
                     change: Callable[[str], str | None], *, key: str = "id") -> int:
    """Rewrite the stored (raw) values of `columns` where `change` gives a new one; the count.

    The values are read and written as plain text, past the column type, in the caller's
    transaction. `change` returns None to leave a value as it is.
    """
    from sqlalchemy import bindparam, column, select, update
    from sqlalchemy import table as table_clause

    raw = table_clause(table, column(key), *(column(name, Text()) for name in columns))
    changed = 0
    rows = connection.execute(select(raw.c[key], *(raw.c[name] for name in columns))).all()
    for row in rows:
        values = {}
        for name in columns:
            value = row._mapping[name]
            if value is None:
                continue
            new = change(value)
            if new is not None and new != value:
                values[name] = new
        if values:
            connection.execute(update(raw).where(raw.c[key] == bindparam("_key"))
                               .values(**values), {"_key": row._mapping[key]})
            changed += len(values)
    return changed


def reencrypt_all(engine: Engine, ring: Keyring, *, metadata: MetaData | None = None) -> int:
    """Every encrypted value not under the ring's current key, re-encrypted with it in one
    transaction; how many there were. A value no key of the ring opens fails it all."""

    def under_current_key(token: str) -> str | None:
        return None if ring.is_current(token) else ring.encrypt(ring.decrypt(token))

    total = 0
    with engine.begin() as connection:
        for table, columns in encrypted_columns(metadata).items():
            total += transform_values(connection, table, columns, under_current_key)
    return total


def stale_values(engine: Engine, ring: Keyring, *, metadata: MetaData | None = None) -> int:
    """How many encrypted values are not under the ring's current key."""
    from sqlalchemy import column, select
    from sqlalchemy import table as table_clause

    count = 0
    with engine.connect() as connection:
        for table, columns in encrypted_columns(metadata).items():
            raw = table_clause(table, *(column(name, Text()) for name in columns))
            for row in connection.execute(select(*raw.c)):
                count += sum(1 for value in row if value is not None
                             and not ring.is_current(value))
    return count


# Passes of re-encryption before giving up: each catches what turns committed during the last.
MAX_PASSES = 5


class RotationError(RuntimeError):
    """Rotation could not finish; every key is still there, and running it again goes on."""


@dataclass(frozen=True)
class Rotation:
    new_key_id: str
    dropped_key_ids: tuple[str, ...]
    reencrypted: int


def _reencrypt_until_done(engine: Engine, ring: Keyring, metadata: MetaData | None) -> int:
    total = 0
    for _ in range(MAX_PASSES):
        changed = reencrypt_all(engine, ring, metadata=metadata)
        total += changed
        if changed == 0:
            return total
    raise RotationError(f"values under old keys kept appearing after {MAX_PASSES} passes")


def rotate_key_file(engine: Engine, key_file: Path, *, settle_seconds: float = 1.0,
                    metadata: MetaData | None = None) -> Rotation:
    """A new key in the key file, every value re-encrypted with it, the old keys dropped.

    1. the file gets the new key first and keeps the old ones (a crash here loses nothing);
    2. `settle_seconds` for running processes to notice the file (they look at each use);
    3. re-encryption passes, each one transaction, until one finds nothing left to do;
    4. the file keeps only the new key.
    """
    old = read_key_file(key_file)
    fresh = new_key()
    write_key_file(key_file, [fresh, *(key_text(k) for k in old)])
    ring = Keyring([parse_key(fresh), *old])
    if settle_seconds > 0:
        time.sleep(settle_seconds)
    count = _reencrypt_until_done(engine, ring, metadata)
    write_key_file(key_file, [fresh])
    use_keyring(Keyring([parse_key(fresh)]), key_file=key_file)
    return Rotation(ring.current_id, ring.key_ids[1:], count)


def rotate_to_current(engine: Engine, ring: Keyring, *,
                      metadata: MetaData | None = None) -> Rotation:
    """With keys from DINPLAN_ENCRYPTION_KEY="NEW,OLD": every value under NEW. Dropping OLD
    from the setting is then the operator's step."""
    count = _reencrypt_until_done(engine, ring, metadata)
    return Rotation(ring.current_id, ring.key_ids[1:], count)
