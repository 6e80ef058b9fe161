"""Redrive: dead-lettered messages back to the topic they came from, after a fix.

Each message on the `dead-letter-inspect` subscription names its source subscription
(`CloudPubSubDeadLetterSourceSubscription`); `topology.json` gives that subscription's topic. The
media or job the message is about is revived first through the admin API (it was ended `failed`
by the dead-letter handler), then the message is published again with its own data and attributes
(the dead-letter attributes removed) and acknowledged on the inspect subscription. Without
`apply`, messages are listed and left where they are (their lease is given back).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cli.client import MediaApi

TOPOLOGY = Path(__file__).resolve().parents[1] / "topology.json"
INSPECT_SUBSCRIPTION = "dead-letter-inspect"
DEAD_LETTER_ATTRIBUTES = (
    "CloudPubSubDeadLetterSourceDeliveryCount",
    "CloudPubSubDeadLetterSourceSubscription",
    "CloudPubSubDeadLetterSourceSubscriptionProject",
    "CloudPubSubDeadLetterSourceTopicPublishTime",
)


def _about(data: bytes, attributes: dict[str, str]) -> str | None:
    """The media id a message is about (a job message: looked up by the API), if any."""
    try:
        payload = json.loads(data) if data else {}
    except ValueError:
        payload = {}
    if isinstance(payload, dict):
        for key in ("media_id", "job_id"):
            if isinstance(payload.get(key), str):
                return str(payload[key])
    return attributes.get("objectId")


def _revive(api: MediaApi, about: str | None) -> str:
    if about is None:
        return "nothing to revive"
    media_id = about
    if about.startswith("job_"):
        job = api.session.get(f"{api.list_url}/v1/jobs/{about}", timeout=30)
        if job.status_code != 200:
            return f"job {about}: {job.status_code}"
        media_id = job.json()["media_id"]
    if not media_id.startswith("med_"):
        return "an object name: the reconciler verifies it"
    answer = api.session.post(f"{api.manage_url}/v1/admin/media/{media_id}/revive", timeout=30)
    if answer.status_code == 200:
        return f"revived to {answer.json()['status']}"
    return f"not revived ({answer.json().get('code', answer.status_code)})"


def redrive_messages(
    project: str,
    prefix: str,
    *,
    max_messages: int,
    api: MediaApi | None,
    apply: bool,
    subscription: str = INSPECT_SUBSCRIPTION,
) -> list[dict[str, Any]]:
    """Pull up to `max_messages` dead letters; with `apply`, revive and republish each one.

    `subscription` is `dead-letter-inspect`, or `dead-letter-unhandled-inspect` for dead letters
    the handler itself gave up on (they go back to the dead-letter topic, to its handler).

    Returns:
        One row per message: `message_id`, `subscription`, `topic`, `about`, `done`.
    """
    from google.cloud import pubsub_v1

    subscriptions = json.loads(TOPOLOGY.read_text())["subscriptions"]
    subscriber = pubsub_v1.SubscriberClient()
    publisher = pubsub_v1.PublisherClient()
    inspect = subscriber.subscription_path(project, f"{prefix}{subscription}")
    pulled = subscriber.pull(
        request={"subscription": inspect, "max_messages": max_messages}, timeout=30
    )
    rows: list[dict[str, Any]] = []
    for received in pulled.received_messages:
        message = received.message
        attributes = dict(message.attributes)
        source = attributes.get("CloudPubSubDeadLetterSourceSubscription", "").rsplit("/", 1)[-1]
        spec = subscriptions.get(source.removeprefix(prefix), {})
        topic = spec.get("topic")
        about = _about(message.data, attributes)
        row = {
            "message_id": message.message_id,
            "subscription": source or "?",
            "topic": topic or "?",
            "about": about or "-",
            "done": "listed",
        }
        if apply and topic and api is not None:
            revived = _revive(api, about)
            kept = {k: v for k, v in attributes.items() if k not in DEAD_LETTER_ATTRIBUTES}
            publisher.publish(
                publisher.topic_path(project, f"{prefix}{topic}"), message.data, **kept
            ).result(30)
            subscriber.acknowledge(request={"subscription": inspect, "ack_ids": [received.ack_id]})
            row["done"] = f"redriven; {revived}"
        else:
            subscriber.modify_ack_deadline(
                request={
                    "subscription": inspect,
                    "ack_ids": [received.ack_id],
                    "ack_deadline_seconds": 0,
                }
            )
        rows.append(row)
    return rows
