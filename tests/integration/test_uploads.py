"""Upload paths for every device, on both stores: the explicit complete call, resumable uploads
(a Cloud Storage session, an S3 multipart upload), and `mediactl upload` resuming after it was
killed midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from cli.client import describe_file
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.conftest import RESUMABLE_CHUNK_BYTES, ROOT
from tests.integration.support import (
    api_for,
    backend,
    db_rows,
    declaration,
    facts_for_bytes,
    in_session,
    new_device_id,
    post_create,
    store,
    stored_object,
    wait_processed,
)

pytestmark = pytest.mark.integration

CHUNK = RESUMABLE_CHUNK_BYTES


def padded_png(tmp_path: Path, size_bytes: int, name: str = "big.png") -> Path:
    """A real photo (decodes as one) of exactly `size_bytes`: random bytes after its IEND."""
    photo = sample_path("astronaut.png").read_bytes()
    path = tmp_path / name
    path.write_bytes(photo + os.urandom(size_bytes - len(photo)))
    return path


def statuses(media_id: str) -> list[str]:
    rows = db_rows(
        "select to_status from status_history where media_id = :id order by id", id=media_id
    )
    return [row["to_status"] for row in rows]


def post_complete(api: Any, media_id: str) -> requests.Response:
    return api.session.post(f"{api.create_url}/v1/media/{media_id}/complete", timeout=60)


def test_complete_verifies_at_once_where_no_notification_comes(
    local_stack: Any, tmp_path: Path
) -> None:
    from common.media.declare import MediaSpec, declare

    # GIVEN bytes stored in a bucket that sends no notifications (as with S3 or MinIO without
    # event wiring): the derivatives bucket
    device = new_device_id()
    api = api_for(device)
    data = sample_path("coffee.png").read_bytes()
    facts = facts_for_bytes(tmp_path, data, "coffee.png")
    name = f"{device}/cam-1/{uuid.uuid4().hex}.png"
    media = declare(
        MediaSpec(
            device_id=device, camera_id="cam-1", message_id=f"m-{uuid.uuid4().hex[:8]}",
            captured_at=datetime.now(UTC), mime_type="image/png", size_bytes=facts.size_bytes,
            sha256=facts.sha256, md5=facts.md5, created_by=f"device:{device}",
            bucket=os.environ["DERIVATIVES_BUCKET"], object_name=name,
        )
    ).media  # fmt: skip
    assert (
        (post_complete(api, media.id).status_code, post_complete(api, media.id).json()["code"])
    ) == (409, "upload_incomplete")
    store().write(media.bucket, name, data, "image/png", if_absent=True)
    # WHEN the device says it is done
    answer = post_complete(api, media.id)
    # THEN the answer is the verification's, done by this call
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "verified"
    assert body["status"] in ("verified", "processing", "processed")  # processing may start at once
    assert stored_object(media.id)["version"] == store().stat(media.bucket, name).version  # type: ignore[union-attr]
    # AND saying it again is a no-op that tells the status as it is now
    again = post_complete(api, media.id).json()
    assert again["outcome"] is None
    assert again["status"] in ("verified", "processing", "processed")
    wait_processed(api, media.id)
    assert statuses(media.id).count("verified") == 1
    # only the media's device may say so
    assert post_complete(api_for(new_device_id()), media.id).status_code == 404
    assert post_complete(api_for(f"user-{device}", "user"), media.id).status_code == 403


def test_complete_after_wrong_bytes_answers_rejected_with_the_reason(
    local_stack: Any, tmp_path: Path
) -> None:
    # GIVEN a declaration, and other bytes of the same size PUT to its signed URL (neither
    # emulator checks Content-MD5 or the SHA-256 header; the real stores would refuse them)
    api = api_for(new_device_id())
    declared = b"\x89PNG\r\n\x1a\n" + os.urandom(6000)
    created = post_create(api, declaration(facts_for_bytes(tmp_path, declared, "w.png"))).json()
    wrong = declared[:100] + bytes(b ^ 0xFF for b in declared[100:200]) + declared[200:]
    upload = created["upload"]
    assert requests.put(upload["url"], data=wrong, headers=upload["headers"], timeout=10).ok
    # WHEN the device says it is done
    body = api.complete(created["id"])
    # THEN it learns the rejection and why, whoever of it and the notification did the work
    assert body["status"] == "rejected"
    assert body["status_reason_code"] == "sha256_mismatch"
    assert "MD5" in body["status_reason"]
    assert statuses(created["id"]).count("rejected") == 1


def test_a_resumable_upload_by_hand_is_verified_once(local_stack: Any, tmp_path: Path) -> None:
    api = api_for(new_device_id())
    path = padded_png(tmp_path, 2 * CHUNK + 12345)
    facts = describe_file(path)
    data = path.read_bytes()
    body = declaration(facts, upload_protocol="resumable")
    created = post_create(api, body).json()
    offer = created["resumable"]
    assert created["upload"] is None
    assert (offer["size_bytes"], offer["chunk_size_bytes"]) == (facts.size_bytes, CHUNK)
    if backend() == "gcs":
        # a signed POST opens the session; chunks answer 308 with the range stored, the last 200
        assert offer["protocol"] == "gcs_resumable"
        start = offer["start"]
        assert start["method"] == "POST"
        assert start["headers"]["x-goog-resumable"] == "start"
        opened = requests.post(start["url"], headers=start["headers"], timeout=10)
        assert opened.status_code in (200, 201)  # fake-gcs-server: 200, Cloud Storage: 201
        session = opened.headers["Location"]
        answers = []
        for offset in range(0, len(data), CHUNK):
            chunk = data[offset : offset + CHUNK]
            put = requests.put(
                session,
                data=chunk,
                headers={
                    "Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{len(data)}",
                    "Content-Type": "image/png",
                },
                timeout=30,
            )
            answers.append((put.status_code, put.headers.get("Range")))
        # (fake-gcs-server's final 200 also carries a Range header; Cloud Storage's does not)
        assert answers[:2] == [(308, f"bytes=0-{CHUNK - 1}"), (308, f"bytes=0-{2 * CHUNK - 1}")]
        assert answers[2][0] == 200
    else:
        # presigned part PUTs pinning each part's length; a replay lists what S3 holds
        assert offer["protocol"] == "s3_multipart"
        assert offer["upload_id"]
        parts = offer["parts"]
        assert [(p["part_number"], p["size_bytes"]) for p in parts] == [
            (1, CHUNK), (2, CHUNK), (3, 12345),
        ]  # fmt: skip
        assert all(p["headers"] == {"Content-Length": str(p["size_bytes"])} for p in parts)
        for part in parts[:2]:
            start_byte = part["offset_bytes"]
            chunk = data[start_byte : start_byte + part["size_bytes"]]
            assert requests.put(part["url"], data=chunk, headers=part["headers"], timeout=30).ok
        early = post_complete(api, created["id"])
        assert early.status_code == 409
        assert early.json()["code"] == "upload_incomplete"
        assert early.json()["details"]["missing_parts"] == [3]
        replay = post_create(api, body)
        assert replay.status_code == 200
        resumed = replay.json()["resumable"]
        assert resumed["upload_id"] == offer["upload_id"]
        assert (resumed["received_parts"], resumed["received_bytes"]) == ([1, 2], 2 * CHUNK)
        [last] = resumed["parts"]
        chunk = data[last["offset_bytes"] :]
        assert requests.put(last["url"], data=chunk, headers=last["headers"], timeout=30).ok
    done = api.complete(created["id"])
    assert done["status"] in ("verified", "processing", "processed"), done
    processed = wait_processed(api, created["id"])
    assert processed["verified"]["sha256_matches"] is True
    assert processed["verified"]["size_bytes"] == len(data)
    assert statuses(created["id"]).count("verified") == 1


def test_the_server_chooses_resumable_from_the_threshold_up(
    local_stack: Any, tmp_path: Path
) -> None:
    api = api_for(new_device_id())
    large = declaration(describe_file(padded_png(tmp_path, 8 * 1024 * 1024 + 1)))
    small = declaration(describe_file(padded_png(tmp_path, 900_000, "small.png")))
    large_answer, small_answer = post_create(api, large).json(), post_create(api, small).json()
    assert large_answer["upload"] is None
    assert large_answer["resumable"]["protocol"] in ("gcs_resumable", "s3_multipart")
    assert small_answer["resumable"] is None
    assert small_answer["upload"]["method"] == "PUT"
    forced = post_create(
        api,
        declaration(
            describe_file(padded_png(tmp_path, 900_000, "s2.png")), upload_protocol="single"
        ),
    )
    assert forced.json()["upload"] is not None


KILLED_MEDIACTL = """
import os, signal
import cli.resumable as resumable

