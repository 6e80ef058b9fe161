"""The API fuzzed on the local stack, bounded: nothing answers 5xx, every error is our JSON.

Two layers:
- schemathesis draws requests for every operation of the generated OpenAPI document (valid ones
  aimed at a real media, device and camera; invalid ones anywhere);
- hypothesis draws the input classes that once reached Python or Postgres unchecked, at any
  place: integers beyond 4,300 digits, NaN / Infinity / doubles that overflow, and U+0000 in any
  string or key of any body; U+0000 in any query or path parameter; times at either end of the
  calendar in any time parameter; weak ETags in `If-Match`; unsatisfiable ranges.

Each operation runs `EXAMPLES` examples per mode (about 1,000 requests in all); raise it with
`FUZZ_EXAMPLES` for a longer run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.api.openapi import openapi_path, pipeline_document
from tests.integration.bad_inputs import (
    FUNCTIONS,
    HUGE,
    call,
    function_url,
    is_json_error,
    media_to_break,
)

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
STREAMS = ("/events",)
"""Event streams stay open until their media is terminal: fuzzed by their own tests."""
DEVICE_ONLY = {"/v1/snapshots", "/v1/media/{media_id}/complete"}
LAST = ("delete", "/purge")
"""Operations that destroy what the others aim at run after them."""


@pytest.fixture(scope="module")
def target(local_stack: Any) -> dict[str, Any]:
    return media_to_break()


def _operations() -> Iterator[Any]:
    import schemathesis

    schema = schemathesis.openapi.from_dict(pipeline_document())
    found = [result.ok() for result in schema.get_all_operations()]
    found = [op for op in found if not op.path.endswith(STREAMS)]

    def destructive(op: Any) -> bool:
        return op.method.lower() == "delete" or op.path.endswith("/purge")

    return iter(sorted(found, key=lambda op: (destructive(op), op.path, op.method)))


def _check(response: Any, what: str) -> None:
    """No 5xx; an error is JSON `{code, message}` (a schemathesis response: headers as lists)."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        headers = {k.lower(): v for k, v in response.headers.items()}
        kind = headers.get("content-type", [""])
        assert (kind[0] if isinstance(kind, list) else kind).startswith("application/json"), what
        body = response.json()
        assert isinstance(body.get("code"), str), (what, body)


def test_schemathesis_finds_no_5xx_and_no_foreign_error_body(local_stack: Any) -> None:
    from collections import Counter

    from schemathesis import GenerationMode

    target = media_to_break()  # its own: the destructive operations delete it at the end
    real = {
        "media_id": target["media_id"],
        "device_id": target["device"],
        "camera_id": "cam-1",
        "user_id": "someone",
    }
    calls: list[int] = []
    for op in _operations():
        token = target["device_token" if op.path in DEVICE_ONLY else "admin_token"]
        base = function_url(op.method.upper(), _sample_path(op.path, real)).removesuffix(
            _sample_path(op.path, real)
        )
        names = {p["name"] for p in op.definition.raw.get("parameters", []) if p["in"] == "path"}
        pinned = {name: value for name, value in real.items() if name in names}
        for mode, path_parameters in (
            (GenerationMode.POSITIVE, pinned),
            (GenerationMode.NEGATIVE, None),
        ):
            strategy = op.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            _fuzz(strategy, base, token, mode.value, calls)
    print("schemathesis answers by status:", sorted(Counter(calls).items()))
    assert len(calls) >= 2 * 30  # every operation was reached
    assert any(200 <= status < 300 for status in calls)  # not only refusals


def _fuzz(strategy: Any, base: str, token: str, mode: str, calls: list[int]) -> None:
    from hypothesis.errors import Unsatisfiable

    @BOUNDED
    @given(strategy)
    def run(case: Any) -> None:
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call(base_url=base, headers=headers, timeout=60)
        calls.append(response.status_code)
        _check(response, f"{case.method} {case.formatted_path} ({mode})")

    try:
        run()
    except Unsatisfiable:  # nothing of the operation can be made invalid (no input at all)
        assert mode == "negative"


PATH_NAMES = (
    "media_id",
    "device_id",
    "camera_id",
    "user_id",
    "job_id",
    "share_id",
    "token",
    "event_id",
    "webhook_id",
    "delivery_id",
)


def _sample_path(template: str, values: dict[str, str]) -> str:
    return template.format(**{name: values.get(name, "x") for name in PATH_NAMES})


# --- the classes, anywhere

_SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=6)
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_NUMBER_POISON = st.sampled_from([HUGE, "-" + HUGE, "NaN", "Infinity", "-Infinity", "1e400"])


@st.composite
def _poisoned(draw: st.DrawFn) -> tuple[bytes, str]:
    """A JSON object with one poison somewhere in it, and the code it must be refused with."""
    doc = draw(st.dictionaries(st.text(max_size=5), _DOCS, max_size=3))
    value: Any = "@@POISON@@"
    for wrap in draw(st.lists(st.sampled_from(["list", "object"]), max_size=3)):
        value = [value] if wrap == "list" else {draw(st.text(max_size=4)): value}
    doc[draw(st.text(max_size=5))] = value
    if draw(st.booleans()):
        marker, code = draw(_NUMBER_POISON), "invalid_number"
    elif draw(st.booleans()):
        marker = json.dumps(draw(st.text(max_size=4)) + "\x00" + draw(st.text(max_size=4)))
        code = "nul_character"
    else:  # in a key
        marker, code = json.dumps({"k\x00" + draw(st.text(max_size=3)): 1}), "nul_character"
    return json.dumps(doc).replace('"@@POISON@@"', marker).encode(), code


