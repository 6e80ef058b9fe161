"""HTTP throughput and latency of create_media and list_media against minimal functions doing
the same essential work, and against a bare functions-framework hello, on the same server
settings in the same run (goals in bench/README.md).

    python bench/bench_http.py [--rounds 3] [--seconds 5] [--connections 8,32] [--profile DIR]
                               [--root DIR]

Starts a private local stack (Postgres, fake-gcs-server, Pub/Sub and Firestore emulators; no
functions), seeds 60 processed media with thumbnails for one device owned by one user, and starts
functions-framework servers as the stack does, with the threads Terraform deploys
(`THREADS` = `max_request_concurrency` of `terraform/locals.tf`: create_media 4, list_media 8) and
a pool of as many connections with no overflow. Baselines on the same settings:
`bench/hello/main.py` (one server per thread count), `bench/minimal_declare/main.py` (a
declaration's essential work: the cached HS256 token, the insert-or-get of the media row and its
history row in one transaction, a V4 signed PUT) and `bench/minimal_list/main.py` (a gallery
page's: the cached token, the same keyset select of tiles with thumbnails, cached thumbnail
signatures). The load is `wrk` (apt; `scripts/install_system_deps.sh`) with one thread and
keep-alive connections, in its own process:

- hello: `GET /`;
- create_media and the minimal declare: `POST /v1/media`, each request a new declaration of the
  device (device token) with its own message id and its own claimed SHA-256, so none is a replay
  or shares bytes; the rows made are counted and must equal the requests answered;
- list_media device page: `GET /v1/devices/{id}/media?limit=50` (user token, the device's owner);
- list_media gallery and the minimal gallery: `GET /v1/media?limit=50` (user token).

Each round runs every target at each concurrency for `--seconds`, every other round in reverse
order; the ratio of a round is the target's requests/s over its baseline's in that round. Prints
req/s and the ratios as min / median of the rounds (a goal is judged on the median: on a machine
shared with other workloads, the minimum measures the worst load spike that fell on one side), latency p50 / p99 (median over the rounds, from wrk's `--latency`), and CPU time
per request (median, from /proc): the server's (user + system of the arbiter and its worker),
Postgres's (`pg`, the postmaster and its backends) and the Firestore emulator's (`fs`), which
share the machine's cores with it. Goals: create_media >= 0.5x the minimal declare at 8 and 32
connections with p50 <= 20 ms at 8; the gallery >= 0.5x the minimal gallery. Any non-2xx answer
or socket error is reported, and so is the number of Postgres connections opened during the
measured runs (churn). `--profile DIR` also records py-spy samples of each function under load
(collapsed stacks; py-spy from PyPI). `--root DIR` serves create_media, list_media and `common`
of another checkout (an older commit, for a before/after comparison) against the same stack and
baselines; `--create-env NAME=VALUE` sets a variable for create_media alone (e.g.
`STATUS_MIRROR_ENABLED=false`, to measure what the realtime mirror's write costs).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import (
    BENCH_DEVICE,
    HELLO_SOURCE,
    ROOT,
    Server,
    declaration,
    function_source,
    machine_load,
    private_stack,
    request,
    seed_gallery,
    service_pid,
    spawn_function,
    tokens,
    tree_cpu_seconds,
    wait_ready,
)

MINIMAL_DECLARE_SOURCE = ROOT / "bench" / "minimal_declare" / "main.py"
MINIMAL_LIST_SOURCE = ROOT / "bench" / "minimal_list" / "main.py"
GOALS = {"create_media": 0.5, "list gallery": 0.5}
"""Target -> the least ratio to its first baseline, at every concurrency."""
P50_GOALS_MS = {("create_media", 8): 20.0}
"""(target, connections) -> the largest p50 latency (ms)."""

_GET_SCRIPT = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
"""

_CREATE_SCRIPT = """
local counter = 0
local prefix = "{prefix}"
local template = {template}
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.gsub(template, "MESSAGE_ID", prefix .. "-" .. counter)
  body = string.gsub(body, "SHA256_HEX", "{sha_prefix}" .. string.format("%016x", counter))
  return wrk.format("POST", "/v1/media", nil, body)
end
"""


