"""https against a server on 127.0.0.1 with a certificate for `media.test` from a throwaway CA.

The client dials the checked IP while TLS verifies the URL's host name and sends it as SNI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from common.core.errors import FetchFailed, UrlNotAllowed
from common.fetch import FetchPolicy, fetch_to_file
from tests.unit.fetch.support import ScriptedServer, TlsFiles, ok, redirect, resolve_to

Serve = Callable[..., ScriptedServer]


def https_policy(tls_files: TlsFiles, **overrides: object) -> FetchPolicy:
    settings: dict[str, object] = {
        "allow_loopback_for_tests": True,
        "ca_bundle_path": tls_files.ca_pem,
        "connect_timeout_seconds": 2.0,
        "total_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return FetchPolicy(**settings)  # type: ignore[arg-type]


def test_https_dials_the_ip_and_verifies_the_host_name(
    serve: Serve, tls_files: TlsFiles, tmp_path: Path, connects: list[object]
) -> None:
    server = serve({"/photo.jpg": ok(b"jpeg bytes", "image/jpeg")}, tls_files.server_context())

    result = fetch_to_file(
        server.url("/photo.jpg", host="media.test", scheme="https"),
        tmp_path / "a",
        policy=https_policy(tls_files),
        resolver=resolve_to("127.0.0.1"),
    )

    assert (tmp_path / "a").read_bytes() == b"jpeg bytes"
    assert result.final_url == f"https://media.test:{server.port}/photo.jpg"
    assert connects == [("127.0.0.1", server.port)]
    assert server.server_names == ["media.test"]  # SNI
    assert server.requests[0].headers["host"] == f"media.test:{server.port}"


def test_a_certificate_for_another_name_is_fetch_failed(
    serve: Serve, tls_files: TlsFiles, tmp_path: Path
) -> None:
    # Same server, same IP, but the URL names a host the certificate does not cover.
    server = serve({"/": ok(b"x")}, tls_files.server_context())
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(
            server.url("/", host="other.test", scheme="https"),
            tmp_path / "a",
            policy=https_policy(tls_files),
            resolver=resolve_to("127.0.0.1"),
        )
    assert caught.value.details == {"reason": "tls"}
    assert server.requests == []


def test_an_untrusted_certificate_is_fetch_failed(
    serve: Serve, tls_files: TlsFiles, tmp_path: Path
) -> None:
    server = serve({"/": ok(b"x")}, tls_files.server_context())
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(
            server.url("/", host="media.test", scheme="https"),
            tmp_path / "a",
            policy=https_policy(tls_files, ca_bundle_path=None),  # the system store only
            resolver=resolve_to("127.0.0.1"),
        )
    assert caught.value.details == {"reason": "tls"}
    assert server.requests == []


def test_https_to_http_redirect_is_refused_unless_http_is_allowed(
    serve: Serve, tls_files: TlsFiles, tmp_path: Path, connects: list[object]
) -> None:
    plain = serve({"/x": ok(b"plain")})
    secure = serve(
        {"/start": redirect(plain.url("/x", host="media.test"))}, tls_files.server_context()
    )
    start = secure.url("/start", host="media.test", scheme="https")
    resolver = resolve_to("127.0.0.1")

    with pytest.raises(UrlNotAllowed) as caught:
        fetch_to_file(start, tmp_path / "a", policy=https_policy(tls_files), resolver=resolver)
    assert caught.value.details == {"reason": "scheme", "scheme": "http", "redirects": 1}
    assert plain.connections == 0

    allowed = https_policy(tls_files, allow_http=True)
    result = fetch_to_file(start, tmp_path / "b", policy=allowed, resolver=resolver)
    assert (result.final_url, result.redirects) == (plain.url("/x", host="media.test"), 1)
    assert connects == [("127.0.0.1", secure.port)] * 2 + [("127.0.0.1", plain.port)]
