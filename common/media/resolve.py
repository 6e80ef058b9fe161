"""Resolve: swap the media references in a JSON document for what a client can fetch.

A reference is a JSON string that is exactly `data:<mime>;med_<id>` (an application stores these
instead of URLs, e.g. an image attached to a chat message). `resolve_document` walks any JSON
value and replaces each reference the caller may see with a short-lived signed GET of the media's
verified bytes (from the process-wide signing cache, so 1,000 references cost at most one
signature per media while the cached URL has half its lifetime left), or, when asked and the
media is small enough, with the bytes themselves as `data:<mime>;base64,...` (RFC 2397).

References that are malformed as ids, name media that do not exist, the caller may not see, that
are deleted or were never verified are all left as they are and listed once in `unresolved`:
the answer does not tell those cases apart. Keys of objects are never rewritten.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from common.core.errors import ValidationError
from common.core.ids import MEDIA_PREFIX, is_valid_id
from common.core.settings import get_settings
from common.core.status import GONE_STATUSES, MediaStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.db.models import MediaObject

REFERENCE = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);(?P<id>med_[0-9A-Za-z]{26})$")
"""`data:<mime>;med_<id>`: a whole JSON string, nothing around it."""


@dataclass
class Resolution:
    """A resolved document and what happened to its references.

    Attributes:
        document: the input with the resolvable references replaced.
        resolved: how many strings were replaced.
        inlined: how many of those became data URLs.
        unresolved: the references left as they were, each once, in document order.
    """

    document: Any
    resolved: int = 0
    inlined: int = 0
    unresolved: list[str] = field(default_factory=list)


def references(document: Any) -> list[str]:
    """Every reference string in the document, in order (object keys excluded)."""
    found: list[str] = []
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if value.startswith("data:") and REFERENCE.match(value):
                found.append(value)
        elif isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return found


def _visible(
    session: Session, ids: set[str], can_see_device: Callable[[str], bool]
) -> dict[str, MediaObject]:
    from sqlalchemy import select
    from sqlalchemy.orm import load_only

    from common.db.models import MediaObject

    if not ids:
        return {}
    columns = load_only(  # what signing and inlining need: not the analysis and the rest
        MediaObject.id,
        MediaObject.device_id,
        MediaObject.status,
        MediaObject.verified_sha256,
        MediaObject.bucket,
        MediaObject.object_name,
        MediaObject.object_version,
        MediaObject.original_filename,
        MediaObject.mime_type,
        MediaObject.size_bytes,
        MediaObject.actual_size_bytes,
        raiseload=True,
    )
    rows = session.execute(
        select(MediaObject).options(columns).where(MediaObject.id.in_(ids))
    ).scalars()
    seen: dict[str, bool] = {}
    visible = {}
    for media in rows:
        if media.device_id not in seen:
            seen[media.device_id] = can_see_device(media.device_id)
        downloadable = (
            media.verified_sha256 is not None
            and media.status != MediaStatus.REJECTED.value
            and MediaStatus(media.status) not in GONE_STATUSES
        )
        if seen[media.device_id] and downloadable:
            visible[media.id] = media
    return visible


def _inline(media: MediaObject) -> str:
    from common.storage import get_store

    store = get_store()
    data = b"".join(
        store.read_range(media.bucket, media.object_name, media.object_version, 0, None)
    )
    return f"data:{media.mime_type};base64,{base64.b64encode(data).decode()}"


def resolve_document(
    session: Session,
    document: Any,
    *,
    can_see_device: Callable[[str], bool],
    inline: bool = False,
) -> Resolution:
    """Resolve the references of `document` (see the module docstring).

    Args:
        session: for reading the referenced media (one query).
        document: any JSON value (already bounded in size and depth by the caller).
        can_see_device: whether the caller may see a device's media.
        inline: data URLs for media up to `resolve_inline_max_bytes` each, while the whole
            answer's inlined bytes stay within `resolve_inline_total_bytes` (signed URLs beyond).

    Raises:
        ValidationError: more than `resolve_max_references` references (`too_many_references`).
        StorageUnavailable, TransientError: signing or reading failed.
    """
    from common.media.listing import sign_media_download

    settings = get_settings()
    found = references(document)
    if len(found) > settings.resolve_max_references:
        raise ValidationError(
            f"the document holds {len(found)} references, more than "
            f"{settings.resolve_max_references}",
            code="too_many_references",
            details={"max_references": settings.resolve_max_references},
        )
    wanted = {m.group("id") for m in map(REFERENCE.match, found) if m}
    media = _visible(session, {i for i in wanted if is_valid_id(i, MEDIA_PREFIX)}, can_see_device)
    result = Resolution(document=None)
    replacement: dict[str, str] = {}
    budget = settings.resolve_inline_total_bytes
    for reference in dict.fromkeys(found):
        match = REFERENCE.match(reference)
        target = media.get(match.group("id")) if match else None
        if target is None:
            result.unresolved.append(reference)
            continue
        size = target.actual_size_bytes or target.size_bytes
        if inline and size <= settings.resolve_inline_max_bytes and size <= budget:
            replacement[reference] = _inline(target)
            budget -= size
        else:
            replacement[reference] = sign_media_download(target).url

    def rewrite(value: Any) -> Any:
        if isinstance(value, str):
            new = replacement.get(value)
            if new is None:
                return value
            result.resolved += 1
            result.inlined += new.startswith("data:")
            return new
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    result.document = rewrite(document)
    return result
