"""Share links: a URL that opens one media without an account, until it expires or is revoked.

The link's token is 32 random bytes (`secrets.token_urlsafe`), shown once in the URL; only its
SHA-256 is stored, so the database alone cannot open a share. Opening checks, every time, that the
share is not revoked, not expired and that its media still has bytes, then answers a signed GET of
the media's verified version valid `DOWNLOAD_URL_TTL_SECONDS` (never beyond the share's expiry
by more than that). Lifetimes are at most `MAX_SHARE_TTL_SECONDS` (7 days, the V4 signed-URL
limit).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from common.core.errors import Gone, NotFound, ValidationError
from common.core.ids import SHARE_PREFIX, is_valid_id, new_id
from common.core.settings import get_settings
from common.core.status import GONE_STATUSES, MediaStatus
from common.observe import audit
from common.observe.events import log_event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject, Share
    from common.storage.base import SignedRequest

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """SHA-256 hex of a share token (what is stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewShare:
    """A share as created: the row and the token (shown once)."""

    share: Share
    token: str


def create_share(
    session: Session, media: MediaObject, *, ttl_seconds: int, note: str | None, actor: str
) -> NewShare:
    """Create a share of `media` valid `ttl_seconds`.

    Raises:
        ValidationError: a lifetime beyond `MAX_SHARE_TTL_SECONDS` (`share_ttl_too_long`), or a
            media whose bytes were never verified (`not_shareable`).
        Gone: the media is deleted.
    """
    from common.db.models import Share

    settings = get_settings()
    if ttl_seconds > settings.max_share_ttl_seconds:
        raise ValidationError(
            f"ttl_seconds {ttl_seconds} exceeds {settings.max_share_ttl_seconds}",
            code="share_ttl_too_long",
            details={"max_ttl_seconds": settings.max_share_ttl_seconds},
        )
    if MediaStatus(media.status) in GONE_STATUSES:
        raise Gone(f"media {media.id} is deleted", code="media_deleted")
    if media.verified_sha256 is None:
        raise ValidationError(f"media {media.id} has no verified bytes yet", code="not_shareable")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    share = Share(
        id=new_id(SHARE_PREFIX),
        media_id=media.id,
        token_sha256=token_hash(token),
        note=note,
        created_by=actor,
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl_seconds),
    )
    session.add(share)
    session.flush()
    audit.record(
        "share_created",
        actor=actor,
        media_id=media.id,
        device_id=media.device_id,
        details={"share_id": share.id, "ttl_seconds": ttl_seconds},
        session=session,
    )
    return NewShare(share, token)


def media_shares(session: Session, media_id: str) -> list[Share]:
    """A media's shares, newest first."""
    from sqlalchemy import select

    from common.db.models import Share

    return list(
        session.execute(
            select(Share).where(Share.media_id == media_id).order_by(Share.created_at.desc())
        ).scalars()
    )


def load_share(session: Session, share_id: str) -> Share:
    """A share by id.

    Raises:
        NotFound: malformed id or no such share.
    """
    from common.db.models import Share

    share = session.get(Share, share_id) if is_valid_id(share_id, SHARE_PREFIX) else None
    if share is None:
        raise NotFound(f"share {share_id!r} not found")
    return share


def revoke_share(session: Session, share: Share, actor: str) -> None:
    """Revoke a share at once (a revoked share stays revoked)."""
    if share.revoked_at is None:
        share.revoked_at = datetime.now(UTC)
        share.revoked_by = actor
        share.revoked_reason = "revoked"
        from common.db.repo import get_media

        media = get_media(session, share.media_id)
        audit.record(
            "share_revoked",
            actor=actor,
            media_id=share.media_id,
            device_id=media.device_id,
            details={"share_id": share.id},
            session=session,
        )


