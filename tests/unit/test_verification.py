from __future__ import annotations

import io

from common.hashing import digest_file
from common.verification import compare

DATA = b"camera bytes" * 500


def test_matching_declaration_has_no_problems() -> None:
    digest = digest_file(io.BytesIO(DATA), len(DATA))
    assert (
        compare(len(DATA), digest.sha256_hex, digest.md5_base64 or "", digest, digest.md5_base64)
        == []
    )


def test_each_mismatch_is_named() -> None:
    digest = digest_file(io.BytesIO(DATA), len(DATA))
    problems = compare(
        len(DATA) + 1, "0" * 64, "AAAAAAAAAAAAAAAAAAAAAA==", digest, digest.md5_base64
    )
    assert [p.split(" ")[0] for p in problems] == ["size_bytes", "sha256", "md5"]


def test_storage_md5_is_used_when_not_computed_locally() -> None:
    from common.hashing import StreamingDigester

    digester = StreamingDigester(len(DATA), md5=False)
    digester.write(DATA)
    digest = digester.result()
    assert digest.md5_base64 is None
    assert compare(len(DATA), digest.sha256_hex, "x" * 24, digest, "y" * 24) == [
        f"md5 {'y' * 24} != declared {'x' * 24}"
    ]