def _routes_with(attribute: str) -> list[tuple[str, str]]:
    return sorted(
        {
            (route.method, openapi_path(route.path))
            for table in FUNCTIONS.values()
            for route in table
            if getattr(route, attribute) is not None
        }
    )


@pytest.mark.parametrize(("method", "template"), _routes_with("body"))
def test_poison_anywhere_in_any_body_is_a_400(
    target: dict[str, Any], method: str, template: str
) -> None:
    path = _sample_path(
        template,
        {"media_id": target["media_id"], "device_id": target["device"], "camera_id": "cam-1"},
    )
    token = target["device_token" if template in DEVICE_ONLY else "admin_token"]

    @BOUNDED
    @given(_poisoned())
    def run(poisoned: tuple[bytes, str]) -> None:
        body, code = poisoned
        response = call(method, path, token, body, {"If-Match": "*"})
        assert response.status_code == 400, (path, response.text[:300])
        assert is_json_error(response)["code"] == code

    run()


_EXTREME_TIMES = st.sampled_from(["0001-01-01T00:00:00", "9999-12-31T23:59:59"]).flatmap(
    lambda base: st.sampled_from(["Z", "+14:00", "-14:00", "+00:01", "-23:59"]).map(
        lambda offset: base + offset
    )
)


def _query_names(method: str, template: str) -> list[tuple[str, bool]]:
    """(name, is a time) of each query parameter of an operation."""
    item = pipeline_document()["paths"][template][method.lower()]
    found = []
    for param in item.get("parameters", []):
        if param["in"] == "query":
            text = json.dumps(param["schema"])
            found.append((param["name"], '"date-time"' in text))
    return found


@pytest.mark.parametrize(
    ("method", "template"), [r for r in _routes_with("query") if not r[1].endswith(STREAMS)]
)
def test_nul_and_extreme_times_in_any_query_parameter_are_a_4xx(
    target: dict[str, Any], method: str, template: str
) -> None:
    from urllib.parse import quote

    path = _sample_path(
        template,
        {"media_id": target["media_id"], "device_id": target["device"], "camera_id": "cam-1"},
    )
    names = _query_names(method, template)
    token = target["admin_token"]

    @BOUNDED
    @given(st.sampled_from(names), st.text(max_size=4), _EXTREME_TIMES, st.booleans())
    def run(param: tuple[str, bool], text: str, when: str, as_time: bool) -> None:
        name, is_time = param
        value = when if (is_time and as_time) else text + "\x00"
        response = call(method, f"{path}?{name}={quote(value, safe='')}", token)
        assert 400 <= response.status_code < 500, (name, value, response.text[:300])
        assert is_json_error(response)["code"] in ("invalid_query", "validation_failed")

    run()


def test_nul_in_any_path_parameter_is_a_404(target: dict[str, Any]) -> None:
    templates = sorted(
        {
            (route.method, openapi_path(route.path))
            for table in FUNCTIONS.values()
            for route in table
            if "{" in openapi_path(route.path) and not openapi_path(route.path).endswith(STREAMS)
        }
    )

    @BOUNDED
    @given(st.sampled_from(templates), st.text(max_size=3))
    def run(route: tuple[str, str], text: str) -> None:
        from urllib.parse import quote

        method, template = route
        value = quote(text + "\x00", safe="")
        path = _sample_path(template, dict.fromkeys(PATH_NAMES, value))
        response = call(method, path, target["admin_token"], b"{}")
        assert response.status_code in (400, 404, 405, 422), (path, response.text[:300])
        is_json_error(response)

    run()


def test_any_weak_etag_is_a_412(target: dict[str, Any]) -> None:
    path = f"/v1/media/{target['media_id']}"
    strong = call("GET", path, target["owner_token"]).headers["ETag"]

    @BOUNDED
    @given(
        st.sampled_from([strong, '"x"', f"{strong}, {strong}"]),
        st.sampled_from(["W/", "w/"]),
    )
    def run(etag: str, prefix: str) -> None:
        response = call(
            "PATCH", path, target["owner_token"], b'{"note": "n"}', {"If-Match": prefix + etag}
        )
        assert response.status_code == 412, response.text[:300]
        is_json_error(response)

    run()


def test_any_unsatisfiable_range_is_a_json_416(target: dict[str, Any]) -> None:
    path = f"/v1/media/{target['media_id']}/content"

    @BOUNDED
    @given(st.integers(min_value=10**8, max_value=10**18), st.booleans())
    def run(start: int, open_ended: bool) -> None:
        wanted = f"bytes={start}-" if open_ended else f"bytes={start}-{start + 10}"
        response = call("GET", path, target["owner_token"], headers={"Range": wanted})
        assert response.status_code == 416, response.text[:300]
        assert is_json_error(response)["code"] == "range_not_satisfiable"

    run()
