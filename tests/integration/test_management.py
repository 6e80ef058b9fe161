"""Media people can manage: the gallery across cameras, labels and notes with ETags, delete."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from cli.samples import sample_path
from common.storage import layout
from tests.integration.support import (
    api_for,
    db_rows,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
    post_job,
    read_events,
    store,
    stored_object,
    upload_file,
    wait_job,
    wait_processed,
)

pytestmark = pytest.mark.integration


def own(user: str, *devices: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        for device in devices:
            connection.execute(
                text("insert into device_owners (user_id, device_id) values (:u, :d)"),
                {"u": user, "d": device},
            )
    engine.dispose()


def gallery(api: Any, **params: Any) -> requests.Response:
    return api.session.get(f"{api.list_url}/v1/media", params=params, timeout=30)


def test_a_user_sees_all_their_cameras_filtered_and_paged(local_stack: Any, tmp_path: Path) -> None:
    front, back = new_device_id(), new_device_id()
    user = f"user-{front}"
    own(user, front, back)
    ids = {}
    for device, hour in ((front, 1), (back, 2), (front, 3)):
        facts = facts_for_bytes(tmp_path, os.urandom(200 + hour), f"g{hour}.jpg")
        body = declaration(facts, captured_at=f"2026-11-20T0{hour}:00:00Z", labels=[f"h{hour}"])
        ids[hour] = post_create(api_for(device), body).json()["id"]
    viewer = api_for(user, "user")
    page = gallery(viewer).json()
    assert [i["id"] for i in page["items"]] == [ids[3], ids[2], ids[1]]
    tile = page["items"][0]
    for field in (
        "status",
        "kind",
        "media_type",
        "captured_at",
        "duration_ms",
        "thumbnail_url",
        "labels",
        "note",
        "counts",
    ):
        assert field in tile
    assert [i["id"] for i in gallery(viewer, device_id=back).json()["items"]] == [ids[2]]
    assert [i["id"] for i in gallery(viewer, label="h3").json()["items"]] == [ids[3]]
    window = gallery(
        viewer, captured_after="2026-11-20T01:30:00Z", captured_before="2026-11-20T03:00:00Z"
    ).json()
    assert [i["id"] for i in window["items"]] == [ids[2]]
    first = gallery(viewer, limit=2).json()
    second = gallery(viewer, limit=2, cursor=first["next_cursor"]).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [ids[3], ids[2], ids[1]]
    mismatch = gallery(viewer, limit=2, cursor=first["next_cursor"], kind="clip")
    assert (mismatch.status_code, mismatch.json()["code"]) == (422, "cursor_mismatch")
    unknown = gallery(viewer, colour="red")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "invalid_query")
    stranger = gallery(api_for("stranger", "user"), device_id=front)
    assert stranger.status_code == 404
    assert gallery(api_for("stranger", "user")).json()["items"] == []
    # a device sees only its own
    assert {i["id"] for i in gallery(api_for(front)).json()["items"]} == {ids[1], ids[3]}


def test_labels_and_notes_are_edited_with_an_etag(local_stack: Any, tmp_path: Path) -> None:
    api = api_for(new_device_id())
    created = post_create(
        api, declaration(facts_for_bytes(tmp_path, os.urandom(300), "e.jpg"), labels=["door"])
    ).json()
    url = f"{api.manage_url}/v1/media/{created['id']}"
    read = api.session.get(f"{api.list_url}/v1/media/{created['id']}", timeout=10)
    assert read.json()["labels"] == ["door"]
    etag = read.headers["ETag"]
    missing = api.session.patch(url, json={"note": "x"}, timeout=10)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    edited = api.session.patch(
        url, data=json.dumps({"labels": ["door", "cat"], "note": "the neighbour's cat"}),
        headers={"If-Match": etag, "Content-Type": "application/merge-patch+json"}, timeout=10,
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert (edited.json()["labels"], edited.json()["note"]) == (
        ["door", "cat"],
        "the neighbour's cat",
    )
    # a second editor with the old ETag does not overwrite the first one's change
    stale = api.session.patch(url, json={"note": "mine"}, headers={"If-Match": etag}, timeout=10)
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    cleared = api.session.patch(
        url, json={"note": None}, headers={"If-Match": edited.headers["ETag"]}, timeout=10
    )
    assert (cleared.json()["labels"], cleared.json()["note"]) == (["door", "cat"], None)
    bad = api.session.patch(url, json={"colour": "red"}, headers={"If-Match": "*"}, timeout=10)
    assert bad.status_code == 422


def test_delete_removes_bytes_and_mirror_and_leaves_a_tombstone(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("astronaut.png"))
    body = wait_processed(api, created["id"])
    where = stored_object(created["id"])
    objects = [(where["bucket"], where["name"])]
    objects += [
        (
            os.environ["DERIVATIVES_BUCKET"],
            layout.derivative_object_name(created["id"], d["kind"], d["mime_type"]),
        )
        for d in body["derivatives"]
    ]
    assert len(objects) >= 6, "the original, its thumbnail and its four grid tiles"
    assert all(store().stat(b, n) is not None for b, n in objects)
    url = f"{api.manage_url}/v1/media/{created['id']}"
    assert api.session.delete(url, timeout=30).status_code == 204
    assert api.session.delete(url, timeout=30).status_code == 204  # idempotent
    assert all(store().stat(b, n) is None for b, n in objects)
    tombstone = api.get(created["id"])
    assert tombstone["status"] == "deleted"
    assert (tombstone["labels"], tombstone["detections"], tombstone["derivatives"]) == ([], [], [])
    assert created["id"] not in [i["id"] for i in api.list(device)["items"]]
    _, events = read_events(api, f"/v1/media/{created['id']}/events")
    assert [json.loads(e.data)["status"] for e in events] == ["deleted"]
    (row,) = db_rows(
        "select deleted_by, deleted_at from media_objects where id = :i", i=created["id"]
    )
    assert row["deleted_by"] == f"device:{device}"
    assert row["deleted_at"] is not None
    other = api_for(new_device_id())
    assert other.session.delete(url, timeout=30).status_code == 404


def test_deleting_a_video_while_its_clip_runs_leaves_no_clip(local_stack: Any) -> None:
    api = api_for(new_device_id())
    video = upload_file(api, sample_path("bikes.mp4").parent / "bigbuckbunny.mp4")
    wait_processed(api, video["id"])
    job = post_job(api, video["id"], "clip", start_ms=500, duration_ms=4000).json()
    assert (
        api.session.delete(f"{api.manage_url}/v1/media/{video['id']}", timeout=60).status_code
        == 204
    )
    done = wait_job(api, job["job_id"])
    assert (done["status"], done["error_code"]) == ("failed", "source_deleted")
    leftovers = db_rows(
        "select id from media_objects where parent_id = :p and status not in ('deleting', 'deleted')",
        p=video["id"],
    )
    assert leftovers == []


def test_children_survive_a_delete_unless_cascade(local_stack: Any) -> None:
    api = api_for(new_device_id())
    video = upload_file(api, sample_path("carphone_pristine.mp4"))
    wait_processed(api, video["id"])
    snapshot = wait_job(api, post_job(api, video["id"], "snapshot", at_ms=500).json()["job_id"])
    child = snapshot["result_media_id"]
    wait_processed(api, child)
    assert (
        api.session.delete(f"{api.manage_url}/v1/media/{video['id']}", timeout=60).status_code
        == 204
    )
    kept = api.get(child)
    assert (kept["status"], kept["parent_id"]) == ("processed", video["id"])
    video2 = upload_file(
        api, sample_path("carphone_pristine.mp4"), message_id="again-" + child[-8:]
    )
    wait_processed(api, video2["id"])
    snap2 = wait_job(api, post_job(api, video2["id"], "snapshot", at_ms=700).json()["job_id"])
    wait_processed(api, snap2["result_media_id"])
    response = api.session.delete(
        f"{api.manage_url}/v1/media/{video2['id']}", params={"cascade": "true"}, timeout=60
    )
    assert response.status_code == 204
    assert api.get(snap2["result_media_id"])["status"] == "deleted"
