"""The stack's services as supervised components (`emulators.supervisor.Component`): how each
starts on its work dir's port, what a restart after a crash cleans up, what it sets up again.

The first start of a service and every restart run the same `start`, so a restarted service is
the same program on the same address; only a first start wipes what a previous run left (logs,
objects), a restart keeps it.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from emulators import firestore, functions, postgres, pubsub, storage
from emulators._proc import ManagedProcess, StackError, log_line_value, spawn, tcp_open, wait_until
from emulators.gateway import READY_LINE as GATEWAY_READY
from emulators.router_process import READY_LINE as ROUTER_READY
from emulators.supervisor import Component
from emulators.topology import FunctionSpec, SubscriptionSpec, Topology

READY_TIMEOUT_SECONDS = 60.0


def _first_then_restarts(start: Callable[[bool], ManagedProcess]) -> Callable[[], ManagedProcess]:
    """`start(fresh)`: fresh on the first call only."""
    calls = [0]

    def run() -> ManagedProcess:
        fresh = calls[0] == 0
        calls[0] += 1
        return start(fresh)

    return run


def _ready_or_stop(proc: ManagedProcess, check: Callable[[], bool], what: str) -> ManagedProcess:
    try:
        wait_until(proc, check, timeout_seconds=READY_TIMEOUT_SECONDS, what=what)
    except StackError:
        proc.stop()
        raise
    return proc


def _http_ok(url: str, wanted: Sequence[int] = ()) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:  # noqa: S310 - loopback URL
            status: int = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return not wanted or status in wanted


def postgres_component(cluster: postgres.Cluster, port: int) -> Component:
    """The private cluster's server; a restart clears the dead server's lock files."""

    def cleanup() -> None:
        postgres.clear_stale_locks(cluster, port)

    return Component(
        "postgres", postgres.database_url(port), lambda: postgres.serve(cluster, port), cleanup
    )


def pubsub_component(
    workdir: Path, env: Mapping[str, str], project: str, port: int, topology: Topology
) -> Component:
    """pstest; a restart (its messages are lost: it keeps them in memory) creates the topology
    again."""
    host = f"127.0.0.1:{port}"
    return Component(
        "pubsub (pstest)",
        host,
        _first_then_restarts(
            lambda fresh: pubsub.start_pstest(workdir, env, project, port, fresh=fresh)
        ),
        restore=lambda: pubsub.create_topology(host, project, topology),
    )


def fake_gcs_component(
    workdir: Path,
    env: Mapping[str, str],
    *,
    project: str,
    pubsub_host: str,
    buckets: tuple[str, str],
    port: int,
) -> Component:
    """fake-gcs-server; a restart keeps the objects on disk."""

    def start(fresh: bool) -> ManagedProcess:
        started = storage.start_fake_gcs(
            workdir,
            env,
            project=project,
            pubsub_host=pubsub_host,
            uploads_bucket=buckets[0],
            buckets=buckets,
            port=port,
            fresh=fresh,
        )
        return started.proc

    return Component(
        "storage (fake-gcs-server)", f"http://127.0.0.1:{port}", _first_then_restarts(start)
    )


def moto_component(
    workdir: Path,
    env: Mapping[str, str],
    *,
    buckets: tuple[str, str],
    visibility_timeout_seconds: int,
    port: int,
) -> Component:
    """moto's S3 and SQS; a restart starts empty and sets the buckets and queue up again."""
    from emulators import s3

    def start(fresh: bool) -> ManagedProcess:
        started = s3.start_moto(
            workdir,
            env,
            uploads_bucket=buckets[0],
            derivatives_bucket=buckets[1],
            visibility_timeout_seconds=visibility_timeout_seconds,
            port=port,
            fresh=fresh,
        )
        return started.proc

    return Component(
        "storage (moto S3 + SQS)", f"http://127.0.0.1:{port}", _first_then_restarts(start)
    )


def firestore_component(
    workdir: Path, env: Mapping[str, str], project: str, port: int
) -> Component:
    """The Firestore emulator (in memory: a restart starts empty; the mirror is rewritten by the
    next status change of each media)."""
    return Component(
        "firestore",
        f"127.0.0.1:{port}",
        _first_then_restarts(
            lambda fresh: firestore.start_firestore(workdir, env, project, port, fresh=fresh)[0]
        ),
    )


