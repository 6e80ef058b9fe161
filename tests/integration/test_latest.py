"""`GET /v1/devices/latest-media`: the newest media of each device the caller sees, in one call."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from common.api.auth import mint_token
from tests.integration.bad_inputs import call
from tests.integration.support import (
    api_for,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
)

pytestmark = [pytest.mark.integration, pytest.mark.storage_backends("gcs")]


def _declare(device: str, tmp: Path, hours_ago: int) -> str:
    facts = facts_for_bytes(tmp, os.urandom(200), f"{uuid.uuid4().hex}.jpg")
    when = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
    response = post_create(api_for(device), declaration(facts, captured_at=when))
    assert response.status_code == 201, response.text
    media_id: str = response.json()["id"]
    return media_id


def test_each_device_answers_its_newest_media(local_stack: Any, tmp_path: Path) -> None:
    # GIVEN a user owning two cameras with media of different ages, and a third with none
    admin = mint_token("ops", "user", admin=True)
    user = f"viewer-{uuid.uuid4().hex[:6]}"
    front, back, idle = new_device_id(), new_device_id(), new_device_id()
    for device in (front, back, idle):
        grant = call(
            "POST", f"/v1/devices/{device}/owners", admin, f'{{"user_id": "{user}"}}'.encode()
        )
        assert grant.status_code == 201, grant.text
    front_old, front_new = _declare(front, tmp_path, 5), _declare(front, tmp_path, 1)
    back_old, back_new = _declare(back, tmp_path, 3), _declare(back, tmp_path, 2)
    token = mint_token(user, "user")
    # WHEN the user asks for the latest media of each device
    answer = call("GET", "/v1/devices/latest-media", token)
    assert answer.status_code == 200, answer.text
    latest = {d["device_id"]: [m["id"] for m in d["items"]] for d in answer.json()["devices"]}
    # THEN each device answers its newest, the idle one an empty list, in one call
    assert latest == {front: [front_new], back: [back_new], idle: []}
    two = call("GET", "/v1/devices/latest-media?per_device=2", token).json()
    assert {d["device_id"]: [m["id"] for m in d["items"]] for d in two["devices"]} == {
        front: [front_new, front_old],
        back: [back_new, back_old],
        idle: [],
    }
    # AND a device token sees itself only; a filter applies per device
    own = call("GET", "/v1/devices/latest-media", mint_token(back, "device")).json()
    assert [(d["device_id"], [m["id"] for m in d["items"]]) for d in own["devices"]] == [
        (back, [back_new])
    ]
    videos = call("GET", "/v1/devices/latest-media?media_type=video", token).json()
    assert all(d["items"] == [] for d in videos["devices"])
    other = call("GET", f"/v1/devices/latest-media?device_id={new_device_id()}", token)
    assert other.status_code == 404
