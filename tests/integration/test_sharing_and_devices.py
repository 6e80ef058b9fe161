"""Share links, stream tickets, uploads by users, devices and owners, retention with pins,
clips by wall-clock time: on the real local stack."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from cli.client import parse_sse, sse_lines
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.support import (
    api_for,
    db_rows,
    declaration,
    facts_for_bytes,
    in_session,
    new_device_id,
    post_create,
    upload_file,
    wait_job,
    wait_processed,
)

pytestmark = pytest.mark.integration


def admin() -> Any:
    from cli.client import MediaApi

    return MediaApi(mint_token("ops", "user", admin=True))


def grant(device: str, user: str) -> None:
    response = admin().session.post(
        f"{admin().manage_url}/v1/devices/{device}/owners", json={"user_id": user}, timeout=10
    )
    assert response.status_code in (200, 201), response.text


def test_owners_grant_devices_and_users_upload_for_them(local_stack: Any, tmp_path: Path) -> None:
    device = new_device_id()
    alice, bob = f"alice-{device}", f"bob-{device}"
    # nobody owns the device yet: only an admin may grant it
    refused = api_for(alice, "user").session.post(
        f"{admin().manage_url}/v1/devices/{device}/owners", json={"user_id": alice}, timeout=10
    )
    assert refused.status_code == 404
    grant(device, alice)
    # an owner may grant it on
    owner = api_for(alice, "user")
    added = owner.session.post(
        f"{owner.manage_url}/v1/devices/{device}/owners", json={"user_id": bob}, timeout=10
    )
    assert added.status_code == 201
    assert {o["user_id"] for o in added.json()["items"]} == {alice, bob}
    # a user uploads for a device it owns (created_by names the user)
    facts = facts_for_bytes(tmp_path, sample_path("camera.png").read_bytes(), "u.png")
    response = post_create(api_for(bob, "user"), declaration(facts, device_id=device))
    assert response.status_code == 201, response.text
    api_for(bob, "user").put_bytes(response.json()["upload"], facts, lambda _: None)
    media = wait_processed(api_for(bob, "user"), response.json()["id"])
    assert media["device_id"] == device
    (row,) = db_rows("select created_by from media_objects where id = :i", i=media["id"])
    assert row["created_by"] == f"user:{bob}"
    # a user must name the device, and only one it owns
    missing = post_create(api_for(bob, "user"), declaration(facts))
    assert missing.status_code == 422
    other = post_create(api_for("mallory", "user"), declaration(facts, device_id=device))
    assert other.status_code == 404
    devices = owner.session.get(f"{owner.list_url}/v1/devices", timeout=10).json()["items"]
    assert [(d["device_id"], d["media_count"], d["cameras"]) for d in devices] == [
        (device, 1, ["cam-1"])
    ]
    removed = owner.session.delete(
        f"{owner.manage_url}/v1/devices/{device}/owners/{bob}", timeout=10
    )
    assert removed.status_code == 204
    assert (
        api_for(bob, "user")
        .session.get(f"{owner.list_url}/v1/media/{media['id']}", timeout=10)
        .status_code
        == 404
    )


def test_a_share_opens_without_an_account_until_revoked(local_stack: Any) -> None:
    api = api_for(new_device_id())
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    share = api.session.post(
        f"{api.manage_url}/v1/media/{created['id']}/shares",
        json={"ttl_seconds": 3600, "note": "for the insurer"},
        timeout=10,
    )
    assert share.status_code == 201, share.text
    url = share.json()["url"]
    assert url.startswith(os.environ["LIST_MEDIA_URL"])
    opened = requests.get(url, timeout=10)  # no token at all
    assert opened.status_code == 200
    assert opened.content == sample_path("camera.png").read_bytes()
    listed = api.session.get(f"{api.list_url}/v1/media/{created['id']}/shares", timeout=10).json()
    assert listed["items"][0]["open_count"] == 1
    assert listed["items"][0]["url"] is None  # the token is shown only once
    (row,) = db_rows("select token_sha256 from shares where id = :s", s=share.json()["share_id"])
    assert url.rsplit("/", 1)[-1] not in row["token_sha256"]
    revoked = api.session.delete(
        f"{api.manage_url}/v1/shares/{share.json()['share_id']}", timeout=10
    )
    assert revoked.status_code == 204
    gone = requests.get(url, timeout=10, allow_redirects=False)
    assert (gone.status_code, gone.json()["code"]) == (410, "share_revoked")
    assert requests.get(url.rsplit("/", 1)[0] + "/nope", timeout=10).status_code == 404
    too_long = api.session.post(
        f"{api.manage_url}/v1/media/{created['id']}/shares",
        json={"ttl_seconds": 8 * 24 * 3600},
        timeout=10,
    )
    assert (too_long.status_code, too_long.json()["code"]) == (422, "share_ttl_too_long")


def test_a_share_of_a_deleted_media_is_gone_and_expiry_is_enforced(local_stack: Any) -> None:
    from common.core.errors import Gone
    from common.db.engine import session_scope
    from common.media.shares import open_share

    api = api_for(new_device_id())
    created = upload_file(api, sample_path("astronaut.png"))
    wait_processed(api, created["id"])
    share = api.session.post(
        f"{api.manage_url}/v1/media/{created['id']}/shares", json={"ttl_seconds": 60}, timeout=10
    ).json()
    token = share["url"].rsplit("/", 1)[-1]
    later = datetime.now(UTC) + timedelta(seconds=61)
    with pytest.raises(Gone) as expired, session_scope() as session:
        open_share(session, token, now=later)
    assert expired.value.code == "share_expired"
    assert (
        api.session.delete(f"{api.manage_url}/v1/media/{created['id']}", timeout=30).status_code
        == 204
    )
    response = requests.get(share["url"], timeout=10, allow_redirects=False)
    assert (response.status_code, response.json()["code"]) == (410, "media_deleted")


def test_a_browser_opens_a_stream_with_a_ticket_never_with_its_token(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    ticket = api.session.post(
        f"{api.list_url}/v1/media/{created['id']}/events/ticket", timeout=10
    ).json()
    with requests.get(api.list_url + ticket["url"], stream=True, timeout=30) as stream:
        assert stream.status_code == 200
        events = list(
            parse_sse(sse_lines(stream.iter_content(chunk_size=None, decode_unicode=True)))
        )
    assert [json.loads(e.data)["status"] for e in events] == ["processed"]
    # the bearer token itself is refused in the URL, and a ticket opens no other stream
    token = mint_token(device)
    assert (
        requests.get(
            f"{api.list_url}/v1/media/{created['id']}/events", params={"ticket": token}, timeout=10
        ).status_code
        == 401
    )
    other = upload_file(api, sample_path("chelsea.png"))
    assert (
        requests.get(
            f"{api.list_url}/v1/media/{other['id']}/events",
            params={"ticket": ticket["ticket"]},
            timeout=10,
        ).status_code
        == 401
    )


def test_retention_deletes_old_unpinned_media_and_keeps_pins(
    local_stack: Any, tmp_path: Path
) -> None:
    from common.housekeeping.retention import sweep

    device = new_device_id()
    api = api_for(device)
    old = [
        post_create(
            api,
            declaration(
                facts_for_bytes(tmp_path, os.urandom(500 + i), f"o{i}.jpg"),
                captured_at="2026-01-01T00:00:00Z",
            ),
        ).json()["id"]
        for i in range(2)
    ]
    fresh = post_create(
        api, declaration(facts_for_bytes(tmp_path, os.urandom(700), "f.jpg"))
    ).json()["id"]
    pinned = api.session.post(f"{api.manage_url}/v1/media/{old[1]}/pin", timeout=10)
    assert (pinned.status_code, pinned.json()["pinned"]) == (200, True)
    grant(device, f"owner-{device}")
    owner = api_for(f"owner-{device}", "user")
    keep = owner.session.put(
        f"{owner.manage_url}/v1/devices/{device}/retention", json={"retention_days": 7}, timeout=10
    )
    assert (keep.status_code, keep.json()["retention_days"]) == (200, 7)
    report = in_session(sweep, now=datetime(2026, 1, 9, tzinfo=UTC))
    assert old[0] in report.deleted
    assert old[1] not in report.deleted
    assert fresh not in report.deleted
    assert api.get(old[0])["status"] == "deleted"
    assert api.get(old[1])["status"] == "pending_upload"
    again = in_session(sweep, now=datetime(2026, 1, 9, tzinfo=UTC))  # idempotent
    assert old[0] not in again.deleted
    forever = owner.session.put(
        f"{owner.manage_url}/v1/devices/{device}/retention", json={"retention_days": 0}, timeout=10
    )
    assert forever.status_code == 200
    api.session.delete(f"{api.manage_url}/v1/media/{old[1]}/pin", timeout=10)
    assert old[1] not in in_session(sweep, now=datetime(2030, 1, 1, tzinfo=UTC)).deleted


def test_a_clip_by_wall_clock_time_spans_two_recordings(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    start = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    first = upload_file(api, sample_path("carphone_pristine.mp4"), captured_at=start.isoformat())
    body = wait_processed(api, first["id"])
    second_at = start + timedelta(milliseconds=body["duration_ms"])
    directory = Path(sample_path("carphone_pristine.mp4")).parent
    second = upload_file(
        api, directory / "carphone_distorted.mp4", captured_at=second_at.isoformat()
    )
    wait_processed(api, second["id"])
    url = f"{api.list_url}/v1/devices/{device}/cameras/cam-1/clips"
    inside = api.session.post(
        url,
        json={"start_at": (start + timedelta(seconds=1)).isoformat(), "duration_ms": 1500},
        timeout=10,
    )
    assert inside.status_code == 202, inside.text
    assert inside.json()["params"]["start_ms"] == 1000
    across = api.session.post(
        url,
        json={
            "start_at": (second_at - timedelta(seconds=1)).isoformat(),
            "duration_ms": 2000,
            "labels": ["porch"],
        },
        timeout=10,
    )
    assert across.status_code == 202, across.text
    assert [p["media_id"] for p in across.json()["params"]["parts"]] == [first["id"], second["id"]]
    job = wait_job(api, across.json()["job_id"])
    assert job["status"] == "completed", job
    clip = wait_processed(api, job["result_media_id"])
    assert abs(clip["duration_ms"] - 2000) <= 150
    assert clip["labels"] == ["porch"]
    nothing = api.session.post(
        url, json={"start_at": "2026-11-21T00:00:00Z", "duration_ms": 1000}, timeout=10
    )
    assert (nothing.status_code, nothing.json()["code"]) == (422, "no_recording")
    assert nothing.json()["details"]["before"]["media_id"] == second["id"]
