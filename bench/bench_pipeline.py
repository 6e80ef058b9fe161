"""PUT -> processed for a 1 MP JPEG on the local stack, and the overhead of each hop between
stages, with the time inside the stages beside it.

    python bench/bench_pipeline.py [--rounds 3] [--uploads 10]

Starts the whole local stack as `make stack` does (Postgres, fake-gcs-server on disk, pstest,
the Firestore emulator, the push router, the functions), then, one upload at a time as a camera
would: `POST /v1/media`, the signed PUT of a 1 MP JPEG (scikit-image's astronaut, 1224 x 816,
made distinct per upload), and waits for `processed`. Every time comes from one clock: the PUT's
end is taken here, the stages' from `status_history.at` (Postgres `now()`: the start of each
transition's transaction, which runs the transition's first statement).

- PUT -> processed: the PUT's end to the `processed` row (goal: p50 <= 250 ms);
- hop 1, bucket -> finalize_upload: the PUT's end to `uploaded` (fake-gcs publishes the
  notification, pstest, the router's push, and finalize's first reads before it pins the version);
- verify: `uploaded` -> `verified` (the stream and digest of the bytes);
- hop 2, finalize_upload -> process_media: `verified` -> `processing` (the commit, the mirror
  write, the `media-verified` publish with its 1 ms batching, pstest, the router's push, and
  process_media's claim);
- analyse: `processing` -> `processed` (detection, thumbnail).

Each hop is split at the router's push (its start, from the router's log: `router.log` lines
carry each push's end and duration), matched to uploads by order. Goal: hop
overhead <= 20 ms. Each figure is the p50 of a round's uploads, as
min / median over the rounds (the first upload, a cold start of every function, is left out).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import EXTERNAL, ROOT, declaration, machine_load, request, sample_jpeg

from emulators.stack import LocalStack

HOP_GOAL_MS = 20.0
PROCESSED_GOAL_MS = 250.0
WAIT_SECONDS = 60.0
STAGES = ("uploaded", "verified", "processing", "processed")


def upload(stack: LocalStack, token: str) -> tuple[str, float]:
    """Declare and PUT one JPEG; the media id and the PUT's end (epoch seconds)."""
    data = sample_jpeg(uuid.uuid4().bytes)
    body = json.dumps(declaration(f"pipe-{uuid.uuid4().hex}", data)).encode()
    status, answer = request(
        stack.api_url + "/v1/media",
        method="POST",
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    if status != 201:
        raise SystemExit(f"create_media: {status} {answer[:300]!r}")
    created = json.loads(answer)
    put = urllib.request.Request(
        created["upload"]["url"], data=data, method="PUT", headers=created["upload"]["headers"]
    )
    with urllib.request.urlopen(put, timeout=30) as response:
        response.read()
    return created["id"], time.time()


def stage_times(engine: Any, media_id: str) -> dict[str, float] | None:
    """Epoch seconds of each stage's history row, once the media is processed (None before)."""
    from sqlalchemy import text

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT to_status, at FROM status_history WHERE media_id = :m ORDER BY id"),
            {"m": media_id},
        ).all()
    found: dict[str, datetime] = {}
    for status, at in rows:
        found.setdefault(status, at)
    if "failed" in found or "rejected" in found:
        raise SystemExit(f"media {media_id} ended {list(found)}")
    if "processed" not in found:
        return None
    return {status: found[status].timestamp() for status in STAGES}


def one(stack: LocalStack, token: str, engine: Any) -> dict[str, float]:
    """One upload's figures (ms)."""
    media_id, put_done = upload(stack, token)
    deadline = time.monotonic() + WAIT_SECONDS
    while (times := stage_times(engine, media_id)) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"media {media_id} not processed within {WAIT_SECONDS} s")
        time.sleep(0.02)
    return {
        "put_to_processed": (times["processed"] - put_done) * 1000,
        "hop_bucket_to_finalize": (times["uploaded"] - put_done) * 1000,
        "verify": (times["verified"] - times["uploaded"]) * 1000,
        "hop_finalize_to_process": (times["processing"] - times["verified"]) * 1000,
        "analyse": (times["processed"] - times["processing"]) * 1000,
        "put_done": put_done,
        "verified_at": times["verified"],
    }


