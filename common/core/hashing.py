"""Content digests: streaming SHA-256 / MD5 / size in one pass, and the xxHash64 sampling id.

xxHash64 sampling id (the pipeline's content-sampling spec): for content of size >= 3072 bytes, hash
`size as 8-byte little-endian int64 + first 1024 bytes + 1024 bytes starting at floor(size/2) - 512 +
last 1024 bytes`; for smaller content, `size as 8-byte little-endian int64 + the whole content`. XXH64
with seed 0, lowercase hex of the canonical (big-endian) digest, 16 characters. An id computed for
content that is never stored is prefixed `V`.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import xxhash

SAMPLE_BYTES = 1024
SAMPLING_THRESHOLD_BYTES = 3 * SAMPLE_BYTES
VIRTUAL_PREFIX = "V"


def sampling_ranges(size_bytes: int) -> list[tuple[int, int]]:
    """Return the `(start, length)` byte ranges the sampling id reads, in hashing order.

    For `size_bytes < 3072` that is the whole content (or nothing for empty content).
    """
    if size_bytes < SAMPLING_THRESHOLD_BYTES:
        return [(0, size_bytes)] if size_bytes else []
    middle = size_bytes // 2 - SAMPLE_BYTES // 2
    return [(0, SAMPLE_BYTES), (middle, SAMPLE_BYTES), (size_bytes - SAMPLE_BYTES, SAMPLE_BYTES)]


def _finish_sampling(size_bytes: int, parts: list[bytes], *, virtual: bool) -> str:
    hasher = xxhash.xxh64(seed=0)
    hasher.update(struct.pack("<q", size_bytes))
    for part in parts:
        hasher.update(part)
    digest = hasher.hexdigest()
    return f"{VIRTUAL_PREFIX}{digest}" if virtual else digest


def sampling_id_from_ranges(
    size_bytes: int, read_range: Callable[[int, int], bytes], *, virtual: bool = False
) -> str:
    """Compute the sampling id by reading only the sampled ranges.

    Args:
        size_bytes: total content size in bytes.
        read_range: `read_range(start, length) -> bytes`, returning exactly `length` bytes.
        virtual: prefix the id with `V` (content that is never stored).

    Returns:
        16 lowercase hex characters (17 with the `V` prefix).

    Raises:
        ValueError: if `read_range` returns fewer bytes than asked for.
    """
    parts: list[bytes] = []
    for start, length in sampling_ranges(size_bytes):
        chunk = read_range(start, length)
        if len(chunk) != length:
            raise ValueError(f"short read at {start}: {len(chunk)} of {length} bytes")
        parts.append(chunk)
    return _finish_sampling(size_bytes, parts, virtual=virtual)


def sampling_id_of_file(file: BinaryIO, size_bytes: int, *, virtual: bool = False) -> str:
    """Sampling id of a seekable binary file of `size_bytes` (three seeks and reads at most)."""

    def read_range(start: int, length: int) -> bytes:
        file.seek(start)
        return file.read(length)

    return sampling_id_from_ranges(size_bytes, read_range, virtual=virtual)


def sampling_id_of_bytes(data: bytes, *, virtual: bool = False) -> str:
    """Sampling id of in-memory content."""
    return sampling_id_from_ranges(len(data), lambda s, n: data[s : s + n], virtual=virtual)


@dataclass(frozen=True)
class ContentDigest:
    """What a single pass over some content measured.

    Attributes:
        size_bytes: bytes seen.
        sha256_hex: SHA-256, lowercase hex (64 characters).
        md5_base64: MD5, standard base64 (24 characters), the form GCS `md5Hash` and `Content-MD5`
            use; None when the digester was told not to compute it.
        sampling_id: xxHash64 sampling id (16 lowercase hex characters).
    """

    size_bytes: int
    sha256_hex: str
    md5_base64: str | None
    sampling_id: str


class StreamingDigester:
    """A writable sink that hashes content in one pass with constant memory.

    Feed it chunks with `write()` (it is a valid target for `Blob.download_to_file`); it keeps only the
    hash states and the at most 3 KiB the sampling id needs. `expected_size_bytes` (the object's size
    from its metadata) tells it which ranges to keep; if the stream turns out to be another size, the
    sampling id is computed from what it kept only when that is still exact, else left empty.
    With `md5=False` it skips MD5 (about 3x slower than hardware SHA-256), for callers that take the
    MD5 from the store's own hash of the object. With `head_bytes` it also keeps the first bytes in
    `head`, for sniffing the content's type.
    """

    def __init__(self, expected_size_bytes: int, *, md5: bool = True, head_bytes: int = 0) -> None:
        self._expected = expected_size_bytes
        self._head_limit = head_bytes
        self.head = bytearray()
        """The first `head_bytes` bytes of the content (for sniffing its type)."""
        self._ranges = sampling_ranges(expected_size_bytes)
        self._kept: list[bytearray] = [bytearray() for _ in self._ranges]
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5() if md5 else None  # noqa: S324 - GCS content MD5, not security
        self._offset = 0
        # (start, end) of every byte range kept (the head, the sampled ranges): a chunk that
        # ends before `_watch_from` touches none, and is only hashed (the common case).
        self._watched = [(0, head_bytes), *((s, s + n) for s, n in self._ranges)]
        self._watch_from = self._next_watched(0)

    def _next_watched(self, offset: int) -> float:
        return min((start for start, end in self._watched if end > offset), default=math.inf)

    def write(self, chunk: bytes | bytearray | memoryview) -> int:
        """Hash `chunk` (the next bytes of the content); return its length.

        The chunk is read in place (a memoryview: no copy), whatever its size; only the bytes of
        the head and of the sampled ranges are copied out (at most 3 KiB plus `head_bytes`).
        """
        view = memoryview(chunk)
        self._sha256.update(view)
        if self._md5 is not None:
            self._md5.update(view)
        end = self._offset + len(view)
        if end > self._watch_from:
            self._keep(view, end)
        self._offset = end
        return len(view)

    def _keep(self, view: memoryview, end: int) -> None:
        """Copy out the parts of `view` (bytes `self._offset..end`) that are kept."""
        offset = self._offset
        if len(self.head) < self._head_limit:
            self.head += view[: self._head_limit - len(self.head)]
        for index, (start, length) in enumerate(self._ranges):
            lo, hi = max(start, offset), min(start + length, end)
            if lo < hi:
                self._kept[index] += view[lo - offset : hi - offset]
        self._watch_from = self._next_watched(end)

    def result(self) -> ContentDigest:
        """Return the digest of everything written so far."""
        complete = self._offset == self._expected and all(
            len(kept) == length for kept, (_, length) in zip(self._kept, self._ranges, strict=True)
        )
        sampling = (
            _finish_sampling(self._offset, [bytes(k) for k in self._kept], virtual=False)
            if complete
            else ""
        )
        return ContentDigest(
            size_bytes=self._offset,
            sha256_hex=self._sha256.hexdigest(),
            md5_base64=base64.b64encode(self._md5.digest()).decode("ascii") if self._md5 else None,
            sampling_id=sampling,
        )


def digest_file(file: BinaryIO, size_bytes: int, chunk_bytes: int = 1 << 20) -> ContentDigest:
    """Digest a readable binary file in chunks of `chunk_bytes` (constant memory)."""
    digester = StreamingDigester(size_bytes)
    while chunk := file.read(chunk_bytes):
        digester.write(chunk)
    return digester.result()


def digest_path(path: Path, chunk_bytes: int = 1 << 20) -> ContentDigest:
    """Digest a local file (size, SHA-256, MD5, sampling id) in one pass, constant memory."""
    with path.open("rb") as handle:
        return digest_file(handle, path.stat().st_size, chunk_bytes)


def md5_of_etag(etag: object) -> str | None:
    """The base64 MD5 of an S3 ETag that is one: 32 hex digits, quoted or not (an object stored
    by one PUT, unencrypted or SSE-S3); None for anything else (a multipart ETag `<hex>-<parts>`).
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html)
    """
    if not isinstance(etag, str):
        return None
    text = etag.strip('"')
    if len(text) != 32:
        return None
    try:
        return base64.b64encode(bytes.fromhex(text)).decode("ascii")
    except ValueError:
        return None
