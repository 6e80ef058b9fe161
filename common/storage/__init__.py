"""Object storage behind one interface (`base.ObjectStore`); `get_store()` picks the backend.

Object names come from `layout`; local copies of objects from `tempfiles`.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.storage.base import ObjectStore


@cache
def get_store() -> ObjectStore:
    """The process-wide store for `STORAGE_BACKEND` (gcs or s3), built on first use; wrapped in a
    `RecordingStore` when `SERVICE_CALLS_DIR` is set (the local stack's least-privilege check)."""
    import os

    from common.core.settings import get_settings

    settings = get_settings()
    store: ObjectStore
    if settings.storage_backend == "s3":
        from common.storage.s3 import S3Store

        store = S3Store(settings)
    else:
        from common.storage.gcs import GcsStore

        store = GcsStore(settings)
    if os.environ.get("SERVICE_CALLS_DIR"):
        from common.storage.recording import RecordingStore

        store = RecordingStore(store)
    return store
