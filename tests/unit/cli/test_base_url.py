"""The CLI talks to the API at one base URL, whichever service serves a route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from cli.client import MediaApi, describe_file


class Recorder(BaseAdapter):
    """A transport that answers every request with `{}` and remembers where it went."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        self.seen.append(f"{request.method} {request.url}")
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"status": "processed"}'
        response.url = request.url or ""
        return response

    def close(self) -> None:
        return None


def test_every_call_goes_to_the_one_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIA_API_URL", "https://api.example.test/")
    api = MediaApi("token")
    recorder = Recorder()
    api.session.mount("https://", recorder)
    photo = tmp_path / "a.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))

    api.declare(describe_file(photo), "front", "msg-1")  # create_media's route
    api.get("med_1")  # list_media's
    api.complete("med_1")  # create_media's
    api.resolve({"a": 1})  # list_media's
    api.create_job("med_1", "clip", start_ms=0, duration_ms=1000)

    assert recorder.seen == [
        "POST https://api.example.test/v1/media",
        "GET https://api.example.test/v1/media/med_1",
        "POST https://api.example.test/v1/media/med_1/complete",
        "POST https://api.example.test/v1/media/resolve",
        "POST https://api.example.test/v1/media/med_1/clips",
    ]


def test_without_a_base_url_it_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIA_API_URL", raising=False)
    with pytest.raises(ValueError, match="MEDIA_API_URL"):
        MediaApi("token")
