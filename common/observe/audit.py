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
    from sqlalchemy.orm import Session


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