def create_script(token: str) -> tuple[str, str]:
    """A wrk script whose every request declares new media (its own message id and claimed
    SHA-256), and the message-id prefix its requests share."""
    prefix = uuid.uuid4().hex[:12]
    body = declaration("MESSAGE_ID")
    body["sha256"] = "SHA256_HEX"
    script = _CREATE_SCRIPT.format(
        prefix=prefix,
        template=json.dumps(json.dumps(body)),
        token=token,
        sha_prefix=secrets.token_hex(24),
    )
    return script, prefix


def terraform_threads(function: str) -> int:
    """`max_request_concurrency` of `function` in terraform/locals.tf (its THREADS)."""
    text = (ROOT / "terraform" / "locals.tf").read_text()
    text = text[text.index("function_defaults = {") :]
    block = re.search(rf"\n\s+{function} = \{{(.*?)\}}", text, re.S)
    if block is None:
        raise SystemExit(f"no sizing for {function} in terraform/locals.tf")
    found = re.search(r"max_request_concurrency\s*=\s*(\d+)", block.group(1))
    assert found is not None
    return int(found.group(1))


@dataclass
class Run:
    """What one wrk run measured."""

    rate: float
    requests: int
    p50_ms: float
    p99_ms: float
    notes: str


@dataclass
class Target:
    """One thing under load: a path on a server, how its wrk scripts are made, and the names of
    its baselines (the first is the one its goal is against)."""

    name: str
    server: Server
    path: str
    script: str
    baselines: tuple[str, ...] = ()
    declares: bool = False
    """Each request declares new media (the script is made afresh for each run)."""
    token: str = ""
    runs: dict[int, list[Run]] = field(default_factory=dict)
    cpu_ms: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    """The server's user and system CPU time per request (ms) in each run."""
    backend_ms: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    """Postgres's and the Firestore emulator's CPU time per request (ms) in each run."""

    def rates(self, connections: int) -> list[float]:
        return [run.rate for run in self.runs[connections]]


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(out: str, percentile: str) -> float:
    found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    if found is None:
        raise RuntimeError(f"wrk printed no {percentile}% latency:\n{out}")
    return float(found.group(1)) * _UNITS_MS[found.group(2)]


