"""Warm-up steps (`common.core.warmup.WarmUp`) the functions choose from in their `main.py`.

Each step builds a process-wide thing a first request would otherwise build: it calls the same
cached getter the request path calls, so the request finds it ready. None sends a request to a
service, except `database`, which opens the pool's first connection (the connection the first
request would open); `signing` uses a local signing key once on throwaway bytes (no network;
with IAM signBlob in the cloud it only builds the client).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def modules(*names: str) -> Callable[[], None]:
    """A step that imports `names` (a handler's modules, heavy libraries)."""

    def imports() -> None:
        for name in names:
            importlib.import_module(name)

    imports.__name__ = f"import {', '.join(names)}"
    return imports


def tokens() -> None:
    """PyJWT and its HMAC / RSA / EC algorithms (what `authenticate` loads)."""
    import jwt.algorithms  # noqa: F401

    from common.core.settings import get_settings

    get_settings()


def database() -> None:
    """The models (mappers configured), the engine, and its first pooled connection."""
    from sqlalchemy.orm import configure_mappers

    import common.db.models  # noqa: F401
    from common.db.engine import get_engine

    configure_mappers()
    with get_engine().connect():
        pass


def storage() -> None:
    """The object store and its client (reads and writes)."""
    from common.storage import get_store

    store = get_store()
    client = getattr(store, "client", None)  # the GCS backend's lazily built client
    del client


def signing() -> None:
    """The store, the V4 signing code, and (when the key is local) the key loaded and used once
    on throwaway bytes: no URL is signed and nothing is asked of the store."""
    import google.cloud.storage._signing  # noqa: F401

    from common.core.settings import get_settings

    storage()
    key_file = get_settings().signing_credentials_file
    if key_file:
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(key_file)  # type: ignore[no-untyped-call]
        credentials.sign_bytes(b"warm-up")


def mirror() -> None:
    """The Firestore client and its API transport (the gRPC channel connects on first use)."""
    from common.core.settings import get_settings
    from common.media.mirror import get_firestore

    if get_settings().status_mirror_enabled:
        client = get_firestore()
        getattr(client, "_firestore_api", None)


def publisher() -> None:
    """The Pub/Sub publisher client."""
    from common.events.publish import get_publisher

    get_publisher()
