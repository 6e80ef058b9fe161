from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from common.core.hashing import StreamingDigester, digest_file
from common.media.sniff import SNIFF_BYTES, matches_declared, sniff_mime
from common.media.verify import compare
from common.storage.base import ObjectInfo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600
DATA = PNG + b"camera bytes" * 500


def media(**overrides: Any) -> Any:
    digest = digest_file(io.BytesIO(DATA), len(DATA))
    values = {
        "size_bytes": len(DATA),
        "sha256": digest.sha256_hex,
        "md5": digest.md5_base64,
        "mime_type": "image/png",
    }
    return SimpleNamespace(**{**values, **overrides})


def info(**overrides: Any) -> ObjectInfo:
    values: dict[str, Any] = {"bucket": "b", "name": "n", "version": "1", "size_bytes": len(DATA)}
    return ObjectInfo(**{**values, "content_type": "image/png", **overrides})


def test_matching_declaration_has_no_reason() -> None:
    digest = digest_file(io.BytesIO(DATA), len(DATA))
    assert compare(media(), digest, info(), "image/png") is None


def test_mismatches_give_the_first_code_and_name_all_in_the_sentence() -> None:
    digest = digest_file(io.BytesIO(DATA), len(DATA))
    reason = compare(
        media(size_bytes=len(DATA) + 1, sha256="0" * 64, md5="A" * 22 + "=="),
        digest,
        info(),
        "image/png",
    )
    assert reason is not None
    assert reason.code == "size_mismatch"
    assert "SHA-256" in reason.message
    assert "MD5" in reason.message


def test_the_stores_md5_is_used_when_not_computed_locally() -> None:
    digester = StreamingDigester(len(DATA), md5=False)
    digester.write(DATA)
    digest = digester.result()
    assert digest.md5_base64 is None
    reason = compare(media(), digest, info(md5_base64="y" * 24), "image/png")
    assert reason is not None
    assert reason.code == "md5_mismatch"


def test_bytes_of_another_type_are_a_content_type_mismatch() -> None:
    digest = digest_file(io.BytesIO(DATA), len(DATA))
    reason = compare(
        media(mime_type="image/jpeg"), digest, info(content_type="image/jpeg"), "image/png"
    )
    assert reason is not None
    assert reason.code == "content_type_mismatch"
    assert "image/png" in reason.message
    assert "/tmp" not in reason.message


def test_a_stored_content_type_that_differs_says_so_and_not_that_the_bytes_differ() -> None:
    digest = digest_file(io.BytesIO(DATA), len(DATA))
    reason = compare(media(), digest, info(content_type="application/octet-stream"), "image/png")
    assert reason is not None
    assert reason.code == "content_type_mismatch"
    assert reason.message == (
        "The stored bytes do not match the declaration: the object was stored with Content-Type "
        "application/octet-stream, not the declared image/png."
    )


def test_the_digester_keeps_the_head_for_sniffing() -> None:
    digester = StreamingDigester(len(DATA), head_bytes=SNIFF_BYTES)
    for start in range(0, len(DATA), 100):
        digester.write(DATA[start : start + 100])
    assert bytes(digester.head) == DATA[:SNIFF_BYTES]
    assert sniff_mime(bytes(digester.head)) == "image/png"


def test_avi_is_not_mp4_but_mov_and_mp4_are_one_family() -> None:
    avi = b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 64
    assert sniff_mime(avi) == "video/x-msvideo"
    assert not matches_declared("video/mp4", sniff_mime(avi))
    assert matches_declared("video/mp4", "video/quicktime")
    assert not matches_declared("image/jpeg", None)