def wrk(url: str, script: str, connections: int, seconds: float) -> Run:
    """One wrk run: requests/s, requests answered, p50 / p99 latency, a note of any errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(handle.name).unlink()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    answered = re.search(r"(\d+) requests in", out)
    if rate is None or answered is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    notes = []
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        notes.append(f"{found.group(1)} non-2xx")
    if found := re.search(r"Socket errors: (.*)", out):
        notes.append(f"socket errors {found.group(1)}")
    return Run(
        float(rate.group(1)),
        int(answered.group(1)),
        _latency_ms(out, "50"),
        _latency_ms(out, "99"),
        ", ".join(notes),
    )


def declared_rows(message_prefix: str) -> int:
    """Media rows of the bench device whose message id starts with `message_prefix`."""
    from sqlalchemy import text

    from common.db.engine import get_engine

    with get_engine().connect() as connection:
        found = connection.execute(
            text("SELECT count(*) FROM media_objects WHERE device_id = :d AND message_id LIKE :p"),
            {"d": BENCH_DEVICE, "p": f"{message_prefix}-%"},
        ).scalar()
    return int(found or 0)


def _check(name: str, status: int, body: bytes, expected: int = 200) -> None:
    if status != expected:
        raise SystemExit(f"{name}: expected {expected}, got {status} {body[:300]!r}")


def profile(server: Server, target: Target, out_dir: Path, seconds: float) -> None:
    """py-spy samples of the thread holding the GIL (collapsed stacks, `--format raw`: one line
    per stack and its count; any flame-graph tool reads them) of `server` while wrk loads
    `target` at 8 connections."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out_dir.mkdir(parents=True, exist_ok=True)
    svg = out_dir / f"{target.name.replace(' ', '_')}.txt"
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--subprocesses",
            "--rate",
            "200",
            "--format",
            "raw",
            "--nonblocking",
            "--gil",
            "--duration",
            str(int(seconds)),
            "--output",
            str(svg),
            "--pid",
            str(server.proc.pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    script = create_script(target.token)[0] if target.declares else target.script
    wrk(server.url + target.path, script, 8, seconds)
    spy.wait()
    print(f"  profile of {target.name}: {svg}")


def _first_answers(targets: list[Target], token: dict[str, str]) -> None:
    """One real answer of each target, checked (a declaration must be new: 201)."""
    for target in targets:
        if target.declares:
            status, body = request(
                target.server.url + target.path,
                method="POST",
                body=json.dumps(
                    declaration(f"check-{uuid.uuid4().hex}", uuid.uuid4().bytes)
                ).encode(),
                headers={
                    "Authorization": f"Bearer {token['device']}",
                    "Content-Type": "application/json",
                },
            )
            _check(target.name, status, body, 201)
            if not json.loads(body)["upload"]["url"]:
                raise SystemExit(f"{target.name}: no upload URL in {body[:300]!r}")
        elif target.token:
            status, body = request(
                target.server.url + target.path,
                headers={"Authorization": f"Bearer {token['user']}"},
            )
            _check(target.name, status, body)
            items = json.loads(body)["items"]
            if len(items) != 50 or not items[0]["thumbnail_url"]:
                raise SystemExit(f"{target.name}: {len(items)} items {body[:300]!r}")


def measure(target: Target, count: int, seconds: float, backend_pids: list[int]) -> Run:
    """One run of `target` at `count` connections, with its CPU per request."""
    script, prefix = create_script(target.token) if target.declares else (target.script, "")
    cpu_before = target.server.cpu_seconds()
    backends_before = [sum(tree_cpu_seconds(p)) for p in backend_pids]
    run = wrk(target.server.url + target.path, script, count, seconds)
    cpu_after = target.server.cpu_seconds()
    backends_after = [sum(tree_cpu_seconds(p)) for p in backend_pids]
    done = max(1, run.requests)
    db_ms, fs_ms = (
        1000 * (a - b) / done for a, b in zip(backends_after, backends_before, strict=True)
    )
    target.backend_ms.setdefault(count, []).append((db_ms, fs_ms))
    target.runs.setdefault(count, []).append(run)
    target.cpu_ms.setdefault(count, []).append(
        (
            1000 * (cpu_after[0] - cpu_before[0]) / done,
            1000 * (cpu_after[1] - cpu_before[1]) / done,
        )
    )
    if target.declares:  # requests still in flight when wrk stops are served after it
        made = declared_rows(prefix)
        if not run.requests <= made <= run.requests + count:
            note = f"{made} rows for {run.requests} requests"
            run.notes = ", ".join(n for n in (run.notes, note) if n)
    return run


def report(targets: list[Target], connections: list[int]) -> None:
    """The table: req/s, latency, CPU per request, ratios against each baseline, goals."""
    by_name = {t.name: t for t in targets}
    print(
        f"{'target':<20}{'conns':>6}{'req/s min/med':>15}{'p50/p99 ms':>15}"
        f"{'CPU ms usr+sys':>16}{'pg':>6}{'fs':>6}  ratios min/median, goal"
    )
    for count in connections:
        for target in targets:
            rates = target.rates(count)
            runs = target.runs[count]
            p50 = statistics.median(r.p50_ms for r in runs)
            p99 = statistics.median(r.p99_ms for r in runs)
            line = (
                f"{target.name:<20}{count:>6}{min(rates):>7.0f} /{statistics.median(rates):>6.0f}"
                f"{p50:>7.1f} /{p99:>6.1f}"
                f"{statistics.median(u for u, _ in target.cpu_ms[count]):>9.2f}"
                f"+{statistics.median(s for _, s in target.cpu_ms[count]):<6.2f}"
                f"{statistics.median(d for d, _ in target.backend_ms[count]):>6.2f}"
                f"{statistics.median(f for _, f in target.backend_ms[count]):>6.2f} "
            )
            for index, baseline in enumerate(target.baselines):
                base = by_name[baseline].rates(count)
                ratios = [r / b for r, b in zip(rates, base, strict=True)]
                line += f" x {baseline}: {min(ratios):.3f} / {statistics.median(ratios):.3f}"
                goal = GOALS.get(target.name)
                if index == 0 and goal is not None:
                    verdict = "ok" if statistics.median(ratios) >= goal else "below"
                    line += f" (median >= {goal} {verdict})"
            if (limit := P50_GOALS_MS.get((target.name, count))) is not None:
                line += f"; p50 <= {limit:g} ms {'ok' if p50 <= limit else 'over'}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", default="8,32")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument(
        "--create-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for create_media only (e.g. STATUS_MIRROR_ENABLED=false)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: bash scripts/install_system_deps.sh")
    connections = [int(c) for c in args.connections.split(",")]
    create_threads = terraform_threads("create_media")
    list_threads = terraform_threads("list_media")
    with private_stack("bench-http") as stack:
        seed_gallery(60)
        token = tokens()
        root = args.root.resolve()
        env = {**stack.env, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(root)}
        backend_pids = [service_pid(stack, "postgres") or 0, service_pid(stack, "firestore") or 0]
        logs = stack.workdir / "logs"
        servers: list[Server] = []

        def spawn(
            name: str, source: Path, target: str, threads: int, extra: dict[str, str] | None = None
        ) -> Server:
            server = spawn_function(
                name, source, target, {**env, **(extra or {})}, threads=threads, log_dir=logs
            )
            servers.append(server)
            return server

        try:
            hello = {
                threads: spawn(f"hello-{threads}", HELLO_SOURCE, "hello", threads)
                for threads in sorted({create_threads, list_threads})
            }
            minimal_declare = spawn(
                "minimal-declare", MINIMAL_DECLARE_SOURCE, "declare", create_threads
            )
            create = spawn(
                "create_media",
                function_source("create_media", root),
                "create_media",
                create_threads,
                dict(item.split("=", 1) for item in args.create_env),
            )
            minimal_list = spawn("minimal-list", MINIMAL_LIST_SOURCE, "gallery", list_threads)
            listing = spawn(
                "list_media", function_source("list_media", root), "list_media", list_threads
            )
            for server in servers:
                wait_ready(server)
            hello_create, hello_list = (
                f"hello (THREADS={create_threads})",
                f"hello (THREADS={list_threads})",
            )
            user_get = _GET_SCRIPT.format(token=token["user"])
            gallery = "/v1/media?limit=50"
            targets = [Target(f"hello (THREADS={t})", s, "/", "") for t, s in hello.items()]
            targets += [
                Target(
                    "minimal declare",
                    minimal_declare,
                    "/v1/media",
                    "",
                    (hello_create,),
                    declares=True,
                    token=token["device"],
                ),
                Target(
                    "create_media",
                    create,
                    "/v1/media",
                    "",
                    ("minimal declare", hello_create),
                    declares=True,
                    token=token["device"],
                ),
                Target(
                    "minimal gallery",
                    minimal_list,
                    gallery,
                    user_get,
                    (hello_list,),
                    token=token["user"],
                ),
                Target(
                    "list gallery",
                    listing,
                    gallery,
                    user_get,
                    ("minimal gallery", hello_list),
                    token=token["user"],
                ),
                Target(
                    "list device page",
                    listing,
                    f"/v1/devices/{BENCH_DEVICE}/media?limit=50",
                    user_get,
                    (hello_list,),
                    token=token["user"],
                ),
            ]
            _first_answers(targets, token)
            for target in targets:  # a short warm-up under load
                measure(target, 8, 1, backend_pids)
                target.runs.clear()
                target.cpu_ms.clear()
                target.backend_ms.clear()
            print(
                f"wrk -t1 --latency, {args.seconds:g} s per run, {args.rounds} rounds; "
                f"create_media THREADS={create_threads}, list_media THREADS={list_threads}, "
                f"pools sized to THREADS; functions from {root}"
                f"{'; create_media with ' + ' '.join(args.create_env) if args.create_env else ''}; "
                f"{machine_load()} at start"
            )
            measured_from = time.time()
            for round_index in range(args.rounds):
                for count in connections:
                    # every other round in reverse, so drifting load falls on both sides alike
                    for target in targets[:: -1 if round_index % 2 else 1]:
                        run = measure(target, count, args.seconds, backend_pids)
                        if run.notes:
                            print(f"  round {round_index + 1} {target.name} c={count}: {run.notes}")
            opened = connections_opened_since(stack.env["DATABASE_URL"], measured_from)
            if args.profile:
                for target in targets:
                    if target.token:
                        profile(target.server, target, args.profile, args.seconds * 2)
        finally:
            for server in servers:
                server.stop()
    report(targets, connections)
    print(
        f"Postgres connections opened during the measured runs: {opened} "
        "(pools sized to THREADS, no overflow: 0 means no churn)"
    )
    print(f"{machine_load()} at end")


def connections_opened_since(database_url: str, since: float) -> int:
    """Client connections to the database that started after `since` (epoch seconds), not
    counting the one asking."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    "AND backend_start >= to_timestamp(:since) AND pid <> pg_backend_pid()"
                ),
                {"since": since},
            ).scalar()
    finally:
        engine.dispose()
    return int(found or 0)


if __name__ == "__main__":
    main()
