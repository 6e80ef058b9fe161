"""Firestore emulator: npm `@firestore-emulator/server` (pinned in `emulators/firestore/`), run
by Node with `emulators/firestore/server.mjs`."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from emulators._proc import ManagedProcess, StackError, spawn, tcp_open, wait_until

PACKAGE_DIR = Path(__file__).parent / "firestore"
READY_TIMEOUT_SECONDS = 20.0
NPM_TIMEOUT_SECONDS = 300
INSTALL_HINT = "run scripts/install_system_deps.sh (Node.js 20 and npm)"


def ensure_node_modules() -> None:
    """Run `npm ci` in `emulators/firestore/` if its node_modules is missing.

    Serialized with a lock file in the temp dir, so concurrent stacks install once.

    Raises:
        StackError: npm is missing or `npm ci` failed.
    """
    marker = PACKAGE_DIR / "node_modules" / "@firestore-emulator" / "server" / "package.json"
    if marker.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise StackError(f"npm not found, cannot install the Firestore emulator: {INSTALL_HINT}")
    lock_path = Path(tempfile.gettempdir()) / "media-pipeline-firestore-npm.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=PACKAGE_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(f"npm ci in {PACKAGE_DIR} failed:\n{result.stderr[-4000:]}")


def check_firestore(host: str, project: str, timeout_seconds: float = 2.0) -> None:
    """Make one real call (BatchGetDocuments of a missing document) against `host`.

    Raises:
        google.api_core.exceptions.GoogleAPICallError: The emulator did not answer.
        RuntimeError: It answered without a result.
    """
    import grpc  # type: ignore[import-untyped]  # lazy: heavy imports stay out of module import
    from google.cloud.firestore_v1.services.firestore import FirestoreClient
    from google.cloud.firestore_v1.services.firestore.transports import (
        FirestoreGrpcTransport,
    )

    channel = grpc.insecure_channel(host)
    try:
        client = FirestoreClient(transport=FirestoreGrpcTransport(channel=channel))
        database = f"projects/{project}/databases/(default)"
        responses = client.batch_get_documents(
            request={"database": database, "documents": [f"{database}/documents/_stack/ready"]},
            timeout=timeout_seconds,
        )
        if not any(r.missing or r.found for r in responses):
            raise RuntimeError("BatchGetDocuments returned no result")
    finally:
        channel.close()


def start_firestore(
    workdir: Path, env: Mapping[str, str], project: str, port: int, *, fresh: bool = True
) -> tuple[ManagedProcess, str]:
    """Start the Firestore emulator on 127.0.0.1:`port` (in memory: a restart starts empty).

    Args:
        workdir: Stack work directory (`logs/firestore.log`).
        env: Environment of the child.
        project: Project id used for the readiness call.
        port: The work dir's Firestore port (a restart keeps it).
        fresh: A first start (the log starts over); False for a restart (appended).

    Returns:
        The process and its `host:port` (FIRESTORE_EMULATOR_HOST).

    Raises:
        StackError: Node/npm missing, install failed, or the emulator did not become ready.
    """
    node = shutil.which("node")
    if node is None:
        raise StackError(f"node not found, cannot start the Firestore emulator: {INSTALL_HINT}")
    ensure_node_modules()
    host = f"127.0.0.1:{port}"
    log_path = workdir / "logs" / "firestore.log"
    if fresh:
        log_path.unlink(missing_ok=True)
    proc = spawn(
        "firestore", [node, "server.mjs", str(port)], log_path=log_path, env=env, cwd=PACKAGE_DIR
    )

    def ready() -> bool:
        if not tcp_open("127.0.0.1", port):
            return False
        check_firestore(host, project)
        return True

    try:
        wait_until(
            proc, ready, timeout_seconds=READY_TIMEOUT_SECONDS, what="BatchGetDocuments answered"
        )
    except StackError:
        proc.stop()
        raise
    return proc, host