def _opened(session: Session, token: str, now: datetime | None) -> tuple[Share, MediaObject]:
    """The live share a token names and its media, the opening counted and audited.

    Raises:
        NotFound, Gone: see `open_share`.
    """
    from sqlalchemy import select

    from common.db.models import Share
    from common.db.repo import get_media

    share = session.execute(
        select(Share).where(Share.token_sha256 == token_hash(token)).with_for_update()
    ).scalar_one_or_none()
    if share is None:
        raise NotFound("no such share")
    moment = now or datetime.now(UTC)
    if share.revoked_at is not None:
        if share.revoked_reason == "creator_lost_access":
            raise Gone(
                "this share ended: whoever created it no longer has access to the camera",
                code="share_revoked",
                details={"reason": share.revoked_reason},
            )
        raise Gone("this share was revoked", code="share_revoked")
    if share.expires_at <= moment:
        raise Gone("this share has expired", code="share_expired")
    media = get_media(session, share.media_id)
    if MediaStatus(media.status) in GONE_STATUSES:
        raise Gone("the shared media was deleted", code="media_deleted")
    share.open_count += 1
    share.last_opened_at = moment
    audit.record(
        "share_opened",
        actor=f"share:{share.id}",
        media_id=media.id,
        device_id=media.device_id,
        details={"share_id": share.id, "open_count": share.open_count},
        session=session,
    )
    log_event("share.opened", share_id=share.id, media_id=media.id)
    return share, media


def open_share(session: Session, token: str, now: datetime | None = None) -> SignedRequest:
    """The signed GET a share's URL opens (see the module docstring); counts the opening.

    Raises:
        NotFound: no share has this token.
        Gone: revoked (`share_revoked`), expired (`share_expired`) or its media deleted
            (`media_deleted`): 410.
    """
    from common.media.listing import sign_media_download

    _, media = _opened(session, token, now)
    return sign_media_download(media)


@dataclass(frozen=True)
class ShareView:
    """What the share viewer page shows: the shared media's name, capture time, size, the
    share's expiry, and short-lived signed GETs of what to show (`view_url`: the display-size
    photo or the playable video; `poster_url` for a video) and of the original (`download_url`,
    saved under the original file name). `playable` is False for a video no browser plays
    (`reason` says why)."""

    media: MediaObject
    expires_at: datetime
    view_url: str | None
    view_mime_type: str | None
    poster_url: str | None
    download_url: str
    playable: bool
    reason: str | None


_SHOWN_KINDS = ("display", "web")


def view_share(session: Session, token: str, now: datetime | None = None) -> ShareView:
    """What a share's viewer page shows (`ShareView`); counts the opening like `open_share`.

    Raises:
        NotFound, Gone: see `open_share`.
        StorageUnavailable: signing failed.
    """
    from sqlalchemy import select

    from common.db.models import Derivative
    from common.media.listing import SignedDerivative, playback, sign_media_download, signer

    share, media = _opened(session, token, now)
    ttl_seconds = get_settings().download_url_ttl_seconds
    rows = session.execute(select(Derivative).where(Derivative.media_id == media.id)).scalars()
    signed = {
        d.kind: SignedDerivative(
            d, signer().sign_download(d.bucket, d.object_name, ttl_seconds=ttl_seconds).url
        )
        for d in rows
    }
    download = sign_media_download(media).url
    poster = signed["poster"].url if "poster" in signed else None
    plays = playback(media, list(signed.values()))
    if plays is not None:
        usable = plays.state in ("original", "rendition", "unknown")
        return ShareView(
            media,
            share.expires_at,
            plays.url if usable else None,
            plays.mime_type if usable else None,
            poster,
            download,
            usable,
            plays.reason,
        )
    shown = next((signed[k] for k in _SHOWN_KINDS if k in signed), None)
    if shown is not None:
        return ShareView(
            media,
            share.expires_at,
            shown.url,
            shown.derivative.mime_type,
            None,
            download,
            True,
            None,
        )
    original = signer().sign_download(
        media.bucket, media.object_name, ttl_seconds=ttl_seconds, version=media.object_version
    )
    return ShareView(
        media, share.expires_at, original.url, media.mime_type, None, download, True, None
    )
