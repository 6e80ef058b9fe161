"""The HTTP functions as browsers and the device CLI use them: real preflights, HEAD, OPTIONS,
and `mediactl upload` run twice and on a mixed folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from cli.mediactl import app
from cli.samples import sample_path
from common.api.auth import mint_token
from tests.integration.conftest import GALLERY_ORIGIN
from tests.integration.support import api_for, new_device_id, upload_file, wait_processed

pytestmark = pytest.mark.integration


@pytest.mark.storage_backends("gcs")  # HTTP routing only, no storage
def test_a_browser_preflight_from_the_gallery_is_allowed_and_others_are_not(
    local_stack: Any,
) -> None:
    url = f"{os.environ['MEDIA_API_URL']}/v1/media/med_01JD0000000000000000000000"
    allowed = requests.options(
        url,
        headers={
            "Origin": GALLERY_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=10,
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == GALLERY_ORIGIN
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    refused = requests.options(
        url,
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    # and the real request from the gallery carries the CORS answer
    device = new_device_id()
    answer = requests.get(
        f"{os.environ['MEDIA_API_URL']}/v1/devices/{device}/media",
        headers={"Origin": GALLERY_ORIGIN, "Authorization": f"Bearer {mint_token(device)}"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == GALLERY_ORIGIN


@pytest.mark.storage_backends("gcs")  # HTTP routing only, no storage
def test_head_options_and_method_errors_on_the_served_function(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    url = f"{api.base_url}/v1/devices/{device}/media"
    head = api.session.head(url, timeout=10)
    assert head.status_code == 200
    assert head.content == b""
    options = requests.options(url, timeout=10)
    assert options.status_code == 204
    assert set(options.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}
    wrong = api.session.delete(url, timeout=10)
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")
    assert "GET" in wrong.headers["Allow"]
    odd = api.session.get(f"{api.base_url}/v1/media/a%0Ab", timeout=10)
    assert (odd.status_code, odd.json()["code"]) == (404, "route_not_found")


def test_download_redirect_is_a_real_302_to_the_signed_url(local_stack: Any) -> None:
    api = api_for(new_device_id())
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    response = api.session.get(
        f"{api.base_url}/v1/media/{created['id']}/download?redirect=true",
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    fetched = requests.get(response.headers["Location"], timeout=10)
    assert fetched.content == sample_path("camera.png").read_bytes()


def test_mediactl_upload_twice_is_a_replay_and_a_refused_file_does_not_stop_the_rest(
    local_stack: Any, tmp_path: Path
) -> None:
    device = new_device_id()
    photo = tmp_path / "porch.png"
    photo.write_bytes(sample_path("camera.png").read_bytes())
    notes = tmp_path / "notes.txt"
    notes.write_text("not media")
    runner = CliRunner()
    token = mint_token(device)
    first = runner.invoke(
        app, ["upload", str(notes), str(photo), "--token", token], env={"COLUMNS": "200"}
    )
    # the text file is refused (415), the photo still goes through; the batch exits 1
    assert first.exit_code == 1, first.output
    assert "unsupported_media_type" in first.output
    assert "processed" in first.output
    again = runner.invoke(app, ["upload", str(photo), "--token", token], env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output  # same capture time from the file: a replay
    items = api_for(device).list(device)["items"]
    assert [i["original_filename"] for i in items] == ["porch.png"]
