"""Ingest by the server on the real stack: data URLs and remote URLs from a server on 127.0.0.1
that the test starts, the SSRF refusals, the type from the bytes, shared bytes and their races."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.integration.support import (
    api_for,
    data_url,
    db_rows,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
    store,
    wait_job,
    wait_processed,
)

pytestmark = pytest.mark.integration

BIG_BYTES = 9 * 1024**2
"""More than the stack's INGEST_MAX_BYTES (tests/integration/conftest.py)."""


def picture(fmt: str = "JPEG") -> bytes:
    """A small image whose bytes no other call makes (random pixels: lossless for PNG, and a
    random comment for JPEG, whose compression could make nearby colours equal)."""
    image = Image.frombytes("RGB", (64, 48), os.urandom(64 * 48 * 3))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, fmt, comment=uuid.uuid4().bytes)
    else:
        image.save(out, fmt)
    return out.getvalue()


class Remote:
    """A little HTTP server on 127.0.0.1: what a URL handed to the pipeline may answer."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                remote.requests.append(self.path)
                if self.path.startswith("/to-metadata"):
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/computeMetadata/v1/")
                    self.end_headers()
                elif self.path == "/big-declared":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(BIG_BYTES))
                    self.end_headers()
                elif self.path == "/big-stream":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b"\xff" * 65536
                    try:
                        for _ in range(BIG_BYTES // len(chunk) + 1):
                            self.wfile.write(chunk)
                    except OSError:
                        pass  # the client stopped reading past its cap
                elif self.path in remote.files:
                    body, content_type = remote.files[self.path]
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture(scope="module")
def remote() -> Iterator[Remote]:
    server = Remote()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def ingest(api: Any, source: dict[str, Any], **fields: Any) -> Any:
    return api.session.post(
        f"{api.base_url}/v1/media", json={"source": source, **fields}, timeout=30
    )


def test_a_data_url_is_ingested_as_a_job_with_the_type_from_the_bytes(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    png = picture("PNG")
    answer = ingest(
        api,
        {"type": "data_url", "data": data_url(png, "image/jpeg")},
        labels=["pasted"],
        note="from the clipboard",
    )
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["kind"], job["status"], job["media_id"]) == ("ingest", "queued", None)
    done = wait_job(api, job["job_id"])
    assert done["status"] == "completed", done
    assert done["result"]["deduplicated"] is False
    media = wait_processed(api, done["result_media_id"])
    assert (media["kind"], media["mime_type"], media["size_bytes"]) == (
        "ingest",
        "image/png",
        len(png),
    )
    assert (media["camera_id"], media["labels"], media["note"]) == (
        "ingest",
        ["pasted"],
        "from the clipboard",
    )
    assert media["thumbnail_url"]
    staged = db_rows("SELECT params FROM jobs WHERE id = :j", j=job["job_id"])[0]["params"]
    assert store().stat("derivatives", staged["staged_object"]) is None  # removed once ingested


def test_a_remote_url_is_fetched_and_its_type_sniffed_not_taken_from_the_header(
    local_stack: Any, remote: Remote
) -> None:
    device = new_device_id()
    api = api_for(device)
    jpeg = picture()
    remote.files["/photos/front%20door.jpg"] = (jpeg, "text/plain")
    answer = ingest(api, {"type": "remote_url", "url": remote.url("/photos/front%20door.jpg")})
    assert answer.status_code == 202, answer.text
    done = wait_job(api, answer.json()["job_id"])
    assert done["status"] == "completed", done
    media = wait_processed(api, done["result_media_id"])
    assert (media["mime_type"], media["original_filename"]) == ("image/jpeg", "front door.jpg")
    assert media["declared"]["sha256"] == hashlib.sha256(jpeg).hexdigest()


def test_a_user_without_a_device_ingests_to_a_personal_device_they_own(
    local_stack: Any, remote: Remote
) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}@example.com"
    api = api_for(user, "user")
    remote.files[f"/u/{user}.png"] = (picture("PNG"), "image/png")
    answer = ingest(api, {"type": "remote_url", "url": remote.url(f"/u/{user}.png")})
    assert answer.status_code == 202, answer.text
    done = wait_job(api, answer.json()["job_id"])
    assert done["status"] == "completed", done
    media = api.get(done["result_media_id"])
    assert media["device_id"].startswith("u-")
    devices = api.session.get(f"{api.base_url}/v1/devices", timeout=10).json()["items"]
    assert [d["device_id"] for d in devices] == [media["device_id"]]
    # another user sees neither the job nor the media
    stranger = api_for(f"other-{uuid.uuid4().hex[:6]}", "user")
    for path in (f"/v1/jobs/{done['job_id']}", f"/v1/media/{media['id']}"):
        assert stranger.session.get(stranger.base_url + path, timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/computeMetadata/v1/", "link_local"),
        ("http://metadata.google.internal/computeMetadata/v1/", "internal_name"),
        ("http://10.1.2.3/a.jpg", "private"),
        ("http://192.168.0.10/a.jpg", "private"),
        ("http://100.64.0.1/a.jpg", "shared_address_space"),
        ("http://224.0.0.1/a.jpg", "multicast"),
        ("http://240.0.0.1/a.jpg", "reserved"),
        ("http://0.0.0.0/a.jpg", "unspecified"),
        ("http://[fc00::1]/a.jpg", "private"),
        ("http://[fe80::1]/a.jpg", "link_local"),
        ("http://[::ffff:10.0.0.1]/a.jpg", "private"),
        ("http://0x0a000001/a.jpg", "private"),
        ("ftp://example.com/a.jpg", "scheme"),
        ("http://user:secret@example.com/a.jpg", "userinfo"),
    ],
)
def test_urls_the_ssrf_rules_refuse_are_422_before_any_job(
    local_stack: Any, url: str, reason: str
) -> None:
    device = new_device_id()
    answer = ingest(api_for(device), {"type": "remote_url", "url": url})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert (body["code"], body["details"]["reason"]) == ("url_not_allowed", reason)
    assert db_rows("SELECT id FROM jobs WHERE device_id = :d", d=device) == []


@pytest.mark.parametrize(
    ("path", "code", "fetch_reason"),
    [
        ("/to-metadata", "url_not_allowed", "link_local"),
        ("/missing", "fetch_failed", "http_status"),
        ("/big-declared", "too_large", "declared"),
        ("/big-stream", "too_large", "body"),
    ],
)
def test_what_only_the_fetch_can_find_fails_the_job_with_its_code_once(
    local_stack: Any, remote: Remote, path: str, code: str, fetch_reason: str
) -> None:
    api = api_for(new_device_id())
    answer = ingest(api, {"type": "remote_url", "url": remote.url(path)})
    assert answer.status_code == 202, answer.text
    done = wait_job(api, answer.json()["job_id"])
    assert (done["status"], done["error_code"], done["result_media_id"]) == ("failed", code, None)
    assert done["result"]["error_details"]["reason"] == fetch_reason
    assert remote.requests.count(path) == 1  # a refusal is not retried


def test_bytes_of_a_type_not_accepted_are_415_or_a_failed_job(
    local_stack: Any, remote: Remote
) -> None:
    api = api_for(new_device_id())
    inline = ingest(api, {"type": "data_url", "data": data_url(b"just some text", "image/png")})
    assert (inline.status_code, inline.json()["code"]) == (415, "unsupported_media_type")
    remote.files["/notes.jpg"] = (b"%PDF-1.4 not a picture at all" * 10, "image/jpeg")
    answer = ingest(api, {"type": "remote_url", "url": remote.url("/notes.jpg")})
    done = wait_job(api, answer.json()["job_id"])
    assert (done["status"], done["error_code"]) == ("failed", "unsupported_media_type")


def test_the_same_bytes_are_stored_once_per_device_and_each_capture_is_its_own_media(
    local_stack: Any, tmp_path: Path
) -> None:
    device = new_device_id()
    api = api_for(device)
    jpeg = picture()
    first = ingest(api, {"type": "data_url", "data": data_url(jpeg)})
    media_id = wait_job(api, first.json()["job_id"])["result_media_id"]
    wait_processed(api, media_id)
    # an ingest of the same bytes is new media sharing them, processed by its job
    again = wait_job(
        api, ingest(api, {"type": "data_url", "data": data_url(jpeg)}).json()["job_id"]
    )
    assert again["status"] == "completed"
    assert again["result_media_id"] != media_id
    assert again["result"]["deduplicated"] is True
    assert wait_processed(api, again["result_media_id"])["shares_bytes_of"] == media_id
    # so is a device's declaration of them: no upload
    declared = post_create(api, declaration(facts_for_bytes(tmp_path, jpeg, "same.jpg")))
    assert declared.status_code == 201, declared.text
    body = declared.json()
    assert (body["deduplicated"], body["shares_bytes_of"], body.get("upload")) == (
        True,
        media_id,
        None,
    )
    sha = hashlib.sha256(jpeg).hexdigest()
    rows = db_rows(
        "SELECT DISTINCT bucket, object_name FROM media_objects WHERE device_id = :d AND "
        "sha256 = :s",
        d=device,
        s=sha,
    )
    assert len(rows) == 1  # three media, one stored object
    # another device's identical bytes are its own media, invisible to the first
    other = api_for(new_device_id())
    theirs = post_create(other, declaration(facts_for_bytes(tmp_path, jpeg, "same.jpg")))
    assert theirs.status_code == 201
    assert (theirs.json()["deduplicated"], theirs.json()["shares_bytes_of"]) == (False, None)


def test_a_race_of_captures_of_stored_bytes_shares_them_all(
    local_stack: Any, tmp_path: Path
) -> None:
    device = new_device_id()
    api = api_for(device)
    jpeg = picture()
    stored = ingest(api, {"type": "data_url", "data": data_url(jpeg)})
    owner = wait_job(api, stored.json()["job_id"])["result_media_id"]
    facts = facts_for_bytes(tmp_path, jpeg, "race.jpg")
    bodies = [declaration(facts) for _ in range(12)]  # twelve message ids, one content
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda body: post_create(api, body), bodies))
    assert [a.status_code for a in answers] == [201] * 12
    assert len({a.json()["id"] for a in answers}) == 12
    assert {a.json()["shares_bytes_of"] for a in answers} == {owner}
    rows = db_rows("SELECT DISTINCT object_name FROM media_objects WHERE device_id = :d", d=device)
    assert len(rows) == 1


def test_mediactl_ingests_a_file_and_resolves_a_document(local_stack: Any, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from cli.mediactl import app

    device = new_device_id()
    photo = tmp_path / "note.png"
    photo.write_bytes(picture("PNG"))
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    done = runner.invoke(app, ["ingest", str(photo), "--device", device, "--label", "cli"], env=env)
    assert done.exit_code == 0, done.output
    media_id = next(w for w in done.output.split() if w.startswith("med_"))
    document = tmp_path / "doc.json"
    document.write_text(json.dumps({"attachment": f"data:image/png;{media_id}"}))
    resolved = runner.invoke(app, ["resolve", str(document), "--device", device], env=env)
    assert resolved.exit_code == 0, resolved.output
    body = json.loads(resolved.output)
    assert body["resolved"] == 1
    assert body["document"]["attachment"].startswith("http")


def test_the_bucket_notification_of_ingested_bytes_never_hands_them_over_again(
    local_stack: Any,
) -> None:
    """The ingest job analyses its media itself: the store's notification of the object it wrote
    (which may come while the job is analysing) must not start a second analysis."""
    import os as _os

    from tests.integration.support import finalize_envelope, post_push, stored_object

    api = api_for(new_device_id())
    answer = ingest(api, {"type": "data_url", "data": data_url(picture("PNG"), "image/png")})
    done = wait_job(api, answer.json()["job_id"])
    assert done["status"] == "completed", done
    media_id = done["result_media_id"]
    # GIVEN the media as the notification may find it: verified, the job's analysis not done
    db_rows("UPDATE media_objects SET status = 'verified' WHERE id = :id RETURNING id", id=media_id)
    where = stored_object(media_id)
    message_id = f"late-{uuid.uuid4().hex}"
    envelope = finalize_envelope(where["bucket"], where["name"], where["version"], message_id)
    # WHEN it arrives
    assert post_push(_os.environ["FINALIZE_UPLOAD_URL"], envelope).status_code == 200
    # THEN finalize took it as a duplicate, and published nothing for processing
    log = (local_stack.workdir / "logs" / "function-finalize_upload.log").read_text()
    (line,) = [entry for entry in log.splitlines() if f"message {message_id} " in entry]
    assert "duplicate" in line, line
