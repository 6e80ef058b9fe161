"""list_media's routes to a media's bytes without storage locations: the authorized streaming proxy
`GET /v1/media/{id}/content` (with its ticket for `<img>` and `<video>` tags) and
`POST /v1/media/resolve`, which swaps references in a JSON document for signed URLs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from common.api import schemas
from common.api.app import Call, Reply, Route
from common.api.routes.events import StreamTicket


class ContentQuery(BaseModel):
    """`GET /v1/media/{id}/content`: a ticket for tags that cannot send headers; `disposition`."""

    model_config = ConfigDict(extra="forbid")

    ticket: str | None = Field(default=None, min_length=16, max_length=2048)
    disposition: Literal["inline", "attachment"] = "inline"


def _content_principal(call: Call, query: ContentQuery) -> Any:
    from common.api.auth import verify_stream_ticket

    if query.ticket is not None:
        return verify_stream_ticket(query.ticket, call.request.path)
    return call.principal


def _range(call: Call, etag: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """The one byte range to serve (start, stop exclusive), None for all of it (no Range, several
    ranges, or an `If-Range` that no longer matches), or "unsatisfiable" (416)."""
    wanted = call.request.range
    if wanted is None or len(wanted.ranges) != 1:
        return None
    if_range = call.request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        return None
    bounds = wanted.range_for_length(size)
    return "unsatisfiable" if bounds is None or size == 0 else bounds


def content(call: Call) -> Response:
    """`GET /v1/media/{media_id}/content`: the verified bytes, streamed (RFC 9110 ranges)."""
    from common.api.access import load_media
    from common.api.app import error_response
    from common.core.errors import Conflict, Gone, MediaError
    from common.core.status import GONE_STATUSES, MediaStatus
    from common.db.engine import session_scope
    from common.storage import get_store, layout
    from common.storage.base import ObjectNotFound, content_disposition

    query = call.query(ContentQuery)
    principal = _content_principal(call, query)
    with session_scope() as session:
        media = load_media(session, principal, call.params["media_id"])
    if MediaStatus(media.status) in GONE_STATUSES:
        raise Gone(f"media {media.id} is deleted", code="media_deleted")
    if media.verified_sha256 is None or media.status == MediaStatus.REJECTED.value:
        raise Conflict(f"media {media.id} is {media.status}", code="not_downloadable")
    size = media.actual_size_bytes if media.actual_size_bytes is not None else media.size_bytes
    etag = f'"{media.verified_sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=0, must-revalidate",
        "Content-Disposition": content_disposition(
            media.original_filename or layout.filename_of(media.object_name), query.disposition
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if etag in {t.strip() for t in call.request.headers.get("If-None-Match", "").split(",")}:
        return Response(status=304, headers=headers)
    bounds = _range(call, etag, size)
    if bounds == "unsatisfiable":
        error = MediaError(
            f"no range of the Range header is within the {size} bytes of the media",
            code="range_not_satisfiable",
            details={"size_bytes": size},
        )
        error.http_status = 416
        return error_response(error, {"Accept-Ranges": "bytes", "Content-Range": f"bytes */{size}"})
    start, stop = bounds if bounds is not None else (0, size)
    chunks = get_store().read_range(
        media.bucket, media.object_name, media.object_version, start, stop - 1 if stop else None
    )
    try:
        first = next(chunks, b"") if stop > start else b""
    except ObjectNotFound as exc:
        raise Gone(f"the bytes of media {media.id} are no longer stored", code="gone") from exc

    def body() -> Iterator[bytes]:
        if first:
            yield first
            yield from chunks

    response = Response(
        body(),
        status=206 if bounds is not None else 200,
        headers={**headers, "Content-Length": str(stop - start)},
        mimetype=media.mime_type,
        direct_passthrough=True,
    )
    if bounds is not None:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return response


def content_ticket(call: Call) -> Reply:
    """`POST /v1/media/{media_id}/content/ticket`: a ticket that opens `/content` from a tag."""
    from urllib.parse import quote

    from common.api.access import load_media
    from common.api.auth import mint_stream_ticket
    from common.db.engine import session_scope

    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
    path = f"/v1/media/{media.id}/content"
    ticket, expires_at = mint_stream_ticket(call.principal, path)
    body = StreamTicket(ticket=ticket, expires_at=expires_at, url=f"{path}?ticket={quote(ticket)}")
    return Reply(body, 201)


class ResolveRequest(BaseModel):
    """`POST /v1/media/resolve`: any JSON document; `inline` asks for data URLs of small media."""

    model_config = ConfigDict(extra="forbid")

    document: Any
    inline: bool = Field(default=False, strict=True)


class ResolveBody(schemas.Schema):
    """The document with its references replaced, and what was left as it was."""

    document: Any
    resolved: int
    inlined: int
    unresolved: list[str]


def resolve(call: Call) -> Reply:
    """`POST /v1/media/resolve` (see `common.media.resolve`)."""
    from common.api.access import can_see_device
    from common.db.engine import session_scope
    from common.media.resolve import resolve_document
    from common.observe import audit

    request = call.body(ResolveRequest)
    principal = call.principal
    with session_scope() as session:
        result = resolve_document(
            session,
            request.document,
            can_see_device=lambda device_id: can_see_device(session, principal, device_id),
            inline=request.inline,
        )
        if result.resolved or result.unresolved:
            audit.record(
                "resolved",
                actor=principal.actor,
                details={
                    "resolved": result.resolved,
                    "inlined": result.inlined,
                    "unresolved": len(result.unresolved),
                },
                session=session,
            )
    return Reply(
        ResolveBody(
            document=result.document,
            resolved=result.resolved,
            inlined=result.inlined,
            unresolved=result.unresolved,
        )
    )


ROUTES = [
    Route(
        "GET",
        "/v1/media/<media_id>/content",
        content,
        operation_id="getMediaContent",
        summary="The media's verified bytes, streamed through the API (Range, ETag)",
        description=(
            "An authorized proxy: no storage location is needed or shown. One byte range per "
            "request (`Range: bytes=a-b`, 206 with `Content-Range`; 416 when unsatisfiable; "
            "several ranges get the whole body); `If-Range` and `If-None-Match` against the "
            "strong `ETag` (the SHA-256 of the bytes). `Content-Type` is the type sniffed at "
            "verification. Browsers open it from a tag with `?ticket=` from "
            "`POST .../content/ticket`."
        ),
        query=ContentQuery,
        responses={200: None, 206: None, 304: None},
        errors=(401, 404, 409, 410, 416, 422, 503),
        ticket=True,
    ),
    Route(
        "POST",
        "/v1/media/<media_id>/content/ticket",
        content_ticket,
        operation_id="mediaContentTicket",
        summary="A short-lived ticket to open the media's content from an <img> or <video> tag",
        responses={201: StreamTicket},
        errors=(401, 404),
    ),
    Route(
        "POST",
        "/v1/media/resolve",
        resolve,
        operation_id="resolveMediaReferences",
        summary="Replace `data:<mime>;med_<id>` references in a JSON document with signed URLs",
        description=(
            "Every JSON string that is exactly a reference the caller may see (and whose bytes "
            "are verified) becomes a signed GET valid `DOWNLOAD_URL_TTL_SECONDS`, or with "
            "`inline: true` a `data:<mime>;base64,...` for media up to "
            "`RESOLVE_INLINE_MAX_BYTES`. The rest are left as they are and listed in "
            "`unresolved` (unknown and invisible alike). At most `RESOLVE_MAX_REFERENCES`."
        ),
        body=ResolveRequest,
        responses={200: ResolveBody},
        errors=(400, 401, 413, 422, 503),
    ),
]
