"""Local copies of stored objects, for code that needs a file (decoders, cutters)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.storage.base import ObjectStore


@contextmanager
def temp_path(suffix: str = "", prefix: str = "media-") -> Iterator[Path]:
    """A fresh empty temporary file's path, removed (if still there) when the block ends."""
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def local_copy(
    store: ObjectStore, bucket: str, name: str, version: str | None, *, prefix: str = "media-"
) -> Iterator[Path]:
    """Download one object version to a temporary file (same extension) for the block's length.

    Raises:
        ObjectNotFound: the version does not exist.
        StorageUnavailable: the store failed.
    """
    suffix = Path(name).suffix
    with temp_path(suffix=suffix, prefix=prefix) as path:
        store.download_to_file(bucket, name, version, path)
        yield path
