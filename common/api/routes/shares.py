"""Share links: create and revoke (manage_media), list and open (list_media)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.media.declare import MAX_NOTE_CHARS


class ShareRequest(BaseModel):
    """`POST /v1/media/{id}/shares`: how long the link works, and a note for its owner."""

    model_config = ConfigDict(extra="forbid")

    ttl_seconds: int = Field(ge=60, strict=True)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)


class ShareBody(schemas.Schema):
    """A share link (`url` only when it is created: the token is shown once)."""

    share_id: str
    media_id: str
    url: str | None
    note: str | None
    created_by: str
    created_at: schemas.UtcTime
    expires_at: schemas.UtcTime
    revoked_at: schemas.UtcTime | None
    revoked_by: str | None
    revoked_reason: str | None = Field(
        description="`revoked`, or `creator_lost_access` (its creator no longer owns the device, "
        "or the device's tokens were revoked or it was deleted)"
    )
    open_count: int


class SharePage(schemas.Schema):
    """A media's shares, newest first."""

    items: list[ShareBody]


def share_body(share: object, url: str | None = None) -> ShareBody:
    """The API view of a share (`url` only right after it is created)."""
    from common.db.models import Share

    assert isinstance(share, Share)
    return ShareBody(
        share_id=share.id,
        media_id=share.media_id,
        url=url,
        note=share.note,
        created_by=share.created_by,
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        revoked_by=share.revoked_by,
        revoked_reason=share.revoked_reason,
        open_count=share.open_count or 0,
    )


def _share_url(call: Call, token: str) -> str:
    from common.core.settings import get_settings

    base = get_settings().public_base_url or call.request.host_url.rstrip("/")
    return f"{base.rstrip('/')}/v1/s/{token}"


def create(call: Call) -> Reply:
    """`POST /v1/media/{media_id}/shares` (manage_media)."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.shares import create_share

    request = call.body(ShareRequest)
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        made = create_share(
            session,
            media,
            ttl_seconds=request.ttl_seconds,
            note=request.note,
            actor=call.principal.actor,
        )
        session.refresh(made.share)
        body = share_body(made.share, _list_media_url(call, made.token))
    return Reply(body, 201)


def _list_media_url(call: Call, token: str) -> str:
    """Share URLs point at the web gallery's viewer page when `WEB_BASE_URL` is set, else at
    list_media (which opens them), never at manage_media."""
    import os

    from common.core.settings import get_settings

    settings = get_settings()
    if settings.web_base_url:
        return f"{settings.web_base_url.rstrip('/')}/s/{token}"
    base = settings.public_base_url or os.environ.get("LIST_MEDIA_URL")
    if base:
        return f"{base.rstrip('/')}/v1/s/{token}"
    return _share_url(call, token)


def list_shares(call: Call) -> Reply:
    """`GET /v1/media/{media_id}/shares` (list_media)."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.shares import media_shares

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        return Reply(SharePage(items=[share_body(s) for s in media_shares(session, media.id)]))


def revoke(call: Call) -> Reply:
    """`DELETE /v1/shares/{share_id}` (manage_media): 204, also for an already revoked one."""
    from common.api.access import load_media
    from common.core.errors import NotFound
    from common.db.engine import session_scope
    from common.media.shares import load_share, revoke_share

    with session_scope() as session:
        share = load_share(session, call.params["share_id"])
        try:
            load_media(session, call.principal, share.media_id)
        except NotFound as exc:
            raise NotFound(f"share {share.id!r} not found") from exc
        revoke_share(session, share, call.principal.actor)
    return Reply(None, 204)


def open_link(call: Call) -> Response:
    """`GET /v1/s/{token}` (list_media, no account): 302 to a short-lived signed GET."""
    from werkzeug.utils import redirect

    from common.db.engine import session_scope
    from common.media.shares import open_share

    with session_scope() as session:
        signed = open_share(session, call.params["token"])
    response = redirect(signed.url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class ShareViewBody(schemas.Schema):
    """The share viewer page's data: the shared media and short-lived signed GETs (valid
    `DOWNLOAD_URL_TTL_SECONDS`; ask again when one expires). `view_url` is what to show (the
    display-size photo, the playable video; null for a video no browser plays, `reason` says
    why), `download_url` saves the original under its file name."""

    name: str
    media_type: str
    mime_type: str
    captured_at: schemas.UtcTime
    width_px: int | None
    height_px: int | None
    duration_ms: int | None
    expires_at: schemas.UtcTime
    view_url: str | None
    view_mime_type: str | None
    poster_url: str | None
    download_url: str
    playable: bool
    reason: str | None


def view_link(call: Call) -> Reply:
    """`GET /v1/s/{token}/view` (list_media, no account): the viewer page's data as JSON."""
    from common.db.engine import session_scope
    from common.media.shares import view_share
    from common.storage import layout

    with session_scope() as session:
        found = view_share(session, call.params["token"])
        media = found.media
        body = ShareViewBody(
            name=media.original_filename or layout.filename_of(media.object_name),
            media_type=media.media_type,
            mime_type=media.mime_type,
            captured_at=media.captured_at,
            width_px=media.width_px,
            height_px=media.height_px,
            duration_ms=media.duration_ms,
            expires_at=found.expires_at,
            view_url=found.view_url,
            view_mime_type=found.view_mime_type,
            poster_url=found.poster_url,
            download_url=found.download_url,
            playable=found.playable,
            reason=found.reason,
        )
    return Reply(body, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


LIST_ROUTES = [
    Route(
        "GET",
        "/v1/media/<media_id>/shares",
        list_shares,
        operation_id="listShares",
        summary="A media's share links, newest first (their URLs are not shown again)",
        responses={200: SharePage},
        errors=(401, 404),
    ),
    Route(
        "GET",
        "/v1/s/<token>",
        open_link,
        operation_id="openShare",
        summary="Open a share link: no account needed; 302 to a short-lived signed GET",
        description="410 when the share was revoked, has expired, or its media was deleted.",
        responses={302: None},
        errors=(404, 410),
        public=True,
    ),
    Route(
        "GET",
        "/v1/s/<token>/view",
        view_link,
        operation_id="viewShare",
        summary="A share link's viewer data: no account needed; the media and signed GETs",
        description=(
            "What the web gallery's page `/s/{token}` shows. 404 `not_found` for an unknown "
            "token; 410 `share_revoked`, `share_expired` or `media_deleted`. Counts an opening."
        ),
        responses={200: ShareViewBody},
        errors=(404, 410, 503),
        public=True,
    ),
]

MANAGE_ROUTES = [
    Route(
        "POST",
        "/v1/media/<media_id>/shares",
        create,
        operation_id="createShare",
        summary="Create a share link valid ttl_seconds (at most MAX_SHARE_TTL_SECONDS)",
        description="The answer's `url` carries the link's token; it is shown only here.",
        body=ShareRequest,
        responses={201: ShareBody},
        errors=(400, 401, 404, 410, 422),
    ),
    Route(
        "DELETE",
        "/v1/shares/<share_id>",
        revoke,
        operation_id="revokeShare",
        summary="Revoke a share link at once",
        responses={204: None},
        errors=(401, 404),
    ),
]
