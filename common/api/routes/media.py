"""list_media's media routes: the gallery across a caller's devices, a device's media, one media
in full (with its ETag), a signed download."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from common.api import bodies, schemas
from common.api.app import Call, Reply, Route
from common.core.ids import SEGMENT_PATTERN
from common.core.status import MediaKind, MediaStatus, MediaType
from common.core.times import UtcInput
from common.media.latest import MAX_PER_DEVICE

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


class FilterQuery(BaseModel):
    """The gallery's filters (all optional, combined with AND)."""

    model_config = ConfigDict(extra="forbid")

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
    captured_after: UtcInput | None = Field(default=None, description="inclusive")
    captured_before: UtcInput | None = Field(default=None, description="exclusive")
    parent_id: str | None = Field(default=None, max_length=40)

    def filters(self) -> Filters:
        """The filters of this query."""
        from common.media.gallery import Filters

        return Filters(
            device_id=self.device_id,
            camera_id=self.camera_id,
            kind=self.kind.value if self.kind else None,
            media_type=self.media_type.value if self.media_type else None,
            status=self.status.value if self.status else None,
            label=self.label,
            object_label=self.object_label,
            captured_after=self.captured_after,  # UtcInput: in UTC already
            captured_before=self.captured_before,
            parent_id=self.parent_id,
        )


class GalleryQuery(PageQuery, FilterQuery):
    """Query of the gallery: filters and paging."""


class LatestQuery(FilterQuery):
    """Query of the latest media of each device: how many per device, and the gallery's
    filters."""

    per_device: int = Field(default=1, ge=1, le=MAX_PER_DEVICE)


class DeviceLatestBody(schemas.Schema):
    """One device and its newest media (newest capture first; empty when none match)."""

    device_id: str
    items: list[schemas.MediaSummary]


class LatestBody(schemas.Schema):
    """The latest media of each device the caller sees, devices in id order."""

    devices: list[DeviceLatestBody]


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
    from common.media.listing import thumbnail_urls, tile_urls

    urls = thumbnail_urls(page.items)
    return Reply(bodies.media_page(page.items, urls, page.next_cursor, tile_urls(page.items)))


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


def latest(call: Call) -> Reply:
    """`GET /v1/devices/latest-media`: each device's newest media, in one call."""
    from common.api.access import require_device
    from common.db.engine import read_scope
    from common.media.latest import latest_per_device
    from common.media.listing import thumbnail_urls

    query = call.query(LatestQuery)
    principal = call.principal
    device_ids: list[str] | None = None
    user_id = None
    with read_scope() as session:
        if query.device_id is not None:
            require_device(session, principal, query.device_id)
            device_ids = [query.device_id]
        elif principal.kind == "device":
            device_ids = [principal.subject]
        elif not principal.admin:
            user_id = principal.subject
        found = latest_per_device(
            session,
            device_ids=device_ids,
            user_id=user_id,
            filters=query.filters(),
            per_device=query.per_device,
        )
    urls = thumbnail_urls([tile for device in found for tile in device.items])
    return Reply(
        LatestBody(
            devices=[
                DeviceLatestBody(
                    device_id=device.device_id,
                    items=bodies.media_page(device.items, urls, None).items,
                )
                for device in found
            ]
        )
    )


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
        signed = sign_media_download(media, requester=call.principal.actor, session=session)
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
        "/v1/devices/latest-media",
        latest,
        operation_id="latestMediaPerDevice",
        summary="The latest media of each device the caller sees, in one call",
        description=(
            "For each device (a device token: itself; a user: the devices it owns; an admin: "
            "every device with media, at most 1,000) its newest `per_device` media (1..20, "
            "default 1) by capture time, with the gallery's filters; deleted media are left out "
            "unless `status` asks for them. A device without matching media has an empty list."
        ),
        query=LatestQuery,
        responses={200: LatestBody},
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