_DELIVERY = re.compile(
    r"^(\S+ \S+),(\d{3}) INFO delivery subscription=(\S+) message_id=\S+ attempt=1 "
    r"status=2\d\d ms=(\d+)"
)


def push_starts(log: Path) -> dict[str, list[float]]:
    """When the router began each first-attempt push that succeeded, per subscription, in
    order (epoch seconds; its log line is written at the end, with the push's duration)."""
    starts: dict[str, list[float]] = {}
    for line in log.read_text().splitlines():
        found = _DELIVERY.match(line)
        if found:
            stamp, millis, subscription, duration = found.groups()
            ended = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000
            starts.setdefault(subscription, []).append(ended - int(duration) / 1000)
    return starts


def split_hops(runs: list[dict[str, float]], log: Path, skip: int) -> None:
    """Add each hop's two parts (before the router's push, and from the push to the stage's
    row) to `runs`, matching uploads to pushes by order (uploads run one at a time)."""
    starts = push_starts(log)
    finalize, process = starts.get("finalize-upload", []), starts.get("process-media", [])
    if len(finalize) != skip + len(runs) or len(process) != skip + len(runs):
        return  # a retried or extra push: no one-to-one order to match
    for run, to_finalize, to_process in zip(runs, finalize[skip:], process[skip:], strict=True):
        run["hop1_before_push"] = (to_finalize - run["put_done"]) * 1000
        run["hop1_push_to_row"] = run["hop_bucket_to_finalize"] - run["hop1_before_push"]
        run["hop2_before_push"] = (to_process - run["verified_at"]) * 1000
        run["hop2_push_to_row"] = run["hop_finalize_to_process"] - run["hop2_before_push"]


LABELS = {
    "put_to_processed": f"PUT -> processed (goal p50 <= {PROCESSED_GOAL_MS:.0f} ms)",
    "hop_bucket_to_finalize": f"hop 1: bucket -> finalize_upload (goal <= {HOP_GOAL_MS:.0f})",
    "hop1_before_push": "  PUT end -> push (fake-gcs, pstest, router)",
    "hop1_push_to_row": "  push -> uploaded (finalize's first reads)",
    "verify": "inside finalize: verify",
    "hop_finalize_to_process": f"hop 2: finalize -> process_media (goal <= {HOP_GOAL_MS:.0f})",
    "hop2_before_push": "  verified -> push (mirror, publish, pstest)",
    "hop2_push_to_row": "  push -> processing (process's claim)",
    "analyse": "inside process_media: analyse",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uploads", type=int, default=10)
    args = parser.parse_args()
    import os

    from sqlalchemy import create_engine

    base = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
    stack = LocalStack(ROOT / ".stack" / "bench-pipeline", run_schedules=False, base_env=base)
    with stack:
        os.environ.update(stack.env)
        from common.api.auth import mint_token
        from common.core.settings import get_settings

        get_settings.cache_clear()
        token = mint_token("bench-pipe-01", "device", ttl_seconds=3600)
        engine = create_engine(stack.env["DATABASE_URL"])
        print(f"{machine_load()} at start; warming every function with one upload")
        one(stack, token, engine)
        all_runs = [
            [one(stack, token, engine) for _ in range(args.uploads)] for _ in range(args.rounds)
        ]
        engine.dispose()
    split_hops([r for runs in all_runs for r in runs], stack.workdir / "logs" / "router.log", 1)
    p50s: dict[str, list[float]] = {}
    for runs in all_runs:
        for key in LABELS:
            if all(key in r for r in runs):
                p50s.setdefault(key, []).append(statistics.median(r[key] for r in runs))
    print(f"{args.rounds} rounds of {args.uploads} uploads; p50 of each round, min / median (ms):")
    for key, label in LABELS.items():
        if key not in p50s:
            continue
        values = p50s[key]
        goal = PROCESSED_GOAL_MS if key == "put_to_processed" else HOP_GOAL_MS
        verdict = ""
        if key in ("put_to_processed", "hop_bucket_to_finalize", "hop_finalize_to_process"):
            verdict = "ok" if statistics.median(values) <= goal else "OVER"
        print(f"  {label:<50}{min(values):>8.1f} /{statistics.median(values):>7.1f}  {verdict}")
    print(f"{machine_load()} at end")


if __name__ == "__main__":
    main()
