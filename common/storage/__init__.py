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
    """The process-wide store for `STORAGE_BACKEND` (gcs or s3), built on first use."""
    from common.core.settings import get_settings

    settings = get_settings()
    if settings.storage_backend != "gcs":
        raise RuntimeError(f"STORAGE_BACKEND={settings.storage_backend} is not available")
    import os

    from common.storage.gcs import GcsStore

    store: ObjectStore = GcsStore(settings)
    if os.environ.get("SERVICE_CALLS_DIR"):
        from common.storage.recording import RecordingStore

        store = RecordingStore(store)
    return store
