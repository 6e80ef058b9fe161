"""JSON from outside (request bodies, Pub/Sub message data) parsed within bounds.

Python's `json` recurses once per nesting level, so a document nested ~1000 deep raises
`RecursionError` instead of a clean refusal; deeper input could exhaust the stack of a thread.
`loads_bounded` measures the nesting depth of the raw text first (brackets outside strings, one
linear pass in C through `re`), refuses anything deeper than the limit, and only then parses.
"""

from __future__ import annotations

import json
import re
from typing import Any

from common.core.errors import BadRequest

# A JSON string literal, or one structural bracket. Strings are matched whole so that brackets
# inside them are not counted.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting_depth(raw: bytes) -> int:
    """The maximum bracket nesting depth of JSON text (0 for a scalar), ignoring strings."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def loads_bounded(raw: bytes | str, *, max_depth: int, what: str = "request body") -> Any:
    """Parse JSON text whose nesting is at most `max_depth` levels.

    Args:
        raw: UTF-8 JSON text.
        max_depth: deepest nesting allowed (arrays and objects).
        what: what is being parsed, for the error message.

    Returns:
        The decoded value.

    Raises:
        BadRequest: not UTF-8 JSON (`invalid_json`) or nested deeper than `max_depth`
            (`json_too_deep`).
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if not data.strip():
        raise BadRequest(f"{what} must be JSON", code="invalid_json")
    if b"[" in data or b"{" in data:
        depth = nesting_depth(data)
        if depth > max_depth:
            raise BadRequest(
                f"{what} is nested {depth} levels deep; at most {max_depth} are accepted",
                code="json_too_deep",
                details={"max_depth": max_depth},
            )
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadRequest(f"{what} is not valid JSON", code="invalid_json") from exc
