"""manage_media's media routes: edit labels and note (JSON merge patch with `If-Match`), delete."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from common.api import bodies, schemas
from common.api.app import Call, Handler, Reply, Route
from common.core.errors import PreconditionFailed, ValidationError
from common.media.declare import MAX_LABELS, MAX_NOTE_CHARS, Label

_ETAG = re.compile(r'^\s*"(?P<id>[^".]+)\.(?P<revision>\d{1,18})"\s*$')
"""A strong ETag of ours: `"<media id>.<revision>"`. If-Match compares strongly (RFC 9110
section 13.1.1): a weak one (`W/"..."`) never matches."""


class MediaPatch(BaseModel):
    """`PATCH /v1/media/{id}` body, a JSON merge patch (RFC 7396): a field set to null is
    cleared, a field left out is kept."""

    model_config = ConfigDict(extra="forbid")

    labels: list[Label] | None = Field(default=None, max_length=MAX_LABELS)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)


class DeleteQuery(BaseModel):
    """`cascade=true` also deletes the clips and snapshots cut from the media."""

    model_config = ConfigDict(extra="forbid")

    cascade: bool = False


def expected_revision(call: Call, media_id: str) -> int | None:
    """The revision `If-Match` names (None for `*`).

    Raises:
        PreconditionFailed: no `If-Match` (428 `precondition_required`), or one naming another
            media, a weak or a malformed ETag (412).
    """
    header = call.request.headers.get("If-Match")
    if header is None:
        error = PreconditionFailed(
            "send the ETag from GET /v1/media/{id} as If-Match", code="precondition_required"
        )
        error.http_status = 428
        raise error
    if header.strip() == "*":
        return None
    if header.strip().startswith("W/"):
        raise PreconditionFailed(
            "If-Match needs the strong ETag of GET /v1/media/{id}; a weak one never matches "
            "(RFC 9110, section 13.1.1)",
            code="precondition_failed",
        )
    match = _ETAG.match(header)
    if match is None or match.group("id") != media_id:
        raise PreconditionFailed("If-Match does not name this media's ETag")
    return int(match.group("revision"))


def patch_media(call: Call) -> Reply:
    """`PATCH /v1/media/{media_id}`: change labels and note."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.edit import edit_media
    from common.media.listing import detail

    media_id = call.params["media_id"]
    patch = call.body(MediaPatch)
    changes: dict[str, object] = {}
    if "labels" in patch.model_fields_set:
        changes["labels"] = list(dict.fromkeys(patch.labels or []))
    if "note" in patch.model_fields_set:
        changes["note"] = patch.note
    if not changes:
        raise ValidationError("the patch changes nothing (labels, note)", code="empty_patch")
    with session_scope() as session:
        load_media(session, call.principal, media_id)
        revision = expected_revision(call, media_id)
        edited = edit_media(session, media_id, changes, expected_revision=revision)
        body = bodies.detail(detail(session, edited), call.principal)
    return Reply(body, headers={"ETag": bodies.etag(edited)})


def delete_media(call: Call) -> Reply:
    """`DELETE /v1/media/{media_id}`: 204, and 204 again for a deleted one."""
    from common.api.access import load_media
    from common.db.engine import session_scope
    from common.media.delete import delete_media as delete

    query = call.query(DeleteQuery)
    with session_scope() as session:
        media = load_media(session, call.principal, call.params["media_id"])
        delete(session, media.id, actor=call.principal.actor, cascade=query.cascade)
    return Reply(None, 204)


def _pin(pinned: bool) -> Handler:
    def pin(call: Call) -> Reply:
        """`POST` / `DELETE /v1/media/{media_id}/pin`: keep a media out of retention, or not."""
        from common.api.access import load_media
        from common.db.engine import session_scope
        from common.media.edit import edit_media
        from common.media.listing import detail

        with session_scope() as session:
            media = load_media(session, call.principal, call.params["media_id"])
            edited = edit_media(session, media.id, {"pinned": pinned}, expected_revision=None)
            body = bodies.detail(detail(session, edited), call.principal)
        return Reply(body, headers={"ETag": bodies.etag(edited)})

    return pin


ROUTES = [
    Route(
        "POST",
        "/v1/media/<media_id>/pin",
        _pin(True),
        operation_id="pinMedia",
        summary="Pin a media: retention never deletes it",
        responses={200: schemas.MediaDetailBody},
        errors=(401, 404, 410),
    ),
    Route(
        "DELETE",
        "/v1/media/<media_id>/pin",
        _pin(False),
        operation_id="unpinMedia",
        summary="Unpin a media: retention applies again",
        responses={200: schemas.MediaDetailBody},
        errors=(401, 404, 410),
    ),
    Route(
        "PATCH",
        "/v1/media/<media_id>",
        patch_media,
        operation_id="patchMedia",
        summary="Change a media's labels and note (JSON merge patch)",
        description=(
            "Needs `If-Match` with the ETag of `GET /v1/media/{media_id}` (428 without it, "
            "412 when someone changed the media since); answers the media and its new ETag."
        ),
        body=MediaPatch,
        responses={200: schemas.MediaDetailBody},
        errors=(400, 401, 404, 410, 412, 422, 428),
    ),
    Route(
        "DELETE",
        "/v1/media/<media_id>",
        delete_media,
        operation_id="deleteMedia",
        summary="Delete a media: its bytes, renditions and mirror; a tombstone stays",
        description=(
            "Idempotent (204 again). Clips and snapshots cut from it stay, with `parent_id` "
            "naming the tombstone, unless `cascade=true`. A job running on it ends `failed` "
            "(`source_deleted`) and leaves no result."
        ),
        query=DeleteQuery,
        responses={204: None},
        errors=(401, 404, 422, 503),
    ),
]
