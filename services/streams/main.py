"""The stream service's entry point: the aiohttp application of `common.streams.service`.

Run it with aiohttp's own runner (the local stack and the container image do):

    python -m aiohttp.web -H 127.0.0.1 -P 8080 services.streams.main:init

Configuration is the functions' (`common/core/settings.py` from the environment): the database,
`FIRESTORE_DATABASE`, JWT verification, `CORS_ALLOWED_ORIGINS`, `SSE_*` and `STREAM_*`.
"""

from __future__ import annotations

import logging

from aiohttp import web

from common.observe.logging import configure
from common.streams.service import create_app


def init(_argv: list[str] | None = None) -> web.Application:
    """The application (aiohttp's runner calls this with its remaining arguments)."""
    configure()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # the service logs each stream
    return create_app()
