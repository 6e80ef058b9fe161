"""Identifiers: our prefixed ULIDs, and the one pattern for ids that devices and users choose.

Our ids are ULIDs (https://github.com/ulid/spec: 48-bit millisecond timestamp + 80 random bits,
Crockford base32, 26 characters) behind a short type prefix, e.g. `med_01JD3X...`. Lexicographic
order is creation order, so ids double as a stable tiebreak in keyset pagination.

Ids that callers choose (device ids from tokens, camera and message ids from declarations) become
object-name segments, so they follow one pattern, `SEGMENT_PATTERN`: 1 to 128 characters of
`A-Z a-z 0-9 . _ -`, starting with a letter or digit, never containing `..`. User ids (the `sub`
of user tokens) never reach object names; they are printable text without control characters,
1 to 256 characters (`USER_ID_PATTERN`). See docs/CONTRACTS.md, "Identifiers".
"""

from __future__ import annotations

import re

from ulid import ULID

MEDIA_PREFIX = "med"
JOB_PREFIX = "job"
SHARE_PREFIX = "shr"

SEGMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
"""The characters of a segment id; `is_segment` also refuses `..` anywhere."""
USER_ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,256}$"

_ID_RE = re.compile(r"^(?P<prefix>[a-z]{2,8})_(?P<ulid>[0-9A-HJKMNP-TV-Z]{26})$")
_SEGMENT_RE = re.compile(SEGMENT_PATTERN)
_USER_RE = re.compile(USER_ID_PATTERN)


def new_id(prefix: str) -> str:
    """Return a new id `"<prefix>_<ULID>"` (prefix: 2-8 lowercase letters)."""
    return f"{prefix}_{ULID()}"


def is_valid_id(value: str, prefix: str) -> bool:
    """Tell whether `value` is a well-formed id with the given prefix."""
    match = _ID_RE.fullmatch(value)
    return match is not None and match.group("prefix") == prefix


def is_segment(value: object) -> bool:
    """Tell whether `value` is a string that may be a device, camera or message id."""
    return isinstance(value, str) and _SEGMENT_RE.fullmatch(value) is not None and ".." not in value


def is_user_id(value: object) -> bool:
    """Tell whether `value` is a string that may be a user id (JWT `sub` of a user token)."""
    return isinstance(value, str) and _USER_RE.fullmatch(value) is not None
