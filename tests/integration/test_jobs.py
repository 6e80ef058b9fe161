"""Clip and snapshot jobs, inline snapshots and live status on the real local stack.

Everything goes through the functions over HTTP and the push router, except two tests that call
the job worker in this process to stop it at chosen points (a crash midway) and one that seeds a
"processed" video whose stored bytes are corrupt: the pipeline itself never lets such a video
reach `processed` (its analysis would fail first), and Cloud Storage generations are immutable, so
a processed video's pinned bytes cannot be corrupted afterwards through any API. The seeded row
is otherwise exactly what a processed upload looks like.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import requests
from PIL import Image

from cli.samples import sample_path
from tests.integration.support import (
    api_for,
    data_url,
    db_rows,
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
    store,
    stored_object,
    upload_file,
    wait_job,
    wait_processed,
)

pytestmark = pytest.mark.integration

FRAME_S = 0.04  # bikes.mp4 is 25 fps


@pytest.fixture(scope="module")
def bikes(local_stack: Any) -> tuple[str, str]:
    """bikes.mp4 uploaded through the normal flow and processed: (device id, media id)."""
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("bikes.mp4"))
    wait_processed(api, created["id"])
    return device, created["id"]


def download(api: Any, media_id: str) -> bytes:
    signed = api.download(media_id)
    response = requests.get(signed["url"], timeout=30)
    assert response.status_code == 200
    return response.content


def decoded_duration_s(data: bytes, tmp_path: Path) -> tuple[float, int]:
    path = tmp_path / f"{uuid.uuid4().hex}.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    return times[-1] - times[0] + FRAME_S, len(times)


def test_clip_is_a_new_processed_video_of_the_asked_length(
    bikes: tuple[str, str], tmp_path: Path
) -> None:
    device, source_id = bikes
    api = api_for(device)
    # WHEN a device asks for 2.0 s .. 5.0 s, twice
    first = post_job(api, source_id, "clip", start_ms=2000, duration_ms=3000)
    again = post_job(api, source_id, "clip", duration_ms=3000, start_ms=2000)
    # THEN the first is queued (202), the replay is the same job (200)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "queued"
    assert again.status_code == 200
    assert again.json()["job_id"] == first.json()["job_id"]
    job = wait_job(api, first.json()["job_id"])
    assert job["status"] == "completed", job
    assert job["progress"] == 1.0
    # 2.0 s is 0.8 s after the keyframe at 1.2 s: no stream copy possible, so a re-encode
    assert job["result"]["path"] == "reencode"
    assert (job["result"]["start_ms"], job["result"]["duration_ms"]) == (2000, 3000)
    # AND the clip is a media object of its own, processed like any upload
    clip = wait_processed(api, job["result_media_id"])
    source = api.get(source_id)
    assert (clip["kind"], clip["parent_id"], clip["media_type"], clip["mime_type"]) == (
        "clip", source_id, "video", "video/mp4"
    )  # fmt: skip
    assert clip["camera_id"] == source["camera_id"]
    assert clip["message_id"] == job["job_id"]
    offset = datetime.fromisoformat(clip["captured_at"]) - datetime.fromisoformat(
        source["captured_at"]
    )
    assert offset == timedelta(seconds=2)
    assert {d["kind"] for d in clip["derivatives"]} >= {"poster", "thumbnail", "storyboard"}
    assert "playback" not in {d["kind"] for d in clip["derivatives"]}, "a clip is H.264 MP4 already"
    assert abs(clip["properties"]["duration_ms"] - 3000) <= 40
    # AND its bytes decode to 3.0 s of video, and are the bytes its hashes describe
    data = download(api, clip["id"])
    duration_s, frames = decoded_duration_s(data, tmp_path)
    assert abs(duration_s - 3.0) <= FRAME_S
    assert frames == 75
    assert clip["verified"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert clip["size_bytes"] == len(data)
    assert stored_object(clip["id"])["name"] == f"{job['job_id']}/clip.mp4"
    history = db_rows(
        "select from_status, to_status from status_history where media_id = :id order by id",
        id=clip["id"],
    )
    # the same path as any upload: declared, stored, verified, processed
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "pending_upload"),
        ("pending_upload", "uploaded"),
        ("uploaded", "verified"),
        ("verified", "processing"),
        ("processing", "processed"),
    ]
    assert db_rows("select created_by from media_objects where id = :i", i=clip["id"]) == [
        {"created_by": f"job:{job['job_id']}"}
    ]
    listed = api.session.get(f"{api.list_url}/v1/media/{source_id}/jobs", timeout=10).json()
    assert job["job_id"] in [j["job_id"] for j in listed["items"]]


def test_snapshot_is_the_exact_frame_at_full_resolution(
    bikes: tuple[str, str], tmp_path: Path
) -> None:
    device, source_id = bikes
    api = api_for(device)
    response = post_job(api, source_id, "snapshot", at_ms=3200)
    assert response.status_code == 202, response.text
    job = wait_job(api, response.json()["job_id"])
    assert job["status"] == "completed", job
    assert job["result"]["time_ms"] == 3200
    snapshot = wait_processed(api, job["result_media_id"])
    assert (snapshot["kind"], snapshot["media_type"], snapshot["mime_type"]) == (
        "snapshot", "image", "image/jpeg"
    )  # fmt: skip
    assert (snapshot["properties"]["width_px"], snapshot["properties"]["height_px"]) == (640, 272)
    assert {d["kind"] for d in snapshot["derivatives"]} == {
        "thumbnail",
        "tile",
        "tile_2x",
        "tile_webp",
        "tile_webp_2x",
    }
    got = np.asarray(Image.open(io.BytesIO(download(api, snapshot["id"]))).convert("RGB"))
    with av.open(str(sample_path("bikes.mp4"))) as container:
        expected = next(
            f.to_ndarray(format="rgb24") for f in container.decode(video=0) if f.time >= 3.2
        )
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int)).mean() < 3.0


def test_jobs_are_refused_with_clear_errors(bikes: tuple[str, str], tmp_path: Path) -> None:
    device, source_id = bikes
    api = api_for(device)
    pending_video = post_create(
        api, declaration(facts_for_bytes(tmp_path, os.urandom(3000), "p.mp4"))
    ).json()["id"]
    pending_image = post_create(
        api, declaration(facts_for_bytes(tmp_path, os.urandom(3000), "p.jpg"))
    ).json()["id"]
    cases = [
        (source_id, "clip", {"start_ms": 8000, "duration_ms": 2001}, 422, "range_out_of_bounds"),
        (source_id, "snapshot", {"at_ms": 10_000}, 422, "range_out_of_bounds"),
        (source_id, "clip", {"start_ms": 0, "duration_ms": 60_001}, 422, "clip_too_long"),
        (source_id, "clip", {"start_ms": "0", "duration_ms": 1000}, 422, "validation_failed"),
        (pending_video, "clip", {"start_ms": 0, "duration_ms": 1000}, 409, "not_ready"),
        (pending_image, "snapshot", {"at_ms": 0}, 422, "not_a_video"),
        ("med_01JD0000000000000000000000", "snapshot", {"at_ms": 0}, 404, "not_found"),
    ]
    for media_id, kind, params, status, code in cases:
        response = post_job(api, media_id, kind, **params)
        assert (response.status_code, response.json()["code"]) == (status, code), params
    assert (
        db_rows("select count(*) as n from jobs where media_id = :m", m=pending_video)[0]["n"] == 0
    )


def test_other_devices_jobs_and_streams_are_not_found(bikes: tuple[str, str]) -> None:
    device, source_id = bikes
    owner = api_for(device)
    job_id = post_job(owner, source_id, "snapshot", at_ms=1000).json()["job_id"]
    intruder = api_for(new_device_id())
    assert post_job(intruder, source_id, "snapshot", at_ms=1000).status_code == 404
    for path in (
        f"/v1/jobs/{job_id}",
        f"/v1/jobs/{job_id}/events",
        f"/v1/media/{source_id}/jobs",
        f"/v1/media/{source_id}/events",
        "/v1/jobs/job_01JD0000000000000000000000",
        "/v1/jobs/not-a-job-id/events",
    ):
        response, events = read_events(intruder, path)
        assert (response.status_code, events) == (404, []), path
        assert response.json()["code"] == "not_found"


def test_events_show_a_running_job_then_its_end_and_resume_after_an_id(local_stack: Any) -> None:
    # GIVEN a processed 720p video with audio (a re-encode of 4 s of it takes a while)
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("bikes.mp4").parent / "bigbuckbunny.mp4")
    wait_processed(api, created["id"])
    job_id = post_job(api, created["id"], "clip", start_ms=1000, duration_ms=4000).json()["job_id"]
    # WHEN a client follows the job from (almost) the start
    response, events = read_events(api, f"/v1/jobs/{job_id}/events")
    # THEN it sees progress events and ends with the terminal status event
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    ids = [int(e.id or 0) for e in events]
    assert ids == sorted(set(ids)), "ids are the document's increasing sequence numbers"
    documents = [json.loads(e.data) for e in events]
    assert events[-1].event == "status"
    assert documents[-1]["status"] == "completed"
    assert documents[-1]["result_media_id"]
    progress = [
        d["progress"] for e, d in zip(events, documents, strict=True) if e.event == "progress"
    ]
    assert any(0 < p < 1 for p in progress), [
        (e.event, d["status"], d["progress"]) for e, d in zip(events, documents, strict=True)
    ]
    assert progress == sorted(progress)
    # AND a client that saw everything up to some id gets only what came after
    _, resumed = read_events(api, f"/v1/jobs/{job_id}/events", last_event_id=str(ids[0]))
    assert [e.id for e in resumed] == [events[-1].id]
    _, nothing = read_events(api, f"/v1/jobs/{job_id}/events", last_event_id=events[-1].id)
    assert nothing == []
    # AND the media's own stream tells its status
    _, media_events = read_events(api, f"/v1/media/{created['id']}/events")
    assert [json.loads(e.data)["status"] for e in media_events] == ["processed"]


def test_a_duplicated_job_message_makes_one_result(bikes: tuple[str, str]) -> None:
    device, source_id = bikes
    api = api_for(device)
    job_id = post_job(api, source_id, "clip", start_ms=5480, duration_ms=2000).json()["job_id"]
    # WHEN the same message reaches process_media three more times, two of them at once (and
    # at the same time as the router's own delivery)
    envelope = push_envelope({"kind": "job"}, {"job_id": job_id}, f"dup-{uuid.uuid4().hex}")
    url = os.environ["PROCESS_MEDIA_URL"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: post_push(url, envelope).status_code, range(2)))
    job = wait_job(api, job_id)
    answers.append(post_push(url, envelope).status_code)
    # THEN every delivery is acknowledged and there is one result
    assert all(code < 300 for code in answers), answers
    assert job["status"] == "completed"
    # 5.48 s is a keyframe and 7.48 s a clean cut: this one is a stream copy
    assert job["result"]["path"] == "stream_copy"
    rows = db_rows("select id, status from media_objects where message_id = :j", j=job_id)
    assert rows == [{"id": job["result_media_id"], "status": "processed"}]


def test_a_crash_midway_is_retried_without_a_second_result(
    bikes: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker runs in this process so that it can be stopped at chosen points."""
    from common.core.errors import TransientError
    from common.core.status import JobKind
    from common.db.engine import session_scope
    from common.db.models import MediaObject
    from common.events.envelope import PubSubMessage
    from common.jobs import api as jobs
    from common.jobs import results, worker
    from common.media import analyse

    _, source_id = bikes
    with session_scope() as session:
        source = session.get(MediaObject, source_id)
        assert source is not None
        queued = jobs.create_job(
            session, source, JobKind.CLIP, {"start_ms": 100, "duration_ms": 900}, created_by="t"
        )
    job_id = queued.job.id  # queued but never published: only this test runs it
    message = PubSubMessage(f"crash-{job_id}", f'{{"job_id":"{job_id}"}}'.encode(), {"kind": "job"})
    bucket = os.environ["DERIVATIVES_BUCKET"]

    def crash(*_: Any, **__: Any) -> Any:
        raise TransientError("worker killed")

    # WHEN the first attempt dies after storing the clip object, before declaring it
    monkeypatch.setattr(results, "ingest_bytes", crash)
    with pytest.raises(TransientError):
        worker.handle_job_message(message)
    stored = store().stat(bucket, f"{job_id}/clip.mp4")
    assert stored is not None
    assert db_rows("select status from jobs where id = :j", j=job_id)[0]["status"] == "running"
    assert db_rows("select id from media_objects where message_id = :j", j=job_id) == []
    monkeypatch.undo()
    # AND the second, which must not cut again, dies after declaring and verifying it
    monkeypatch.setattr(results, "run_operation", crash)
    monkeypatch.setattr(analyse, "process_media", crash)
    with pytest.raises(TransientError):
        worker.handle_job_message(message)
    recorded = db_rows("select result_media_id, result from jobs where id = :j", j=job_id)[0]
    assert recorded["result"]["path"] in ("stream_copy", "reencode")  # from the object's metadata
    # THEN the third finishes the job on that same result, and a fourth is a duplicate
    monkeypatch.undo()
    monkeypatch.setattr(results, "run_operation", crash)
    assert worker.handle_job_message(message) is worker.JobOutcome.COMPLETED
    assert worker.handle_job_message(message) is worker.JobOutcome.DUPLICATE
    rows = db_rows(
        "select id, status, object_version, verified_sha256 from media_objects "
        "where message_id = :j",
        j=job_id,
    )
    assert [(r["id"], r["status"]) for r in rows] == [(recorded["result_media_id"], "processed")]
    after = store().stat(bucket, f"{job_id}/clip.mp4")
    assert after is not None
    assert after.version == stored.version == rows[0]["object_version"]
    data = b"".join(store().read_range(bucket, after.name, after.version, 0, None))
    assert hashlib.sha256(data).hexdigest() == rows[0]["verified_sha256"]


