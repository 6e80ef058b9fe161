"""The local stack's infrastructure on its own (no functions): GCS notifications reach a push
endpoint through the router with retries and dead-lettering; Firestore and Postgres answer."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulators.stack import LocalStack
from tests.integration.conftest import ROOT, clear_cached_clients, start_stack
from tests.integration.support import push_endpoint, wait_for

pytestmark = pytest.mark.integration

EXTERNAL_SERVICE_KEYS = ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
CLIENT_KEYS = (
    "GOOGLE_CLOUD_PROJECT",
    "DATABASE_URL",
    "STORAGE_BACKEND",
    "STORAGE_EMULATOR_HOST",
    "STORAGE_PUBLIC_URL",
    "PUBSUB_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
    "UPLOADS_BUCKET",
    "DERIVATIVES_BUCKET",
    "SIGNING_CREDENTIALS_FILE",
    "JWT_SECRET",
    "MEDIA_VERIFIED_TOPIC",
    "MEDIA_JOBS_TOPIC",
)


@dataclass
class PushReceiver:
    """Stand-in push endpoint. Objects named `retry-*` fail twice then succeed; `dead-*` always
    fail. Records every envelope with the status it answered."""

    deliveries: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, envelope: dict[str, Any]) -> int:
        name = envelope["message"]["attributes"].get("objectId", "")
        with self.lock:
            seen = sum(
                1
                for e, _ in self.deliveries
                if e["message"]["messageId"] == envelope["message"]["messageId"]
            )
            status = 200 if name.startswith("retry-") and seen >= 2 else 500
            self.deliveries.append((envelope, status))
        return status

    def for_object(self, name: str) -> list[tuple[dict[str, Any], int]]:
        with self.lock:
            return [
                (e, s)
                for e, s in self.deliveries
                if e["message"]["attributes"].get("objectId") == name
            ]


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[PushReceiver, str]]:
    state = PushReceiver()
    with push_endpoint(state.answer) as url:
        yield state, url


@pytest.fixture(scope="module")
def infra_stack(receiver: tuple[PushReceiver, str]) -> Iterator[LocalStack]:
    """A stack of its own (no functions, no migrations) whose finalize-upload subscription
    pushes to the test receiver; it never shares emulators with the session stack."""
    base = {k: v for k, v in os.environ.items() if k not in EXTERNAL_SERVICE_KEYS}
    stack = start_stack(
        ROOT / ".stack" / "pytest-infra",
        storage_backend="gcs",
        with_functions=False,
        apply_migrations=False,
        # schedules every 0.6 s (reconcile) and 7.2 s (retention) instead of 5 min and 1 h
        extra_env={"ROUTER_BACKOFF_SCALE": "0.01", "SCHEDULE_SCALE": "0.002"},
        push_endpoint_overrides={"finalize-upload": receiver[1]},
        base_env=base,
    )
    try:
        yield stack
    finally:
        stack.stop()
    # the filesystem backend's objects go with the stack
    assert not (stack.workdir / "storage").exists()


@pytest.fixture
def stack_env(infra_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in infra_stack.env.items():
        monkeypatch.setenv(key, value)
    clear_cached_clients()
    return infra_stack.env


def upload(env: dict[str, str], name: str, data: bytes) -> None:
    from google.cloud import storage

    client = storage.Client(project=env["GOOGLE_CLOUD_PROJECT"])
    client.bucket(env["UPLOADS_BUCKET"]).blob(name).upload_from_string(
        data, content_type="text/plain"
    )


def test_env_files_hold_every_client_key_privately(infra_stack: LocalStack) -> None:
    env_json = json.loads((infra_stack.workdir / "env.json").read_text())
    assert set(CLIENT_KEYS) <= set(env_json)
    assert env_json == infra_stack.env
    env_sh = (infra_stack.workdir / "env.sh").read_text()
    assert f"export UPLOADS_BUCKET={env_json['UPLOADS_BUCKET']}" in env_sh.splitlines()
    for path in (infra_stack.workdir / "env.json", Path(env_json["SIGNING_CREDENTIALS_FILE"])):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    account = json.loads(Path(env_json["SIGNING_CREDENTIALS_FILE"]).read_text())
    assert account["type"] == "service_account"
    assert account["client_email"] == "media-signer@local-project.iam.gserviceaccount.com"
    assert account["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_a_failing_push_endpoint_gets_redeliveries_until_it_succeeds(
    stack_env: dict[str, str], infra_stack: LocalStack, receiver: tuple[PushReceiver, str]
) -> None:
    state, _ = receiver
    name = f"retry-{uuid.uuid4().hex}.txt"
    # WHEN an object is written to the uploads bucket
    upload(stack_env, name, b"hello")
    # THEN its OBJECT_FINALIZE notification is pushed, retried after two 500s, and acked
    wait_for(lambda: any(s == 200 for _, s in state.for_object(name)), 30, "a 200 delivery")
    message_id = state.for_object(name)[-1][0]["message"]["messageId"]
    # the router acknowledged it (the ack call returned): Pub/Sub never delivers it again
    router_log = infra_stack.workdir / "logs" / "router.log"
    acked = f"message_id={message_id} attempt=3 status=200"
    wait_for(
        lambda: any(
            acked in line and "outcome=acked" in line
            for line in router_log.read_text().splitlines()
        ),
        30,
        "the ack",
    )
    deliveries = state.for_object(name)
    assert [s for _, s in deliveries] == [500, 500, 200]
    assert [e["deliveryAttempt"] for e, _ in deliveries] == [1, 2, 3]
    assert len({e["message"]["messageId"] for e, _ in deliveries}) == 1
    envelope = deliveries[-1][0]
    assert envelope["subscription"] == "projects/local-project/subscriptions/finalize-upload"
    message = envelope["message"]
    assert message["message_id"] == message["messageId"]
    assert message["publishTime"] == message["publish_time"]
    assert message["publishTime"].endswith("Z")
    attributes = message["attributes"]
    assert attributes["eventType"] == "OBJECT_FINALIZE"
    assert attributes["bucketId"] == stack_env["UPLOADS_BUCKET"]
    assert attributes["payloadFormat"] == "JSON_API_V1"
    resource = json.loads(base64.b64decode(message["data"]))
    assert (resource["name"], resource["size"]) == (name, "5")


def test_a_message_that_always_fails_ends_on_the_dead_letter_subscription(
    stack_env: dict[str, str], receiver: tuple[PushReceiver, str]
) -> None:
    from emulators.pubsub import clients

    state, _ = receiver
    name = f"dead-{uuid.uuid4().hex}.txt"
    upload(stack_env, name, b"poison")
    _, subscriber, close = clients(stack_env["PUBSUB_EMULATOR_HOST"])
    inspect = f"projects/{stack_env['GOOGLE_CLOUD_PROJECT']}/subscriptions/dead-letter-inspect"
    found: list[Any] = []

    def dead_lettered() -> bool:
        response = subscriber.pull(request={"subscription": inspect, "max_messages": 10}, timeout=5)
        for item in response.received_messages:
            subscriber.acknowledge(request={"subscription": inspect, "ack_ids": [item.ack_id]})
            if item.message.attributes.get("objectId") == name:
                found.append(item.message)
        return bool(found)

    try:
        wait_for(dead_lettered, 40, "the message on dead-letter-inspect")
    finally:
        close()
    deliveries = state.for_object(name)
    assert [e["deliveryAttempt"] for e, _ in deliveries] == [1, 2, 3, 4, 5]
    assert {s for _, s in deliveries} == {500}
    [message] = found
    assert message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert message.attributes["CloudPubSubDeadLetterSourceSubscription"] == "finalize-upload"
    assert message.attributes["eventType"] == "OBJECT_FINALIZE"
    assert base64.b64encode(message.data).decode() == deliveries[0][0]["message"]["data"]


def test_firestore_emulator_writes_and_reads(stack_env: dict[str, str]) -> None:
    from google.cloud import firestore

    client = firestore.Client(project=stack_env["GOOGLE_CLOUD_PROJECT"])
    ref = client.collection("stack-test").document(uuid.uuid4().hex)
    ref.set({"status": "uploaded", "attempts": 1})
    ref.update({"status": "verified", "attempts": firestore.Increment(1)})
    assert ref.get().to_dict() == {"status": "verified", "attempts": 2}


def test_postgres_answers_through_database_url(stack_env: dict[str, str]) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack_env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            assert connection.execute(text("select 1")).scalar_one() == 1
            assert connection.execute(text("select current_database()")).scalar_one() == "media"
    finally:
        engine.dispose()


def test_objects_live_on_disk_and_a_signed_put_is_served_in_ranges(
    stack_env: dict[str, str], infra_stack: LocalStack, receiver: tuple[PushReceiver, str]
) -> None:
    from datetime import timedelta

    import requests
    from google.cloud import storage
    from google.oauth2 import service_account

    state, _ = receiver
    name = f"retry-{uuid.uuid4().hex}/ranged.bin"
    data = bytes(range(256)) * 64
    credentials = service_account.Credentials.from_service_account_file(
        stack_env["SIGNING_CREDENTIALS_FILE"]
    )
    client = storage.Client(project=stack_env["GOOGLE_CLOUD_PROJECT"], credentials=credentials)
    url = (
        client.bucket(stack_env["UPLOADS_BUCKET"])
        .blob(name)
        .generate_signed_url(
            version="v4",
            method="PUT",
            expiration=timedelta(minutes=5),
            content_type="application/octet-stream",
            api_access_endpoint=stack_env["STORAGE_PUBLIC_URL"],
        )
    )
    # WHEN a device PUTs to a signed URL
    put = requests.put(
        url, data=data, headers={"Content-Type": "application/octet-stream"}, timeout=10
    )
    assert put.status_code == 200
    # THEN the bytes are on disk under the work dir, not in the server's memory ...
    on_disk = infra_stack.workdir / "storage" / stack_env["UPLOADS_BUCKET"] / name
    assert on_disk.read_bytes() == data
    # ... a ranged read answers 206 with exactly those bytes, and FINALIZE is pushed
    ranged = requests.get(
        f"{stack_env['STORAGE_EMULATOR_HOST']}/download/storage/v1/b/"
        f"{stack_env['UPLOADS_BUCKET']}/o/{requests.utils.quote(name, safe='')}",
        params={"alt": "media"},
        headers={"Range": "bytes=1000-1999"},
        timeout=10,
    )
    assert ranged.status_code == 206
    assert ranged.content == data[1000:2000]
    wait_for(lambda: any(s == 200 for _, s in state.for_object(name)), 30, "FINALIZE pushed")


def test_schedules_publish_their_messages_to_the_housekeeping_topic(
    stack_env: dict[str, str], infra_stack: LocalStack
) -> None:
    from emulators.pubsub import clients

    project = stack_env["GOOGLE_CLOUD_PROJECT"]
    probe = f"projects/{project}/subscriptions/housekeeping-probe-{uuid.uuid4().hex[:8]}"
    _, subscriber, close = clients(stack_env["PUBSUB_EMULATOR_HOST"])
    subscriber.create_subscription(
        request={
            "name": probe,
            "topic": f"projects/{project}/topics/housekeeping",
            "ack_deadline_seconds": 10,
        }
    )
    seen: list[tuple[str, dict[str, str]]] = []

    def pull() -> None:
        response = subscriber.pull(request={"subscription": probe, "max_messages": 20}, timeout=5)
        for item in response.received_messages:
            seen.append((item.message.message_id, dict(item.message.attributes)))
            subscriber.acknowledge(request={"subscription": probe, "ack_ids": [item.ack_id]})

    def pulled(condition: Callable[[], bool]) -> Callable[[], bool]:
        return lambda: bool(pull() or condition())

    try:
        # the timer publishes reconcile's message (every 300 s x SCHEDULE_SCALE 0.002)
        wait_for(pulled(lambda: {"task": "reconcile"} in [a for _, a in seen]), 20, "a tick")
        # and a test can publish any schedule's message itself
        message_id = infra_stack.publish_schedule("retention")
        wait_for(pulled(lambda: (message_id, {"task": "retention"}) in seen), 20, "retention")
    finally:
        subscriber.delete_subscription(request={"subscription": probe})
        close()
    [row] = [s for s in infra_stack.services if s.name == "scheduler"]
    assert row.address == "reconcile every 0.6 s, retention every 7.2 s"
