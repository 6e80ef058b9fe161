"""Sortable, prefixed identifiers.

Ids are ULIDs (https://github.com/ulid/spec: 48-bit millisecond timestamp + 80 random bits, Crockford
base32, 26 characters) behind a short type prefix, e.g. `med_01JD3X...`. Lexicographic order is
creation order, so ids double as a stable tiebreak in keyset pagination.
"""

from __future__ import annotations

import re

from ulid import ULID

MEDIA_PREFIX = "med"
JOB_PREFIX = "job"

_ID_RE = re.compile(r"^(?P<prefix>[a-z]{2,8})_(?P<ulid>[0-9A-HJKMNP-TV-Z]{26})$")


def new_id(prefix: str) -> str:
    """Return a new id `"<prefix>_<ULID>"` (prefix: 2-8 lowercase letters)."""
    return f"{prefix}_{ULID()}"


def is_valid_id(value: str, prefix: str) -> bool:
    """Tell whether `value` is a well-formed id with the given prefix."""
    match = _ID_RE.match(value)
    return bool(match) and match is not None and match.group("prefix") == prefix
