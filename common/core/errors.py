"""The one error tree of the pipeline.

Domain code raises these; only the adapters translate them: `common.api.app` to an HTTP status
with a JSON body `{"code", "message"[, "details"]}`, `common.events.envelope` to ack / retry of a
Pub/Sub push (a 2xx acknowledges, anything else asks Pub/Sub to redeliver with backoff). The codes
are listed in docs/CONTRACTS.md.
"""

from __future__ import annotations

from typing import Any


class MediaError(Exception):
    """Root of every error the pipeline raises on purpose.

    Attributes:
        code: machine-readable snake_case code, stable across releases.
        http_status: the status an HTTP adapter answers with.
        message: a sentence for people (never internals such as paths or reprs).
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
    """The request is malformed (not JSON, too deep, wrong shape): HTTP 400."""

    code = "bad_request"
    http_status = 400


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


class MethodNotAllowed(MediaError):
    """The path exists but not for this HTTP method: HTTP 405 (with `Allow`)."""

    code = "method_not_allowed"
    http_status = 405


class MisdirectedRequest(MediaError):
    """Another service of the API serves this method and path (the request skipped the API's
    one origin, which routes it there): HTTP 421, `details.service` names it."""

    code = "misdirected_request"
    http_status = 421


class Conflict(MediaError):
    """The request conflicts with existing state (idempotency key reused with another body): 409."""

    code = "conflict"
    http_status = 409


class Gone(MediaError):
    """The resource existed and was deleted, or a link expired: HTTP 410."""

    code = "gone"
    http_status = 410


class PreconditionFailed(MediaError):
    """An `If-Match` precondition did not hold (stale ETag): HTTP 412."""

    code = "precondition_failed"
    http_status = 412


class PayloadTooLarge(MediaError):
    """The declared or sent size exceeds the configured maximum: HTTP 413."""

    code = "payload_too_large"
    http_status = 413


class UnsupportedMediaType(MediaError):
    """The content type is not accepted: HTTP 415."""

    code = "unsupported_media_type"
    http_status = 415


class ValidationError(MediaError):
    """The request is well-formed but a field is invalid: HTTP 422."""

    code = "validation_failed"
    http_status = 422


class TooManyRequests(MediaError):
    """A quota or rate limit refused the request: HTTP 429 (with `Retry-After`).

    Attributes:
        retry_after_seconds: when trying again may succeed.
    """

    code = "too_many_requests"
    http_status = 429

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: int,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after_seconds = retry_after_seconds


class PermanentMediaError(MediaError):
    """The media cannot be processed, now or ever (corrupt, undecodable): mark failed and ack.

    Its message may name internals (decoder output, file names): callers log it and record a
    reason of their own (`common.core.reasons`) on the media or job.
    """

    code = "media_unprocessable"
    http_status = 422


class MediaTooLarge(PermanentMediaError):
    """The media is larger than analysis decodes within its memory bound (pixels, or decoded
    bytes): `details` has `width` and `height` when the decoder read them."""

    code = "media_too_large"


class TransientError(MediaError):
    """A dependency failed in a way that may succeed on retry (storage, database, network): 503."""

    code = "unavailable"
    http_status = 503


# --- Server-side fetch of a client's URL (`common.fetch`). Every instance carries
# `details={"reason": <snake_case sub-reason>, ...}`; messages never name resolved addresses.


class RemoteFetchError(MediaError):
    """Base of the errors of fetching a URL a client handed over (catch this to mark a job failed).

    Not retryable as such: the URL, its host or its server is what failed, not our dependencies.
    """

    code = "fetch_failed"
    http_status = 422


class UrlNotAllowed(RemoteFetchError, ValidationError):
    """The URL (or a redirect's target) is refused by the SSRF rules: HTTP 422 `url_not_allowed`.

    Scheme, userinfo, malformed host, host outside the allow-list, or an address that is not
    publicly routable (loopback, private, link-local, shared, multicast, reserved, ...).
    """

    code = "url_not_allowed"
    http_status = 422


class FetchFailed(RemoteFetchError):
    """The URL was allowed but fetching it failed: HTTP 422 `fetch_failed`.

    DNS failure, connect or total timeout, TLS failure, a non-2xx status, too many redirects, a
    malformed or truncated response.
    """

    code = "fetch_failed"
    http_status = 422


class RemoteTooLarge(RemoteFetchError, PayloadTooLarge):
    """The remote body is (or declares to be) larger than the fetch cap: HTTP 413 `too_large`."""

    code = "too_large"
    http_status = 413
