"""The store's `stream` against the session stack's store (fake-gcs-server, moto's S3): the exact
bytes of the asked version, in order, whatever their size; a missing version and a failing sink
surface as our errors."""

from __future__ import annotations

import gzip
import hashlib
import os

import pytest

from common.core.hashing import StreamingDigester
from common.storage import get_store
from common.storage.base import ObjectNotFound, StorageUnavailable
from common.storage.gcs import STREAM_BLOCK_BYTES
from emulators.stack import LocalStack

pytestmark = pytest.mark.integration


class Collect:
    def __init__(self) -> None:
        self.blocks: list[bytes] = []

    def write(self, block: bytes) -> int:
        self.blocks.append(bytes(block))
        return len(block)


@pytest.mark.parametrize("size", [0, 1, STREAM_BLOCK_BYTES, 2 * STREAM_BLOCK_BYTES + 12345])
def test_stream_delivers_exactly_the_stored_bytes(local_stack: LocalStack, size: int) -> None:
    store = get_store()
    bucket = local_stack.env["UPLOADS_BUCKET"]
    data = os.urandom(size)
    info = store.write(bucket, f"tests/stream-{size}.bin", data, "application/octet-stream")
    sink = Collect()
    store.stream(bucket, f"tests/stream-{size}.bin", info.version, sink)
    assert b"".join(sink.blocks) == data
    assert all(len(block) <= STREAM_BLOCK_BYTES for block in sink.blocks)
    digester = StreamingDigester(size, md5=False)
    store.stream(bucket, f"tests/stream-{size}.bin", info.version, digester)
    assert digester.result().sha256_hex == hashlib.sha256(data).hexdigest()


@pytest.mark.storage_backends("gcs")  # writes with google-cloud-storage: a Cloud Storage case
def test_stream_of_a_gzip_encoded_object_gives_the_stored_not_the_decoded_bytes(
    local_stack: LocalStack,
) -> None:
    store = get_store()
    bucket = local_stack.env["UPLOADS_BUCKET"]
    stored = gzip.compress(b"hello " * 1000)
    from google.cloud import storage

    client = storage.Client(project=local_stack.env["GOOGLE_CLOUD_PROJECT"])
    blob = client.bucket(bucket).blob("tests/encoded.txt")
    blob.content_encoding = "gzip"
    blob.upload_from_string(stored, content_type="text/plain")
    sink = Collect()
    store.stream(bucket, "tests/encoded.txt", str(blob.generation), sink)
    assert b"".join(sink.blocks) == stored


def test_a_missing_version_and_a_failing_sink_are_our_errors(local_stack: LocalStack) -> None:
    store = get_store()
    bucket = local_stack.env["UPLOADS_BUCKET"]
    info = store.write(bucket, "tests/stream-errors.bin", os.urandom(1000), "image/jpeg")
    with pytest.raises(ObjectNotFound):
        store.stream(bucket, "tests/stream-errors.bin", "1", Collect())

    class Failing:
        def write(self, block: bytes) -> int:
            raise OSError("disk full")

    with pytest.raises(StorageUnavailable):
        store.stream(bucket, "tests/stream-errors.bin", info.version, Failing())
