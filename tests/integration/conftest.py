"""The `local_stack` fixture: one real local stack (Postgres, emulators, router, functions) per
test session, exported to this process's environment."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators._proc import WorkdirBusyError
from emulators.stack import LocalStack

ROOT = Path(__file__).parents[2]
# Retry policies scaled down (10 s .. 600 s becomes 0.1 s .. 6 s) so retried deliveries and
# dead-lettering happen within a test's patience; override with ROUTER_BACKOFF_SCALE.
DEFAULT_BACKOFF_SCALE = "0.01"
GALLERY_ORIGIN = "http://gallery.test"
"""The one origin the session stack's functions allow through CORS."""


def clear_cached_clients() -> None:
    """Forget cached settings and clients of `common` (getters decorated with functools.cache),
    so they are rebuilt from the current environment."""
    from common.core.settings import get_settings

    get_settings.cache_clear()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "common" or name.startswith("common.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


def start_stack(workdir: Path, **options: Any) -> LocalStack:
    """Start a LocalStack in `workdir`, or in `<workdir>-<pid>` when another test session (on
    this shared machine) already runs a stack there."""
    try:
        return LocalStack(workdir, **options).start()
    except WorkdirBusyError:
        return LocalStack(workdir.with_name(f"{workdir.name}-{os.getpid()}"), **options).start()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """Start the whole local stack once per session and export `stack.env` to `os.environ`.

    Work dir: `$LOCAL_STACK_WORKDIR` or `<repo>/.stack/pytest` (logs in its `logs/`). Services
    already named by DATABASE_URL / PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are reused.
    """
    workdir = Path(os.environ.get("LOCAL_STACK_WORKDIR") or ROOT / ".stack" / "pytest")
    scale = os.environ.get("ROUTER_BACKOFF_SCALE", DEFAULT_BACKOFF_SCALE)
    calls = workdir / "calls"
    shutil.rmtree(calls, ignore_errors=True)
    stack = start_stack(
        workdir,
        extra_env={
            "ROUTER_BACKOFF_SCALE": scale,
            "SERVICE_CALLS_DIR": str(calls),
            "CORS_ALLOWED_ORIGINS": json.dumps([GALLERY_ORIGIN]),
            # Remote URLs in the tests are servers the tests start on 127.0.0.1.
            "INGEST_ALLOW_HTTP": "true",
            "INGEST_ALLOW_LOOPBACK_FOR_TESTS": "true",
            "INGEST_MAX_BYTES": str(8 * 1024**2),
        },
    )
    saved = dict(os.environ)
    try:
        os.environ.update(stack.env)
        clear_cached_clients()
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        clear_cached_clients()