def test_a_corrupt_source_ends_the_job_failed_without_retries(local_stack: Any) -> None:
    # GIVEN a processed video row whose stored bytes are not a video (see the module docstring)
    device = new_device_id()
    api = api_for(device)
    bucket = os.environ["DERIVATIVES_BUCKET"]
    name = f"seeded/{uuid.uuid4().hex}.mp4"
    garbage = b"\x00\x00\x00\x18ftypmp42" + os.urandom(50_000)
    stored = store().write(bucket, name, garbage, "video/mp4")
    from sqlalchemy import create_engine, text

    from common.core.ids import MEDIA_PREFIX, new_id

    media_id = new_id(MEDIA_PREFIX)

    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into media_objects (id, device_id, camera_id, message_id, captured_at, "
                "media_type, mime_type, size_bytes, sha256, md5, request_hash, verified_sha256, "
                "bucket, object_name, object_version, storage_uri, duration_ms, status, created_by) "
                "values (:id, :d, 'cam-1', :m, now(), 'video', 'video/mp4', :n, :h, :md5, :h, :h, "
                ":b, :o, :g, :u, 10000, 'processed', 'test')"
            ),
            {
                "id": media_id, "d": device, "m": uuid.uuid4().hex, "n": len(garbage),
                "h": hashlib.sha256(garbage).hexdigest(), "md5": "A" * 22 + "==", "b": bucket,
                "o": name, "g": stored.version, "u": f"gs://{bucket}/{name}",
            },
        )  # fmt: skip
    engine.dispose()
    # WHEN a clip is asked for
    response = post_job(api, media_id, "clip", start_ms=0, duration_ms=1000)
    assert response.status_code == 202, response.text
    job = wait_job(api, response.json()["job_id"])
    # THEN the job fails with the reason, once, and makes nothing
    assert job["status"] == "failed"
    assert job["error_code"] == "undecodable"
    assert "/tmp" not in job["error"]
    assert job["result_media_id"] is None
    assert (
        db_rows("select count(*) as n from media_objects where parent_id = :p", p=media_id)[0]["n"]
        == 0
    )
    log = (local_stack.workdir / "logs" / "function-process_media.log").read_text()
    assert log.count(f"job {job['job_id']} failed: undecodable") == 1  # acknowledged once


