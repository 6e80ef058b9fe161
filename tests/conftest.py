"""Shared fixtures: every test starts from the same environment and fresh cached settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from common.core.settings import get_settings

_STACK_KEYS = (
    "DATABASE_URL",
    "STORAGE_EMULATOR_HOST",
    "STORAGE_PUBLIC_URL",
    "STORAGE_BACKEND",
    "S3_ENDPOINT_URL",
    "S3_PUBLIC_URL",
    "PUBSUB_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
    "JWT_SECRET",
    "SIGNING_CREDENTIALS_FILE",
)


@pytest.fixture(autouse=True)
def _isolated_settings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit tests see no stack variables; every test gets settings read afresh.

    Integration tests on the session's local stack get it first, so its environment is part of what
    each test starts from and what is restored after it.
    """
    if "integration" in request.keywords and "local_stack" in request.fixturenames:
        request.getfixturevalue("local_stack")
    saved = dict(os.environ)
    if "integration" not in request.keywords:
        for key in _STACK_KEYS:
            os.environ.pop(key, None)
    get_settings.cache_clear()
    yield
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
