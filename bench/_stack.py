"""Shared by the benches that need the local stack: a private stack, functions-framework servers
started the way the stack starts them, seeded rows, tokens and the machine's load.

Each bench starts its own `LocalStack` (its own Postgres, fake-gcs-server on its filesystem
backend, Pub/Sub and Firestore emulators) in `.stack/<bench name>` without the stack's own
functions, and starts the functions it measures itself with `spawn_function`, so it chooses their
server settings (`THREADS`, `DB_POOL_SIZE`) and when they start.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after PYTHONPATH: a run may take `common` from another checkout

from emulators._proc import free_port  # noqa: E402
from emulators.functions import functions_framework_executable  # noqa: E402
from emulators.stack import LocalStack  # noqa: E402

HELLO_SOURCE = ROOT / "bench" / "hello" / "main.py"
EXTERNAL = ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
EXTERNAL += ("STORAGE_EMULATOR_HOST", "STORAGE_PUBLIC_URL", "SERVICE_CALLS_DIR")
BENCH_DEVICE = "bench-cam-01"
BENCH_USER = "bench-user"


def machine_load() -> str:
    """The 1-minute load average and the core count, e.g. `load 3.1 on 2 cores`."""
    one, _, _ = os.getloadavg()
    return f"load {one:.1f} on {os.cpu_count()} cores"


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        queue.extend(int(child) for child in children)
    return found


def tree_cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds used so far by `pid` and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])  # stat fields 14, 15
    return user / ticks, system / ticks


def service_pid(stack: LocalStack, name: str) -> int | None:
    """The pid of the stack's service whose name starts with `name` (e.g. "postgres")."""
    return next((s.pid for s in stack.services if s.name.startswith(name) and s.pid), None)


@contextmanager
def private_stack(name: str) -> Iterator[LocalStack]:
    """A local stack of its own (no functions, no schedules) in `.stack/<name>`, exported to
    this process's environment while it runs."""
    base = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
    stack = LocalStack(
        ROOT / ".stack" / name, with_functions=False, run_schedules=False, base_env=base
    )
    stack.start()
    saved = dict(os.environ)
    try:
        os.environ.update(stack.env)
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Server:
    """One functions-framework server this bench started (`stop()` ends it, by its pid)."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    started_at: float
    """`time.perf_counter()` just before the process was spawned."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> tuple[float, float]:
        """(user, system) CPU seconds the server's processes have used so far."""
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def spawn_function(
    name: str,
    source: Path,
    target: str,
    env: Mapping[str, str],
    *,
    threads: int,
    log_dir: Path,
    port: int | None = None,
    cwd: Path = ROOT,
) -> Server:
    """Start `functions-framework` as the stack does (`emulators/functions.py`), with `threads`
    gunicorn threads and a pool of as many connections (no overflow: nothing churns)."""
    port = port or free_port()
    server_env = {
        **env,
        "THREADS": str(threads),
        "DB_POOL_SIZE": str(threads),
        "DB_MAX_OVERFLOW": "0",
    }
    argv = [
        functions_framework_executable(),
        "--target",
        target,
        "--source",
        str(source),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--signature-type",
        "http",
    ]
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{name}.log").open("ab")
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=server_env, cwd=cwd, stdout=log, stderr=log)
    return Server(name, port, proc, started)


def function_source(name: str, root: Path = ROOT) -> Path:
    """`functions/<name>/main.py` of the checkout at `root`."""
    return root / "functions" / name / "main.py"


def wait_listening(port: int, timeout_seconds: float = 30.0, poll_seconds: float = 0.002) -> None:
    """Return as soon as 127.0.0.1:`port` accepts a connection."""
    deadline = time.perf_counter() + timeout_seconds
    while time.perf_counter() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(poll_seconds)
    raise TimeoutError(f"nothing listens on {port}")


def wait_ready(server: Server, timeout_seconds: float = 30.0) -> None:
    """Wait until the server answers HTTP (functions-framework's own /robots.txt)."""
    deadline = time.perf_counter() + timeout_seconds
    while time.perf_counter() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}")
        try:
            with urllib.request.urlopen(f"{server.url}/robots.txt", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.01)
    raise TimeoutError(f"{server.name} did not answer")


