"""list_media's media routes: a device's pages, one media in full, a signed download."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.media.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


class PageQuery(BaseModel):
    """Query of a listing: page size and the previous page's `next_cursor`."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=512)


class DownloadQuery(BaseModel):
    """Query of a download: `redirect=true` answers 302 to the signed URL instead of JSON."""

    model_config = ConfigDict(extra="forbid")

    redirect: bool = False


def device_media(call: Call) -> Reply:
    """`GET /v1/devices/{device_id}/media`: newest capture first, keyset pages."""
    from common.api.access import require_device
    from common.db.engine import session_scope
    from common.media.listing import device_page

    query = call.query(PageQuery)
    device_id = call.params["device_id"]
    with session_scope() as session:
        require_device(session, call.principal, device_id)
        page = device_page(session, device_id, limit=query.limit, cursor=query.cursor)
        items = [schemas.summary(m) for m in page.items]
    return Reply(schemas.MediaPage(items=items, next_cursor=page.next_cursor))


def get_media(call: Call) -> Reply:
    """`GET /v1/media/{media_id}`: everything about one media."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.listing import detail

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        body = schemas.detail(detail(session, media))
    return Reply(body)


def download(call: Call) -> Reply | Response:
    """`GET /v1/media/{media_id}/download`: a signed GET of the verified bytes (or a 302)."""
    from werkzeug.utils import redirect

    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.listing import sign_media_download

    query = call.query(DownloadQuery)
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
    signed = sign_media_download(media)
    if query.redirect:
        response = redirect(signed.url, code=302)
        response.headers["Cache-Control"] = "no-store"
        return response
    return Reply(
        schemas.DownloadBody(method=signed.method, url=signed.url, expires_at=signed.expires_at)
    )


ROUTES = [
    Route(
        "GET",
        "/v1/devices/<device_id>/media",
        device_media,
        operation_id="listDeviceMedia",
        summary="A device's media, newest capture first",
        description="Ordered by captured_at desc, id desc; keyset pagination with an opaque cursor.",
        query=PageQuery,
        responses={200: schemas.MediaPage},
        errors=(401, 404, 422),
    ),
    Route(
        "GET",
        "/v1/media/<media_id>",
        get_media,
        operation_id="getMedia",
        summary="Metadata, status, hashes, detections and signed derivative URLs",
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
