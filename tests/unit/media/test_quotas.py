from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.core.errors import TooManyRequests
from common.media.quotas import refusal, scopes_of


def test_a_device_is_charged_with_its_limits_and_an_admin_override_read_in_the_statement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTA_DEVICE_MEDIA_PER_DAY", "7")
    monkeypatch.setenv("QUOTA_DEVICE_BYTES_PER_DAY", "5000")
    assert scopes_of("cam-1", "device:cam-1") == [
        {
            "scope": "device:cam-1",
            "bytes_per_day": 5000,
            "media_per_day": 7,
            "device_override": True,
        }
    ]


def test_a_user_declaring_for_a_device_is_charged_on_both_and_a_job_on_neither(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTA_USER_BYTES_PER_DAY", "1000")
    scopes = scopes_of("cam-1", "user:ann")
    assert [s["scope"] for s in scopes] == ["device:cam-1", "user:ann"]
    assert (scopes[1]["bytes_per_day"], scopes[1]["device_override"]) == (1000, False)
    assert scopes_of("cam-1", "job:job_01") == []


@pytest.mark.parametrize(
    ("exceeded", "code"), [("bytes", "quota_bytes_per_day"), ("media", "quota_media_per_day")]
)
def test_a_refusal_is_a_429_until_the_next_utc_midnight(exceeded: str, code: str) -> None:
    error = refusal(exceeded, "device:cam-1", 10, datetime(2026, 5, 1, 23, 0, tzinfo=UTC))
    assert isinstance(error, TooManyRequests)
    assert (error.code, error.retry_after_seconds) == (code, 3600)
    assert error.details == {"scope": "device:cam-1"}
