"""create_media (HTTP): a device declares a capture and gets a signed upload URL, or sends a small
snapshot inline.

`POST /v1/media` and `POST /v1/snapshots` with `Authorization: Bearer <device JWT>`; see
docs/CONTRACTS.md. Routes: `common/api/routes/uploads.py`.
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

API = LazyApi("common.api.routes:CREATE_MEDIA", warm.tokens, warm.database, warm.signing)
"""Routes, then what their first request needs, prepared after the fork (`common.core.warmup`)."""


@functions_framework.http
def create_media(request: Request) -> Response:
    """HTTP entry point."""
    return API(request)
