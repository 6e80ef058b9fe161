"""Helpers of the bad-input and fuzz tests: which function serves a route, a raw call to it, the
check that an error is ours (JSON with a code), and a processed media with tokens to aim at."""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

import requests

from cli.samples import sample_path
from common.api import routes
from common.api.auth import mint_token
from common.api.openapi import openapi_path
from tests.integration.support import api_for, new_device_id, upload_file, wait_processed

FUNCTIONS = {
    "create_media": routes.CREATE_MEDIA,
    "list_media": routes.LIST_MEDIA,
    "manage_media": routes.MANAGE_MEDIA,
}
HUGE = "9" * 4301
"""One digit more than Python's int-string conversion limit."""


def function_url(method: str, path: str) -> str:
    """`<base URL of the function that serves method + path><path>`."""
    for function, table in FUNCTIONS.items():
        for route in table:
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", openapi_path(route.path)) + "$"
            if route.method == method and re.match(pattern, path.split("?", maxsplit=1)[0]):
                return os.environ[f"{function.upper()}_URL"] + path
    raise LookupError(f"no route serves {method} {path}")


def call(
    method: str,
    path: str,
    token: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """One request with a bearer token and a raw JSON body."""
    return requests.request(
        method,
        function_url(method, path),
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
        timeout=60,
    )


def is_json_error(response: requests.Response) -> dict[str, Any]:
    """The error body, after checking it is ours: JSON with a `code` and a `message`."""
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("code"), str), body
    assert isinstance(body.get("message"), str), body
    return body


def media_to_break() -> dict[str, Any]:
    """A processed photo of a fresh device, its device token, an owner's token and an admin's."""
    device = new_device_id()
    api = api_for(device)
    created = upload_file(api, sample_path("camera.png"))
    wait_processed(api, created["id"])
    admin = mint_token("ops", "user", admin=True)
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    grant = call(
        "POST", f"/v1/devices/{device}/owners", admin, json.dumps({"user_id": owner}).encode()
    )
    assert grant.status_code == 201, grant.text
    return {
        "device": device,
        "media_id": created["id"],
        "device_token": mint_token(device, "device"),
        "owner_token": mint_token(owner, "user"),
        "admin_token": admin,
    }
