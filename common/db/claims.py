"""Claims: at most one worker at a time on a piece of work, without blocking a retry after a crash.

A claim is a row `(key, holder, expires_at)`. Taking it is one statement, `INSERT ... ON CONFLICT
(key) DO UPDATE ... WHERE claims.expires_at < now()`: it succeeds when no one holds the key or the
holder's claim expired (the holder crashed, or took longer than it said), and fails while a live
claim exists. The holder releases it when done. This is the in-progress record of the idempotency
utilities of serverless toolkits (AWS Lambda Powertools' idempotency: a key, an expiry in
seconds), kept in Postgres; completion is recorded by the work itself (a status), not here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from common.db.engine import session_scope


@dataclass(frozen=True)
class Claim:
    """A held claim: `key` and the random `holder` token that proves it is ours."""

    key: str
    holder: str


def try_claim(key: str, ttl_seconds: float) -> Claim | None:
    """Take the claim on `key` for `ttl_seconds`, unless someone else holds it.

    Returns:
        The claim, or None while another holder's claim is live.

    Raises:
        TransientError: the database is unavailable.
    """
    from sqlalchemy import text

    holder = uuid.uuid4().hex
    with session_scope() as session:
        taken = session.execute(
            text(
                "INSERT INTO claims (key, holder, expires_at) "
                "VALUES (:key, :holder, now() + make_interval(secs => :ttl)) "
                "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at, created_at = now() "
                "WHERE claims.expires_at < now() RETURNING holder"
            ),
            {"key": key, "holder": holder, "ttl": float(ttl_seconds)},
        ).first()
    return Claim(key, holder) if taken is not None else None


def release(claim: Claim) -> None:
    """Give the claim back (only if it is still ours).

    Raises:
        TransientError: the database is unavailable.
    """
    from sqlalchemy import text

    with session_scope() as session:
        session.execute(
            text("DELETE FROM claims WHERE key = :key AND holder = :holder"),
            {"key": claim.key, "holder": claim.holder},
        )


def is_claimed(key: str) -> bool:
    """Tell whether a live claim on `key` exists."""
    from sqlalchemy import text

    with session_scope() as session:
        return (
            session.execute(
                text("SELECT 1 FROM claims WHERE key = :key AND expires_at >= now()"),
                {"key": key},
            ).first()
            is not None
        )


@contextmanager
def claimed(key: str, ttl_seconds: float) -> Iterator[Claim | None]:
    """`try_claim` for the block's length: yields the claim (None when held elsewhere).

    The claim is released when the block ends, normally or by an exception (a crash of the
    process leaves it to expire).
    """
    claim = try_claim(key, ttl_seconds)
    try:
        yield claim
    finally:
        if claim is not None:
            release(claim)
