"""Pub/Sub emulator: Google's `pstest` fake, built once from Debian's Go sources, plus topology
setup (topics and pull subscriptions from `topology.json`)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from emulators._proc import ManagedProcess, StackError, spawn, tcp_open, wait_until
from emulators.topology import Topology

if TYPE_CHECKING:
    from google.pubsub_v1.services.publisher import PublisherClient
    from google.pubsub_v1.services.subscriber import SubscriberClient

GOPATH = "/usr/share/gocode"  # Debian golang-google-cloud-dev installs pstest's sources here
PSTEST_SOURCE = Path(__file__).parent / "pstest" / "main.go"
BUILD_TIMEOUT_SECONDS = 300
READY_TIMEOUT_SECONDS = 20.0
INSTALL_HINT = (
    "run scripts/install_system_deps.sh (apt-get install golang-go golang-google-cloud-dev)"
)


def build_pstest(workdir: Path) -> Path:
    """Build `emulators/pstest/main.go` into `workdir/bin`, once per source version.

    The binary is named after the source's SHA-256, so an unchanged source is never rebuilt.

    Args:
        workdir: Stack work directory.

    Returns:
        Path of the executable.

    Raises:
        StackError: Go or the pstest sources are missing, or the build failed.
    """
    digest = hashlib.sha256(PSTEST_SOURCE.read_bytes()).hexdigest()[:16]
    binary = workdir / "bin" / f"pstest-{digest}"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        raise StackError(f"Go is not installed, cannot build the Pub/Sub emulator: {INSTALL_HINT}")
    if not (Path(GOPATH) / "src/cloud.google.com/go/pubsub/pstest").is_dir():
        raise StackError(f"pstest sources missing under {GOPATH}: {INSTALL_HINT}")
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_suffix(f".{os.getpid()}.tmp")
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": ""}
    if "HOME" not in env:
        env["GOCACHE"] = str(workdir / "cache" / "go-build")
    result = subprocess.run(
        [go, "build", "-o", str(partial), str(PSTEST_SOURCE.name)],
        cwd=PSTEST_SOURCE.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise StackError(f"building pstest failed:\n{result.stderr[-4000:]}")
    partial.replace(binary)
    return binary


def clients(host: str) -> tuple[PublisherClient, SubscriberClient, Callable[[], None]]:
    """GAPIC publisher and subscriber clients on one insecure channel to `host` (host:port).

    Returns:
        (publisher, subscriber, close) where `close()` closes the channel.
    """
    # lazy: heavy imports stay out of module import
    import grpc  # type: ignore[import-untyped]
    from google.pubsub_v1.services.publisher import PublisherClient
    from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
    from google.pubsub_v1.services.subscriber import SubscriberClient
    from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

    channel = grpc.insecure_channel(host)
    publisher = PublisherClient(transport=PublisherGrpcTransport(channel=channel))
    subscriber = SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
    return publisher, subscriber, channel.close


def check_pubsub(host: str, project: str, timeout_seconds: float = 2.0) -> None:
    """Make one real call (ListTopics) against the emulator at `host`.

    Raises:
        google.api_core.exceptions.GoogleAPICallError: The emulator did not answer.
    """
    publisher, _, close = clients(host)
    try:
        publisher.list_topics(request={"project": f"projects/{project}"}, timeout=timeout_seconds)
    finally:
        close()


def start_pstest(
    workdir: Path, env: Mapping[str, str], project: str, port: int, *, fresh: bool = True
) -> ManagedProcess:
    """Build (if needed) and start pstest on 127.0.0.1:`port`; wait until it answers ListTopics.

    Args:
        workdir: Stack work directory (binary cache, `logs/pubsub.log`).
        env: Environment of the child.
        project: Project id used for the readiness call.
        port: The work dir's Pub/Sub port (a restart keeps it).
        fresh: A first start (the log starts over); False for a restart (appended).

    Returns:
        The process; it serves `127.0.0.1:<port>` (PUBSUB_EMULATOR_HOST).

    Raises:
        StackError: Build failed, or the emulator did not become ready.
    """
    binary = build_pstest(workdir)
    log_path = workdir / "logs" / "pubsub.log"
    if fresh:
        log_path.unlink(missing_ok=True)
    proc = spawn("pubsub", [str(binary), str(port)], log_path=log_path, env=env)
    host = f"127.0.0.1:{port}"

    def ready() -> bool:
        if not tcp_open("127.0.0.1", port):
            return False
        check_pubsub(host, project)
        return True

    try:
        wait_until(proc, ready, timeout_seconds=READY_TIMEOUT_SECONDS, what="ListTopics answered")
    except StackError:
        proc.stop()
        raise
    return proc


def create_topology(host: str, project: str, topology: Topology) -> None:
    """Create every topic and subscription of `topology` (existing ones are kept).

    All subscriptions are pull subscriptions in the emulator; push, retry and dead-letter policies
    are emulated by the router. Ack deadlines are at least 10 s (pstest's minimum).

    Raises:
        google.api_core.exceptions.GoogleAPICallError: A create call failed otherwise.
    """
    publisher, subscriber, close = clients(host)
    try:
        _create_all(publisher, subscriber, project, topology)
    finally:
        close()


def _create_all(
    publisher: PublisherClient, subscriber: SubscriberClient, project: str, topology: Topology
) -> None:
    from google.api_core.exceptions import AlreadyExists

    for topic in topology.topics:
        with contextlib.suppress(AlreadyExists):
            publisher.create_topic(request={"name": f"projects/{project}/topics/{topic}"})
    for sub in topology.subscriptions:
        with contextlib.suppress(AlreadyExists):
            subscriber.create_subscription(
                request={
                    "name": f"projects/{project}/subscriptions/{sub.name}",
                    "topic": f"projects/{project}/topics/{sub.topic}",
                    "ack_deadline_seconds": sub.ack_deadline_seconds,
                }
            )


def wait_for_external(host: str, project: str, timeout_seconds: float = 10.0) -> None:
    """Check an externally started emulator (`PUBSUB_EMULATOR_HOST`) answers.

    Raises:
        StackError: It did not answer within `timeout_seconds`.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            check_pubsub(host, project)
            return
        except Exception as exc:
            if time.monotonic() >= deadline:
                raise StackError(
                    f"PUBSUB_EMULATOR_HOST={host} did not answer ListTopics: {exc}"
                ) from exc
            time.sleep(0.2)
