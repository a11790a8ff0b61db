"""Field encryption at rest (AES-256-GCM with key ids) and HMAC blind indexes for exact lookups.

A stored value looks like `v1:<key id>:<base64(nonce + ciphertext + tag)>`. The key id lets keys
rotate: new values use the active key, old values stay readable while their key is configured.
Exact lookups (e.g. "all records of this HETU") go through a separate blind-index column holding
HMAC-SHA256(key, purpose + normalised value), so the plaintext is never needed in a query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from app.config import Settings

PREFIX = "v1"
NONCE_BYTES = 12

# How many decrypted values each process keeps (see Keyring._plain).
PLAIN_CACHE_SIZE = 20_000


class DecryptionError(Exception):
    """A stored value could not be decrypted: unknown key id or tampered ciphertext."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active_id: str
    index_key: bytes
    # One cipher per key, made once: setting up AES-GCM for a key costs as much as a decryption,
    # and lists decrypt hundreds of values per page. The ciphers are safe to share between
    # threads (each operation works on its own copy of the cipher context).
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)
    # Values decrypted lately, by ciphertext: a list page shows hundreds of encrypted values,
    # mostly the same ones page after page, and a look-up here costs a twentieth of a
    # decryption. A ciphertext names its key and is authenticated, so it always decrypts to the
    # same text; the cache lives in the process that holds the keys anyway, and is emptied
    # whole when it reaches PLAIN_CACHE_SIZE (a few megabytes).
    _plain: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ciphers", {k: AESGCM(v) for k, v in self.keys.items()})
        object.__setattr__(self, "_plain", {})

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        keys: dict[str, bytes] = {}
        for key_id, secret in settings.encryption_keys.items():
            if ":" in key_id:
                raise ValueError(f"encryption key id {key_id!r} must not contain ':'")
            try:
                raw = base64.b64decode(secret.get_secret_value(), validate=True)
            except binascii.Error as exc:
                raise ValueError(f"encryption key {key_id!r} is not base64") from exc
            if len(raw) != 32:
                raise ValueError(f"encryption key {key_id!r} must be 32 bytes (AES-256)")
            keys[key_id] = raw
        if settings.encryption_active_key_id not in keys:
            raise ValueError("ENCRYPTION_ACTIVE_KEY_ID is not one of ENCRYPTION_KEYS")
        index_key = hashlib.sha256(settings.blind_index_key.get_secret_value().encode()).digest()
        return cls(keys=keys, active_id=settings.encryption_active_key_id, index_key=index_key)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        aad = f"{PREFIX}:{self.active_id}".encode()
        sealed = self._ciphers[self.active_id].encrypt(nonce, plaintext.encode(), aad)
        return f"{PREFIX}:{self.active_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        plain = self._plain.get(token)
        if plain is None:
            plain = self._decrypt(token)
            if len(self._plain) >= PLAIN_CACHE_SIZE:
                self._plain.clear()
            self._plain[token] = plain
        return plain

    def _decrypt(self, token: str) -> str:
        try:
            prefix, key_id, payload = token.split(":", 2)
            cipher = self._ciphers[key_id]
            blob = binascii.a2b_base64(payload, strict_mode=True)
        except (ValueError, KeyError, binascii.Error) as exc:
            raise DecryptionError("unreadable encrypted value") from exc
        if prefix != PREFIX:
            raise DecryptionError("unknown encryption format")
        try:
            plain = cipher.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], f"{prefix}:{key_id}".encode()
            )
        except InvalidTag as exc:
            raise DecryptionError("encrypted value was tampered with") from exc
        return plain.decode()

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Deterministic keyed hash of a normalised value, for exact-match lookups."""
        message = f"{purpose}\x00{value.strip().upper()}".encode()
        return hmac.new(self.index_key, message, hashlib.sha256).hexdigest()


_keyring: Keyring | None = None


def configure(settings: Settings) -> Keyring:
    """Install the process-wide keyring (called by create_app and command-line jobs)."""
    global _keyring
    _keyring = Keyring.from_settings(settings)
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("app.crypto.configure(settings) has not been called")
    return _keyring


def blind_index(value: str, *, purpose: str) -> str:
    return keyring().blind_index(value, purpose=purpose)


class EncryptedString(TypeDecorator[str]):
    """A text column whose value is encrypted before it reaches the database."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:  # noqa: ARG002
        if value is None:
            return None
        return keyring().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:  # noqa: ARG002
        if value is None:
            return None
        return keyring().decrypt(str(value))
