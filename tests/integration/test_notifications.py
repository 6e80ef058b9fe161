"""finalize_upload under duplicated, unknown and overwritten notifications, and migrations from empty."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cli.samples import sample_path
from tests.integration.support import (
    api_for,
    db_rows,
    new_device_id,
    post_push,
    push_envelope,
    store,
    stored_object,
    upload_file,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]


def finalize_attributes(bucket: str, name: str, generation: str) -> dict[str, str]:
    return {
        "bucketId": bucket,
        "objectId": name,
        "objectGeneration": str(generation),
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
    }


def test_duplicated_notification_causes_one_transition(local_stack: Any) -> None:
    api = api_for(new_device_id())
    created = upload_file(api, sample_path("chelsea.png"))
    body = api.wait_terminal(created["id"], timeout_seconds=120)
    assert body["status"] == "processed"
    where = stored_object(created["id"])
    bucket, name, generation = where["bucket"], where["name"], where["version"]
    before = db_rows(
        "select count(*) as n from status_history where media_id = :id", id=created["id"]
    )
    envelope = push_envelope(
        finalize_attributes(bucket, name, generation),
        {"name": name, "bucket": bucket, "size": str(body["size_bytes"])},
        message_id=f"dup-{uuid.uuid4().hex}",
    )
    for _ in range(2):
        response = post_push(os.environ["FINALIZE_UPLOAD_URL"], envelope)
        assert response.status_code < 300
    after = db_rows(
        "select count(*) as n from status_history where media_id = :id", id=created["id"]
    )
    assert after == before
    assert api.get(created["id"])["status"] == "processed"


def test_unknown_object_is_acknowledged_and_ignored(local_stack: Any) -> None:
    bucket = os.environ["UPLOADS_BUCKET"]
    name = f"{new_device_id()}/cam-1/2026-11-22/stray.jpg"
    stored = store().write(bucket, name, b"not declared", "image/jpeg")
    envelope = push_envelope(finalize_attributes(bucket, name, stored.version), {}, "unknown-1")
    response = post_push(os.environ["FINALIZE_UPLOAD_URL"], envelope)
    assert response.status_code < 300
    assert (
        db_rows("select count(*) as n from media_objects where object_name = :n", n=name)[0]["n"]
        == 0
    )
    assert store().stat(bucket, name) is not None  # not ours to delete


def test_overwrite_of_verified_content_is_rejected_and_recorded(local_stack: Any) -> None:
    api = api_for(new_device_id())
    path = sample_path("camera.png")
    created = upload_file(api, path)
    body = api.wait_terminal(created["id"], timeout_seconds=120)
    assert body["status"] == "processed"
    where = stored_object(created["id"])
    bucket, name, version = where["bucket"], where["name"], where["version"]
    # the emulator lets a second PUT replace the object (real GCS refuses: if-generation-match: 0)
    replaced = store().write(bucket, name, b"replacement bytes", "image/png")
    response = post_push(
        os.environ["FINALIZE_UPLOAD_URL"],
        push_envelope(finalize_attributes(bucket, name, replaced.version), {}, "overwrite-1"),
    )
    assert response.status_code < 300
    after = api.get(created["id"])
    assert after["status"] == "processed"
    assert stored_object(created["id"])["version"] == version
    assert after["verified"]["sha256"] == body["verified"]["sha256"]
    notes = db_rows(
        "select reason_code, object_version from status_history "
        "where media_id = :id and reason_code = 'overwrite_rejected'",
        id=created["id"],
    )
    assert notes == [{"reason_code": "overwrite_rejected", "object_version": replaced.version}]


def test_migrations_apply_to_an_empty_database_and_match_the_models(local_stack: Any) -> None:
    admin = create_engine(os.environ["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    name = f"empty_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "DATABASE_URL": url}
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini")]
    try:
        for step in (["upgrade", "head"], ["check"], ["downgrade", "base"], ["upgrade", "head"]):
            result = subprocess.run(
                alembic + step, env=env, capture_output=True, text=True, check=False
            )
            assert result.returncode == 0, (step, result.stderr)
        engine = create_engine(url)
        with engine.connect() as connection:
            tables = set(
                connection.execute(
                    text("select tablename from pg_tables where schemaname='public'")
                ).scalars()
            )
        engine.dispose()
        assert {
            "media_objects",
            "detections",
            "derivatives",
            "status_history",
            "device_owners",
            "jobs",
            "claims",
        } <= tables
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
