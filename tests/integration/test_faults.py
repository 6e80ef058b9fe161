"""Faults found when the pipeline was tried as its users would, each with a regression test on
the real local stack: races, duplicate deliveries, crashes between commit and publish, stuck
rows, input that used to answer 500 or get stuck, poison messages, trusted types."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from PIL import Image

from cli.samples import sample_path
from tests.integration.support import (
    api_for,
    db_rows,
    declaration,
    facts_for_bytes,
    finalize_envelope,
    in_session,
    md5_b64,
    new_device_id,
    post_create,
    post_push,
    push_envelope,
    some_version,
    store,
    stored_object,
    upload_file,
    wait_processed,
)

pytestmark = pytest.mark.integration


def _log(local_stack: Any, name: str) -> Path:
    path: Path = local_stack.workdir / "logs" / f"{name}.log"
    return path


def _derivatives_spec(device: str, data: bytes, mime_type: str) -> Any:
    """A declaration stored in the derivatives bucket: no bucket notification races the test."""
    from common.core.status import MediaKind
    from common.media.declare import MediaSpec

    message = f"fault-{uuid.uuid4().hex[:12]}"
    ext = {"image/jpeg": "jpg", "image/png": "png"}[mime_type]
    return MediaSpec(
        device_id=device,
        camera_id="cam-1",
        message_id=message,
        captured_at=datetime.now(UTC),
        mime_type=mime_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        md5=md5_b64(data),
        created_by="test",
        kind=MediaKind.SNAPSHOT,
        bucket=os.environ["DERIVATIVES_BUCKET"],
        object_name=f"faults/{message}.{ext}",
        request={"m": message},
    )


def test_a_crash_between_commit_and_publish_loses_nothing(
    local_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verified is committed before media-verified is published; a redelivery publishes again."""
    from common.core.errors import TransientError
    from common.media import ingest, verify

    api = api_for(new_device_id())
    data = sample_path("camera.png").read_bytes()
    spec = _derivatives_spec(api_device(api), data, "image/png")

    def crash(_: Any) -> None:
        raise TransientError("process killed before the publish")

    # WHEN the verifier dies right after committing `verified`
    monkeypatch.setattr(verify, "hand_over", crash)
    with pytest.raises(TransientError):
        in_session(ingest.ingest_bytes, spec, data, event_id="crash-1")
    (row,) = db_rows(
        "select id, status from media_objects where message_id = :m", m=spec.message_id
    )
    assert row["status"] == "verified"  # committed, nothing published
    monkeypatch.undo()
    # THEN the redelivered message (here: verifying the same version again) publishes again
    info = store().stat(spec.bucket, spec.object_name)
    assert info is not None
    assert (
        in_session(verify.verify_version, row["id"], info.version, event_id="again")
        is verify.Outcome.HANDED_OVER_AGAIN
    )
    assert wait_processed(api, row["id"])["status"] == "processed"


def api_device(api: Any) -> str:
    claims = jwt.decode(
        api.session.headers["Authorization"].split()[1], options={"verify_signature": False}
    )
    return str(claims["sub"])


def test_a_burst_of_uploads_is_processed_without_retries(local_stack: Any, tmp_path: Path) -> None:
    """process_media never sees a media before its verification is committed (no 5xx, no backoff)."""
    api = api_for(new_device_id())
    router_log = _log(local_stack, "router")
    start = router_log.stat().st_size
    image = Image.open(sample_path("astronaut.png")).convert("RGB").resize((256, 256))
    ids = []
    for index in range(8):
        buffer = io.BytesIO()
        image.rotate(index * 40).save(buffer, "JPEG", quality=80)
        path = tmp_path / f"burst-{index}.jpg"
        path.write_bytes(buffer.getvalue())
        ids.append(upload_file(api, path)["id"])
    for media_id in ids:
        wait_processed(api, media_id)
    appended = router_log.read_text()[start:]
    process = [line for line in appended.splitlines() if "subscription=process-media" in line]
    assert process, "the router delivered process-media messages"
    assert all("status=200" in line and "attempt=1 " in line for line in process), process