limit, sent = int(os.environ["KILL_AFTER_BYTES"]), [0]
original = resumable._SliceReader.read


def read(self, amount=-1):
    chunk = original(self, amount)
    sent[0] += len(chunk)
    if sent[0] >= limit:  # the device loses power in the middle of a chunk
        os.kill(os.getpid(), signal.SIGKILL)
    return chunk


resumable._SliceReader.read = read
from cli.mediactl import app

app()
"""


def test_mediactl_resumes_an_upload_killed_midway(local_stack: Any, tmp_path: Path) -> None:
    # GIVEN a 2.5-chunk photo and a device whose upload is killed halfway through chunk 2
    device = new_device_id()
    path = padded_png(tmp_path, 2 * CHUNK + CHUNK // 2)
    states = tmp_path / "state"
    args = [
        "upload", str(path), "--protocol", "resumable", "--state-dir", str(states),
        "--token", mint_token(device),
    ]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200", "KILL_AFTER_BYTES": str(CHUNK + CHUNK // 2)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MEDIACTL, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    api = api_for(device)
    [item] = api.list(device)["items"]
    assert item["status"] == "pending_upload"
    # WHEN it runs again
    again = subprocess.run(
        [sys.executable, "-m", "cli.mediactl", *args],
        cwd=ROOT, env={**env, "KILL_AFTER_BYTES": ""}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    # THEN it continues from the stored offset: the first chunk is not sent again
    assert again.returncode == 0, again.stdout + again.stderr
    output = " ".join(again.stdout.split())
    if backend() == "gcs":
        assert f"resuming {path.name} at byte {CHUNK} of {path.stat().st_size}" in output
    else:
        assert (
            f"resuming {path.name}: {CHUNK} of {path.stat().st_size} bytes stored in 1 parts"
            in output
        )
    assert not list(states.glob("*.json"))  # the finished session is forgotten
    # AND the media is verified once, from the whole file
    body = wait_processed(api, item["id"])
    assert body["verified"]["sha256_matches"] is True
    assert statuses(item["id"]).count("verified") == 1
    assert statuses(item["id"])[:3] == ["pending_upload", "uploaded", "verified"]


@pytest.mark.storage_backends(
    "s3"
)  # the server holds S3 multipart uploads; GCS sessions the device
def test_the_reconciler_gives_resumable_uploads_their_own_lifetime(
    local_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from common.core.settings import get_settings
    from common.housekeeping.reconcile import reconcile

    monkeypatch.setenv("RECONCILE_BATCH_SIZE", "10000")  # every leftover row of the session too
    get_settings.cache_clear()
    settings = get_settings()
    api = api_for(new_device_id())
    # GIVEN a multipart upload whose parts were all sent but never completed (the device died)
    whole_path = padded_png(tmp_path, CHUNK + 4321, "whole.png")
    whole = post_create(api, declaration(describe_file(whole_path), upload_protocol="resumable"))
    data = whole_path.read_bytes()
    for part in whole.json()["resumable"]["parts"]:
        chunk = data[part["offset_bytes"] : part["offset_bytes"] + part["size_bytes"]]
        assert requests.put(part["url"], data=chunk, headers=part["headers"], timeout=30).ok
    # AND one with nothing sent
    idle_path = padded_png(tmp_path, CHUNK + 99, "idle.png")
    idle = post_create(api, declaration(describe_file(idle_path), upload_protocol="resumable"))
    whole_id, idle_id = whole.json()["id"], idle.json()["id"]
    (row,) = db_rows("select created_at from upload_sessions where media_id = :i", i=idle_id)
    # WHEN the reconciler runs after their upload URLs expired, but within the resumable lifetime
    soon = row["created_at"] + timedelta(
        seconds=settings.upload_url_ttl_seconds + settings.pending_upload_grace_seconds + 60
    )
    report = in_session(reconcile, now=soon)
    # THEN both are left alone
    assert {whole_id, idle_id}.isdisjoint(report.media_ids)
    assert api.get(idle_id)["status"] == "pending_upload"
    # WHEN it runs after the resumable lifetime
    later = row["created_at"] + timedelta(
        seconds=settings.resumable_upload_ttl_seconds + settings.pending_upload_grace_seconds + 60
    )
    in_session(reconcile, now=later)
    # THEN the whole one is completed and verified, the idle one expired and its upload aborted
    assert wait_processed(api, whole_id)["verified"]["sha256_matches"] is True
    body = api.get(idle_id)
    assert (body["status"], body["status_reason_code"]) == ("failed", "upload_expired")
    multipart = store().multipart
    assert multipart is not None
    upload_id = idle.json()["resumable"]["upload_id"]
    where = stored_object(idle_id)
    assert multipart.list_parts(where["bucket"], where["name"], upload_id) is None
