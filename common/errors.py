"""The one error tree of the pipeline.

Domain code raises these; only the function adapters translate them, to an HTTP status with a JSON
body `{"code", "message"}` (HTTP functions) or to ack / retry (Pub/Sub push functions, where a 2xx
acknowledges and anything else asks Pub/Sub to redeliver with backoff).
"""

from __future__ import annotations

from typing import Any


class MediaError(Exception):
    """Root of every error the pipeline raises on purpose.

    Attributes:
        code: machine-readable snake_case code, stable across releases.
        http_status: the status an HTTP adapter answers with.
        details: optional JSON-serialisable context (for example a field name).
    """

    code = "internal"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_json(self) -> dict[str, Any]:
        """Return the JSON error body `{"code", "message"[, "details"]}`."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(MediaError):
    """The request is malformed (not JSON, wrong shape): HTTP 400."""

    code = "bad_request"
    http_status = 400


class ValidationError(MediaError):
    """The request is well-formed but a field is invalid: HTTP 422."""

    code = "validation_failed"
    http_status = 422


class Unauthenticated(MediaError):
    """Missing, malformed, expired or wrongly signed credentials: HTTP 401."""

    code = "unauthenticated"
    http_status = 401


class Forbidden(MediaError):
    """Authenticated, but the principal may not do this: HTTP 403."""

    code = "forbidden"
    http_status = 403


class NotFound(MediaError):
    """The resource does not exist or is not visible to the caller: HTTP 404."""

    code = "not_found"
    http_status = 404


class Conflict(MediaError):
    """The request conflicts with existing state (idempotency key reused with another body): 409."""

    code = "conflict"
    http_status = 409


class PayloadTooLarge(MediaError):
    """The declared size exceeds the configured maximum: HTTP 413."""

    code = "payload_too_large"
    http_status = 413


class UnsupportedMediaType(MediaError):
    """The MIME type is not on the allowlist: HTTP 415."""

    code = "unsupported_media_type"
    http_status = 415


class MethodNotAllowed(MediaError):
    """The path exists but not for this HTTP method: HTTP 405."""

    code = "method_not_allowed"
    http_status = 405


class IntegrityMismatch(MediaError):
    """Stored bytes do not match what the device declared (size, SHA-256, MD5)."""

    code = "integrity_mismatch"
    http_status = 422


class PermanentMediaError(MediaError):
    """The media cannot be processed, now or ever (corrupt, undecodable): mark failed and ack."""

    code = "media_unprocessable"
    http_status = 422


class TransientError(MediaError):
    """A dependency failed in a way that may succeed on retry (storage, database, network)."""

    code = "unavailable"
    http_status = 503
