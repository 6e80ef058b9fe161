"""Operators' tools on the real local stack: describe, purge, reissue an upload URL, revive and
redrive dead-lettered work, mint device tokens."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.mediactl import app
from cli.samples import sample_path
from common.api.auth import authenticate
from tests.integration.support import (
    api_for,
    declaration,
    facts_for_bytes,
    in_session,
    new_device_id,
    post_create,
    upload_file,
    wait_processed,
)

pytestmark = pytest.mark.integration

RUN = CliRunner()
WIDE = {"COLUMNS": "200"}


def mediactl(*args: str) -> Any:
    return RUN.invoke(app, ["admin", *args], env=WIDE)


def test_describe_shows_history_objects_and_jobs(local_stack: Any) -> None:
    api = api_for(new_device_id())
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    result = mediactl("describe", created["id"], "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [h["to_status"] for h in body["history"]][-1] == "processed"
    roles = {o["role"]: o["exists"] for o in body["objects"]}
    assert roles["original"]
    assert roles["thumbnail"]
    refused = api.session.get(f"{api.list_url}/v1/admin/media/{created['id']}", timeout=10)
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_required")


def test_purge_counts_then_deletes_a_device(local_stack: Any, tmp_path: Path) -> None:
    device = new_device_id()
    api = api_for(device)
    for index in range(3):
        facts = facts_for_bytes(tmp_path, os.urandom(1000 + index), f"p{index}.jpg")
        post_create(api, declaration(facts))
    dry = mediactl("purge", "--device", device, "--json")
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.output)
    assert (report["matched_count"], report["deleted"]) == (3, [])
    assert report["matched_bytes"] == 1000 + 1001 + 1002
    done = mediactl("purge", "--device", device, "--yes", "--json")
    assert json.loads(done.output)["remaining"] == 0
    assert api.list(device)["items"] == []


def test_reissue_url_gives_a_pending_media_a_fresh_upload(local_stack: Any, tmp_path: Path) -> None:
    api = api_for(new_device_id())
    facts = facts_for_bytes(tmp_path, sample_path("camera.png").read_bytes(), "r.png")
    created = post_create(api, declaration(facts)).json()
    result = mediactl("reissue-url", created["id"], "--json")
    assert result.exit_code == 0, result.output
    upload = json.loads(result.output)["upload"]
    api.put_bytes(upload, facts, lambda _: None)
    assert wait_processed(api, created["id"])["status"] == "processed"


def test_redrive_revives_dead_lettered_work_and_it_completes(
    local_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud import pubsub_v1

    from common.media import ingest, verify
    from tests.integration.test_faults import _derivatives_spec, api_device

    api = api_for(new_device_id())
    data = sample_path("chelsea.png").read_bytes()
    spec = _derivatives_spec(api_device(api), data, "image/png")
    monkeypatch.setattr(verify, "hand_over", lambda media: None)
    media = in_session(ingest.ingest_bytes, spec, data).media
    monkeypatch.undo()
    # GIVEN its media-verified message was dead-lettered (the handler ends the media failed)
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(os.environ["GOOGLE_CLOUD_PROJECT"], "dead-letter")
    payload = json.dumps({"media_id": media.id}).encode()
    publisher.publish(
        topic,
        payload,
        media_id=media.id,
        CloudPubSubDeadLetterSourceSubscription="process-media",
        CloudPubSubDeadLetterSourceDeliveryCount="5",
    ).result(30)
    deadline = time.monotonic() + 60
    while api.get(media.id)["status"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api.get(media.id)["status_reason_code"] == "dead_lettered"
    # WHEN an operator redrives the dead letters
    listed = mediactl("redrive", "--json")
    assert media.id in listed.output
    result = mediactl("redrive", "--yes", "--json")
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.output) if r["about"] == media.id]
    assert rows
    assert "revived to verified" in rows[0]["done"]
    # THEN the media is processed
    assert wait_processed(api, media.id)["status"] == "processed"


def test_device_tokens_are_short_lived_and_name_their_key(local_stack: Any) -> None:
    import jwt

    result = RUN.invoke(
        app, ["admin", "device-token", "--device", "cam-provisioned", "--ttl-seconds", "600"]
    )
    token = result.output.strip()
    assert jwt.get_unverified_header(token)["kid"] == "current"
    principal = authenticate(f"Bearer {token}")
    assert (principal.kind, principal.subject) == ("device", "cam-provisioned")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 600


def test_audit_and_stats_from_the_command_line(local_stack: Any, tmp_path: Path) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    bad = post_create(api, declaration(facts_for_bytes(tmp_path, os.urandom(300), "x.jpg"))).json()
    from tests.integration.support import store, stored_object

    where = stored_object(bad["id"])
    store().write(where["bucket"], where["name"], os.urandom(300), "image/jpeg")
    assert api.wait_terminal(bad["id"], timeout_seconds=60)["status"] == "rejected"
    audit = mediactl("audit", "--device", device, "--action", "uploaded", "--json")
    assert audit.exit_code == 0, audit.output
    outcomes = {e["media_id"]: e["details"]["outcome"] for e in json.loads(audit.output)["items"]}
    assert outcomes == {created["id"]: "verified", bad["id"]: "rejected"}
    logs = local_stack.workdir / "logs"
    deadline = time.monotonic() + 30
    while True:  # the rejection's log line is written by finalize_upload, maybe a moment later
        stats = RUN.invoke(app, ["admin", "stats", "--logs", str(logs), "--json"], env=WIDE)
        assert stats.exit_code == 0, stats.output
        summary = json.loads(stats.output)
        rejected = summary["by_label"].get("upload.rejected", {}).get("sha256_mismatch", 0)
        if rejected >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert rejected >= 1
    assert summary["events"]["upload.verified"] >= 1
    assert summary["bytes_uploaded"] >= sample_path("camera.png").stat().st_size
    table = RUN.invoke(app, ["admin", "stats", "--logs", str(logs)], env=WIDE)
    assert "upload.rejected" in table.output
