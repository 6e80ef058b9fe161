"""HTTP throughput of create_media and list_media against a bare functions-framework hello on
the same server settings, in the same run (goals in bench/README.md).

    python bench/bench_http.py [--rounds 3] [--seconds 5] [--connections 8,32] [--profile DIR]
                               [--root DIR]

Starts a private local stack (Postgres, fake-gcs-server, Pub/Sub and Firestore emulators; no
functions), seeds 60 processed media with thumbnails for one device owned by one user, and starts
functions-framework servers as the stack does, with the threads Terraform deploys
(`THREADS` = `max_request_concurrency` of `terraform/locals.tf`: create_media 4, list_media 8) and
a pool of as many connections with no overflow; the baseline is `bench/hello/main.py` on the same
settings (one server per thread count). The load is `wrk` (apt; `scripts/install_system_deps.sh`)
with one thread and keep-alive connections, in its own process:

- hello (THREADS=4 and =8): `GET /`;
- create_media: `POST /v1/media`, a new declaration each request (device token): a row, its
  history, the Firestore mirror write and a V4-signed upload URL;
- create_media without the mirror (`STATUS_MIRROR_ENABLED=false`): the same minus the Firestore
  write, whose emulator (one Node process) caps the first at its own write rate here;
- list_media device page: `GET /v1/devices/{id}/media?limit=50` (user token, the device's owner);
- list_media gallery: `GET /v1/media?limit=50` (user token).

Each round runs every target at each concurrency for `--seconds`; the ratio of a round is the
target's requests/s over its hello's in that round. Prints req/s and the ratio as min / median of
the rounds, and CPU time per request (median, from /proc): the server's (user + system of the
arbiter and its worker), Postgres's (`pg`, the postmaster and its backends) and the Firestore
emulator's (`fs`), which share the machine's cores with it. Goals: create_media >= 0.5x, list
pages >= 0.4x, at 8 and 32 connections. Any non-2xx answer or socket error is reported, and so
is the number of Postgres connections opened during the measured runs (churn). `--profile DIR`
also records py-spy samples of each function under load (collapsed stacks; py-spy from PyPI).
`--root DIR` serves the functions and `common` of another checkout (an older commit, for a
before/after comparison) against the same stack and baseline.
"""

from __future__ import annotations

import argparse
import json
import re
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

GOALS = {
    "create_media": 0.5,
    "create, no mirror": 0.5,
    "list device page": 0.4,
    "list gallery": 0.4,
}

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
  return wrk.format("POST", "/v1/media", nil, body)
end
"""


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
class Target:
    """One thing under load: a path on a server, the wrk script, and its baseline's name."""

    name: str
    server: Server
    path: str
    script: str
    baseline: str | None
    rates: dict[int, list[float]] = field(default_factory=dict)
    cpu_ms: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    """The server's user and system CPU time per request (ms) in each run."""
    backend_ms: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    """Postgres's and the Firestore emulator's CPU time per request (ms) in each run."""


def wrk(url: str, script: str, connections: int, seconds: float) -> tuple[float, str]:
    """Requests/s of one wrk run, and a note of any errors ("" when none)."""
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
    if rate is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    notes = []
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        notes.append(f"{found.group(1)} non-2xx")
    if found := re.search(r"Socket errors: (.*)", out):
        notes.append(f"socket errors {found.group(1)}")
    return float(rate.group(1)), ", ".join(notes)


def _check(name: str, status: int, body: bytes) -> None:
    if status >= 300:
        raise SystemExit(f"{name}: {status} {body[:300]!r}")


