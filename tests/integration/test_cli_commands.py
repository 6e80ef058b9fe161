"""`mediactl` on the local stack: list with the gallery's filters and `--json`, whole ids on a
narrow terminal, delete, share, label, note, pin and snapshot, the type read from the bytes,
`admin run` ticks, and a remote URL ingested from a server on this machine (the documented way:
docs/RUNBOOKS/CAMERA.md)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.mediactl import app
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.support import new_device_id, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]

RUN = CliRunner()


def mediactl(*args: str, columns: int = 200) -> Any:
    result = RUN.invoke(app, list(args), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def camera(local_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A device with a photo (a PNG named .jpg) and a video, both processed."""
    device = new_device_id()
    token = mint_token(device, "device")
    folder = tmp_path_factory.mktemp("cli")
    photo = folder / "door.jpg"
    shutil.copy(sample_path("camera.png"), photo)  # PNG bytes under a JPEG name
    video = folder / "yard.mp4"
    shutil.copy(sample_path("carphone_pristine.mp4"), video)
    mediactl("upload", str(photo), str(video), "--token", token, "--camera", "front")
    page = json.loads(mediactl("list", "--json", "--token", token).output)
    by_name = {item["original_filename"]: item for item in page["items"]}
    return {
        "device": device,
        "token": token,
        "photo": by_name["door.jpg"]["id"],
        "photo_type": by_name["door.jpg"]["mime_type"],
        "video": by_name["yard.mp4"]["id"],
    }


def test_the_type_is_read_from_the_bytes_not_the_name(camera: dict[str, str]) -> None:
    assert camera["photo_type"] == "image/png"


def test_list_filters_like_the_gallery_and_prints_json(camera: dict[str, str]) -> None:
    token = camera["token"]
    videos = json.loads(mediactl("list", "--type", "video", "--json", "--token", token).output)
    assert [item["id"] for item in videos["items"]] == [camera["video"]]
    front = json.loads(mediactl("list", "--camera", "front", "--json", "--token", token).output)
    assert {item["id"] for item in front["items"]} == {camera["photo"], camera["video"]}
    none = json.loads(mediactl("list", "--camera", "back", "--json", "--token", token).output)
    assert none["items"] == []


@pytest.mark.parametrize("columns", [40, 80])
def test_ids_are_printed_whole_on_a_narrow_terminal(camera: dict[str, str], columns: int) -> None:
    output = mediactl("list", "--token", camera["token"], columns=columns).output
    assert camera["photo"] in output
    assert camera["video"] in output


def test_labels_note_and_pin_are_edited_with_the_etag(camera: dict[str, str]) -> None:
    token, media = camera["token"], camera["photo"]
    mediactl("label", media, "--add", "door", "--add", "cat", "--token", token)
    edited = json.loads(
        mediactl("label", media, "--remove", "door", "--json", "--token", token).output
    )
    assert edited["labels"] == ["cat"]
    noted = json.loads(
        mediactl("note", media, "the neighbour's cat", "--json", "--token", token).output
    )
    assert noted["note"] == "the neighbour's cat"
    cleared = json.loads(mediactl("note", media, "--clear", "--json", "--token", token).output)
    assert cleared["note"] is None
    assert "pinned" in mediactl("pin", media, "--token", token).output
    assert "not pinned" in mediactl("pin", media, "--off", "--token", token).output
    labelled = json.loads(mediactl("list", "--label", "cat", "--json", "--token", token).output)
    assert [item["id"] for item in labelled["items"]] == [media]


def test_share_list_and_revoke_a_link(camera: dict[str, str]) -> None:
    import requests

    token, media = camera["token"], camera["photo"]
    made = json.loads(
        mediactl("share", media, "--ttl-seconds", "600", "--json", "--token", token).output
    )
    assert requests.get(made["url"], timeout=30, allow_redirects=False).status_code == 302
    listed = mediactl("shares", media, "--token", token, columns=60).output
    assert made["share_id"] in listed
    mediactl("unshare", made["share_id"], "--token", token)
    gone = requests.get(made["url"], timeout=30, allow_redirects=False)
    assert (gone.status_code, gone.json()["code"]) == (410, "share_revoked")


def test_a_snapshot_of_the_video_then_delete_both(camera: dict[str, str]) -> None:
    token = camera["token"]
    job = json.loads(
        mediactl("snapshot", camera["video"], "--at", "1.5", "--json", "--token", token).output
    )
    assert job["status"] == "completed", job
    still = job["result_media_id"]
    children = json.loads(
        mediactl("list", "--parent", camera["video"], "--json", "--token", token).output
    )
    assert [item["id"] for item in children["items"]] == [still]
    mediactl("delete", camera["video"], "--cascade", "--yes", "--token", token)
    gone = json.loads(mediactl("list", "--status", "deleted", "--json", "--token", token).output)
    assert {camera["video"], still} <= {item["id"] for item in gone["items"]}


def test_admin_run_publishes_a_housekeeping_tick(local_stack: Any) -> None:
    import re

    log = local_stack.workdir / "logs" / "function-housekeeping.log"
    output = mediactl("admin", "run", "reconcile").output
    message_id = re.search(r"tick published \(message (\S+)\)", output)
    assert message_id, output
    handled = f"message {message_id.group(1)} (housekeeping, attempt 1): reconciled"
    wait_for(lambda: handled in log.read_text(), 60, "the tick handled")


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    """`python -m http.server --bind 127.0.0.1` on a folder with a photo, as the runbook says."""
    shutil.copy(sample_path("astronaut.png"), tmp_path / "astronaut.png")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign, assignment]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_remote_url_on_this_machine_is_ingested(local_stack: Any, file_server: str) -> None:
    # the session stack runs with INGEST_ALLOW_HTTP and INGEST_ALLOW_LOOPBACK_FOR_TESTS, as
    # docs/RUNBOOKS/CAMERA.md starts `make stack` for this
    token = mint_token(new_device_id(), "device")
    output = mediactl("ingest", f"{file_server}/astronaut.png", "--token", token).output
    assert "completed" in output
