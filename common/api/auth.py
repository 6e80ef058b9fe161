"""Bearer-token authentication for devices and users (JWT, RFC 7519, via PyJWT).

Tokens carry `sub` (the device id or user id), `aud` (`JWT_AUDIENCE`), `exp`, `iat` and a `kind`
claim, `"device"` or `"user"`. HS256 with `JWT_SECRET` is the default (during a rotation,
tokens signed with `JWT_PREVIOUS_SECRET` are accepted too); RS256/ES256 tokens are verified against a
JWKS endpoint (`JWT_JWKS_URL`) when configured. A device token's `sub` must follow the id pattern
of `common.core.ids` (it becomes an object-name segment); a user token's `sub` is printable text.
Time claims (`exp`, `iat`, `nbf`) must be JSON numbers (RFC 7519 NumericDate).

A verified token is remembered (`VerifiedTokens`), keyed by the SHA-256 of the token, for
`VERIFIED_TOKEN_TTL_SECONDS` and never past its `exp`, so a device or UI polling with one token
pays for the signature check (and, with JWKS, the key lookup) about once a minute instead of on
every request. Only successes are remembered; what it costs: a key removed from the JWKS, or a
previous secret dropped, still admits tokens already verified with it for up to that TTL.

Device tokens carry an id (`jti`); whether a device's token is revoked, or the device deleted, is
checked on every request, cached or not (`common.api.revocations`, `common.media.device_tokens`).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from common.core.errors import Forbidden, TransientError, Unauthenticated
from common.core.ids import is_segment, is_user_id

if TYPE_CHECKING:
    import jwt

    from common.core.settings import Settings


PrincipalKind = Literal["device", "user"]
VERIFIED_TOKEN_TTL_SECONDS = 60.0
VERIFIED_TOKEN_CACHE_ENTRIES = 10_000


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: `kind` is "device" or "user"; `subject` is the JWT `sub`."""

    kind: PrincipalKind
    subject: str
    admin: bool = False
    """A user token with the claim `"admin": true` (operators' tools)."""
    token_id: str | None = None
    """The token's `jti` (None for tokens minted without one)."""
    issued_at: float | None = None
    """The token's `iat`, seconds since the epoch."""

    @property
    def actor(self) -> str:
        """Who did something, as recorded (`created_by`, audit): `device:<id>` or `user:<id>`."""
        return f"{self.kind}:{self.subject}"

    def require_device(self) -> str:
        """Return the device id, or raise Forbidden for a user token."""
        if self.kind != "device":
            raise Forbidden("this operation needs a device token", code="device_token_required")
        return self.subject


class VerifiedTokens:
    """Principals of tokens verified recently, keyed by the token's SHA-256 (thread-safe, LRU).

    Args:
        ttl_seconds: how long a verification is reused at most.
        max_entries: at most this many tokens are remembered (least recently used go first).
        clock: seconds since the epoch (tests), the clock `exp` is on.
    """

    def __init__(
        self,
        ttl_seconds: float = VERIFIED_TOKEN_TTL_SECONDS,
        max_entries: int = VERIFIED_TOKEN_CACHE_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[Principal, float, Settings]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str, settings: Settings) -> Principal | None:
        """The principal of `token` if it was verified under `settings` and is still fresh."""
        key = self._key(token)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            principal, until, verified_with = found
            if verified_with is not settings or self._clock() >= until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return principal

    def put(self, token: str, settings: Settings, principal: Principal, exp: float) -> None:
        """Remember a verification until `min(now + ttl, exp)` (nothing when that is past)."""
        until = min(self._clock() + self._ttl, float(exp))
        if until <= self._clock():
            return
        key = self._key(token)
        with self._lock:
            self._entries[key] = (principal, until, settings)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every verification."""
        with self._lock:
            self._entries.clear()


VERIFIED = VerifiedTokens()
"""The process's verified tokens (`authenticate`)."""


@cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


def _verification_keys(token: str, settings: Settings) -> list[Any]:
    """Keys to try, in order: the current HMAC secret then the previous one, or the JWKS key."""
    import jwt

    header = jwt.get_unverified_header(token)
    algorithm = header.get("alg")
    if algorithm not in settings.jwt_algorithms:
        raise Unauthenticated(
            f"token algorithm {algorithm!r} is not accepted", code="invalid_token"
        )
    if algorithm.startswith("HS"):
        if not settings.jwt_secret:
            raise Unauthenticated("HMAC tokens are not configured", code="invalid_token")
        return [settings.jwt_secret, *filter(None, [settings.jwt_previous_secret])]
    if not settings.jwt_jwks_url:
        raise Unauthenticated("asymmetric tokens are not configured", code="invalid_token")
    try:
        return [_jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key]
    except jwt.PyJWKClientConnectionError as exc:
        raise TransientError("the token signing keys (JWKS) are unreachable") from exc


def _decode(token: str, settings: Settings) -> dict[str, Any]:
    import jwt

    keys = _verification_keys(token, settings)
    for index, key in enumerate(keys):
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=settings.jwt_algorithms,
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                leeway=settings.jwt_leeway_seconds,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.InvalidSignatureError:
            if index == len(keys) - 1:
                raise
            continue
        return claims
    raise jwt.InvalidSignatureError("no verification key")


