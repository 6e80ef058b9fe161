"""Unit tests of the API run without a database: no device is revoked unless a test says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.api.revocations import REVOCATIONS
from common.media.device_tokens import TokenState


@pytest.fixture(autouse=True)
def _no_revocations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(REVOCATIONS, "load", lambda device_id: TokenState())
    REVOCATIONS._states.clear()
    yield
    REVOCATIONS._states.clear()
