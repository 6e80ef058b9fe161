"""What the current request or message is about, for logs and for the next hop.

A trace id (W3C `traceparent` or Google's `X-Cloud-Trace-Context` on requests; the `traceparent`
attribute on Pub/Sub messages) and labels (`media_id`, `job_id`, `device_id`), held in context
variables so every log line of one request or delivery carries them, and published messages pass
the trace on (https://www.w3.org/TR/trace-context/; https://cloud.google.com/trace/docs/trace-context).
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from typing import Any

_TRACE: ContextVar[str | None] = ContextVar("trace_id", default=None)
_LABELS: ContextVar[dict[str, str] | None] = ContextVar("labels", default=None)

_TRACEPARENT = re.compile(
    r"^[0-9a-f]{2}-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}$"
)
_CLOUD_TRACE = re.compile(r"^(?P<trace>[0-9a-fA-F]{32})(?:/\d+)?(?:;o=\d)?$")


def trace_from_headers(headers: Any) -> str:
    """The trace id of incoming headers (`traceparent`, else `X-Cloud-Trace-Context`), or a new one.

    Returns:
        32 lowercase hex characters.
    """
    parent = headers.get("traceparent") if headers is not None else None
    if isinstance(parent, str) and (match := _TRACEPARENT.match(parent.strip())):
        return match.group("trace")
    cloud = headers.get("X-Cloud-Trace-Context") if headers is not None else None
    if isinstance(cloud, str) and (match := _CLOUD_TRACE.match(cloud.strip())):
        return match.group("trace").lower()
    return secrets.token_hex(16)


def start(trace_id: str, **labels: str | None) -> None:
    """Begin the context of one request or delivery."""
    _TRACE.set(trace_id)
    _LABELS.set({k: v for k, v in labels.items() if v})


def adopt(trace_id: str | None) -> None:
    """Continue `trace_id` from here on in the current context (its labels kept), when it is one:
    a delivery about a media joins the trace the media was declared under."""
    if trace_id and re.fullmatch(r"[0-9a-f]{32}", trace_id):
        _TRACE.set(trace_id)


def traceparent_of(trace_id: str) -> str:
    """A `traceparent` value continuing `trace_id` (a new span id)."""
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"


def label(**labels: str | None) -> None:
    """Add labels (e.g. the media id once it is known) to the current context."""
    current = dict(_LABELS.get() or {})
    current.update({k: v for k, v in labels.items() if v})
    _LABELS.set(current)


def trace_id() -> str | None:
    """The current trace id, if any."""
    return _TRACE.get()


def labels() -> dict[str, str]:
    """The current labels."""
    return dict(_LABELS.get() or {})


def traceparent() -> str | None:
    """A `traceparent` value continuing the current trace (a new span id), for the next hop."""
    current = _TRACE.get()
    return traceparent_of(current) if current else None
