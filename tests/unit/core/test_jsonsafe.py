from __future__ import annotations

import pytest

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
