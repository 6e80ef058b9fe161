"""Time formatting: every timestamp the API writes is RFC 3339 in UTC with a `Z` suffix."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime | None) -> str | None:
    """RFC 3339 text of a tz-aware time, converted to UTC, with a `Z` suffix (None stays None).

    Raises:
        ValueError: `value` is naive (no tzinfo).
    """
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_now() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)