def test_two_identical_declarations_at_the_same_moment_never_answer_500(
    local_stack: Any, tmp_path: Path
) -> None:
    api = api_for(new_device_id())
    for round_number in range(60):
        body = declaration(facts_for_bytes(tmp_path, os.urandom(64), f"r{round_number}.jpg"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(post_create, [api, api], [body, body]))
        assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
        assert answers[0].json()["id"] == answers[1].json()["id"]


def test_concurrent_duplicate_notifications_verify_once(local_stack: Any, tmp_path: Path) -> None:
    api = api_for(new_device_id())
    created = upload_file(api, sample_path("chelsea.png"))
    where = stored_object(created["id"])
    bucket, name = where["bucket"], where["name"]
    info = store().stat(bucket, name)
    assert info is not None
    envelope = finalize_envelope(bucket, name, info.version, f"dup-{uuid.uuid4().hex}")
    url = os.environ["FINALIZE_UPLOAD_URL"]
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: post_push(url, envelope).status_code, range(5)))
    assert all(code == 200 for code in answers), answers
    wait_processed(api, created["id"])
    history = db_rows(
        "select to_status from status_history where media_id = :id and to_status = 'verified'",
        id=created["id"],
    )
    assert len(history) == 1
    log = _log(local_stack, "function-finalize_upload").read_text()
    assert log.count(f"media {created['id']} verified") == 1  # hashed once
    processed = _log(local_stack, "function-process_media").read_text()
    assert processed.count(f"media {created['id']} processed") == 1


def test_a_dead_lettered_message_ends_its_media_failed(local_stack: Any, tmp_path: Path) -> None:
    api = api_for(new_device_id())
    facts = facts_for_bytes(tmp_path, os.urandom(256), "d.jpg")
    created = post_create(api, declaration(facts)).json()
    where = stored_object(created["id"])
    envelope = finalize_envelope(
        where["bucket"],
        where["name"],
        some_version(),
        f"dl-{uuid.uuid4().hex}",
        CloudPubSubDeadLetterSourceSubscription="finalize-upload",
        CloudPubSubDeadLetterSourceDeliveryCount="5",
    )
    assert post_push(os.environ["HOUSEKEEPING_URL"], envelope).status_code == 200
    body = api.get(created["id"])
    assert (body["status"], body["status_reason_code"]) == ("failed", "dead_lettered")
    assert post_push(os.environ["HOUSEKEEPING_URL"], envelope).status_code == 200  # idempotent


def test_the_reconciler_expires_abandoned_uploads_and_redrives_stuck_media(
    local_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.core.settings import get_settings
    from common.housekeeping.reconcile import reconcile
    from common.media import ingest, verify

    api = api_for(new_device_id())
    abandoned = post_create(
        api, declaration(facts_for_bytes(tmp_path, os.urandom(128), "a.jpg"))
    ).json()
    # a verified media whose publish was lost
    data = sample_path("coffee.png").read_bytes()
    spec = _derivatives_spec(api_device(api), data, "image/png")
    monkeypatch.setattr(verify, "hand_over", lambda media: None)
    stuck = in_session(ingest.ingest_bytes, spec, data).media
    monkeypatch.undo()
    assert stuck.status == "verified"
    # WHEN the reconciler runs at a time when both are overdue
    (row,) = db_rows("select created_at from media_objects where id = :i", i=abandoned["id"])
    settings = get_settings()
    later = row["created_at"] + timedelta(
        seconds=settings.upload_url_ttl_seconds
        + settings.pending_upload_grace_seconds
        + settings.stuck_after_seconds
        + 60
    )
    report = in_session(reconcile, now=later)
    # THEN the abandoned upload ends failed and the stuck one is processed
    assert abandoned["id"] in report.media_ids
    body = api.get(abandoned["id"])
    assert (body["status"], body["status_reason_code"]) == ("failed", "upload_expired")
    assert wait_processed(api, stuck.id)["status"] == "processed"


def _raw_token(claims: dict[str, Any]) -> str:
    exp = int(time.time()) + 300
    secret = os.environ["JWT_SECRET"]
    return jwt.encode({"aud": "media-api", "exp": exp, **claims}, secret, algorithm="HS256")


@pytest.mark.storage_backends("gcs")  # refused before any storage call
@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"captured_at": "0001-01-01T00:00:00+14:00"}, 422, "validation_failed"),
        ({"captured_at": "0999-06-01T00:00:00Z"}, 422, "captured_at_out_of_range"),
        ({"captured_at": 1764000000000}, 422, "validation_failed"),
        ({"size_bytes": True}, 422, "validation_failed"),
        ({"camera_id": "a\u0000b"}, 400, "nul_character"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    local_stack: Any, tmp_path: Path, change: dict[str, Any], status: int, code: str
) -> None:
    api = api_for(new_device_id())
    response = post_create(api, declaration(facts_for_bytes(tmp_path, b"abc", "x.jpg"), **change))
    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.storage_backends("gcs")  # refused before any storage call
