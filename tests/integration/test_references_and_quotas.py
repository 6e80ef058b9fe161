"""Media by reference on the real stack: no storage locations shown, the streaming proxy with
ranges on a large object, resolve with visible and invisible references, daily quotas under
concurrency, and the audit log of what people did."""

from __future__ import annotations

import base64
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from cli.client import MediaApi
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.support import (
    api_for,
    db_rows,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
    store,
    stored_object,
    upload_file,
    wait_processed,
)

pytestmark = pytest.mark.integration

LARGE_BYTES = 24 * 1024**2 + 12345


def admin() -> MediaApi:
    return MediaApi(mint_token("ops", "user", admin=True))


def uploaded(api: MediaApi, tmp_path: Path, data: bytes, name: str) -> str:
    """Declare and PUT `data` (not processed: any bytes); the media id once verified."""
    path = tmp_path / name
    path.write_bytes(data)
    created = upload_file(api, path, original_filename=name, upload_protocol="single")
    body = api.wait_terminal(created["id"], timeout_seconds=120)
    assert body["verified"]["sha256"] == hashlib.sha256(data).hexdigest()
    return str(created["id"])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_no_response_shows_a_storage_location_except_to_admins(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("chelsea.png"))
    assert created["object"] is None
    body = wait_processed(api, created["id"])
    where = stored_object(created["id"])
    for answer in (created, body):
        texts = [t for t in _strings(answer) if not t.startswith("http")]  # signed URLs may
        assert not [t for t in texts if where["name"] in t or where["bucket"] in t]
        assert not [t for t in texts if t.startswith(("gs://", "s3://"))]
    assert body["object"] is None
    seen_by_admin = admin().get(created["id"])
    assert seen_by_admin["object"]["name"] == where["name"]


