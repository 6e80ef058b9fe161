"""list_media's media routes: the gallery across a caller's devices, a device's media, one media
in full (with its ETag), a signed download."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from common.api import bodies, schemas
from common.api.app import Call, Reply, Route
from common.core.ids import SEGMENT_PATTERN
from common.core.status import MediaKind, MediaStatus, MediaType

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.api.auth import Principal
    from common.media.gallery import Filters, GalleryPage

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class PageQuery(BaseModel):
    """Query of a device's listing: page size and the previous page's `next_cursor`."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=512)


class GalleryQuery(PageQuery):
    """Query of the gallery: filters (all optional, combined with AND) and paging."""

    device_id: str | None = Field(default=None, pattern=SEGMENT_PATTERN)
    camera_id: str | None = Field(default=None, pattern=SEGMENT_PATTERN)
    kind: MediaKind | None = None
    media_type: MediaType | None = None
    status: MediaStatus | None = None
    label: str | None = Field(default=None, min_length=1, max_length=64)
    object_label: str | None = Field(
        default=None,
        alias="object",
        min_length=1,
        max_length=64,
        description="media in which analysis found an object of this label (person, dog, car...)",
    )
    captured_after: AwareDatetime | None = Field(default=None, description="inclusive")
    captured_before: AwareDatetime | None = Field(default=None, description="exclusive")
    parent_id: str | None = Field(default=None, max_length=40)

    def filters(self) -> Filters:
        """The filters of this query."""
        from common.media.gallery import Filters

        def utc(value: datetime | None) -> datetime | None:
            from datetime import UTC

            return value.astimezone(UTC) if value else None

        return Filters(
            device_id=self.device_id,
            camera_id=self.camera_id,
            kind=self.kind.value if self.kind else None,
            media_type=self.media_type.value if self.media_type else None,
            status=self.status.value if self.status else None,
            label=self.label,
            object_label=self.object_label,
            captured_after=utc(self.captured_after),
            captured_before=utc(self.captured_before),
            parent_id=self.parent_id,
        )


class DownloadQuery(BaseModel):
    """Query of a download: `redirect=true` answers 302 to the signed URL instead of JSON."""

    model_config = ConfigDict(extra="forbid")

    redirect: Literal["true", "false", "1", "0"] = "false"


def _page(
    session: Session, principal: Principal, filters: Filters, query: PageQuery
) -> GalleryPage:
    from common.api.access import require_device
    from common.media.gallery import gallery_page

    if filters.device_id is not None:
        require_device(session, principal, filters.device_id)
        return gallery_page(
            session,
            device_ids=[filters.device_id],
            user_id=None,
            filters=filters,
            limit=query.limit,
            cursor=query.cursor,
        )
    if principal.kind == "device":
        device_ids: list[str] | None = [principal.subject]
        user_id = None
    else:
        device_ids, user_id = None, None if principal.admin else principal.subject
    return gallery_page(
        session,
        device_ids=device_ids,
        user_id=user_id,
        filters=filters,
        limit=query.limit,
        cursor=query.cursor,
    )


def _reply(session: Session, page: GalleryPage) -> Reply:
    from common.media.listing import thumbnail_urls

    urls = thumbnail_urls(page.items)
    return Reply(bodies.media_page(page.items, urls, page.next_cursor))


def gallery(call: Call) -> Reply:
    """`GET /v1/media`: every device the caller sees, filtered, newest capture first."""
    from common.db.engine import read_scope

    query = call.query(GalleryQuery)
    with read_scope() as session:
        return _reply(session, _page(session, call.principal, query.filters(), query))


def device_media(call: Call) -> Reply:
    """`GET /v1/devices/{device_id}/media`: one device's media, newest capture first."""
    from common.db.engine import read_scope
    from common.media.gallery import Filters

    query = call.query(PageQuery)
    filters = Filters(device_id=call.params["device_id"])
    with read_scope() as session:
        return _reply(session, _page(session, call.principal, filters, query))


def get_media(call: Call) -> Reply:
    """`GET /v1/media/{media_id}`: everything about one media, with its `ETag`."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.listing import detail

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        body = bodies.detail(detail(session, media), call.principal)
    return Reply(body, headers={"ETag": bodies.etag(media)})


def download(call: Call) -> Reply | Response:
    """`GET /v1/media/{media_id}/download`: a signed GET of the verified bytes (or a 302)."""
    from werkzeug.utils import redirect

    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.listing import sign_media_download

    query = call.query(DownloadQuery)
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
    signed = sign_media_download(media, requester=call.principal.actor)
    if query.redirect in ("true", "1"):
        response = redirect(signed.url, code=302)
        response.headers["Cache-Control"] = "no-store"
        return response
    return Reply(
        schemas.DownloadBody(method=signed.method, url=signed.url, expires_at=signed.expires_at)
    )


ROUTES = [
    Route(
        "GET",
        "/v1/media",
        gallery,
        operation_id="listMedia",
        summary="The gallery: media of every device the caller sees, newest capture first",
        description=(
            "Filters combine with AND; deleted media are left out unless `status` asks for "
            "them. Keyset pages: `next_cursor` is valid only with the same filters "
            "(422 `cursor_mismatch` otherwise). Unknown parameters are 422 `invalid_query`."
        ),
        query=GalleryQuery,
        responses={200: schemas.MediaPage},
        errors=(401, 404, 422, 503),
    ),
    Route(
        "GET",
        "/v1/devices/<device_id>/media",
        device_media,
        operation_id="listDeviceMedia",
        summary="A device's media, newest capture first",
        description="Ordered by captured_at desc, id desc; keyset pagination with an opaque cursor.",
        query=PageQuery,
        responses={200: schemas.MediaPage},
        errors=(401, 404, 422, 503),
    ),
    Route(
        "GET",
        "/v1/media/<media_id>",
        get_media,
        operation_id="getMedia",
        summary="Metadata, status, hashes, tracks, detections and signed derivative URLs",
        description="Answers an `ETag`; send it as `If-Match` with `PATCH /v1/media/{media_id}`.",
        responses={200: schemas.MediaDetailBody},
        errors=(401, 404, 503),
    ),
    Route(
        "GET",
        "/v1/media/<media_id>/download",
        download,
        operation_id="downloadMedia",
        summary="A short-lived signed GET URL for the verified bytes",
        query=DownloadQuery,
        responses={200: schemas.DownloadBody, 302: None},
        errors=(401, 404, 409, 422, 503),
    ),
]
