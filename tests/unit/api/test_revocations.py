"""A revoked device token, a token issued before its device's revocation, and every token of a
deleted device are refused (401) on every request, cached verifications included; the state of a
device is read at most once per check interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.api.auth import VERIFIED, authenticate, mint_token
from common.api.revocations import REVOCATIONS, Revocations
from common.core.errors import Unauthenticated
from common.core.settings import Settings
from common.media.device_tokens import TokenState

SETTINGS = Settings(jwt_secret="s" * 32)


def _claims(token: str) -> dict[str, object]:
    import jwt

    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_device_tokens_carry_an_id() -> None:
    first = _claims(mint_token("cam-1", settings=SETTINGS))
    second = _claims(mint_token("cam-1", settings=SETTINGS))
    assert isinstance(first["jti"], str)
    assert first["jti"] != second["jti"]


def test_a_revoked_token_id_is_refused_even_when_its_verification_is_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = mint_token("cam-1", settings=SETTINGS)
    state = {"cam-1": TokenState()}
    monkeypatch.setattr(REVOCATIONS, "load", lambda device_id: state[device_id])
    assert authenticate(f"Bearer {token}", SETTINGS).subject == "cam-1"
    assert VERIFIED.get(token, SETTINGS) is not None  # the signature check is cached
    state["cam-1"] = TokenState(revoked_ids=frozenset({str(_claims(token)["jti"])}))
    REVOCATIONS.forget("cam-1")
    with pytest.raises(Unauthenticated) as info:
        authenticate(f"Bearer {token}", SETTINGS)
    assert info.value.code == "token_revoked"
    other = mint_token("cam-1", settings=SETTINGS)  # another token of the device still works
    assert authenticate(f"Bearer {other}", SETTINGS).subject == "cam-1"


def test_tokens_issued_before_the_device_revocation_are_refused_and_later_ones_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    old = mint_token("cam-2", settings=SETTINGS, now=now - timedelta(minutes=5))
    new = mint_token("cam-2", settings=SETTINGS, now=now)
    bound = TokenState(valid_after=now - timedelta(seconds=1))
    monkeypatch.setattr(REVOCATIONS, "load", lambda device_id: bound)
    with pytest.raises(Unauthenticated) as info:
        authenticate(f"Bearer {old}", SETTINGS)
    assert info.value.code == "token_revoked"
    assert authenticate(f"Bearer {new}", SETTINGS).subject == "cam-2"


def test_every_token_of_a_deleted_device_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = mint_token("cam-3", settings=SETTINGS)
    monkeypatch.setattr(REVOCATIONS, "load", lambda device_id: TokenState(deleted=True))
    with pytest.raises(Unauthenticated) as info:
        authenticate(f"Bearer {token}", SETTINGS)
    assert info.value.code == "device_deleted"


def test_user_tokens_are_not_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(device_id: str) -> TokenState:
        raise AssertionError("a user token needs no device lookup")

    monkeypatch.setattr(REVOCATIONS, "load", fail)
    assert authenticate(f"Bearer {mint_token('alice', 'user', settings=SETTINGS)}", SETTINGS)


def test_a_device_state_is_read_once_per_interval() -> None:
    reads: list[str] = []
    clock = [100.0]

    def load(device_id: str) -> TokenState:
        reads.append(device_id)
        return TokenState(deleted=len(reads) > 1)

    cache = Revocations(load, ttl_seconds=5.0, clock=lambda: clock[0])
    principal = authenticate(f"Bearer {mint_token('cam-4', settings=SETTINGS)}", SETTINGS)
    cache.check(principal)
    cache.check(principal)
    assert reads == ["cam-4"]
    clock[0] += 5.0  # the next read sees the device deleted
    with pytest.raises(Unauthenticated):
        cache.check(principal)
    assert reads == ["cam-4", "cam-4"]
