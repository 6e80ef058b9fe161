"""The audit log: who did what, append-only (`audit_events`; a database trigger refuses updates
and deletes).

Actions: `declared`, `uploaded` (verified or rejected, with the reason), `download_url_issued`
(ttl, requester), `share_created`, `share_revoked`, `share_opened`, `resolved` (how many
references), `deleted`, `purged`, `quota_refused`, `ingest_requested`. Written in the caller's
transaction when it gives one (the record commits with the change it describes), else in its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from common.db.models import AuditEvent


def record(
    action: str,
    *,
    actor: str,
    media_id: str | None = None,
    device_id: str | None = None,
    details: dict[str, Any] | None = None,
    session: Session | None = None,
) -> None:
    """Append one audit event.

    Raises:
        TransientError: the database is unavailable (only when no session is given).
    """
    from common.db.models import AuditEvent

    event = AuditEvent(
        actor=actor, action=action, media_id=media_id, device_id=device_id, details=details
    )
    if session is not None:
        session.add(event)
        return
    from common.db.engine import session_scope

    with session_scope() as own:
        own.add(event)


MAX_PAGE = 500


def query(
    session: Session,
    *,
    media_id: str | None = None,
    device_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Audit events matching every given filter, newest first (keyset on `id` below
    `before_id`); at most `limit` (<= `MAX_PAGE`). `since` is inclusive, `until` exclusive."""
    from sqlalchemy import select

    from common.db.models import AuditEvent

    statement = select(AuditEvent)
    for column, value in (
        (AuditEvent.media_id, media_id),
        (AuditEvent.device_id, device_id),
        (AuditEvent.actor, actor),
        (AuditEvent.action, action),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.at < until)
    if before_id is not None:
        statement = statement.where(AuditEvent.id < before_id)
    statement = statement.order_by(AuditEvent.id.desc()).limit(min(limit, MAX_PAGE))
    return list(session.execute(statement).scalars())
