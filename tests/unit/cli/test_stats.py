"""`mediactl admin stats` counts the events the functions log, as Cloud Logging lines."""

from __future__ import annotations

import logging

from cli.stats import summarize
from common.core import context
from common.observe.logging import CloudLoggingFormatter


def line(event: str, **fields: object) -> str:
    record = logging.LogRecord("common.events.metrics", logging.INFO, "x", 1, event, (), None)
    for key, value in {"event": event, **fields}.items():
        setattr(record, key, value)
    return CloudLoggingFormatter(project="p", function="finalize_upload").format(record)


def test_events_are_counted_by_label_and_bytes_summed() -> None:
    context.start("0" * 31 + "1", media_id="med_x")
    lines = [
        line("upload.verified", size_bytes=1000, media_id="med_a"),
        line("upload.verified", size_bytes=234, media_id="med_b"),
        line("upload.rejected", reason_code="sha256_mismatch"),
        line("upload.rejected", reason_code="size_mismatch"),
        line("upload.rejected", reason_code="sha256_mismatch"),
        line("quota.refused", reason_code="quota_media_per_day"),
        line("delivery.dead_lettered", subscription="process-media"),
        "INFO werkzeug 127.0.0.1 - - GET / 200",  # not JSON: skipped
        '{"severity":"INFO","message":"no event"}',
    ]
    stats = summarize(lines)
    assert stats.bytes_uploaded == 1234
    assert stats.counts == {
        "upload.verified": 2,
        "upload.rejected": 3,
        "quota.refused": 1,
        "delivery.dead_lettered": 1,
    }
    assert stats.by_label["upload.rejected"] == {"sha256_mismatch": 2, "size_mismatch": 1}
    assert stats.as_json()["by_label"]["delivery.dead_lettered"] == {"process-media": 1}
    assert '"logging.googleapis.com/trace":"projects/p/traces/' in lines[0]
