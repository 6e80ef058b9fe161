"""`mediactl admin stats`: the log-based metrics of terraform/monitoring.tf, summed locally.

Reads the functions' JSON log lines (Cloud Logging's structured format, `common/observe/logging.py`)
and counts the same events the Terraform metrics count: `upload.verified` (and its bytes),
`upload.rejected` by `reason_code`, `dedupe.hit`, `quota.refused` by `reason_code`,
`ingest.fetch_failed` by `reason_code`, `delivery.dead_lettered` by `subscription`, `share.opened`.
Lines that are not JSON (other processes' logs) are skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BY_LABEL = {
    "upload.rejected": "reason_code",
    "quota.refused": "reason_code",
    "ingest.fetch_failed": "reason_code",
    "delivery.dead_lettered": "subscription",
}


@dataclass
class Stats:
    """Event counts (and the breakdown by label), plus the bytes of verified uploads."""

    counts: Counter[str] = field(default_factory=Counter)
    by_label: dict[str, Counter[str]] = field(default_factory=dict)
    bytes_uploaded: int = 0
    lines: int = 0

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "lines": self.lines,
            "bytes_uploaded": self.bytes_uploaded,
            "events": dict(sorted(self.counts.items())),
            "by_label": {k: dict(sorted(v.items())) for k, v in sorted(self.by_label.items())},
        }


def summarize(lines: Iterable[str]) -> Stats:
    """Count the events of these log lines."""
    stats = Stats()
    for line in lines:
        stats.lines += 1
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        event = record.get("event") if isinstance(record, dict) else None
        if not isinstance(event, str):
            continue
        stats.counts[event] += 1
        if event == "upload.verified" and isinstance(record.get("size_bytes"), int):
            stats.bytes_uploaded += record["size_bytes"]
        label = BY_LABEL.get(event)
        if label is not None:
            stats.by_label.setdefault(event, Counter())[str(record.get(label) or "-")] += 1
    return stats


def log_lines(directory: Path) -> Iterable[str]:
    """Every line of the `*.log` files of a directory (the local stack's `logs/`)."""
    for path in sorted(directory.glob("*.log")):
        with path.open(errors="replace") as handle:
            yield from (line.rstrip("\n") for line in handle)