def profile(server: Server, target: Target, out_dir: Path, seconds: float) -> None:
    """py-spy samples of the thread holding the GIL (collapsed stacks, `--format raw`: one line
    per stack and its count; any
    flame-graph tool reads them) of `server` while wrk loads `target` at 8 connections."""
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
    wrk(server.url + target.path, target.script, 8, seconds)
    spy.wait()
    print(f"  profile of {target.name}: {svg}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", default="8,32")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--root", type=Path, default=ROOT)
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
        try:
            hello_servers = {
                threads: spawn_function(
                    f"hello-{threads}", HELLO_SOURCE, "hello", env, threads=threads, log_dir=logs
                )
                for threads in sorted({create_threads, list_threads})
            }
            create = spawn_function(
                "create_media",
                function_source("create_media", root),
                "create_media",
                env,
                threads=create_threads,
                log_dir=logs,
            )
            unmirrored = spawn_function(
                "create_media-no-mirror",
                function_source("create_media", root),
                "create_media",
                {**env, "STATUS_MIRROR_ENABLED": "false"},
                threads=create_threads,
                log_dir=logs,
            )
            listing = spawn_function(
                "list_media",
                function_source("list_media", root),
                "list_media",
                env,
                threads=list_threads,
                log_dir=logs,
            )
            servers = [*hello_servers.values(), create, unmirrored, listing]
            for server in servers:
                wait_ready(server)
            template = json.dumps(json.dumps(declaration("MESSAGE_ID")))
            prefix = uuid.uuid4().hex[:12]
            create_script = _CREATE_SCRIPT.format(
                prefix=prefix, template=template, token=token["device"]
            )
            user_get = _GET_SCRIPT.format(token=token["user"])
            targets = [
                Target(f"hello (THREADS={t})", s, "/", "", None) for t, s in hello_servers.items()
            ]
            targets += [
                Target(
                    "create_media",
                    create,
                    "/v1/media",
                    create_script,
                    f"hello (THREADS={create_threads})",
                ),
                Target(
                    "create, no mirror",
                    unmirrored,
                    "/v1/media",
                    create_script.replace(prefix, prefix + "n"),
                    f"hello (THREADS={create_threads})",
                ),
                Target(
                    "list device page",
                    listing,
                    f"/v1/devices/{BENCH_DEVICE}/media?limit=50",
                    user_get,
                    f"hello (THREADS={list_threads})",
                ),
                Target(
                    "list gallery",
                    listing,
                    "/v1/media?limit=50",
                    user_get,
                    f"hello (THREADS={list_threads})",
                ),
            ]
            # One real answer of each, checked, then a short warm-up under load.
            status, body = request(
                create.url + "/v1/media",
                method="POST",
                body=json.dumps(declaration(f"check-{uuid.uuid4().hex}")).encode(),
                headers={
                    "Authorization": f"Bearer {token['device']}",
                    "Content-Type": "application/json",
                },
            )
            _check("create_media", status, body)
            for target in targets[2:]:
                if target.name.startswith("list"):
                    status, body = request(
                        target.server.url + target.path,
                        headers={"Authorization": f"Bearer {token['user']}"},
                    )
                    _check(target.name, status, body)
                    items = json.loads(body)["items"]
                    if len(items) != 50 or not items[0]["thumbnail_url"]:
                        raise SystemExit(f"{target.name}: {len(items)} items {body[:300]!r}")
            for target in targets:
                wrk(target.server.url + target.path, target.script, 8, 1)
            print(
                f"wrk -t1, {args.seconds:g} s per run, {args.rounds} rounds; "
                f"create_media THREADS={create_threads}, list_media THREADS={list_threads}, "
                f"pools sized to THREADS; functions from {root}; {machine_load()} at start"
            )
            measured_from = time.time()
            for round_index in range(args.rounds):
                for count in connections:
                    for target in targets:
                        cpu_before = target.server.cpu_seconds()
                        backends_before = [sum(tree_cpu_seconds(p)) for p in backend_pids]
                        rate, notes = wrk(
                            target.server.url + target.path, target.script, count, args.seconds
                        )
                        cpu_after = target.server.cpu_seconds()
                        backends_after = [sum(tree_cpu_seconds(p)) for p in backend_pids]
                        done = max(1.0, rate * args.seconds)
                        db_ms, fs_ms = (
                            1000 * (a - b) / done
                            for a, b in zip(backends_after, backends_before, strict=True)
                        )
                        target.backend_ms.setdefault(count, []).append((db_ms, fs_ms))
                        target.rates.setdefault(count, []).append(rate)
                        target.cpu_ms.setdefault(count, []).append(
                            (
                                1000 * (cpu_after[0] - cpu_before[0]) / done,
                                1000 * (cpu_after[1] - cpu_before[1]) / done,
                            )
                        )
                        if notes:
                            print(f"  round {round_index + 1} {target.name} c={count}: {notes}")
            opened = connections_opened_since(stack.env["DATABASE_URL"], measured_from)
            if args.profile:
                for target in targets[2:]:
                    profile(target.server, target, args.profile, args.seconds * 2)
        finally:
            for server in servers:
                server.stop()
    by_name = {t.name: t for t in targets}
    print(
        f"{'target':<22}{'conns':>6}{'req/s min/median':>20}{'CPU ms/req usr+sys':>20}"
        f"{'pg':>6}{'fs':>6}{'x hello min/median':>22}  goal"
    )
    for count in connections:
        for target in targets:
            rates = target.rates[count]
            line = (
                f"{target.name:<22}{count:>6}{min(rates):>10.0f} /{statistics.median(rates):>7.0f}"
                f"{statistics.median(u for u, _ in target.cpu_ms[count]):>12.2f}"
                f"+{statistics.median(s for _, s in target.cpu_ms[count]):<7.2f}"
                f"{statistics.median(d for d, _ in target.backend_ms[count]):>6.2f}"
                f"{statistics.median(f for _, f in target.backend_ms[count]):>6.2f}"
            )
            if target.baseline:
                base = by_name[target.baseline].rates[count]
                ratios = [r / b for r, b in zip(rates, base, strict=True)]
                goal = GOALS[target.name]
                verdict = "ok" if min(ratios) >= goal else "below"
                line += (
                    f"{min(ratios):>12.3f} /{statistics.median(ratios):>7.3f}  >= {goal} {verdict}"
                )
            print(line)
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
