"""Objects found by the object detector on the real stack: the model from the models bucket, the
`object` filter of the gallery, tracks of a street video with their times and snapshots."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

from cli.samples import sample_path
from tests.integration.support import api_for, db_rows, new_device_id, upload_file

pytestmark = pytest.mark.integration


def _gallery(api: Any, **params: Any) -> requests.Response:
    return api.session.get(f"{api.list_url}/v1/media", params=params, timeout=30)


def test_the_stack_loads_the_pinned_model_from_its_models_bucket(local_stack: Any) -> None:
    # The functions get the model as a deployment does: a bucket URI and its pinned hash.
    assert os.environ["DETECTOR_MODEL_URI"].startswith(("gs://media-models/", "s3://media-models/"))
    from common.processing.detectors.ssd import DEFAULT_MODEL_SHA256

    assert os.environ["DETECTOR_MODEL_SHA256"] == DEFAULT_MODEL_SHA256


def test_a_cat_and_a_person_are_found_and_filtered_by_object(local_stack: Any) -> None:
    # GIVEN a camera that uploads a photo of a cat and one of a person
    api = api_for(new_device_id())
    cat = upload_file(api, sample_path("chelsea.png"))
    person = upload_file(api, sample_path("astronaut.png"), labels=["spacewalk"])
    cat_body = api.wait_terminal(cat["id"], timeout_seconds=180)
    person_body = api.wait_terminal(person["id"], timeout_seconds=180)
    assert (cat_body["status"], person_body["status"]) == ("processed", "processed")

    # THEN each reports what it shows, found by the object detector loaded from the bucket
    assert cat_body["counts"] == {"cat": 1}
    assert person_body["counts"] == {"face": 1, "person": 1}
    assert any(
        name.startswith("ssd_mobilenetv2_oidv4:") for name in cat_body["analysis"]["detectors"]
    )
    (track,) = cat_body["tracks"]
    assert track["label"] == "cat"
    assert requests.get(track["snapshot_url"], timeout=10).status_code == 200

    # AND the gallery filters by what was found, apart from the user's own labels
    assert [i["id"] for i in _gallery(api, object="cat").json()["items"]] == [cat["id"]]
    assert [i["id"] for i in _gallery(api, object="person").json()["items"]] == [person["id"]]
    assert _gallery(api, object="dog").json()["items"] == []
    assert _gallery(api, label="person").json()["items"] == []
    assert [i["id"] for i in _gallery(api, label="spacewalk", object="person").json()["items"]] == [
        person["id"]
    ]
    page = _gallery(api, object="cat", limit=1).json()
    assert page["next_cursor"] is None


def test_a_street_video_has_people_bicycles_and_cars_as_tracks(local_stack: Any) -> None:
    api = api_for(new_device_id())
    created = upload_file(api, sample_path("bikes.mp4"))
    body = api.wait_terminal(created["id"], timeout_seconds=300)

    assert body["status"] == "processed", body
    assert {"person", "bicycle", "car"} <= set(body["counts"])
    assert body["analysis"]["detect_interval_ms"] == 500
    tracks = {t["track_id"]: t for t in body["tracks"]}
    for track in tracks.values():
        assert 0 <= track["first_ms"] <= track["last_ms"] <= body["properties"]["duration_ms"]
        assert track["snapshot_url"]
        assert isinstance(track["stationary"], bool)
    # every box belongs to a reported track, at its time
    for detection in body["detections"]:
        track = tracks[detection["track_id"]]
        assert track["first_ms"] <= detection["time_ms"] <= track["last_ms"]
    rows = db_rows("select object_labels from media_objects where id = :id", id=created["id"])
    assert rows[0]["object_labels"] == sorted(body["counts"])
    assert [i["id"] for i in _gallery(api, object="bicycle").json()["items"]] == [created["id"]]
