"""The Cloud Storage resumable session start: a V4 signed POST (no request is sent)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from common.core.settings import Settings
from common.storage.base import UploadContract
from common.storage.gcs import GcsStore
from emulators.credentials import write_signing_credentials

CONTRACT = UploadContract(10, "video/mp4", "a" * 22 + "==", "0" * 64)


def store(tmp_path: Path) -> GcsStore:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    key = write_signing_credentials(tmp_path, "p")
    gcs = GcsStore(Settings(signing_credentials_file=str(key)))
    gcs.client = storage.Client(project="p", credentials=AnonymousCredentials())  # type: ignore[misc]
    return gcs


def test_the_start_post_signs_resumable_type_and_no_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    started = store(tmp_path).start_resumable(
        "b", "d/c/2026-12-01/m.mp4", CONTRACT, ttl_seconds=600
    )
    assert started.protocol == "gcs_resumable"
    assert started.upload_id is None
    assert started.start is not None
    query = parse_qs(urlparse(started.start.url).query)
    assert started.start.method == "POST"
    assert set(query["X-Goog-SignedHeaders"][0].split(";")) == {
        "content-type",
        "host",
        "x-goog-if-generation-match",
        "x-goog-resumable",
    }
    assert started.start.headers == {
        "Content-Type": "video/mp4",
        "x-goog-resumable": "start",
        "x-goog-if-generation-match": "0",
    }
    assert "name" not in query  # real Cloud Storage takes the name from the path


def test_against_the_emulator_the_name_is_also_a_query_parameter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    started = store(tmp_path).start_resumable(
        "b", "d/c/2026-12-01/m.mp4", CONTRACT, ttl_seconds=600
    )
    assert started.start is not None
    assert parse_qs(urlparse(started.start.url).query)["name"] == ["d/c/2026-12-01/m.mp4"]