def astronaut_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.open(sample_path("astronaut.png")).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_inline_snapshot_is_processed_with_its_labels_and_a_face(local_stack: Any) -> None:
    api = api_for(new_device_id())
    jpeg = astronaut_jpeg()
    body = snapshot_body(data_url(jpeg))
    first = post_snapshot(api, body)
    again = post_snapshot(api, body)
    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    media = wait_processed(api, first.json()["id"])
    assert (media["kind"], media["mime_type"]) == ("snapshot", "image/jpeg")
    assert any(d["label"] == "face" for d in media["detections"])
    assert media["verified"]["sha256"] == hashlib.sha256(jpeg).hexdigest()
    row = db_rows("select labels, note from media_objects where id = :i", i=media["id"])[0]
    assert row == {"labels": ["doorbell"], "note": "someone at the door"}
    changed = post_snapshot(api, {**body, "labels": ["other"]})
    assert (changed.status_code, changed.json()["code"]) == (409, "idempotency_conflict")


def test_inline_snapshot_type_is_sniffed_and_limits_hold(local_stack: Any) -> None:
    api = api_for(new_device_id())
    png = sample_path("camera.png").read_bytes()
    response = post_snapshot(api, snapshot_body(data_url(png, "image/jpeg")))
    assert response.status_code == 201, response.text
    assert response.json()["mime_type"] == "image/png"
    assert response.json()["object"] is None  # storage locations are not shown
    assert stored_object(response.json()["id"])["name"].endswith(".png")
    assert wait_processed(api, response.json()["id"])["mime_type"] == "image/png"
    text_bytes = post_snapshot(api, snapshot_body(data_url(b"this is not an image at all")))
    assert (text_bytes.status_code, text_bytes.json()["code"]) == (415, "unsupported_media_type")
    big = b"\xff\xd8\xff" + os.urandom(2 * 1024 * 1024)
    too_big = post_snapshot(api, snapshot_body(data_url(big)))
    assert (too_big.status_code, too_big.json()["code"]) == (413, "payload_too_large")
    user = api_for("someone", "user")
    forbidden = post_snapshot(user, snapshot_body(data_url(png)))
    assert forbidden.status_code == 403