def test_deep_json_nul_paths_and_bad_subjects_are_4xx(local_stack: Any) -> None:
    api = api_for(new_device_id())
    deep = b'{"camera_id": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = api.session.post(f"{api.create_url}/v1/media", data=deep, timeout=10)
    assert (response.status_code, response.json()["code"]) == (400, "json_too_deep")
    for path in ("/v1/media/med_%00", "/v1/devices/dev%00x/media", "/v1/jobs/job_%0A/events"):
        response = api.session.get(api.list_url + path, timeout=10)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"] == "application/json"
    for sub in ("x" * 129, "cam\u0000", "../other", "a/b"):
        token = _raw_token({"sub": sub, "kind": "device"})
        response = requests.post(
            f"{api.create_url}/v1/media",
            json={},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert (response.status_code, response.json()["code"]) == (401, "invalid_token"), sub
    string_exp = jwt.encode(
        {"sub": "cam-1", "aud": "media-api", "exp": "9999999999"},
        os.environ["JWT_SECRET"],
        algorithm="HS256",
    )
    response = requests.get(
        f"{api.list_url}/v1/devices/cam-1/media",
        headers={"Authorization": f"Bearer {string_exp}"},
        timeout=10,
    )
    assert response.status_code == 401


@pytest.mark.storage_backends("gcs")  # refused before any storage call
def test_poison_messages_are_acknowledged_at_once_with_the_real_attempt(local_stack: Any) -> None:
    url = os.environ["PROCESS_MEDIA_URL"]
    envelope = push_envelope({}, {"media_id": "med_\u0000nope"}, f"poison-{uuid.uuid4().hex}")
    envelope["deliveryAttempt"] = 3
    assert post_push(url, envelope).status_code == 200
    deep = push_envelope({}, {}, f"deep-{uuid.uuid4().hex}")
    deep["message"]["data"] = base64.b64encode(b"[" * 500 + b"]" * 500).decode()
    assert post_push(url, deep).status_code == 200
    log = _log(local_stack, "function-process_media").read_text()
    assert (
        f"acknowledging poison message {envelope['message']['messageId']} (test, attempt 3)" in log
    )


def _avi_bytes(tmp_path: Path) -> bytes:
    import av
    import numpy as np

    path = tmp_path / "clip.avi"
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), index * 20, dtype=np.uint8), format="rgb24"
            )
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path.read_bytes()


@pytest.mark.parametrize(
    ("kind", "declared", "name"),
    [("avi", "video/mp4", "x.mp4"), ("png", "image/jpeg", "x.jpg")],
)
def test_bytes_of_another_type_than_declared_are_rejected(
    local_stack: Any, tmp_path: Path, kind: str, declared: str, name: str
) -> None:
    api = api_for(new_device_id())
    data = _avi_bytes(tmp_path) if kind == "avi" else sample_path("camera.png").read_bytes()
    facts = facts_for_bytes(tmp_path, data, name)
    created = post_create(api, declaration(facts, mime_type=declared)).json()
    api.put_bytes(created["upload"], facts, lambda _: None)
    body = api.wait_terminal(created["id"], timeout_seconds=60)
    assert (body["status"], body["status_reason_code"]) == ("rejected", "content_type_mismatch")


def test_a_truncated_photo_is_processed_with_a_warning(local_stack: Any, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.open(sample_path("astronaut.png")).convert("RGB").save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()[: len(buffer.getvalue()) * 2 // 3]
    api = api_for(new_device_id())
    path = tmp_path / "cut.jpg"
    path.write_bytes(data)
    body = wait_processed(api, upload_file(api, path)["id"])
    assert body["properties"]["decode_warnings"], body["properties"]
