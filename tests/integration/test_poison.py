"""Poison never loops: each push endpoint acknowledges it once, with one log line, and a dead letter
the dead-letter handler itself keeps failing on stops after the handler's own
`max_delivery_attempts` on `dead-letter-unhandled` (topology.json), where people find it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.stack import LocalStack
from tests.integration.conftest import ROOT, start_stack
from tests.integration.support import push_endpoint, wait_for

pytestmark = pytest.mark.integration

EXTERNAL_SERVICE_KEYS = ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


def _envelope(data: bytes, attributes: dict[str, str], message_id: str) -> dict[str, Any]:
    import base64

    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": message_id,
        },
        "subscription": "projects/local-project/subscriptions/test",
        "deliveryAttempt": 1,
    }


POISON = [
    ("finalize_upload", b'{"name": "x"}', {"eventType": "OBJECT_FINALIZE"}),  # not a notification
    ("process_media", b'{"media_id": 7}', {}),  # no valid media id
    ("process_media", b"not json", {"kind": "job"}),
    ("housekeeping", b"", {"task": "no-such-task"}),
]


def _log_lines(stack: LocalStack, function: str, needle: str) -> list[str]:
    path = Path(stack.workdir) / "logs" / f"function-{function}.log"
    return [line for line in path.read_text().splitlines() if needle in line]


@pytest.mark.storage_backends("gcs")
@pytest.mark.parametrize(("function", "data", "attributes"), POISON)
def test_poison_is_acknowledged_once_with_one_log_line(
    local_stack: LocalStack, function: str, data: bytes, attributes: dict[str, str]
) -> None:
    message_id = f"poison-{uuid.uuid4().hex[:10]}"
    url = os.environ[f"{function.upper()}_URL"]
    response = requests.post(url, json=_envelope(data, attributes, message_id), timeout=60)
    assert response.status_code == 200, response.text  # acknowledged: Pub/Sub never redelivers
    wait_for(lambda: bool(_log_lines(local_stack, function, message_id)), 10, "the log line")
    [line] = _log_lines(local_stack, function, message_id)
    record = json.loads(line)
    assert record["severity"] == "ERROR"
    assert "acknowledging poison" in record["message"]


@pytest.mark.storage_backends("gcs")
def test_an_undecodable_push_request_is_acknowledged_with_a_log_line(
    local_stack: LocalStack,
) -> None:
    before = len(_log_lines(local_stack, "housekeeping", "undecodable push request"))
    response = requests.post(os.environ["HOUSEKEEPING_URL"], data=b"\x00not json", timeout=60)
    assert response.status_code == 200
    wait_for(
        lambda: len(_log_lines(local_stack, "housekeeping", "undecodable push request")) > before,
        10,
        "the log line",
    )


@pytest.fixture(scope="module")
def failing_handler() -> Iterator[tuple[list[dict[str, Any]], str]]:
    """A push endpoint standing in for a dead-letter handler that always fails."""
    seen: list[dict[str, Any]] = []

    def answer(envelope: dict[str, Any]) -> int:
        seen.append(envelope)
        return 500

    with push_endpoint(answer) as url:
        yield seen, url


@pytest.fixture(scope="module")
def router_stack(failing_handler: tuple[list[dict[str, Any]], str]) -> Iterator[LocalStack]:
    """A stack of its own (no functions) whose dead-letter-handler pushes to `failing_handler`."""
    base = {k: v for k, v in os.environ.items() if k not in EXTERNAL_SERVICE_KEYS}
    stack = start_stack(
        ROOT / ".stack" / "pytest-poison",
        storage_backend="gcs",
        with_functions=False,
        apply_migrations=False,
        extra_env={"ROUTER_BACKOFF_SCALE": "0.01"},
        push_endpoint_overrides={"dead-letter-handler": failing_handler[1]},
        base_env=base,
    )
    try:
        yield stack
    finally:
        stack.stop()


def test_a_dead_letter_the_handler_keeps_failing_on_stops_after_its_attempts(
    router_stack: LocalStack, failing_handler: tuple[list[dict[str, Any]], str]
) -> None:
    from emulators.pubsub import clients

    seen, _ = failing_handler
    env = router_stack.env
    project = env["GOOGLE_CLOUD_PROJECT"]
    marker = f"loop-{uuid.uuid4().hex[:8]}"
    publisher, subscriber, close = clients(env["PUBSUB_EMULATOR_HOST"])
    unhandled = f"projects/{project}/subscriptions/dead-letter-unhandled-inspect"
    found: list[Any] = []

    def parked() -> bool:
        response = subscriber.pull(
            request={"subscription": unhandled, "max_messages": 10}, timeout=5
        )
        for item in response.received_messages:
            subscriber.acknowledge(request={"subscription": unhandled, "ack_ids": [item.ack_id]})
            if item.message.attributes.get("marker") == marker:
                found.append(item.message)
        return bool(found)

    try:
        # GIVEN a dead letter (as Pub/Sub forwards one) that its handler cannot handle
        attributes = {
            "marker": marker,
            "CloudPubSubDeadLetterSourceSubscription": "process-media",
            "CloudPubSubDeadLetterSourceDeliveryCount": "5",
        }
        publisher.publish(
            request={
                "topic": f"projects/{project}/topics/dead-letter",
                "messages": [{"data": b"{}", "attributes": attributes}],
            }
        )
        # THEN it is delivered max_delivery_attempts times and parked for people
        wait_for(parked, 60, "the dead letter on dead-letter-unhandled-inspect")
    finally:
        close()
    ours = [e for e in seen if e["message"]["attributes"].get("marker") == marker]
    assert [e["deliveryAttempt"] for e in ours] == [1, 2, 3, 4, 5]
    [message] = found
    assert message.attributes["CloudPubSubDeadLetterSourceSubscription"] == "dead-letter-handler"
