"""Cold start of each function: start -> first response, the entry module's import, first against
warm requests, each function started fresh several times, against a bare hello in the same run.

    python bench/bench_coldstart.py [--runs 5] [--functions hello,create_media,...]
                                    [--root DIR] [--compare DIR]

Starts a private local stack (no functions), then for each function and each run starts
`functions-framework` exactly as the stack does (`--target --source --signature-type http`, the
Terraform `THREADS` and a pool sized to them), connects to its port every 2 ms and sends one
real request the moment the port accepts. Measured, per function, as min / median over the runs:

- start -> first: from spawning the process to the end of the first response (goals:
  <= 0.4 s for create_media and list_media, <= 0.6 s for finalize_upload);
- CPU to first: the CPU time (user + system) the server's processes used by then, which the
  load of a shared machine inflates much less than the wall time (on an idle core the wall time
  would be about this plus the waits for the services);
- first request: that request alone, from sending it;
- warm: the median of 5 more requests of the same kind (first / warm is what the first caller
  pays for setup that was not done in time);
- import: a fresh interpreter loading `functions/<name>/main.py` by path, against
  `import functions_framework` in fresh interpreters (goal: <= 1.1x).

Requests: hello `GET /`; create_media a new declaration; list_media `GET
/v1/devices/{id}/media?limit=50` (user token, 60 seeded media); finalize_upload the push of a
storage notification for a freshly declared and stored 1 MP JPEG (answer `verified`);
process_media the push of `media-verified` for a freshly ingested one (answer `processed`).
`--root DIR` runs the functions and `common` of another checkout (e.g. `git worktree add` of an
older commit, or `git archive` of it unpacked) against the same stack; `--compare DIR` also runs
that checkout's, alternating start by start with `--root`'s, so before and after meet the same
load.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import (
    BENCH_DEVICE,
    HELLO_SOURCE,
    ROOT,
    declaration,
    machine_load,
    private_stack,
    request,
    sample_jpeg,
    seed_gallery,
    spawn_function,
    tokens,
    wait_listening,
)
from bench_http import terraform_threads

GOALS_S = {"create_media": 0.4, "list_media": 0.4, "finalize_upload": 0.6}
IMPORT_GOAL = 1.1
WARM_REQUESTS = 5
FUNCTIONS = ("hello", "create_media", "list_media", "finalize_upload", "process_media")

Call = Callable[[str], tuple[int, bytes]]
"""Sends one request of a function's kind to a base URL; (status, body)."""


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _push(subscription: str, data: dict[str, Any], attributes: dict[str, str]) -> bytes:
    project = os.environ.get("GOOGLE_CLOUD_PROJECT", "local-project")
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps(data).encode()).decode(),
            "attributes": attributes,
            "messageId": uuid.uuid4().hex,
            "publishTime": _now(),
        },
        "subscription": f"projects/{project}/subscriptions/{subscription}",
    }
    return json.dumps(envelope).encode()


def _stored_upload() -> bytes:
    """Declare a 1 MP JPEG, store its bytes as a device would, and return the push body of the
    bucket's notification for it."""
    from common.media.declare import CreateMediaRequest, declare, spec_for_upload
    from common.storage import get_store

    data = sample_jpeg(uuid.uuid4().bytes)
    body = CreateMediaRequest.model_validate(declaration(f"cold-{uuid.uuid4().hex}", data))
    media, _ = declare(spec_for_upload(BENCH_DEVICE, body, created_by=f"device:{BENCH_DEVICE}"))
    info = get_store().write(media.bucket, media.object_name, data, media.mime_type)
    resource = {
        "kind": "storage#object",
        "name": media.object_name,
        "bucket": media.bucket,
        "generation": info.version,
        "size": str(len(data)),
        "md5Hash": info.md5_base64,
        "contentType": media.mime_type,
    }
    attributes = {
        "bucketId": media.bucket,
        "objectId": media.object_name,
        "objectGeneration": str(info.version),
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
        "eventTime": _now(),
    }
    return _push("finalize-upload", resource, attributes)


def _verified_media() -> bytes:
    """A freshly ingested (declared, stored, verified) 1 MP JPEG, as the push body of its
    `media-verified` message."""
    from common.db.engine import session_scope
    from common.media.declare import CreateMediaRequest, spec_for_upload
    from common.media.ingest import ingest_bytes

    data = sample_jpeg(uuid.uuid4().bytes)
    body = CreateMediaRequest.model_validate(declaration(f"cold-{uuid.uuid4().hex}", data))
    spec = spec_for_upload(BENCH_DEVICE, body, created_by=f"device:{BENCH_DEVICE}")
    with session_scope() as session:
        media = ingest_bytes(session, spec, data, hand_over_after=False).media
    payload = {
        "media_id": media.id,
        "bucket": media.bucket,
        "object_name": media.object_name,
        "version": media.object_version,
    }
    return _push("process-media", payload, {"media_id": media.id})


def calls(token: dict[str, str]) -> dict[str, tuple[Callable[[], Call], str]]:
    """Per function: a factory of one request (prepared before the server starts) and the
    answer it must give (a status, or the push outcome)."""

    def hello() -> Call:
        return lambda url: request(url + "/")

    def create() -> Call:
        body = json.dumps(declaration(f"cold-{uuid.uuid4().hex}")).encode()
        headers = {"Authorization": f"Bearer {token['device']}", "Content-Type": "application/json"}
        return lambda url: request(url + "/v1/media", method="POST", body=body, headers=headers)

    def listing() -> Call:
        headers = {"Authorization": f"Bearer {token['user']}"}
        path = f"/v1/devices/{BENCH_DEVICE}/media?limit=50"
        return lambda url: request(url + path, headers=headers)

    def pushed(make: Callable[[], bytes]) -> Callable[[], Call]:
        def factory() -> Call:
            body = make()
            headers = {"Content-Type": "application/json"}
            return lambda url: request(url + "/", method="POST", body=body, headers=headers)

        return factory

    return {
        "hello": (hello, "200"),
        "create_media": (create, "201"),
        "list_media": (listing, "200"),
        "finalize_upload": (pushed(_stored_upload), "verified"),
        "process_media": (pushed(_verified_media), "processed"),
    }


