"""Work and traces around media: jobs, claims, share links and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from common.core.status import (
    JobKind,
    JobStatus,
)
from common.db.models._base import Base, check_in


class Job(Base):
    """A clip or snapshot request on one media object, or an ingest for a device, and its outcome.

    `params` is the validated request (e.g. `{"start_ms", "duration_ms"}`), `params_key` its
    canonical form; (media_id, kind, params_key) is unique, so the same request is the same job
    (for an ingest, which has no source media: (device_id, params_key)).
    `result` holds what the worker measured (e.g. which clip path it took).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("media_id", "kind", "params_key", name="uq_jobs_media_kind_params"),
        Index(
            "uq_jobs_ingest_device_params",
            "device_id",
            "params_key",
            unique=True,
            postgresql_where=text("kind = 'ingest'"),
        ),
        CheckConstraint(check_in("kind", tuple(k.value for k in JobKind)), name="kind"),
        CheckConstraint(check_in("status", tuple(s.value for s in JobStatus)), name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        Index("ix_jobs_media_created", "media_id", "created_at", "id"),
        Index(
            "ix_jobs_unfinished",
            "status",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The source media (clips, snapshots); None for an ingest, whose media is its result.
    media_id: Mapped[str | None] = mapped_column(ForeignKey("media_objects.id", ondelete="CASCADE"))
    # Whose job it is: the source's device, or the device an ingest is for.
    device_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    params_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default=JobStatus.QUEUED.value)
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    result_media_id: Mapped[str | None] = mapped_column(
        ForeignKey("media_objects.id", ondelete="SET NULL")
    )
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Claim(Base):
    """A claim on a piece of work (`verify:<media>:<version>`, `process:<media>`, `job:<id>`).

    Held by `holder` until `expires_at`; an expired claim may be taken over (see
    `common.db.claims`).
    """

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Share(Base):
    """A link that opens one media without an account until it expires or is revoked.

    Only the SHA-256 of the link's token is stored (`token_sha256`); the token itself is shown
    once, in the URL, when the share is created.
    """

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_media_created", "media_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("media_objects.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(256))
    # Why it ended early: `revoked` (someone revoked it), `creator_lost_access` (its creator no
    # longer owns the device, or the device's tokens were revoked).
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    open_count: Mapped[int] = mapped_column(Integer, server_default="0")
    last_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Who did what, append-only (a trigger refuses updates and deletes)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_media", "media_id", "id"),
        Index("ix_audit_events_actor", "actor", "id"),
        Index("ix_audit_events_device", "device_id", "id"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    media_id: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
