"""Revocation on the local stack: a device token revoked by its id, all of a device's tokens, a
deleted device are refused (401) at once on the function that revoked them and within the check
interval everywhere; shares end when their creator's access ends, visibly to the owners left."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from cli.mediactl import app
from cli.samples import sample_path
from common.api.auth import mint_token
from common.api.revocations import REVOCATION_CHECK_SECONDS
from tests.integration.bad_inputs import call, is_json_error
from tests.integration.support import (
    api_for,
    new_device_id,
    upload_file,
    wait_for,
    wait_processed,
)

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]

RUN = CliRunner()
PATIENCE_SECONDS = REVOCATION_CHECK_SECONDS * 4
"""How long another instance may take to see a revocation, with room for a loaded machine."""


def mediactl(*args: str) -> Any:
    result = RUN.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _code(method: str, path: str, token: str) -> tuple[int, str | None]:
    response = call(method, path, token)
    code = is_json_error(response)["code"] if response.status_code >= 400 else None
    return response.status_code, code


def test_a_revoked_token_is_refused_and_the_device_s_other_tokens_are_not(
    local_stack: Any,
) -> None:
    device = new_device_id()
    stolen, kept = mint_token(device, "device"), mint_token(device, "device")
    devices = "/v1/devices"  # list_media
    owners = f"/v1/devices/{device}/owners"  # manage_media: refuses a device token with 403
    assert _code("GET", devices, stolen)[0] == 200
    assert _code("POST", owners, stolen)[0] != 401  # authenticated (then refused: no body)
    # WHEN an operator revokes the stolen token
    mediactl("admin", "device-token", "revoke", "--device", device, "--token", stolen)
    # THEN the function that revoked it refuses it at once, the others within the interval
    assert _code("POST", owners, stolen) == (401, "token_revoked")
    wait_for(
        lambda: _code("GET", devices, stolen) == (401, "token_revoked"), PATIENCE_SECONDS, "401"
    )
    assert _code("GET", devices, kept)[0] == 200


def test_revoking_every_token_of_a_device_spares_the_ones_minted_after(local_stack: Any) -> None:
    device = new_device_id()
    before = mint_token(device, "device")
    assert _code("GET", "/v1/devices", before)[0] == 200
    result = mediactl("admin", "device-token", "revoke", "--device", device, "--all", "--json")
    valid_after = datetime.fromisoformat(json.loads(result.output)["tokens_valid_after"])
    wait_for(
        lambda: _code("GET", "/v1/devices", before) == (401, "token_revoked"),
        PATIENCE_SECONDS,
        "the old token refused",
    )
    # a token issued in a later second (the bound is compared in whole seconds, as `iat` is)
    after = mint_token(device, "device", now=valid_after + timedelta(seconds=1))
    assert _code("GET", "/v1/devices", after)[0] == 200


def test_a_deleted_device_is_refused_and_its_media_go(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    token = mint_token(device, "device")
    result = mediactl("admin", "delete-device", "--device", device, "--yes", "--json")
    assert '"media_deleted": 1' in result.output
    wait_for(
        lambda: _code("GET", f"/v1/media/{created['id']}", token) == (401, "device_deleted"),
        PATIENCE_SECONDS,
        "the deleted device refused",
    )
    admin = mint_token("ops", "user", admin=True)
    assert call("GET", f"/v1/media/{created['id']}", admin).json()["status"] == "deleted"


def test_a_share_ends_when_its_creator_loses_the_camera_and_the_owners_see_why(
    local_stack: Any,
) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    admin = mint_token("ops", "user", admin=True)
    alice, bob = (f"{name}-{uuid.uuid4().hex[:6]}" for name in ("alice", "bob"))
    for user in (alice, bob):
        granted = call(
            "POST", f"/v1/devices/{device}/owners", admin, f'{{"user_id": "{user}"}}'.encode()
        )
        assert granted.status_code == 201, granted.text
    shares = f"/v1/media/{created['id']}/shares"
    body = b'{"ttl_seconds": 3600}'
    by_alice = call("POST", shares, mint_token(alice, "user"), body).json()
    by_bob = call("POST", shares, mint_token(bob, "user"), body).json()
    assert requests.get(by_alice["url"], timeout=30, allow_redirects=False).status_code == 302
    # WHEN bob takes the camera away from alice
    removed = call("DELETE", f"/v1/devices/{device}/owners/{alice}", mint_token(bob, "user"))
    assert removed.status_code == 204
    # THEN her share ends at once, bob's does not, and bob sees why hers ended
    gone = requests.get(by_alice["url"], timeout=30, allow_redirects=False)
    assert (gone.status_code, gone.json()["code"]) == (410, "share_revoked")
    assert gone.json()["details"]["reason"] == "creator_lost_access"
    assert requests.get(by_bob["url"], timeout=30, allow_redirects=False).status_code == 302
    listed = {
        s["share_id"]: s for s in call("GET", shares, mint_token(bob, "user")).json()["items"]
    }
    assert listed[by_alice["share_id"]]["revoked_reason"] == "creator_lost_access"
    assert listed[by_alice["share_id"]]["revoked_by"] == f"user:{bob}"
    assert listed[by_bob["share_id"]]["revoked_at"] is None


def test_shares_a_device_created_end_when_its_tokens_are_revoked(local_stack: Any) -> None:
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    share = call(
        "POST",
        f"/v1/media/{created['id']}/shares",
        mint_token(device, "device"),
        b'{"ttl_seconds": 600}',
    )
    assert share.status_code == 201, share.text
    mediactl("admin", "device-token", "revoke", "--device", device, "--all")
    gone = requests.get(share.json()["url"], timeout=30, allow_redirects=False)
    assert (gone.status_code, gone.json()["code"]) == (410, "share_revoked")