def _check(name: str, expected: str, status: int, body: bytes) -> None:
    answer = str(status) if expected.isdigit() else body.decode(errors="replace")
    if answer != expected:
        raise SystemExit(f"{name}: expected {expected}, got {status} {body[:300]!r}")


def cold_start(
    name: str,
    factory: Callable[[], Call],
    expected: str,
    env: dict[str, str],
    root: Path,
    logs: Path,
) -> dict[str, float]:
    """Start `name` from `root` fresh once; the run's timings (seconds)."""
    source = HELLO_SOURCE if name == "hello" else root / "functions" / name / "main.py"
    threads = 4 if name == "hello" else terraform_threads(name)
    server_env = {**env, "PYTHONPATH": str(root)}
    first_call, warm_calls = factory(), [factory() for _ in range(WARM_REQUESTS)]
    server = spawn_function(name, source, name, server_env, threads=threads, log_dir=logs, cwd=root)
    try:
        wait_listening(server.port)
        listening = time.perf_counter()
        status, body = first_call(server.url)
        first_done = time.perf_counter()
        cpu_to_first = sum(server.cpu_seconds())
        _check(name, expected, status, body)
        warm = []
        for call in warm_calls:
            began = time.perf_counter()
            status, body = call(server.url)
            warm.append(time.perf_counter() - began)
            _check(name, expected, status, body)
    finally:
        server.stop()
    return {
        "listening": listening - server.started_at,
        "first": first_done - server.started_at,
        "first_request": first_done - listening,
        "cpu_to_first": cpu_to_first,
        "warm": statistics.median(warm),
    }


_IMPORT_PROBE = """
import sys, time, importlib.util
sys.path.insert(0, {root!r})
start = time.perf_counter()
{body}
print((time.perf_counter() - start) * 1000)
"""


def import_ms(bodies: list[str], root: Path, runs: int) -> list[list[float]]:
    """Wall time (ms) of each of `bodies` in `runs` fresh interpreters each, alternating."""
    samples: list[list[float]] = [[] for _ in bodies]
    for _ in range(runs):
        for index, body in enumerate(bodies):
            code = _IMPORT_PROBE.format(root=str(root), body=body)
            out = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
            samples[index].append(float(out.stdout.strip().splitlines()[-1]))
    return samples


def _fmt(values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    return f"{min(values) * scale:.{digits}f} / {statistics.median(values) * scale:.{digits}f}"


_LOAD = (
    "spec = importlib.util.spec_from_file_location('main', {path!r})\n"
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)"
)


def report(root: Path, results: dict[str, list[dict[str, float]]], runs: int) -> None:
    """Print one checkout's table (start -> first, first request, warm, import ratio)."""
    print(f"from {root}:")
    print(
        f"{'function':<17}{'start->first s':>17}{'CPU to first s':>17}{'first req ms':>16}"
        f"{'warm ms':>14}  goal"
    )
    for name, measured in results.items():
        first = [r["first"] for r in measured]
        goal = GOALS_S.get(name)
        verdict = "" if goal is None else f"<= {goal} s {'ok' if max(first) <= goal else 'OVER'}"
        print(
            f"{name:<17}{_fmt(first):>17}{_fmt([r['cpu_to_first'] for r in measured]):>17}"
            f"{_fmt([r['first_request'] for r in measured], 1000, 0):>16}"
            f"{_fmt([r['warm'] for r in measured], 1000, 1):>14}  {verdict}"
        )
    names = [n for n in results if n != "hello"]
    bodies = ["import functions_framework"]
    bodies += [_LOAD.format(path=str(root / "functions" / n / "main.py")) for n in names]
    framework, *modules = import_ms(bodies, root, runs * 2)
    print(f"import ms, min / median (goal <= {IMPORT_GOAL}x functions_framework, medians):")
    print(f"  {'functions_framework':<22}{_fmt(framework, digits=0):>13}")
    for name, samples in zip(names, modules, strict=True):
        ratio = statistics.median(samples) / statistics.median(framework)
        verdict = "ok" if ratio <= IMPORT_GOAL else "OVER"
        print(f"  {name:<22}{_fmt(samples, digits=0):>13}  {ratio:.2f}x  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--compare", type=Path, default=None)
    args = parser.parse_args()
    roots = [args.root.resolve(), *([args.compare.resolve()] if args.compare else [])]
    names = [n for n in args.functions.split(",") if n]
    results: dict[Path, dict[str, list[dict[str, float]]]] = {r: {} for r in roots}
    with private_stack("bench-coldstart") as stack:
        seed_gallery(60)
        token = tokens()
        logs = stack.workdir / "logs"
        env = dict(stack.env)
        print(f"{args.runs} fresh starts per function; {machine_load()} at start (min / median)")
        plans = calls(token)
        for name in names:
            factory, expected = plans[name]
            for _ in range(args.runs):
                for root in roots:
                    run = cold_start(name, factory, expected, env, root, logs)
                    results[root].setdefault(name, []).append(run)
    for root in roots:
        report(root, results[root], args.runs)
    print(f"{machine_load()} at end")


if __name__ == "__main__":
    main()
