"""Signatures of webhook deliveries: HMAC-SHA256 over `"<timestamp>.<body>"` with the endpoint's
secret, sent as `Media-Signature: t=<unix seconds>,v1=<hex digest>`.

The scheme is Stripe's (`Stripe-Signature`, https://docs.stripe.com/webhooks#verify-manually)
and Mux's: the timestamp is signed with the body, so a receiver that refuses timestamps older
than a tolerance (`DEFAULT_TOLERANCE_SECONDS`) refuses replays of captured requests.
docs/CONTRACTS.md, "Webhooks", has the receiver's recipe.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Media-Signature"
DELIVERY_ID_HEADER = "Media-Webhook-Id"
EVENT_TYPE_HEADER = "Media-Webhook-Type"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A new endpoint secret: `whsec_` and 32 random bytes, base64url (49 characters)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of `"<timestamp>.<body>"` keyed with the secret's UTF-8 bytes, lowercase hex."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The `Media-Signature` value: `t=<timestamp>,v1=<signature>`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Tell whether `header` signs `body` with `secret` at a time within the tolerance of `now`.

    Any `v1=` element may match (during a secret rotation several may be sent); the comparison is
    constant-time.
    """
    parts = [item.partition("=") for item in header.split(",")]
    stamps = [value for key, _, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, _, value in parts if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
