"""Encryption at rest for free text (answers, names, phone numbers): AES-GCM with a key ring.

A stored value looks like `enc1:<key id>:<base64 of nonce + ciphertext>`. The key id lets old
rows be read while `dinplan keys rotate` re-encrypts them with the newest key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.types import Text, TypeDecorator

PREFIX = "enc1"
KEY_BYTES = 32


class EncryptionKeyError(RuntimeError):
    """No usable key: a clear start-up error instead of storing health data in clear text."""


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


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


def use_keyring(ring: Keyring) -> None:
    _ActiveKeyring.ring = ring


def active_keyring() -> Keyring:
    if _ActiveKeyring.ring is None:
        from storage.settings import get_settings

        use_keyring(get_settings().keyring())
    assert _ActiveKeyring.ring is not None
    return _ActiveKeyring.ring


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; Python code only ever sees the clear text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else active_keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else active_keyring().decrypt(value)
