"""Revoking device tokens, deleting devices, and ending the shares whose creator lost access.

A device token carries an id (`jti`) and its issue time (`iat`). A token is refused when:

- its id was revoked (`revoked_tokens`, kept until the token would have expired anyway);
- it was issued before its device's `tokens_valid_after` (every token of the device revoked at
  once: a lost or stolen camera, a leaked token whose id is unknown);
- its device was deleted (`device_credentials.deleted_at`).

`common.api.auth` checks this on every request of a device token, reading a device's state at
most every `common.api.auth.REVOCATION_CHECK_SECONDS` per instance (so a revocation takes effect
at once on the instance that made it, and within that many seconds on every other).

A share ends when its creator's access ends: when an owner is removed from a device, the shares
that owner created on the device's media are revoked with reason `creator_lost_access`; when a
device's tokens are revoked or the device is deleted, so are the shares its own tokens created.
Remaining owners see them in the share list with `revoked_reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from common.observe import audit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_DEVICE_TOKEN_SECONDS = 30 * 86400
"""The longest a device token lives (`mediactl admin device-token`); a revoked id is kept this
long when its token's own expiry is not given."""
CREATOR_LOST_ACCESS = "creator_lost_access"
"""`shares.revoked_reason` of a share ended because its creator's access ended."""


@dataclass(frozen=True)
class TokenState:
    """What decides whether a device's tokens are accepted.

    Attributes:
        valid_after: tokens issued before this are refused (None: no such bound).
        deleted: the device was deleted: all its tokens are refused.
        revoked_ids: ids (`jti`) of its tokens revoked one by one, not yet expired.
    """

    valid_after: datetime | None = None
    deleted: bool = False
    revoked_ids: frozenset[str] = frozenset()

    def refusal(self, token_id: str | None, issued_at: float | None) -> str | None:
        """The error code a token with this id and issue time (seconds since the epoch) is
        refused with (`device_deleted`, `token_revoked`), or None when it is accepted."""
        if self.deleted:
            return "device_deleted"
        if token_id is not None and token_id in self.revoked_ids:
            return "token_revoked"
        if self.valid_after is not None and (
            issued_at is None or issued_at < self.valid_after.timestamp()
        ):
            return "token_revoked"
        return None


def token_state(session: Session, device_id: str) -> TokenState:
    """The device's `TokenState` as committed now (two indexed reads)."""
    from sqlalchemy import func, select

    from common.db.models import DeviceCredentials, RevokedToken

    row = session.get(DeviceCredentials, device_id)
    revoked = session.execute(
        select(RevokedToken.jti).where(
            RevokedToken.device_id == device_id, RevokedToken.expires_at > func.now()
        )
    ).scalars()
    return TokenState(
        valid_after=row.tokens_valid_after if row else None,
        deleted=row is not None and row.deleted_at is not None,
        revoked_ids=frozenset(revoked),
    )


def _credentials(session: Session, device_id: str, actor: str, **values: object) -> datetime | None:
    """Upsert the device's credentials row with `values`; its `tokens_valid_after` after it."""
    from sqlalchemy.dialects.postgresql import insert

    from common.db.models import DeviceCredentials

    statement = insert(DeviceCredentials).values(device_id=device_id, updated_by=actor, **values)
    valid_after: datetime | None = session.execute(
        statement.on_conflict_do_update(
            index_elements=["device_id"],
            set_={**values, "updated_by": actor, "updated_at": statement.excluded.updated_at},
        ).returning(DeviceCredentials.tokens_valid_after)
    ).scalar_one()
    return valid_after


@dataclass(frozen=True)
class Revoked:
    """What a revocation did: one token id, or every token issued before `valid_after`."""

    device_id: str
    token_id: str | None
    valid_after: datetime | None
    shares_ended: int


def revoke_tokens(
    session: Session,
    device_id: str,
    *,
    actor: str,
    token_id: str | None = None,
    expires_at: datetime | None = None,
) -> Revoked:
    """Revoke one token of a device by its id, or (no id) every token issued until now, in the
    caller's transaction. Revoking every token also ends the shares the device created.

    Args:
        session: the caller's unit of work.
        device_id: the device.
        actor: who revokes (recorded, audited).
        token_id: the token's `jti`; None revokes them all.
        expires_at: when that token expires (its `exp`); default: `MAX_DEVICE_TOKEN_SECONDS`
            from now.
    """
    from sqlalchemy import func
    from sqlalchemy.dialects.postgresql import insert

    from common.db.models import RevokedToken

    if token_id is not None:
        until = expires_at or datetime.now(UTC) + timedelta(seconds=MAX_DEVICE_TOKEN_SECONDS)
        session.execute(
            insert(RevokedToken)
            .values(jti=token_id, device_id=device_id, expires_at=until, revoked_by=actor)
            .on_conflict_do_nothing()
        )
        revoked = Revoked(device_id, token_id, None, 0)
    else:
        valid_after = _credentials(session, device_id, actor, tokens_valid_after=func.now())
        ended = end_shares_of(session, device_id, f"device:{device_id}", actor)
        revoked = Revoked(device_id, None, valid_after, ended)
    audit.record(
        "device_tokens_revoked",
        actor=actor,
        device_id=device_id,
        details={"token_id": token_id, "shares_ended": revoked.shares_ended},
        session=session,
    )
    return revoked


def delete_device(session: Session, device_id: str, *, actor: str) -> int:
    """Delete a device (in the caller's transaction): all its tokens are refused from now on,
    its owners are removed and every share of its media ends. Its media are deleted by a purge
    (`common.admin.operations.purge_device`).

    Returns:
        How many shares ended.
    """
    from sqlalchemy import delete, func

    from common.db.models import DeviceOwner

    _credentials(session, device_id, actor, deleted_at=func.now(), tokens_valid_after=func.now())
    session.execute(delete(DeviceOwner).where(DeviceOwner.device_id == device_id))
    ended = end_shares_of(session, device_id, None, actor)
    audit.record(
        "device_deleted",
        actor=actor,
        device_id=device_id,
        details={"shares_ended": ended},
        session=session,
    )
    return ended


def end_shares_of(session: Session, device_id: str, creator: str | None, actor: str) -> int:
    """End the live shares on the device's media created by `creator` (None: by anyone), with
    reason `creator_lost_access`, in the caller's transaction.

    Returns:
        How many shares ended.
    """
    from sqlalchemy import func, select, update

    from common.db.models import MediaObject, Share

    media = select(MediaObject.id).where(MediaObject.device_id == device_id)
    statement = (
        update(Share)
        .where(Share.media_id.in_(media), Share.revoked_at.is_(None), Share.expires_at > func.now())
        .values(revoked_at=func.now(), revoked_by=actor, revoked_reason=CREATOR_LOST_ACCESS)
        .returning(Share.id)
    )
    if creator is not None:
        statement = statement.where(Share.created_by == creator)
    return len(session.execute(statement).all())