def test_the_content_proxy_streams_ranges_of_a_large_object(
    local_stack: Any, tmp_path: Path
) -> None:
    api = api_for(new_device_id())
    data = b"\xff\xd8\xff\xe0" + os.urandom(LARGE_BYTES - 4)  # sniffs as JPEG
    media_id = uploaded(api, tmp_path, data, "big.jpg")
    url = f"{api.base_url}/v1/media/{media_id}/content"
    whole = api.session.get(url, timeout=120)
    assert whole.status_code == 200
    assert hashlib.sha256(whole.content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert whole.headers["Content-Type"] == "image/jpeg"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Disposition"].startswith('inline; filename="big.jpg"')
    etag = whole.headers["ETag"]
    # a range across the store's read chunks, the last bytes, and a suffix range
    for header, start, stop in (
        ("bytes=8388000-16777999", 8388000, 16778000),
        (f"bytes={LARGE_BYTES - 10}-", LARGE_BYTES - 10, LARGE_BYTES),
        ("bytes=-100", LARGE_BYTES - 100, LARGE_BYTES),
    ):
        part = api.session.get(url, headers={"Range": header}, timeout=60)
        assert part.status_code == 206, header
        assert part.content == data[start:stop], header
        assert part.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{LARGE_BYTES}"
    unsatisfiable = api.session.get(url, headers={"Range": f"bytes={LARGE_BYTES}-"}, timeout=30)
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{LARGE_BYTES}"
    assert api.session.get(url, headers={"If-None-Match": etag}, timeout=30).status_code == 304
    stale = api.session.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'}, timeout=60)
    assert (stale.status_code, len(stale.content)) == (200, LARGE_BYTES)
    # a browser tag opens it with a ticket; another device's token cannot
    ticket = api.session.post(url + "/ticket", timeout=10).json()
    opened = requests.get(api.base_url + ticket["url"], headers={"Range": "bytes=0-3"}, timeout=30)
    assert (opened.status_code, opened.content) == (206, data[:4])
    stranger = api_for(new_device_id())
    assert stranger.session.get(url, timeout=10).status_code == 404


def test_resolve_swaps_visible_references_and_leaves_the_rest_alike(
    local_stack: Any, tmp_path: Path
) -> None:
    device = new_device_id()
    api = api_for(device)
    small = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
    mine = uploaded(api, tmp_path, small, "small.png")
    theirs = uploaded(api_for(new_device_id()), tmp_path, os.urandom(700), "other.jpg")
    missing = "med_01JD0000000000000000000000"
    document = {
        "messages": [
            {"role": "user", "image": f"data:image/png;{mine}"},
            {"role": "user", "images": [f"data:image/jpeg;{theirs}", f"data:image/png;{missing}"]},
            {"text": f"not a reference: data:image/png;{mine} inside text", "n": 3, "ok": True},
        ],
        f"data:image/png;{mine}": "keys are left alone",
    }
    url = f"{api.base_url}/v1/media/resolve"
    answer = api.session.post(url, json={"document": document}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    resolved = body["document"]
    signed = resolved["messages"][0]["image"]
    assert signed.startswith("http")
    assert requests.get(signed, timeout=30).content == small
    assert resolved["messages"][1]["images"] == document["messages"][1]["images"]
    assert resolved["messages"][2] == document["messages"][2]
    assert f"data:image/png;{mine}" in resolved
    assert body["unresolved"] == [f"data:image/jpeg;{theirs}", f"data:image/png;{missing}"]
    assert (body["resolved"], body["inlined"]) == (1, 0)
    inline = api.session.post(url, json={"document": document, "inline": True}, timeout=30).json()
    encoded = inline["document"]["messages"][0]["image"]
    assert encoded == "data:image/png;base64," + base64.b64encode(small).decode()
    assert inline["inlined"] == 1
    audit = admin().session.get(
        f"{api.base_url}/v1/admin/audit",
        params={"actor": f"device:{device}", "action": "resolved"},
        timeout=10,
    )
    assert [e["details"]["unresolved"] for e in audit.json()["items"]] == [2, 2]


def test_fifty_parallel_declarations_at_a_quota_edge_admit_exactly_the_quota(
    local_stack: Any, tmp_path: Path
) -> None:
    device = new_device_id()
    api = api_for(device)
    boss = admin()
    quota_url = f"{boss.base_url}/v1/admin/devices/{device}/quota"
    set_quota = boss.session.put(
        quota_url, json={"bytes_per_day": None, "media_per_day": 20}, timeout=10
    )
    assert set_quota.status_code == 200, set_quota.text
    bodies = [
        declaration(facts_for_bytes(tmp_path, os.urandom(1000 + i), f"q{i}.jpg")) for i in range(50)
    ]
    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(lambda body: post_create(api, body), bodies))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 20 + [429] * 30
    refused = [a for a in answers if a.status_code == 429]
    assert {a.json()["code"] for a in refused} == {"quota_media_per_day"}
    assert all(0 < int(a.headers["Retry-After"]) <= 86400 for a in refused)
    state = boss.session.get(f"{boss.base_url}/v1/admin/devices/{device}/quota", timeout=10).json()
    assert (state["used_media"], state["media_per_day"], state["overridden"]) == (20, 20, True)
    rows = db_rows(
        "SELECT count(*) AS n FROM audit_events WHERE device_id = :d AND action = 'quota_refused'",
        d=device,
    )
    assert rows[0]["n"] == 30
    # a replay of an admitted declaration costs nothing and still answers
    admitted = next(b for a, b in zip(answers, bodies, strict=True) if a.status_code == 201)
    assert post_create(api, admitted).status_code == 200


def test_a_bytes_quota_refuses_what_does_not_fit(local_stack: Any, tmp_path: Path) -> None:
    device = new_device_id()
    api = api_for(device)
    admin().session.put(
        f"{admin().base_url}/v1/admin/devices/{device}/quota",
        json={"bytes_per_day": 5000, "media_per_day": None},
        timeout=10,
    )
    first = post_create(api, declaration(facts_for_bytes(tmp_path, os.urandom(3000), "a.jpg")))
    second = post_create(api, declaration(facts_for_bytes(tmp_path, os.urandom(3000), "b.jpg")))
    third = post_create(api, declaration(facts_for_bytes(tmp_path, os.urandom(2000), "c.jpg")))
    assert [first.status_code, second.status_code, third.status_code] == [201, 429, 201]
    assert second.json()["code"] == "quota_bytes_per_day"


def test_the_audit_log_records_who_did_what(local_stack: Any, tmp_path: Path) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("chelsea.png"))
    wait_processed(api, created["id"])
    api.session.get(f"{api.base_url}/v1/media/{created['id']}/download", timeout=10)
    share = api.session.post(
        f"{api.base_url}/v1/media/{created['id']}/shares", json={"ttl_seconds": 600}, timeout=10
    )
    assert share.status_code == 201, share.text
    assert requests.get(share.json()["url"], timeout=10, allow_redirects=False).status_code in (
        200,
        302,
    )
    api.session.delete(f"{api.base_url}/v1/shares/{share.json()['share_id']}", timeout=10)
    api.session.delete(f"{api.base_url}/v1/media/{created['id']}", timeout=30)
    bad = facts_for_bytes(tmp_path, os.urandom(300), "bad.jpg")
    rejected = post_create(api, declaration(bad)).json()
    where = stored_object(rejected["id"])
    store().write(where["bucket"], where["name"], os.urandom(300), "image/jpeg")
    api.wait_terminal(rejected["id"], timeout_seconds=60)
    page = admin().session.get(
        f"{api.base_url}/v1/admin/audit", params={"device_id": device, "limit": 3}, timeout=10
    )
    assert page.status_code == 200, page.text
    events = page.json()["items"]
    cursor = page.json()["next_cursor"]
    while cursor:
        more = (
            admin()
            .session.get(
                f"{api.base_url}/v1/admin/audit",
                params={"device_id": device, "limit": 3, "cursor": cursor},
                timeout=10,
            )
            .json()
        )
        events += more["items"]
        cursor = more["next_cursor"]
    by_action: dict[str, list[dict[str, Any]]] = {}
    for event in reversed(events):
        by_action.setdefault(event["action"], []).append(event)
    assert [e["media_id"] for e in by_action["declared"]] == [created["id"], rejected["id"]]
    outcomes = [
        (e["details"]["outcome"], e["details"]["reason_code"]) for e in by_action["uploaded"]
    ]
    assert outcomes == [("verified", None), ("rejected", "sha256_mismatch")]
    assert by_action["download_url_issued"][0]["actor"] == f"device:{device}"
    assert by_action["download_url_issued"][0]["details"]["ttl_seconds"] > 0
    assert [e["action"] for e in events if e["action"].startswith("share_")][::-1] == [
        "share_created",
        "share_opened",
        "share_revoked",
    ]
    assert by_action["deleted"][0]["details"]["reason_code"] == "deleted"
    # the log is append-only
    with pytest.raises(Exception, match="append-only"):
        db_rows("UPDATE audit_events SET actor = 'someone' WHERE device_id = :d", d=device)
    refused = api.session.get(f"{api.base_url}/v1/admin/audit", timeout=10)
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_required")
