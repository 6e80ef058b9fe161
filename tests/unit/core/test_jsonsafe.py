from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.core.errors import BadRequest
from common.core.jsonsafe import loads_bounded, nesting_depth


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert nesting_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert nesting_depth(b'"just a string with ] and ["') == 0
    assert nesting_depth(b'{"escaped \\" [": []}') == 2


def test_deep_documents_are_refused_before_parsing() -> None:
    deep = b"[" * 1000 + b"]" * 1000  # json.loads would raise RecursionError
    with pytest.raises(BadRequest) as info:
        loads_bounded(deep, max_depth=32)
    assert info.value.code == "json_too_deep"


def test_documents_within_the_bound_parse() -> None:
    assert loads_bounded(b'{"a": [[1]]}', max_depth=3) == {"a": [[1]]}


@pytest.mark.parametrize("raw", [b"", b"   ", b"{", b"\xff\xfe", b"nope"])
def test_non_json_is_a_clean_400(raw: bytes) -> None:
    with pytest.raises(BadRequest) as info:
        loads_bounded(raw, max_depth=8)
    assert info.value.code == "invalid_json"


# Fuzz: the input classes that once reached the database or int() unchecked, anywhere in a
# document (hypothesis draws the documents; each class must end in a BadRequest, nothing else).

_SCALARS = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8)
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _with(document: object, poison: str) -> bytes:
    """`document` as JSON with the raw text `poison` placed as a value inside it."""
    marker = '"@@POISON@@"'
    text = (
        json.dumps({"d": document, "x": "@@POISON@@"})
        if not isinstance(document, list)
        else json.dumps([document, "@@POISON@@"])
    )
    return text.replace(marker, poison).encode()


@settings(max_examples=60, deadline=None)
@given(_DOCS, st.integers(min_value=4301, max_value=9000))
def test_integers_beyond_the_conversion_limit_anywhere_are_refused(
    doc: object, digits: int
) -> None:
    with pytest.raises(BadRequest) as info:
        loads_bounded(_with(doc, "9" * digits), max_depth=64)
    assert info.value.code == "invalid_number"


@settings(max_examples=60, deadline=None)
@given(_DOCS, st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-2E+999"]))
def test_numbers_json_cannot_carry_are_refused(doc: object, number: str) -> None:
    with pytest.raises(BadRequest) as info:
        loads_bounded(_with(doc, number), max_depth=64)
    assert info.value.code == "invalid_number"


@settings(max_examples=60, deadline=None)
@given(_DOCS, st.text(max_size=5), st.text(max_size=5), st.booleans())
def test_nul_in_any_string_or_key_is_refused(
    doc: object, before: str, after: str, key: bool
) -> None:
    text = json.dumps(before + "\x00" + after)
    poison = json.dumps({before + "\x00": 1}) if key else text
    with pytest.raises(BadRequest) as info:
        loads_bounded(_with(doc, poison), max_depth=64)
    assert info.value.code == "nul_character"


@settings(max_examples=60, deadline=None)
@given(_DOCS)
def test_documents_without_those_parse_as_they_are(doc: object) -> None:
    raw = json.dumps(doc).encode()
    if b"\\u0000" in raw:
        return
    assert loads_bounded(raw, max_depth=64) == doc


def test_an_escaped_backslash_before_u0000_is_text_not_nul() -> None:
    assert loads_bounded(b'{"a": "\\\\u0000"}', max_depth=4) == {"a": "\\u0000"}
