"""Jobs API rules without a database: parameter validation, params key, range checks, job view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest

from common.api.bodies import job as job_body
from common.core.errors import Conflict, ValidationError
from common.core.settings import Settings
from common.core.status import JobKind
from common.db.models import Job, MediaObject
from common.jobs.api import PARAMS_MODELS, check_request, params_key


def parse_params(kind: JobKind, body: Any) -> dict[str, Any]:
    return PARAMS_MODELS[kind].model_validate(body).model_dump(exclude_defaults=True)


def video(**overrides: Any) -> MediaObject:
    fields: dict[str, Any] = {
        "id": "med_01",
        "device_id": "dev-1",
        "media_type": "video",
        "status": "processed",
        "duration_ms": 10_000,
    }
    fields.update(overrides)
    return MediaObject(**fields)


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (JobKind.CLIP, {"start_ms": 2000, "duration_ms": 3000}, {"start_ms": 2000, "duration_ms": 3000}),
        (JobKind.CLIP, {"duration_ms": 1, "start_ms": 0}, {"start_ms": 0, "duration_ms": 1}),
        (JobKind.SNAPSHOT, {"at_ms": 3200}, {"at_ms": 3200}),
    ],
)  # fmt: skip
def test_valid_parameters_are_returned_as_plain_ints(
    kind: JobKind, body: dict[str, Any], expected: dict[str, int]
) -> None:
    assert parse_params(kind, body) == expected


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (JobKind.CLIP, {"start_ms": 2000}),  # missing duration
        (JobKind.CLIP, {"start_ms": -1, "duration_ms": 1000}),
        (JobKind.CLIP, {"start_ms": 0, "duration_ms": 0}),
        (JobKind.CLIP, {"start_ms": "2000", "duration_ms": 1000}),  # strings are not coerced
        (JobKind.CLIP, {"start_ms": 2.5, "duration_ms": 1000}),
        (JobKind.CLIP, {"start_ms": True, "duration_ms": 1000}),
        (JobKind.CLIP, {"start_ms": 0, "duration_ms": 1000, "mode": "copy"}),  # unknown field
        (JobKind.SNAPSHOT, {"at_ms": -5}),
    ],
)
def test_invalid_parameters_are_refused_with_the_field(kind: JobKind, body: Any) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        parse_params(kind, body)
    assert caught.value.errors(), "the failing field is named"


def test_params_key_is_canonical() -> None:
    a = params_key(parse_params(JobKind.CLIP, {"start_ms": 2000, "duration_ms": 3000}))
    b = params_key(parse_params(JobKind.CLIP, {"duration_ms": 3000, "start_ms": 2000}))
    c = params_key(parse_params(JobKind.CLIP, {"duration_ms": 3001, "start_ms": 2000}))
    assert a == b == '{"duration_ms":3000,"start_ms":2000}'
    assert c != a


def test_clip_inside_the_video_is_accepted_up_to_its_last_millisecond() -> None:
    settings = Settings()
    check_request(JobKind.CLIP, {"start_ms": 7000, "duration_ms": 3000}, video(), settings)
    check_request(JobKind.SNAPSHOT, {"at_ms": 9999}, video(), settings)


@pytest.mark.parametrize(
    ("kind", "params", "media", "error", "code"),
    [
        (JobKind.CLIP, {"start_ms": 7000, "duration_ms": 3001}, video(), ValidationError, "range_out_of_bounds"),
        (JobKind.CLIP, {"start_ms": 10_000, "duration_ms": 1}, video(), ValidationError, "range_out_of_bounds"),
        (JobKind.SNAPSHOT, {"at_ms": 10_000}, video(), ValidationError, "range_out_of_bounds"),
        (JobKind.CLIP, {"start_ms": 0, "duration_ms": 60_001}, video(duration_ms=120_000), ValidationError, "clip_too_long"),
        (JobKind.CLIP, {"start_ms": 0, "duration_ms": 1000}, video(media_type="image"), ValidationError, "not_a_video"),
        (JobKind.SNAPSHOT, {"at_ms": 0}, video(status="processing", duration_ms=None), Conflict, "not_ready"),
        (JobKind.SNAPSHOT, {"at_ms": 0}, video(status="verified"), Conflict, "not_ready"),
        (JobKind.SNAPSHOT, {"at_ms": 0}, video(status="failed"), Conflict, "not_ready"),
    ],
)  # fmt: skip
def test_requests_outside_what_the_media_allows_are_refused(
    kind: JobKind, params: dict[str, int], media: MediaObject, error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as caught:
        check_request(kind, params, media, Settings())
    assert caught.value.code == code  # type: ignore[attr-defined]


def test_the_clip_length_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_CLIP_DURATION_MS", "5000")
    settings = Settings()
    long_video = video(duration_ms=120_000)
    check_request(JobKind.CLIP, {"start_ms": 0, "duration_ms": 5000}, long_video, settings)
    with pytest.raises(ValidationError, match="5000"):
        check_request(JobKind.CLIP, {"start_ms": 0, "duration_ms": 5001}, long_video, settings)


def test_job_body_names_progress_result_and_links() -> None:
    when = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    job = Job(
        id="job_01",
        media_id="med_01",
        kind="clip",
        params={"start_ms": 0, "duration_ms": 1000},
        params_key='{"duration_ms":1000,"start_ms":0}',
        status="completed",
        progress=1.0,
        result_media_id="med_02",
        result={"path": "stream_copy"},
        error=None,
        created_by="device:dev-1",
        created_at=when,
        updated_at=when,
        started_at=when,
        finished_at=when,
    )
    body = job_body(job).model_dump(mode="json")
    assert body["job_id"] == "job_01"
    assert body["status"] == "completed"
    assert body["result_media_id"] == "med_02"
    assert body["result"] == {"path": "stream_copy"}
    assert body["finished_at"] == "2026-11-22T03:00:00Z"
    assert body["links"]["events"] == "/v1/jobs/job_01/events"
