"""Opaque keyset cursors bound to the filters of the listing that made them.

A cursor is base64url JSON of the last item's sort key (a time and an id) and a fingerprint of
the filters, so a cursor reused with other filters is refused (422 `cursor_mismatch`) instead of
silently paging another listing. Used by the gallery, events and webhook deliveries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from common.core.errors import ValidationError


class Fingerprinted(Protocol):
    """Filters of a keyset listing."""

    def fingerprint(self) -> str:
        """A short text naming the filters."""
        ...


def fingerprint_of(filters: Mapping[str, Any]) -> str:
    """16 hex characters naming a listing's filters (times as ISO 8601 text): SHA-256 of their
    canonical JSON."""
    values = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in filters.items()}
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(sort_time: datetime, item_id: str, filters: Fingerprinted) -> str:
    """Opaque cursor: the last item's sort key and the filters' fingerprint, base64url JSON."""
    raw = json.dumps(
        {"t": sort_time.isoformat(), "i": item_id, "f": filters.fingerprint()},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: Fingerprinted) -> tuple[datetime, str]:
    """Inverse of `encode_cursor`, for the same filters.

    Raises:
        ValidationError: not a cursor of this API (`invalid_cursor`), or one made for other filters
            (`cursor_mismatch`).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        sort_time = datetime.fromisoformat(data["t"])
        item_id, fingerprint = data["i"], data["f"]
        if sort_time.tzinfo is None or not isinstance(item_id, str):
            raise ValueError("bad cursor")
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not valid", code="invalid_cursor") from exc
    if fingerprint != filters.fingerprint():
        raise ValidationError(
            "this cursor belongs to a listing with other filters", code="cursor_mismatch"
        )
    return sort_time, item_id
