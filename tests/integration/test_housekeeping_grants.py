"""The housekeeping function's scheduled and dead-letter paths, run by its own process as deployed
(a Cloud Scheduler tick or a dead letter published to its topic, pushed by the router to the
function over HTTP), on media with real objects in both buckets; then its recorded calls are
checked against its Terraform identity (`local.function_access`).

Paths: the retention sweep; the reconciler's expiry of a pending upload, re-verification of a
stuck upload, re-hand-over of stuck verified media, requeue of a stuck job and completion of a
stuck delete; dead letters of a storage notification, of a media-verified message and of a job.
The retention sweep and the finished delete remove renditions and thumbnails from the derivatives
bucket: without the derivatives grant in terraform/locals.tf they fail in the cloud, and this test
shows that its check fails too.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cli.client import MediaApi
from cli.samples import sample_path
from tests.integration.grants import CallLog, function_access, refused
from tests.integration.support import (
    api_for,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
    post_job,
    store,
    stored_object,
    upload_file,
    wait_for,
    wait_job,
    wait_processed,
)

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]

LONG_AGO = "2001-01-01T00:00:00+00:00"
"""Older than any retention, upload lifetime or `stuck_after_seconds`."""


def execute(sql: str, **params: Any) -> None:
    engine = create_engine(os.environ["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


def objects_of(media_id: str) -> list[tuple[str, str]]:
    """(bucket, object name) of a media's original, renditions and track snapshots."""
    engine = create_engine(os.environ["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT bucket, object_name FROM media_objects WHERE id = :id "
                    "UNION ALL SELECT bucket, object_name FROM derivatives WHERE media_id = :id "
                    "UNION ALL SELECT snapshot_bucket, snapshot_object_name FROM tracks "
                    "WHERE media_id = :id AND snapshot_object_name IS NOT NULL"
                ),
                {"id": media_id},
            )
            return [(r[0], r[1]) for r in rows]
    finally:
        engine.dispose()


def status_of(api: MediaApi, media_id: str) -> str:
    return str(api.get(media_id)["status"])


def processed(api: MediaApi, sample: str) -> str:
    media_id = str(upload_file(api, sample_path(sample))["id"])
    wait_processed(api, media_id)
    return media_id


def publish_dead_letter(data: dict[str, Any], **attributes: str) -> None:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(os.environ["GOOGLE_CLOUD_PROJECT"], "dead-letter")
    publisher.publish(
        topic,
        json.dumps(data).encode(),
        CloudPubSubDeadLetterSourceDeliveryCount="5",
        **attributes,
    ).result(30)


def without_housekeeping_derivatives(locals_tf: str) -> str:
    """locals.tf with the housekeeping identity's derivatives grant taken out."""
    block = re.search(r"\n    housekeeping = \{.*?\n    \}", locals_tf, re.DOTALL)
    assert block, "no housekeeping entry in local.function_access"
    edited = re.sub(r", derivatives = \[[^\]]*\]", "", block.group(0))
    assert edited != block.group(0), "housekeeping has no derivatives grant to remove"
    return locals_tf.replace(block.group(0), edited)


