"""Times: every timestamp the API writes is RFC 3339 in UTC with a `Z` suffix; every one it reads
is tz-aware, converted to UTC, and far enough inside the calendar to compute with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

HEADROOM = timedelta(days=2)
"""How far from `datetime.min` / `datetime.max` an input time must stay: windows, clips and
queries add and subtract up to a day from what a client sends."""


def bounded_utc(value: datetime) -> datetime:
    """`value` (tz-aware) in UTC, checked to be at least `HEADROOM` inside the calendar.

    Raises:
        ValueError: naive, or too close to year 1 or year 9999 (pydantic reports a 422).
    """
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset")
    try:
        utc = value.astimezone(UTC)
        (utc - HEADROOM, utc + HEADROOM)
    except OverflowError as exc:
        raise ValueError("is outside the range of times this API computes with") from exc
    return utc


UtcInput = Annotated[AwareDatetime, AfterValidator(bounded_utc)]
"""A time a client sends (RFC 3339 with an offset): converted to UTC and bounded by `HEADROOM`."""


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