def function_component(
    spec: FunctionSpec, port: int, repo_root: Path, workdir: Path, env: Mapping[str, str]
) -> Component:
    """One function under functions-framework."""

    def start() -> ManagedProcess:
        proc = functions.spawn_function(
            spec, port=port, repo_root=repo_root, workdir=workdir, env=env
        )
        try:
            functions.wait_function_ready(proc, port)
        except StackError:
            proc.stop()
            raise
        return proc

    return Component(f"function {spec.name}", f"http://127.0.0.1:{port}", start)


def streams_component(
    port: int, repo_root: Path, workdir: Path, env: Mapping[str, str]
) -> Component:
    """The stream service (`services/streams`, aiohttp), ready once its feeds listen."""
    argv = [
        sys.executable,
        "-m",
        "aiohttp.web",
        "-H",
        "127.0.0.1",
        "-P",
        str(port),
        "services.streams.main:init",
    ]
    url = f"http://127.0.0.1:{port}"

    def start() -> ManagedProcess:
        proc = spawn(
            "streams", argv, log_path=workdir / "logs" / "streams.log", env=env, cwd=repo_root
        )
        return _ready_or_stop(
            proc,
            lambda: tcp_open("127.0.0.1", port) and _http_ok(f"{url}/ready", (200,)),
            "GET /ready answered 200",
        )

    return Component("streams", url, start)


def router_component(
    workdir: Path,
    env: Mapping[str, str],
    *,
    repo_root: Path,
    pubsub_host: str,
    project: str,
    routes: Sequence[tuple[SubscriptionSpec, str]],
    backoff_scale: float,
    s3_events: Mapping[str, str] | None,
) -> Component:
    """The push router process (`emulators.router_process`), configured by `router.json`."""
    config = {
        "topology": str(repo_root / "topology.json"),
        "pubsub_host": pubsub_host,
        "project": project,
        "backoff_scale": backoff_scale,
        "routes": [{"subscription": spec.name, "endpoint": url} for spec, url in routes],
        "s3_events": dict(s3_events) if s3_events is not None else None,
    }
    config_path = workdir / "router.json"
    config_path.write_text(json.dumps(config, indent=2))
    log_path = workdir / "logs" / "router.log"
    log_path.unlink(missing_ok=True)
    summary = [f"{spec.name}->{url.replace('http://127.0.0.1', '')}" for spec, url in routes]
    if s3_events is not None:
        summary.append(f"s3 events->{s3_events['endpoint'].replace('http://127.0.0.1', '')}")
    argv = [sys.executable, "-m", "emulators.router_process", str(config_path)]

    def start() -> ManagedProcess:
        proc = spawn("push router", argv, log_path=log_path, env=env, cwd=repo_root)
        marker = f"{ROUTER_READY}{proc.pid}"
        return _ready_or_stop(
            proc,
            lambda: log_line_value(log_path, marker) is not None,
            "the router opened its streams",
        )

    return Component("push router", ", ".join(summary) or "no push routes", start)


def gateway_component(
    port: int,
    backends: Mapping[str, str],
    *,
    repo_root: Path,
    workdir: Path,
    env: Mapping[str, str],
) -> Component:
    """The API's one origin (`emulators.gateway`), routing by terraform/url_map.json."""
    argv = [
        sys.executable,
        "-m",
        "emulators.gateway",
        "--port",
        str(port),
        "--map",
        str(repo_root / "terraform" / "url_map.json"),
        *[f"--backend={name}={url}" for name, url in sorted(backends.items())],
    ]
    log_path = workdir / "logs" / "gateway.log"
    log_path.unlink(missing_ok=True)
    url = f"http://127.0.0.1:{port}"

    def start() -> ManagedProcess:
        proc = spawn("gateway", argv, log_path=log_path, env=env, cwd=repo_root)
        return _ready_or_stop(
            proc,
            lambda: tcp_open("127.0.0.1", port) and _http_ok(f"{url}/"),
            f"{GATEWAY_READY}: an HTTP answer",
        )

    return Component("gateway (API base URL)", url, start)
