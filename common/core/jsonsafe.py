"""JSON from outside (request bodies, Pub/Sub message data) parsed within bounds.

Python's `json` recurses once per nesting level, so a document nested ~1000 deep raises
`RecursionError` instead of a clean refusal; deeper input could exhaust the stack of a thread.
`loads_bounded` measures the nesting depth of the raw text first (brackets outside strings, one
linear pass in C through `re`), refuses anything deeper than the limit, and only then parses.

What parses as JSON for Python but cannot be stored or computed with is refused too, wherever it
is in the document: an integer of more than 4,300 digits (Python's int-string conversion limit,
https://docs.python.org/3/library/stdtypes.html#int-max-str-digits), `NaN` / `Infinity` and
numbers too large for a float (not JSON, RFC 8259 section 6), and text with U+0000 (Postgres text
and JSONB cannot hold it). Every refusal is a `BadRequest`: an HTTP 400, and poison (acknowledged
once) in a Pub/Sub message.
"""

from __future__ import annotations

import json
import math
import re
import sys
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
        value = json.loads(data, parse_constant=_not_a_number, parse_float=_finite_float)
    except _NotJsonNumber as exc:
        raise BadRequest(
            f"{what} has a number JSON cannot carry ({exc})", code="invalid_number"
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadRequest(f"{what} is not valid JSON", code="invalid_json") from exc
    except ValueError as exc:  # int(): more digits than sys.get_int_max_str_digits()
        raise BadRequest(
            f"{what} has an integer of more than {sys.get_int_max_str_digits()} digits",
            code="invalid_number",
        ) from exc
    if b"\\u0000" in data:  # the only way JSON text carries U+0000 (RFC 8259 section 7)
        _refuse_nul(value, what)
    return value


class _NotJsonNumber(ValueError):
    """`NaN`, `Infinity`, or a float beyond the double range."""


def _not_a_number(name: str) -> float:
    raise _NotJsonNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJsonNumber(f"{text[:20]} overflows a double")
    return value


def has_nul(value: Any) -> bool:
    """Tell whether any string (or object key) in a decoded JSON value holds U+0000."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse_nul(value: Any, what: str) -> None:
    if has_nul(value):
        raise BadRequest(
            f"{what} has text with U+0000 (NUL), which is not accepted", code="nul_character"
        )
