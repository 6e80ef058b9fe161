"""Signed GETs reused while they are young: a page of 50 thumbnails, or a document with 1,000
references, does not cost 50 or 1,000 signatures (in the cloud each is an IAM signBlob call).

A signed URL for (bucket, object, version, file name) is cached for half the asked lifetime and
handed out again while it still has at least that half to live, so every URL given out is valid
for at least `ttl_seconds / 2`. The cache is per process, bounded, and thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.storage.base import ObjectStore, SignedRequest

MAX_ENTRIES = 20_000

_Key = tuple[str, str, str | None, str | None, int]


class SigningCache:
    """Caches `store.sign_download` results (see the module docstring).

    Args:
        store: the store that signs.
        max_entries: at most this many URLs are kept (least recently used go first).
        clock: the current time, tz-aware UTC (tests).
    """

    def __init__(
        self,
        store: ObjectStore,
        max_entries: int = MAX_ENTRIES,
        clock: type[datetime] = datetime,
    ) -> None:
        self._store = store
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[_Key, SignedRequest] = OrderedDict()
        self._lock = threading.Lock()
        self.signed = 0
        """How many signatures were made (the rest were served from the cache)."""

    def sign_download(
        self,
        bucket: str,
        name: str,
        *,
        ttl_seconds: int,
        version: str | None = None,
        filename: str | None = None,
    ) -> SignedRequest:
        """A signed GET valid for at least `ttl_seconds / 2` from now.

        Raises:
            StorageUnavailable: signing failed.
        """
        key = (bucket, name, version, filename, ttl_seconds)
        now = self._clock.now(UTC)
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found.expires_at - now >= timedelta(seconds=ttl_seconds / 2):
                self._entries.move_to_end(key)
                return found
        signed = self._store.sign_download(
            bucket, name, ttl_seconds=ttl_seconds, version=version, filename=filename
        )
        with self._lock:
            self.signed += 1
            self._entries[key] = signed
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return signed

    def sign_downloads(
        self, objects: list[tuple[str, str]], *, ttl_seconds: int
    ) -> list[SignedRequest]:
        """`sign_download` of each (bucket, object name), live versions, in order: one look at
        the clock and one lock for the cached ones (a gallery page asks for 50 at once).

        Raises:
            StorageUnavailable: signing failed.
        """
        now = self._clock.now(UTC)
        half = timedelta(seconds=ttl_seconds / 2)
        found: list[SignedRequest | None] = []
        with self._lock:
            for bucket, name in objects:
                key = (bucket, name, None, None, ttl_seconds)
                entry = self._entries.get(key)
                if entry is not None and entry.expires_at - now >= half:
                    self._entries.move_to_end(key)
                    found.append(entry)
                else:
                    found.append(None)
        return [
            entry or self.sign_download(bucket, name, ttl_seconds=ttl_seconds)
            for entry, (bucket, name) in zip(found, objects, strict=True)
        ]
