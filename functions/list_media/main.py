"""list_media (HTTP): listing, detail, downloads, clip/snapshot jobs and live status (SSE).

Every route needs `Authorization: Bearer <device or user JWT>`; see docs/CONTRACTS.md and
docs/openapi.yaml. Routes: `common/api/routes/{media,jobs,events}.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework

from common.api import warm
from common.api.hosting import LazyApi
from common.observe.logging import configure

configure()

if TYPE_CHECKING:
    from flask import Request
    from werkzeug.wrappers import Response

API = LazyApi("common.api.routes:LIST_MEDIA", warm.tokens, warm.database, warm.signing)
"""Routes, then what their first request needs, prepared after the fork (`common.core.warmup`)."""


@functions_framework.http
def list_media(request: Request) -> Response:
    """HTTP entry point."""
    return API(request)
