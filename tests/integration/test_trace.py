"""One upload is one trace: the create call's trace is stored with the media, and the bucket's
notification (which carries none), verification and processing log under it."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from cli.client import describe_file
from cli.samples import sample_path
from tests.integration.support import api_for, declaration, new_device_id, wait_processed

pytestmark = pytest.mark.integration


def _traces_of(local_stack: Any, function: str, media_id: str) -> set[str]:
    """The trace ids of the function's log lines about one media."""
    path = local_stack.workdir / "logs" / f"function-{function}.log"
    found = set()
    for line in path.read_text().splitlines():
        if media_id not in line:
            continue
        record = json.loads(line)
        trace = record.get("logging.googleapis.com/trace") or record.get("trace_id")
        if trace:
            found.add(trace.rsplit("/", 1)[-1])
    return found


def test_the_create_calls_trace_runs_through_finalize_and_process(local_stack: Any) -> None:
    api = api_for(new_device_id())
    facts = describe_file(sample_path("camera.png"))
    trace = secrets.token_hex(16)
    # GIVEN a device that declares its capture within a trace of its own
    created = api.session.post(
        f"{api.create_url}/v1/media",
        json=declaration(facts),
        headers={"traceparent": f"00-{trace}-{secrets.token_hex(8)}-01"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    media_id = created.json()["id"]
    # WHEN it uploads the bytes (the bucket's notification drives the rest)
    api.put_bytes(created.json()["upload"], facts, lambda _: None)
    wait_processed(api, media_id)
    # THEN every function's lines about the media carry that trace, and only it
    for function in ("create_media", "finalize_upload", "process_media"):
        assert _traces_of(local_stack, function, media_id) == {trace}, function