def request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_seconds: float = 30.0,
) -> tuple[int, bytes]:
    """One HTTP request; (status, body) even for error statuses."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=timeout_seconds) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def tokens() -> dict[str, str]:
    """A device token (`BENCH_DEVICE`) and a user token (`BENCH_USER`, owner of it)."""
    from common.api.auth import mint_token
    from common.core.settings import get_settings

    get_settings.cache_clear()
    return {
        "device": mint_token(BENCH_DEVICE, "device", ttl_seconds=6 * 3600),
        "user": mint_token(BENCH_USER, "user", ttl_seconds=6 * 3600),
    }


def declaration(message_id: str, data: bytes = b"x" * 1000) -> dict[str, Any]:
    """A `POST /v1/media` body for `data` as a JPEG of camera `cam-1`."""
    return {
        "camera_id": "cam-1",
        "message_id": message_id,
        "captured_at": "2024-01-01T00:00:00Z",
        "mime_type": "image/jpeg",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": base64.b64encode(hashlib.md5(data).digest()).decode(),
    }


@cache
def _photo(width: int, height: int) -> Any:
    import numpy as np
    from PIL import Image
    from skimage import data

    return Image.fromarray(np.asarray(data.astronaut())).resize((width, height))


def sample_jpeg(tag: bytes = b"", width: int = 1224, height: int = 816) -> bytes:
    """A real photo (scikit-image's astronaut) as a JPEG of `width` x `height` (1 MP by
    default); `tag` goes into a comment segment, so different tags give different bytes."""
    buffer = io.BytesIO()
    _photo(width, height).save(buffer, "JPEG", quality=90, comment=tag)
    return buffer.getvalue()


def seed_gallery(count: int = 60) -> None:
    """`count` processed media of `BENCH_DEVICE`, each with a thumbnail row, labels and counts
    (what a gallery tile shows), and `BENCH_USER` as the device's owner."""
    from sqlalchemy import insert, text

    from common.core.settings import get_settings
    from common.db.engine import get_engine
    from common.db.models import Derivative, DeviceOwner, MediaObject

    get_settings.cache_clear()
    get_engine.cache_clear()
    settings = get_settings()
    start = datetime(2025, 6, 1, tzinfo=UTC)
    rows, thumbs = [], []
    for index in range(count):
        media_id = f"med_{index:026d}"
        name = f"{BENCH_DEVICE}/cam-1/2025/06/01/msg-{index:05d}.jpg"
        rows.append(
            {
                "id": media_id,
                "device_id": BENCH_DEVICE,
                "camera_id": "cam-1",
                "message_id": f"seed-{index:05d}",
                "captured_at": start + timedelta(minutes=index),
                "reason": "motion",
                "media_type": "image",
                "mime_type": "image/jpeg",
                "kind": "upload",
                "size_bytes": 250_000 + index,
                "sha256": hashlib.sha256(str(index).encode()).hexdigest(),
                "md5": base64.b64encode(hashlib.md5(str(index).encode()).digest()).decode(),
                "request_hash": "0" * 64,
                "verified_sha256": hashlib.sha256(str(index).encode()).hexdigest(),
                "bucket": settings.uploads_bucket,
                "object_name": name,
                "object_version": str(1_700_000_000_000_000 + index),
                "storage_uri": f"gs://{settings.uploads_bucket}/{name}",
                "status": "processed",
                "labels": ["front-door", "night"],
                "analysis": {"detectors": ["faces", "people"], "counts": {"face": 1, "person": 2}},
                "note": None,
                "original_filename": f"IMG_{index:04d}.jpg",
                "created_by": f"device:{BENCH_DEVICE}",
                "width_px": 1280,
                "height_px": 800,
            }
        )
        thumbs.append(
            {
                "media_id": media_id,
                "kind": "thumbnail",
                "bucket": settings.derivatives_bucket,
                "object_name": f"thumbnails/{media_id}.jpg",
                "width_px": 320,
                "height_px": 200,
                "mime_type": "image/jpeg",
                "size_bytes": 12_000,
            }
        )
    with get_engine().begin() as connection:
        connection.execute(insert(MediaObject), rows)
        connection.execute(insert(Derivative), thumbs)
        connection.execute(
            insert(DeviceOwner), [{"user_id": BENCH_USER, "device_id": BENCH_DEVICE}]
        )
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))  # plans made from statistics, as on a live database
    get_engine().dispose()
