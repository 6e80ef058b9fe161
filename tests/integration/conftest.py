"""The `local_stack` fixture: a real local stack (Postgres, emulators, router, functions) per
storage backend and test session, exported to this process's environment.

Every test that uses `local_stack` runs once per backend, on the Cloud Storage stack
(fake-gcs-server) and on the S3 stack (moto's server); its id says which (`test_x[gcs]`,
`test_x[s3]`). pytest groups the tests by backend, so one stack runs at a time.
`@pytest.mark.storage_backends("gcs")` keeps a test to the backends it names (tests that never touch
storage, or that check one store's own behaviour); `STORAGE_BACKENDS=gcs` (comma-separated) in the
environment runs only those stacks.
"""

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
RESUMABLE_CHUNK_BYTES = 5 * 1024 * 1024
"""Chunk and part size of resumable uploads on the session stacks."""
RESUMABLE_THRESHOLD_BYTES = 8 * 1024 * 1024
"""Declarations from this size up get a resumable upload on the session stacks."""
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


BACKENDS = ("gcs", "s3")
WORKDIR_NAMES = {"gcs": "pytest", "s3": "pytest-moto"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `local_stack` (session scope) with the backends each test runs on."""
    if "local_stack" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("storage_backends")
    backends = tuple(marker.args) if marker else BACKENDS
    wanted = os.environ.get("STORAGE_BACKENDS")
    if wanted:
        backends = tuple(b for b in backends if b in {w.strip() for w in wanted.split(",")})
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"{metafunc.definition.nodeid}: unknown storage backends {unknown}")
    metafunc.parametrize("local_stack", backends, indirect=True, scope="session")


def start_stack(workdir: Path, **options: Any) -> LocalStack:
    """Start a LocalStack in `workdir`, or in `<workdir>-<pid>` when another test session (on
    this shared machine) already runs a stack there."""
    try:
        return LocalStack(workdir, **options).start()
    except WorkdirBusyError:
        return LocalStack(workdir.with_name(f"{workdir.name}-{os.getpid()}"), **options).start()


@pytest.fixture(scope="session")
def local_stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """Start the whole local stack once per session and backend; export `stack.env` to
    `os.environ`.

    Work dir: `<repo>/.stack/pytest` (gcs) or `.stack/pytest-moto` (s3), or
    `$LOCAL_STACK_WORKDIR-<backend>` (logs in its `logs/`). Services already named by
    DATABASE_URL / PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are reused.
    """
    backend = getattr(request, "param", "gcs")
    custom = os.environ.get("LOCAL_STACK_WORKDIR")
    workdir = Path(f"{custom}-{backend}") if custom else ROOT / ".stack" / WORKDIR_NAMES[backend]
    scale = os.environ.get("ROUTER_BACKOFF_SCALE", DEFAULT_BACKOFF_SCALE)
    calls = workdir / "calls"
    shutil.rmtree(calls, ignore_errors=True)
    stack = start_stack(
        workdir,
        storage_backend=backend,
        extra_env={
            "ROUTER_BACKOFF_SCALE": scale,
            "SERVICE_CALLS_DIR": str(calls),
            "CORS_ALLOWED_ORIGINS": json.dumps([GALLERY_ORIGIN]),
            # Remote URLs in the tests are servers the tests start on 127.0.0.1.
            "INGEST_ALLOW_HTTP": "true",
            "INGEST_ALLOW_LOOPBACK_FOR_TESTS": "true",
            "INGEST_MAX_BYTES": str(8 * 1024**2),
            # Webhook receivers in the tests listen on 127.0.0.1 too.
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS": "true",
            # resumable uploads of a few MiB cross chunk and part boundaries (S3's minimum part)
            "RESUMABLE_CHUNK_SIZE_BYTES": str(RESUMABLE_CHUNK_BYTES),
            "RESUMABLE_THRESHOLD_BYTES": str(RESUMABLE_THRESHOLD_BYTES),
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