def test_housekeeping_paths_stay_within_its_grants(local_stack: Any, tmp_path: Path) -> None:
    api = api_for(new_device_id())
    # GIVEN media with real objects in the uploads and derivatives buckets, in every state the
    # housekeeping paths act on
    expired_image = processed(api, "astronaut.png")
    expired_video = processed(api, "bikes.mp4")
    stuck_delete = processed(api, "chelsea.png")
    stuck_upload = processed(api, "coffee.png")
    stuck_verified = processed(api, "camera.png")
    job_video = processed(api, "carphone_pristine.mp4")
    job = post_job(api, job_video, "snapshot", at_ms=500).json()
    assert wait_job(api, job["job_id"])["status"] == "completed"
    never_uploaded = post_create(
        api, declaration(facts_for_bytes(tmp_path, os.urandom(64), "never.jpg"))
    ).json()["id"]
    dead = {
        kind: post_create(
            api, declaration(facts_for_bytes(tmp_path, os.urandom(64), f"{kind}.jpg"))
        ).json()["id"]
        for kind in ("notification", "verified")
    }
    dead_job = post_job(api, job_video, "snapshot", at_ms=0).json()["job_id"]
    assert wait_job(api, dead_job)["status"] == "completed"
    deletable = {m: objects_of(m) for m in (expired_image, expired_video, stuck_delete)}
    assert all(
        any(bucket == os.environ["DERIVATIVES_BUCKET"] for bucket, _ in objects)
        for objects in deletable.values()
    ), "every deleted media must have objects in the derivatives bucket"
    for media_id in (expired_image, expired_video):
        execute("UPDATE media_objects SET captured_at = :t WHERE id = :id", t=LONG_AGO, id=media_id)
    execute(
        "UPDATE media_objects SET status = 'deleting', deleted_by = 'test', updated_at = :t "
        "WHERE id = :id",
        t=LONG_AGO,
        id=stuck_delete,
    )
    for media_id, status in ((stuck_upload, "uploaded"), (stuck_verified, "verified")):
        execute(
            "UPDATE media_objects SET status = :s, updated_at = :t WHERE id = :id",
            s=status,
            t=LONG_AGO,
            id=media_id,
        )
    execute(
        "UPDATE media_objects SET created_at = :t WHERE id = :id", t=LONG_AGO, id=never_uploaded
    )
    execute(
        "UPDATE jobs SET status = 'queued', updated_at = :t WHERE id = :id",
        t=LONG_AGO,
        id=job["job_id"],
    )
    execute("UPDATE jobs SET status = 'running' WHERE id = :id", id=dead_job)
    calls = CallLog(Path(os.environ["SERVICE_CALLS_DIR"]))

    # WHEN Cloud Scheduler's ticks and dead letters reach the housekeeping function
    local_stack.publish_schedule("retention")
    local_stack.publish_schedule("reconcile")
    notification = stored_object(dead["notification"])
    publish_dead_letter(
        {"name": notification["name"], "bucket": notification["bucket"]},
        CloudPubSubDeadLetterSourceSubscription="finalize-upload",
        bucketId=notification["bucket"],
        objectId=notification["name"],
        objectGeneration="1",
        eventType="OBJECT_FINALIZE",
        payloadFormat="JSON_API_V1",
    )
    publish_dead_letter(
        {"media_id": dead["verified"]},
        CloudPubSubDeadLetterSourceSubscription="process-media",
        media_id=dead["verified"],
    )
    publish_dead_letter(
        {"job_id": dead_job, "kind": "job"},
        CloudPubSubDeadLetterSourceSubscription="media-jobs",
        kind="job",
    )

    # THEN each path did its work ...
    def settled() -> bool:
        return (
            all(status_of(api, m) == "deleted" for m in deletable)
            and status_of(api, never_uploaded) == "failed"
            and status_of(api, stuck_upload) == "processed"
            and status_of(api, stuck_verified) == "processed"
            and all(status_of(api, m) == "failed" for m in dead.values())
            and api.get_job(job["job_id"])["status"] == "completed"
            and api.get_job(dead_job)["status"] == "failed"
        )

    wait_for(settled, 240, "the housekeeping paths to finish")
    assert api.get(never_uploaded)["status_reason_code"] == "upload_expired"
    assert {api.get(m)["status_reason_code"] for m in dead.values()} == {"dead_lettered"}
    for media_id, objects in deletable.items():
        left = [name for bucket, name in objects if store().stat(bucket, name) is not None]
        assert left == [], f"{media_id}: objects left after its delete: {left}"
    # ... in the housekeeping function's process, within what its identity may do
    made = calls.calls()
    housekeeping = made.get("housekeeping", set())
    deletes_derivatives = ("storage", "delete", os.environ["DERIVATIVES_BUCKET"])
    assert deletes_derivatives in housekeeping, sorted(housekeeping)
    access = function_access(tmp_path / "granted")
    assert refused(access, made) == {}
    # AND without the derivatives grant the same calls are refused
    ungranted = function_access(tmp_path / "ungranted", without_housekeeping_derivatives)
    assert refused(ungranted, {"housekeeping": housekeeping}) == {
        "housekeeping": [deletes_derivatives]
    }
