"""Every cloud call a function's code makes is one its Terraform identity may make.

The stack records each storage, Pub/Sub and Firestore call per function (`SERVICE_CALLS_DIR`,
`common/core/calls.py`). This test drives every function through its paths (an upload processed,
an inline snapshot, a clip job, event streams, a download, a reconcile tick, a dead letter), then
compares all recorded calls (this test's and every other test's in the session, among them the
housekeeping paths of test_housekeeping_grants.py) with `local.function_access` of
`terraform/locals.tf`, evaluated by real Terraform: the data the module's IAM grants are made from.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from cli.client import MediaApi
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.grants import CallLog, function_access, refused
from tests.integration.support import (
    WebhookReceiver,
    api_for,
    data_url,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
    post_job,
    post_push,
    post_snapshot,
    push_envelope,
    read_events,
    snapshot_body,
    upload_file,
    wait_for,
    wait_job,
    wait_processed,
)

pytestmark = pytest.mark.integration


def test_every_functions_calls_are_within_its_grants(local_stack: Any, tmp_path: Path) -> None:
    # GIVEN every function exercised on its paths (a webhook endpoint hears of the device)
    device = new_device_id()
    api = api_for(device)
    receiver = WebhookReceiver()
    owner = api_for("least-privilege-owner", "user")
    admin = MediaApi(mint_token("ops-lp", "user", admin=True))
    granted = admin.session.post(
        f"{api.base_url}/v1/devices/{device}/owners",
        json={"user_id": "least-privilege-owner"},
        timeout=10,
    )
    assert granted.status_code in (200, 201), granted.text
    hook = owner.session.post(
        f"{owner.base_url}/v1/webhooks",
        json={"url": receiver.url, "events": ["media.processed", "event.created"]},
        timeout=10,
    )
    assert hook.status_code == 201, hook.text
    image = upload_file(api, sample_path("astronaut.png"))
    video = upload_file(api, sample_path("carphone_pristine.mp4"))
    wait_processed(api, image["id"])
    wait_processed(api, video["id"])
    api.download(image["id"])
    api.get(video["id"])
    job = post_job(api, video["id"], "snapshot", at_ms=1000).json()
    assert wait_job(api, job["job_id"])["status"] == "completed"
    read_events(api, f"/v1/jobs/{job['job_id']}/events")
    read_events(api, f"/v1/media/{image['id']}/events")
    snapshot = post_snapshot(api, snapshot_body(data_url(sample_path("camera.png").read_bytes())))
    assert snapshot.status_code == 201, snapshot.text
    housekeeping = os.environ["HOUSEKEEPING_URL"]
    tick = push_envelope({"task": "reconcile"}, {}, f"tick-{uuid.uuid4().hex}")
    assert post_push(housekeeping, tick).status_code == 200
    pending = post_create(api, declaration(facts_for_bytes(tmp_path, os.urandom(64), "p.jpg")))
    dead = push_envelope(
        {"CloudPubSubDeadLetterSourceSubscription": "process-media"},
        {"media_id": pending.json()["id"]},
        f"dead-{uuid.uuid4().hex}",
    )
    assert post_push(housekeeping, dead).status_code == 200
    assert api.get(pending.json()["id"])["status_reason_code"] == "dead_lettered"
    deleted = api.session.delete(f"{api.base_url}/v1/media/{image['id']}", timeout=30)
    assert deleted.status_code == 204
    # WHEN their recorded calls are compared with what Terraform grants them
    access = function_access(tmp_path)
    calls = CallLog(Path(os.environ["SERVICE_CALLS_DIR"]), from_start=True).calls()
    # THEN every function with cloud grants made calls, and none it may not make
    granted_any = {
        name
        for name, grant in access.items()
        if grant["objects"] or grant["publishes"] or grant["firestore"] != "none"
    }
    assert granted_any <= set(calls), f"functions never exercised: {granted_any - set(calls)}"
    assert refused(access, calls) == {}
    # deliver_webhook has no cloud grant: it reads Postgres and POSTs to the endpoint
    wait_for(lambda: bool(receiver.of_type("media.processed")), 60, "a webhook delivery")
    receiver.close()
