"""Structured logs: one JSON object per line on stdout, in Cloud Logging's format.

Each line has `severity`, `message`, `time`, `logger`, `logging.googleapis.com/trace`
(`projects/<project>/traces/<id>`) when a trace is current, `logging.googleapis.com/labels` (the
current `media_id`, `job_id`, `device_id`, the function) and, for events, the event's fields at the
top level (`event`, `size_bytes`, `reason_code`, ...): Cloud Logging turns them into
`jsonPayload.*`, which the log-based metrics of terraform/monitoring.tf count
(https://cloud.google.com/logging/docs/structured-logging). No client library is needed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from common.core import context

TRACE_KEY = "logging.googleapis.com/trace"
LABELS_KEY = "logging.googleapis.com/labels"
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class CloudLoggingFormatter(logging.Formatter):
    """Formats records as Cloud Logging structured JSON (see the module docstring)."""

    def __init__(self, project: str | None = None, function: str | None = None) -> None:
        super().__init__()
        self._project = project
        self._function = function

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line."""
        line: dict[str, Any] = {
            "severity": "WARNING" if record.levelname == "WARN" else record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "logger": record.name,
        }
        if record.exc_info:
            line["message"] += "\n" + self.formatException(record.exc_info)
        fields = {
            k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")
        }
        line.update(fields)
        trace = context.trace_id()
        if trace and self._project:
            line[TRACE_KEY] = f"projects/{self._project}/traces/{trace}"
        elif trace:
            line["trace_id"] = trace
        labels = context.labels()
        if self._function:
            labels["function"] = self._function
        if labels:
            line[LABELS_KEY] = labels
        return json.dumps(line, default=str, separators=(",", ":"))


def configure(level: int = logging.INFO) -> None:
    """Send every log record to stdout as Cloud Logging JSON (idempotent).

    The project comes from `GOOGLE_CLOUD_PROJECT`, the function from functions-framework's
    `FUNCTION_TARGET`.
    """
    root = logging.getLogger()
    if any(isinstance(h.formatter, CloudLoggingFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        CloudLoggingFormatter(
            os.environ.get("GOOGLE_CLOUD_PROJECT"), os.environ.get("FUNCTION_TARGET")
        )
    )
    root.handlers = [handler]
    root.setLevel(level)
