"""The event listing's query plans on 10 million events: a user's events of a day (and each
filter) is an index range scan per owned device, never a scan of the table.

Starts a private Postgres (the local stack's), applies the migrations, inserts `--events` events
(default 10,000,000) over 1,000 devices of 4 cameras and a year (about 27 a day per device; a
tenth reviewed; labels person, car, dog, cat), their recordings (one per 100 events), then prints
`EXPLAIN (ANALYZE, BUFFERS)` of the first page `GET /v1/events` runs for a user owning 5 devices
(`common.media.events.listing`, the statement the API executes, values bound) for each case,
with the whole plan of the day's listing.

    .venv/bin/python bench/explain_events.py [--events 10000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED_MEDIA = """
INSERT INTO media_objects (id, device_id, camera_id, message_id, captured_at, media_type,
    mime_type, kind, size_bytes, sha256, md5, request_hash, bucket, object_name, storage_uri,
    status, created_by)
SELECT 'med_' || lpad(to_hex(m), 26, '0'), 'dev-' || mod(m, 1000), 'cam-' || mod(m / 1000, 4),
    'msg-' || m, timestamptz '2026-01-01' + (m * 315 || ' seconds')::interval, 'video',
    'video/mp4', 'upload', 1000, '', '', '', 'b', 'o/' || m, 'gs://b/o/' || m, 'processed', 'bench'
FROM generate_series(0, :media - 1) AS m
"""
# Event n is on device n mod 1000 (every device has one every 3,150 s: ~27 a day), camera
# (n / 1000) mod 4, recording n / 100 (the foreign key; which device that recording is of does not
# matter to the plans); starts 3.15 s apart over the year.
SEED_EVENTS = """
INSERT INTO events (id, media_id, track_id, device_id, camera_id, label, start_at, end_at,
    best_score, best_media_id, best_track_id, segments, reviewed_at, reviewed_by)
SELECT 'evt_' || lpad(to_hex(n), 26, '0'), 'med_' || lpad(to_hex(n / 100), 26, '0'),
    mod(n, 100) + 1, 'dev-' || mod(n, 1000), 'cam-' || mod(n / 1000, 4),
    (ARRAY['person', 'person', 'car', 'dog', 'cat'])[mod(n, 5) + 1],
    timestamptz '2026-01-01' + (n * 3.15 || ' seconds')::interval,
    timestamptz '2026-01-01' + (n * 3.15 + 12 || ' seconds')::interval,
    0.3 + mod(n, 70) / 100.0, 'med_' || lpad(to_hex(n / 100), 26, '0'), mod(n, 100) + 1, 1,
    CASE WHEN mod(n, 10) = 0 THEN timestamptz '2026-06-01' END,
    CASE WHEN mod(n, 10) = 0 THEN 'user:bench' END
FROM generate_series(0, :events - 1) AS n
"""
OWNERS = """
INSERT INTO device_owners (user_id, device_id)
    SELECT 'user-1', 'dev-' || d FROM generate_series(0, 4) AS d
"""

DAY = {
    "start_after": datetime(2026, 7, 1, tzinfo=UTC),
    "start_before": datetime(2026, 7, 2, tzinfo=UTC),
}
CASES: list[tuple[str, dict[str, Any]]] = [
    ("a day", DAY),
    ("newest, no filter", {}),
    ("a day + camera", {**DAY, "camera_id": "cam-1"}),
    ("a day + label", {**DAY, "label": "dog"}),
    ("unreviewed", {"reviewed": False}),
    ("a day + min score + unreviewed", {**DAY, "min_score": 0.9, "reviewed": False}),
    ("one device, a day", {**DAY, "device_id": "dev-3"}),
]


def main() -> int:
    """Seed, then print the plans."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    from sqlalchemy import create_engine, text

    from emulators import postgres

    workdir = Path(tempfile.mkdtemp(prefix="explain-events-"))
    proc, url, cluster = postgres.start_postgres(workdir)
    try:
        (workdir / "logs").mkdir(exist_ok=True)
        postgres.run_migrations(
            ROOT, {**os.environ, "DATABASE_URL": url}, workdir / "logs" / "m.log"
        )
        engine = create_engine(url)
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text(SEED_MEDIA), {"media": max(1, args.events // 100)})
            connection.execute(text(SEED_EVENTS), {"events": args.events})
            connection.execute(text(OWNERS))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE events"))
            connection.execute(text("VACUUM ANALYZE media_objects"))
            size = connection.execute(
                text("SELECT pg_size_pretty(pg_total_relation_size('events'))")
            ).scalar()
        print(
            f"seeded {args.events:,} events ({size} with indexes) in "
            f"{time.monotonic() - started:.0f} s\n"
        )
        _explain(engine)
        engine.dispose()
    finally:
        proc.stop()
        postgres.remove_cluster(cluster)
    return 0


def _sql(filters: Any, owner: str) -> str:
    from sqlalchemy.dialects import postgresql

    from common.media.events import listing

    params: dict[str, Any] = {"rows": 51}
    if owner == "user":
        params["user_id"] = "user-1"
    else:
        params["device_ids"] = [filters.device_id]
    for name in ("device_id", "camera_id", "label", "start_after", "start_before", "min_score"):
        if getattr(filters, name) is not None:
            params[name] = getattr(filters, name)
    statement = listing._statement(owner, filters, False).params(**params)  # type: ignore[arg-type]
    return str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def _explain(engine: Any) -> None:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from common.media.events.listing import EventFilters

    print(f"{'case':<32} {'indexes scanned':<70} {'rows':>5} {'ms':>8}")
    for name, values in CASES:
        filters = EventFilters(**values)
        owner = "devices" if filters.device_id else "user"
        sql = _sql(filters, owner)
        with Session(engine) as session:
            plan = [row[0] for row in session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql))]
        scans = sorted(
            {line.split(" using ")[1].split()[0] for line in plan if " using " in line}
            | {
                "Seq Scan on " + line.split(" on ")[1].split()[0]
                for line in plan
                if "Seq Scan" in line
            }
        )
        timing = next((line for line in plan if line.startswith("Execution Time")), "")
        rows = next((line for line in plan if "actual time" in line), "")
        returned = rows.split("rows=")[-1].split()[0] if "rows=" in rows else "?"
        print(f"{name:<32} {'; '.join(scans)[:70]:<70} {returned:>5} {timing.split()[-2]:>8}")
        if name == "a day":
            print("\n".join("    " + line for line in plan))
            print()


if __name__ == "__main__":
    sys.exit(main())
