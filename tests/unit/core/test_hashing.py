from __future__ import annotations

import base64
import hashlib
import io
import random

import pytest

from common.core.hashing import (
    StreamingDigester,
    digest_file,
    sampling_id_of_bytes,
    sampling_id_of_file,
    sampling_ranges,
)

# Test vectors from the sampling-id spec.
VECTORS = [
    (bytes(range(256)) * 20, "230026edabf2e88f"),
    (b"hello world", "93fcddf9eb5d2c57"),
    (bytes((i * 7) % 251 for i in range(3072)), "447e2867d5ea5762"),
    (b"", "34c96acdcadb1bbb"),
]


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_sampling_id_matches_spec_vectors(data: bytes, expected: str) -> None:
    assert sampling_id_of_bytes(data) == expected
    assert sampling_id_of_file(io.BytesIO(data), len(data)) == expected


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_streaming_digest_matches_vectors_for_any_chunking(data: bytes, expected: str) -> None:
    for chunk in (1, 7, 1000, 1 << 20):
        assert digest_file(io.BytesIO(data), len(data), chunk_bytes=chunk).sampling_id == expected


def test_virtual_ids_are_prefixed() -> None:
    assert sampling_id_of_bytes(b"hello world", virtual=True) == "V93fcddf9eb5d2c57"


@pytest.mark.parametrize("size", [0, 1, 3071, 3072, 3073, 4096, 10_000, 65_537])
def test_streaming_equals_ranged_reads_and_hashlib(size: int) -> None:
    data = random.Random(size).randbytes(size)
    digest = digest_file(io.BytesIO(data), size, chunk_bytes=333)
    assert digest.size_bytes == size
    assert digest.sha256_hex == hashlib.sha256(data).hexdigest()
    assert digest.md5_base64 == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert digest.sampling_id == sampling_id_of_bytes(data)


def test_middle_range_starts_half_a_sample_before_the_middle() -> None:
    assert sampling_ranges(10_000) == [(0, 1024), (4488, 1024), (8976, 1024)]
    assert sampling_ranges(100) == [(0, 100)]


def test_stream_shorter_than_metadata_size_gives_no_sampling_id() -> None:
    digester = StreamingDigester(expected_size_bytes=5000)
    digester.write(b"x" * 4000)
    result = digester.result()
    assert result.size_bytes == 4000
    assert result.sampling_id == ""


@pytest.mark.parametrize("size", [0, 100, 3072, 10_000, 1 << 20])
def test_irregular_chunks_keep_the_head_and_sampled_ranges_wherever_they_fall(size: int) -> None:
    # GIVEN content cut at random places (chunks that start inside, end inside or span the
    # head and the sampled ranges, as a network read delivers them)
    rng = random.Random(size)
    data = rng.randbytes(size)
    digester = StreamingDigester(size, md5=False, head_bytes=512)
    position = 0
    while position < size:
        step = rng.choice([1, 5, 511, 1023, 1025, 4096, 70_000])
        digester.write(memoryview(data)[position : position + step])
        position += step
    result = digester.result()
    # THEN it measured what one pass over the whole content measures
    assert bytes(digester.head) == data[:512]
    assert result.sha256_hex == hashlib.sha256(data).hexdigest()
    assert result.sampling_id == sampling_id_of_bytes(data)
    assert result.md5_base64 is None


def test_the_md5_of_a_single_put_etag_and_none_for_a_multipart_one() -> None:
    from common.core.hashing import md5_of_etag

    hex_md5 = hashlib.md5(b"x").hexdigest()
    expected = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    assert md5_of_etag(f'"{hex_md5}"') == expected
    assert md5_of_etag(hex_md5) == expected  # S3 event notifications send it unquoted
    assert md5_of_etag(f'"{hex_md5}-2"') is None
    assert md5_of_etag("z" * 32) is None
    assert md5_of_etag(None) is None