def authenticate(authorization: str | None, settings: Settings | None = None) -> Principal:
    """Verify an `Authorization: Bearer <jwt>` header value.

    Args:
        authorization: the raw header value, or None when absent.
        settings: defaults to the process settings.

    Returns:
        The principal named by the token.

    Raises:
        Unauthenticated: header missing or not Bearer, bad signature, expired, wrong audience or
            issuer, or a missing / unknown `sub` or `kind`.
    """
    import jwt

    from common.core.settings import get_settings

    settings = settings or get_settings()
    if not authorization:
        raise Unauthenticated("missing Authorization header", code="missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'", code="missing_token")
    token = token.strip()
    from common.api.revocations import REVOCATIONS

    known = VERIFIED.get(token, settings)
    if known is not None:
        REVOCATIONS.check(known)
        return known
    try:
        claims = _decode(token, settings)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}", code="invalid_token") from exc
    except ValueError as exc:  # PyJWT's int() of a malformed time claim
        raise Unauthenticated(
            "invalid token: a time claim is malformed", code="invalid_token"
        ) from exc
    principal = _principal(claims, from_identity_provider=not _is_hmac(token))
    VERIFIED.put(token, settings, principal, claims["exp"])
    REVOCATIONS.check(principal)
    return principal


def _is_hmac(token: str) -> bool:
    import jwt

    return str(jwt.get_unverified_header(token).get("alg", "")).startswith("HS")


def _principal(claims: dict[str, Any], *, from_identity_provider: bool = False) -> Principal:
    """The principal of verified claims. Our own (HMAC) tokens without `kind` are devices'; an
    identity provider's (asymmetric, JWKS) tokens are always users': one claiming to be a
    device is refused, so an ID token can never act as a camera."""
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Unauthenticated(f"token claim {name} must be a number", code="invalid_token")
    kind = claims.get("kind", "user" if from_identity_provider else "device")
    if from_identity_provider and kind != "user":
        raise Unauthenticated(
            "identity provider tokens are user tokens; devices use the deployment's own tokens",
            code="invalid_token",
        )
    subject = claims.get("sub")
    token_id = claims.get("jti") if isinstance(claims.get("jti"), str) else None
    issued_at = float(claims["iat"]) if "iat" in claims else None
    if kind == "device" and is_segment(subject):
        return Principal("device", str(subject), token_id=token_id, issued_at=issued_at)
    if kind == "user" and is_user_id(subject):
        return Principal(kind="user", subject=str(subject), admin=claims.get("admin") is True)
    raise Unauthenticated("token has no valid sub / kind", code="invalid_token")


def mint_token(
    subject: str,
    kind: PrincipalKind = "device",
    *,
    ttl_seconds: int = 3600,
    settings: Settings | None = None,
    now: datetime | None = None,
    admin: bool = False,
    kid: str | None = None,
) -> str:
    """Mint an HS256 token with the configured secret (local stack, tests, `mediactl token`,
    `mediactl admin device-token`); `kid` names the secret's version in the header, `jti` (a
    random id) names the token for its revocation (`common.media.device_tokens`).

    Raises:
        RuntimeError: if `JWT_SECRET` is not set.
    """
    import jwt

    from common.core.settings import get_settings

    settings = settings or get_settings()
    if not settings.jwt_secret:
        raise RuntimeError("JWT_SECRET is not set")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "kind": kind,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if admin:
        claims["admin"] = True
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256", headers=headers)


STREAM_AUDIENCE = "media-stream"
"""Audience of stream tickets: never accepted as a bearer token, and bearer tokens are never
accepted as tickets."""


def mint_stream_ticket(
    principal: Principal,
    path: str,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """A short-lived ticket that opens one event stream (`path`) as `principal`.

    `EventSource` cannot send an `Authorization` header, so a browser asks for a ticket with its
    bearer token and puts the ticket in the stream's URL; the long-lived token never appears in a
    URL. HS256 with `JWT_SECRET`, audience `media-stream`, the path in claim `stream`, valid
    `STREAM_TICKET_TTL_SECONDS`.

    Returns:
        The ticket and when it expires (tz-aware UTC).

    Raises:
        RuntimeError: `JWT_SECRET` is not set.
    """
    import jwt

    from common.core.settings import get_settings

    settings = settings or get_settings()
    if not settings.jwt_secret:
        raise RuntimeError("JWT_SECRET is not set")
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(seconds=settings.stream_ticket_ttl_seconds)
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "kind": principal.kind,
        "aud": STREAM_AUDIENCE,
        "stream": path,
        "iat": issued,
        "exp": expires,
    }
    if principal.admin:
        claims["admin"] = True
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256"), expires


def verify_stream_ticket(ticket: str, path: str, settings: Settings | None = None) -> Principal:
    """The principal a stream ticket stands for, if it is valid for `path`.

    Raises:
        Unauthenticated: invalid, expired, or made for another stream (`invalid_ticket`,
            `ticket_expired`).
    """
    import jwt

    from common.core.settings import get_settings

    settings = settings or get_settings()
    keys = [k for k in (settings.jwt_secret, settings.jwt_previous_secret) if k]
    for index, key in enumerate(keys):
        try:
            claims: dict[str, Any] = jwt.decode(
                ticket,
                key=key,
                algorithms=["HS256"],
                audience=STREAM_AUDIENCE,
                leeway=settings.jwt_leeway_seconds,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("stream ticket expired", code="ticket_expired") from exc
        except jwt.InvalidSignatureError as exc:
            if index < len(keys) - 1:
                continue
            raise Unauthenticated("stream ticket is not valid", code="invalid_ticket") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("stream ticket is not valid", code="invalid_ticket") from exc
        if claims.get("stream") != path:
            raise Unauthenticated("this ticket opens another stream", code="invalid_ticket")
        from common.api.revocations import REVOCATIONS

        principal = _principal(claims)
        REVOCATIONS.check(principal)  # a device revoked since the ticket was issued
        return principal
    raise Unauthenticated("stream tickets are not configured", code="invalid_ticket")
