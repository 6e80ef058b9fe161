"""The gallery's query plans on a million media rows: every filter is an index range scan.

Starts a private Postgres (the local stack's), applies the migrations, inserts `--rows` media
(default 1,000,000) over 200 devices of 4 cameras, a tenth with labels, a twentieth clips with
parents, then prints `EXPLAIN (ANALYZE, BUFFERS)` of page 1 of the gallery for a user owning 5
devices, for each filter alone and for a few combinations, with the plan's top node and the time.

    .venv/bin/python bench/explain_gallery.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = """
INSERT INTO media_objects (id, device_id, camera_id, message_id, captured_at, media_type,
    mime_type, kind, parent_id, size_bytes, sha256, md5, request_hash, bucket, object_name,
    storage_uri, status, labels, created_by)
SELECT
    'med_' || lpad(to_hex(n), 26, '0'),
    'dev-' || mod(n, 200),
    'cam-' || mod(n, 4),
    'msg-' || n,
    timestamptz '2026-01-01' + (n || ' seconds')::interval,
    CASE WHEN mod(n, 3) = 0 THEN 'video' ELSE 'image' END,
    CASE WHEN mod(n, 3) = 0 THEN 'video/mp4' ELSE 'image/jpeg' END,
    CASE WHEN mod(n, 20) = 0 THEN 'clip' WHEN mod(n, 20) = 1 THEN 'snapshot' ELSE 'upload' END,
    NULL, 1000, '', '', '', 'b', 'o/' || n, 'gs://b/o/' || n,
    CASE WHEN mod(n, 50) = 0 THEN 'failed' ELSE 'processed' END,
    CASE WHEN mod(n, 10) = 0 THEN '["porch"]'::jsonb ELSE '[]'::jsonb END,
    'bench'
FROM generate_series(1, :rows) AS n;
UPDATE media_objects SET parent_id = 'med_' || lpad(to_hex(1000), 26, '0')
    WHERE kind = 'clip' AND device_id = 'dev-0';
INSERT INTO device_owners (user_id, device_id)
    SELECT 'user-1', 'dev-' || d FROM generate_series(0, 4) AS d;
ANALYZE;
"""

CASES: list[tuple[str, dict[str, Any]]] = [
    ("no filter", {}),
    ("device_id", {"device_id": "dev-3"}),
    ("camera_id", {"camera_id": "cam-1"}),
    ("device_id + camera_id", {"device_id": "dev-3", "camera_id": "cam-3"}),
    ("kind", {"kind": "clip"}),
    ("media_type", {"media_type": "video"}),
    ("status", {"status": "failed"}),
    ("label", {"label": "porch"}),
    (
        "captured window",
        {
            "captured_after": datetime(2026, 1, 5, tzinfo=UTC),
            "captured_before": datetime(2026, 1, 6, tzinfo=UTC),
        },
    ),
    ("parent_id", {"parent_id": "med_" + f"{1000:x}".rjust(26, "0")}),
    (
        "kind + status + window",
        {
            "kind": "upload",
            "status": "processed",
            "captured_before": datetime(2026, 1, 3, tzinfo=UTC),
        },
    ),
]


def main() -> int:
    """Seed, then print the plans."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    from sqlalchemy import create_engine, text

    from emulators import postgres
    from emulators.ports import plan_for

    workdir = Path(tempfile.mkdtemp(prefix="explain-gallery-"))
    cluster = postgres.init_cluster(workdir)
    port = plan_for(workdir).of("postgres")
    proc = postgres.serve(cluster, port)
    url = postgres.create_database(port)
    try:
        (workdir / "logs").mkdir(exist_ok=True)
        postgres.run_migrations(
            ROOT, {**os.environ, "DATABASE_URL": url}, workdir / "logs" / "m.log"
        )
        engine = create_engine(url)
        with engine.begin() as connection:
            for statement in SEED.split(";\n"):
                if statement.strip():
                    connection.execute(
                        text(statement), {"rows": args.rows} if ":rows" in statement else {}
                    )
        _explain(engine)
        engine.dispose()
    finally:
        proc.stop()
        postgres.remove_cluster(cluster.root)
    return 0


def _explain(engine: Any) -> None:
    from sqlalchemy import select, text
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.orm import Session

    from common.db.models import DeviceOwner, MediaObject
    from common.media import gallery

    print(f"{'filters':<26} {'top plan node':<60} {'ms':>8}")
    for name, values in CASES:
        filters = gallery.Filters(**values)
        query = select(MediaObject.id)
        owned = select(DeviceOwner.device_id).where(DeviceOwner.user_id == "user-1")
        query = query.where(MediaObject.device_id.in_(owned))
        query = gallery._filtered(query, filters)
        query = query.order_by(MediaObject.captured_at.desc(), MediaObject.id.desc()).limit(51)
        sql = str(
            query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        )
        with Session(engine) as session:
            plan = [row[0] for row in session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql))]
        scans = [line.strip() for line in plan if "Scan" in line]
        timing = next((line for line in plan if line.startswith("Execution Time")), "")
        print(
            f"{name:<26} {scans[0][:60] if scans else plan[0][:60]:<60} {timing.split()[-2] if timing else '?':>8}"
        )
        for line in scans[1:3]:
            print(f"{'':<26}   {line[:80]}")


if __name__ == "__main__":
    sys.exit(main())
