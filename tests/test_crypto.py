"""Field encryption at rest and the blind index."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text
from sqlmodel import Session, select

from app import crypto
from app.config import Settings
from app.crypto import DecryptionError, Keyring
from app.main import create_app
from app.pages.models import AccessibilityFeedback
from tests.conftest import IS_POSTGRES


def keyring(keys: dict[str, bytes], active: str, index_key: str = "index-key") -> Keyring:
    settings = Settings(
        _env_file=None,
        encryption_keys={k: SecretStr(base64.b64encode(v).decode()) for k, v in keys.items()},
        encryption_active_key_id=active,
        blind_index_key=SecretStr(index_key),
    )
    return Keyring.from_settings(settings)


class TestKeyring:
    def test_round_trip_with_a_fresh_nonce_each_time(self) -> None:
        ring = keyring({"a": b"1" * 32}, "a")
        first, second = ring.encrypt("131052-308T"), ring.encrypt("131052-308T")
        assert first != second
        assert first.startswith("v1:a:")
        assert "131052" not in first
        assert ring.decrypt(first) == ring.decrypt(second) == "131052-308T"

    def test_tampered_value_is_an_error_never_a_silent_read(self) -> None:
        ring = keyring({"a": b"1" * 32}, "a")
        token = ring.encrypt("FI2112345600000785")
        prefix, payload = token.rsplit(":", 1)
        raw = bytearray(base64.b64decode(payload))
        raw[-1] ^= 0x01
        with pytest.raises(DecryptionError):
            ring.decrypt(f"{prefix}:{base64.b64encode(bytes(raw)).decode()}")

    def test_value_moved_to_another_key_id_does_not_decrypt(self) -> None:
        ring = keyring({"a": b"1" * 32, "b": b"2" * 32}, "a")
        token = ring.encrypt("secret")
        with pytest.raises(DecryptionError):
            ring.decrypt(token.replace("v1:a:", "v1:b:"))

    def test_rotation_keeps_old_values_readable(self) -> None:
        old = keyring({"2025": b"1" * 32}, "2025")
        token = old.encrypt("131052-308T")
        rotated = keyring({"2025": b"1" * 32, "2026": b"2" * 32}, "2026")
        assert rotated.decrypt(token) == "131052-308T"
        assert rotated.encrypt("x").startswith("v1:2026:")
        retired = keyring({"2026": b"2" * 32}, "2026")
        with pytest.raises(DecryptionError):
            retired.decrypt(token)

    def test_a_value_read_before_still_checks_what_it_is_given(self) -> None:
        """The keyring remembers what it decrypted lately, by the whole stored value: a
        tampered copy of a value it has just read, or a read after its key was retired, is
        still an error."""
        ring = keyring({"a": b"1" * 32}, "a")
        token = ring.encrypt("131052-308T")
        assert ring.decrypt(token) == ring.decrypt(token) == "131052-308T"
        prefix, payload = token.rsplit(":", 1)
        raw = bytearray(base64.b64decode(payload))
        raw[-1] ^= 0x01
        with pytest.raises(DecryptionError):
            ring.decrypt(f"{prefix}:{base64.b64encode(bytes(raw)).decode()}")
        retired = keyring({"b": b"2" * 32}, "b")
        with pytest.raises(DecryptionError):
            retired.decrypt(token)

    def test_the_memory_of_read_values_is_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(crypto, "PLAIN_CACHE_SIZE", 3)
        ring = keyring({"a": b"1" * 32}, "a")
        tokens = [ring.encrypt(f"value {i}") for i in range(10)]
        assert [ring.decrypt(t) for t in tokens] == [f"value {i}" for i in range(10)]
        assert len(ring._plain) <= 3
        assert ring.decrypt(tokens[0]) == "value 0"

    def test_keys_must_be_32_bytes(self) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            keyring({"a": b"short"}, "a")

    def test_blind_index_is_deterministic_normalised_and_keyed(self) -> None:
        ring = keyring({"a": b"1" * 32}, "a")
        assert ring.blind_index("131052-308t ", purpose="hetu") == ring.blind_index(
            "131052-308T", purpose="hetu"
        )
        assert ring.blind_index("131052-308T", purpose="hetu") != ring.blind_index(
            "131052-308T", purpose="iban"
        )
        other = keyring({"a": b"1" * 32}, "a", index_key="another-key")
        assert other.blind_index("131052-308T", purpose="hetu") != ring.blind_index(
            "131052-308T", purpose="hetu"
        )
        assert "131052" not in ring.blind_index("131052-308T", purpose="hetu")


def test_plaintext_never_reaches_the_database(settings: Settings, database_url: str) -> None:
    # A committed write through the real app (no test transaction around it), then the raw bytes.
    email = "salainen.osoite@example.com"
    message = f"Painike ei toimi {uuid.uuid4().hex}"
    app = create_app(settings)
    try:
        client = TestClient(app)
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        response = client.post(
            "/accessibility/feedback",
            data={"message": message, "email": email, "wants_reply": "true", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        with Session(app.state.engine) as session:
            row = session.exec(
                select(AccessibilityFeedback).where(AccessibilityFeedback.message == message)
            ).one()
            assert row.email == email  # decrypted through the ORM
            stored = session.execute(
                text("SELECT email FROM accessibility_feedback WHERE id = :id"), {"id": row.id}
            ).scalar_one()
    finally:
        app.state.engine.dispose()
    assert stored.startswith("v1:")
    assert email not in stored
    assert crypto.keyring().decrypt(stored) == email
    if not IS_POSTGRES:
        path = Path(database_url.removeprefix("sqlite:///"))
        data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # file, WAL, SHM
        assert message.encode() in data  # the committed row really is in these bytes
        assert email.encode() not in data
