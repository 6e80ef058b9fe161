"""Open event streams against the API's capacity: `GET /v1/media` latency with 1,000 open
Server-Sent Events streams, against the same with none, side by side.

    python bench/bench_streams.py [--streams 1000] [--requests 200] [--rounds 2]

A private stack of its own (`.stack/bench-streams`: the functions, the stream service and the
gateway, as clients reach them: every request goes through the API's one base URL). Its data:
`--devices` cameras with media, `--streams` minus 100 users who each own one camera (their
galleries follow `GET /v1/events/stream`) and 100 per-media streams of those cameras' media; a
writer changes one media's realtime document 20 times a second, so events flow to the open
streams throughout (each change reaches every stream following that camera). Another user's
`GET /v1/media` is timed, one request after the other, in rounds: none open, all open, none,
all... The streams are held by a client process of their own (aiohttp, one event loop); the
bench prints p50 / p99 of each phase, the ratio of the open phases' p99 to the closed ones'
(goal: at most 1.5), the events the streams received, and the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))

PER_MEDIA_STREAMS = 100
WRITES_PER_SECOND = 20
GOAL_RATIO = 1.5


# --------------------------------------------------------------------------- the stream client
async def hold(base: str, paths: list[tuple[str, str]], ready_file: Path) -> None:
    """Open every (token, path) stream, report when all answered, read until stdin closes."""
    from aiohttp import ClientSession, ClientTimeout, TCPConnector

    counts = {"open": 0, "events": 0, "failed": 0, "live": 0}

    async def one(session: ClientSession, token: str, path: str) -> None:
        try:
            async with session.get(
                base + path, headers={"Authorization": f"Bearer {token}"}
            ) as answer:
                if answer.status != 200:
                    counts["failed"] += 1
                    return
                counts["open"] += 1
                async for line in answer.content:
                    if line.startswith(b"data:"):
                        counts["events"] += 1
                    elif line.startswith(b"event: media") or line.startswith(b"event: progress"):
                        counts["live"] += 1
        except Exception:
            counts["failed"] += 1

    timeout = ClientTimeout(total=None, sock_connect=60, sock_read=None)
    async with ClientSession(connector=TCPConnector(limit=0), timeout=timeout) as session:
        tasks = [asyncio.create_task(one(session, t, p)) for t, p in paths]
        while counts["open"] + counts["failed"] < len(paths):
            await asyncio.sleep(0.2)
        ready_file.write_text(json.dumps(counts))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the bench closes our stdin
        ready_file.write_text(json.dumps(counts))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def client_main(spec_file: Path, ready_file: Path) -> int:
    spec = json.loads(spec_file.read_text())
    asyncio.run(hold(spec["base"], [tuple(p) for p in spec["streams"]], ready_file))
    return 0


# -------------------------------------------------------------------------------- the bench
def seed(stack_env: dict[str, str], devices: int, users: int) -> list[tuple[str, str]]:
    """Cameras with a few declared media each, users owning one camera each; returns each
    media id with its camera."""
    from sqlalchemy import create_engine, text

    from cli.client import MediaApi
    from common.api.auth import mint_token

    cameras = [f"bench-stream-cam-{i:03d}" for i in range(devices)]
    media: list[tuple[str, str]] = []
    for index, camera in enumerate(cameras):
        api = MediaApi(mint_token(camera, "device"))
        for n in range(max(PER_MEDIA_STREAMS // devices + 1, 2)):
            body = {
                "camera_id": "front",
                "message_id": f"bench-{camera}-{n}",
                "captured_at": datetime.now(UTC).isoformat(),
                "mime_type": "image/jpeg",
                "size_bytes": 1000 + index,
                "sha256": uuid.uuid4().hex * 2,
                "md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
            }
            answer = api.session.post(f"{api.base_url}/v1/media", json=body, timeout=60)
            answer.raise_for_status()
            media.append((answer.json()["id"], camera))
    engine = create_engine(stack_env["DATABASE_URL"])
    with engine.begin() as connection:
        for user in range(users):
            connection.execute(
                text("insert into device_owners (user_id, device_id) values (:u, :d)"),
                {"u": f"bench-viewer-{user:04d}", "d": cameras[user % devices]},
            )
    engine.dispose()
    return media


def timed_listing(base: str, token: str, count: int) -> list[float]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        answer = session.get(f"{base}/v1/media", params={"limit": 24}, timeout=120)
        samples.append(time.perf_counter() - began)
        answer.raise_for_status()
    session.close()
    return samples


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


class Writer:
    """Changes the media's realtime documents about `WRITES_PER_SECOND` times a second, as fast
    as the emulator takes them, from one thread (the emulator's listeners miss changes of
    concurrent commits: emulators/README.md, Firestore)."""

    THREADS = 1

    def __init__(self, media: list[tuple[str, str]]) -> None:
        self.media = media
        self.stop = threading.Event()
        self.writes = 0
        self.began = time.monotonic()
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(self.THREADS)
        ]

    def start(self) -> None:
        self.began = time.monotonic()
        for thread in self.threads:
            thread.start()

    def run(self, offset: int) -> None:
        from common.media.mirror import write_media_status

        index = offset
        while not self.stop.wait(self.THREADS / WRITES_PER_SECOND):
            media_id, camera = self.media[index % len(self.media)]
            write_media_status(
                media_id,
                status="processing",
                reason=None,
                device_id=camera,
                progress=(index % 10) / 10,
            )
            index += self.THREADS
            with self._lock:
                self.writes += 1

    def close(self) -> float:
        """Stop; the writes per second it made."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        return self.writes / max(time.monotonic() - self.began, 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--client", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client_main(*args.client)

    from _stack import EXTERNAL, machine_load

    from emulators.stack import LocalStack

    print(f"start: {machine_load()}", flush=True)
    workdir = ROOT / ".stack" / "bench-streams"
    base_env = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
    with LocalStack(workdir, run_schedules=False, base_env=base_env) as stack:
        saved = dict(os.environ)
        os.environ.update(stack.env)
        try:
            return run(args, stack.env, stack.api_url, workdir)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def run(args: argparse.Namespace, env: dict[str, str], base: str, workdir: Path) -> int:
    """Seed, then time the listing with the streams closed and open, in rounds."""
    from _stack import machine_load

    from common.api.auth import mint_token

    users = args.streams - PER_MEDIA_STREAMS
    media = seed(env, args.devices, users)
    viewers = [
        (mint_token(f"bench-viewer-{u:04d}", "user"), "/v1/events/stream") for u in range(users)
    ]
    followers = [
        (mint_token(camera, "device"), f"/v1/media/{media_id}/events")
        for media_id, camera in media[:PER_MEDIA_STREAMS]
    ]
    spec = workdir / "bench-streams-clients.json"
    spec.write_text(json.dumps({"base": base, "streams": viewers + followers}))
    reader = mint_token("bench-other-user", "user")  # another user: their own (empty) gallery
    writer = Writer(media)
    writer.start()
    timed_listing(base, reader, 20)  # warm the path
    phases: dict[str, list[list[float]]] = {"none open": [], "all open": []}
    delivered = []
    try:
        for round_no in range(args.rounds):
            phases["none open"].append(timed_listing(base, reader, args.requests))
            ready = workdir / f"bench-streams-ready-{round_no}.json"
            ready.unlink(missing_ok=True)
            client = subprocess.Popen(
                [sys.executable, __file__, "--client", str(spec), str(ready)],
                stdin=subprocess.PIPE,
                cwd=ROOT,
            )
            opened = time.monotonic()
            while not ready.exists():
                if client.poll() is not None:
                    raise SystemExit("the stream client died")
                time.sleep(0.2)
            counts = json.loads(ready.read_text())
            print(
                f"round {round_no + 1}: {counts['open']} streams open "
                f"({counts['failed']} refused) in {time.monotonic() - opened:.1f} s",
                flush=True,
            )
            phases["all open"].append(timed_listing(base, reader, args.requests))
            assert client.stdin is not None
            client.stdin.close()
            client.wait(timeout=120)
            delivered.append(json.loads(ready.read_text()))
    finally:
        write_rate = writer.close()
    print(f"\nGET /v1/media through the gateway, {args.requests} requests a phase, one at a time")
    print(f"{'phase':<12} {'round':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for name, rounds in phases.items():
        for index, samples in enumerate(rounds):
            print(
                f"{name:<12} {index + 1:>5} {statistics.median(samples) * 1000:>8.1f} "
                f"{p99(samples) * 1000:>8.1f}"
            )
    closed = statistics.median(p99(s) for s in phases["none open"])
    held = statistics.median(p99(s) for s in phases["all open"])
    ratio = held / closed
    p50_ratio = statistics.median(
        statistics.median(s) for s in phases["all open"]
    ) / statistics.median(statistics.median(s) for s in phases["none open"])
    print(
        f"\np99 with {args.streams} open streams / p99 with none: {ratio:.2f} "
        f"(goal <= {GOAL_RATIO}: {'met' if ratio <= GOAL_RATIO else 'NOT met'}); p50 ratio {p50_ratio:.2f}"
    )
    live = [d["live"] for d in delivered]
    print(
        f"live events (media, progress) the open streams received per round: {live}; "
        f"mirror writes: {writer.writes} ({write_rate:.1f}/s, the emulator's pace under this load)"
    )
    print(f"end: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
