"""fetch_to_file against servers on 127.0.0.1: what is refused before connecting, redirects, DNS.

`connects` records every socket connect in the process: "no connection happened" is asserted on
it (and on the server's own accept count), not inferred from the error.
"""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from common.core.errors import FetchFailed, UrlNotAllowed
from common.fetch import FetchPolicy, fetch_to_file, system_resolver
from tests.unit.fetch.support import ScriptedServer, loopback_policy, ok, redirect, resolve_to

Serve = Callable[..., ScriptedServer]
BODY = bytes(range(256)) * 1000  # 256,000 bytes


def test_fetches_the_body_with_its_digests_and_type_hint(serve: Serve, tmp_path: Path) -> None:
    server = serve({"/media.png": ok(BODY, "Image/PNG; charset=binary")})
    destination = tmp_path / "out.bin"

    result = fetch_to_file(server.url("/media.png?v=1"), destination, policy=loopback_policy())

    assert destination.read_bytes() == BODY
    assert result.size_bytes == len(BODY)
    assert result.sha256_hex == hashlib.sha256(BODY).hexdigest()
    assert result.md5_base64 == base64.b64encode(hashlib.md5(BODY).digest()).decode()
    assert result.content_type_hint == "image/png"
    assert (result.status, result.redirects) == (200, 0)
    assert result.final_url == server.url("/media.png?v=1")
    request = server.requests[0]
    assert (request.method, request.target) == ("GET", "/media.png?v=1")
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.headers["accept-encoding"] == "identity"
    assert "authorization" not in request.headers
    assert "cookie" not in request.headers


def test_a_name_is_resolved_once_and_the_checked_address_is_dialled(
    serve: Serve, tmp_path: Path, connects: list[object]
) -> None:
    server = serve({"/a": ok(b"hello")})
    asked: list[str] = []

    result = fetch_to_file(
        server.url("/a", host="media.test"),
        tmp_path / "a",
        policy=loopback_policy(),
        resolver=resolve_to("127.0.0.1", calls=asked),
    )

    assert result.size_bytes == 5
    assert asked == ["media.test"]
    assert connects == [("127.0.0.1", server.port)]
    assert server.requests[0].headers["host"] == f"media.test:{server.port}"


def test_own_loopback_server_is_refused_without_the_test_flag(
    serve: Serve, tmp_path: Path, connects: list[object]
) -> None:
    server = serve({"/a": ok(b"secret")})
    policy = FetchPolicy(allow_http=True)
    for url in (
        server.url("/a"),
        server.url("/a", host="2130706433"),
        server.url("/a", host="0x7f.1"),
        server.url("/a", host="[::ffff:127.0.0.1]"),
        server.url("/a", host="localhost"),
    ):
        with pytest.raises(UrlNotAllowed) as caught:
            fetch_to_file(url, tmp_path / "a", policy=policy)
        assert caught.value.details["reason"] == "loopback"
    with pytest.raises(UrlNotAllowed):  # a name that resolves to it
        fetch_to_file(
            server.url("/a", host="media.test"),
            tmp_path / "a",
            policy=policy,
            resolver=resolve_to("127.0.0.1"),
        )
    assert connects == []
    assert server.connections == 0
    assert not (tmp_path / "a").exists()


def test_the_test_flag_reaches_the_server_through_normalised_literals(
    serve: Serve, tmp_path: Path, connects: list[object]
) -> None:
    server = serve({"/a": ok(b"x")})
    fetch_to_file(server.url("/a", host="2130706433"), tmp_path / "a", policy=loopback_policy())
    assert connects == [("127.0.0.1", server.port)]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (["10.0.0.7"], "private"),
        (["172.20.1.1"], "private"),
        (["192.168.1.1"], "private"),
        (["169.254.169.254"], "link_local"),
        (["100.64.1.1"], "shared_address_space"),
        (["0.0.0.0"], "unspecified"),
        (["224.0.0.251"], "multicast"),
        (["240.1.1.1"], "reserved"),
        (["fe80::1"], "link_local"),
        (["fc00::5"], "private"),
        (["ff02::1"], "multicast"),
        (["::"], "unspecified"),
        (["::ffff:10.0.0.1"], "private"),
        (["::ffff:169.254.169.254"], "link_local"),
        (["64:ff9b::a9fe:a9fe"], "link_local"),
        (["2002:c0a8:101::1"], "private"),
        (["2001:0:4136:e378:8000:63bf:3fff:fdd2"], "teredo"),
        (["93.184.216.34", "10.0.0.1"], "private"),  # every address must pass
        (["2606:4700::1111", "fd00::1"], "private"),
    ],
)
def test_names_resolving_to_refused_addresses_never_connect(
    answer: list[str], reason: str, tmp_path: Path, connects: list[object]
) -> None:
    asked: list[str] = []
    with pytest.raises(UrlNotAllowed) as caught:
        fetch_to_file(
            "https://media.example/a.jpg",
            tmp_path / "a",
            policy=loopback_policy(),  # the loopback flag lifts nothing else
            resolver=resolve_to(*answer, calls=asked),
        )
    assert caught.value.details["reason"] == reason
    assert asked == ["media.example"]
    assert connects == []


def test_names_resolving_to_loopback_are_refused_by_default(
    tmp_path: Path, connects: list[object]
) -> None:
    for answer in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"):
        with pytest.raises(UrlNotAllowed) as caught:
            fetch_to_file(
                "https://media.example/",
                tmp_path / "a",
                policy=FetchPolicy(),
                resolver=resolve_to(answer),
            )
        assert caught.value.details["reason"] == "loopback"
    assert connects == []


def test_refusals_before_dns_do_not_call_the_resolver(
    tmp_path: Path, connects: list[object]
) -> None:
    asked: list[str] = []
    policy = FetchPolicy(allowed_hosts=("media.example",))
    for url, reason in (
        ("https://other.example/", "host_not_allowed"),
        ("http://media.example/", "scheme"),
        ("https://u:p@media.example/", "userinfo"),
    ):
        with pytest.raises(UrlNotAllowed) as caught:
            fetch_to_file(
                url, tmp_path / "a", policy=policy, resolver=resolve_to("8.8.8.8", calls=asked)
            )
        assert caught.value.details["reason"] == reason
    assert asked == []
    assert connects == []


def test_allow_list_admits_listed_hosts(serve: Serve, tmp_path: Path) -> None:
    server = serve({"/a": ok(b"ok")})
    policy = loopback_policy(allowed_hosts=("media.test", "*.cdn.test"))
    for host in ("media.test", "img.cdn.test"):
        result = fetch_to_file(
            server.url("/a", host=host),
            tmp_path / host,
            policy=policy,
            resolver=resolve_to("127.0.0.1"),
        )
        assert result.size_bytes == 2
    with pytest.raises(UrlNotAllowed) as caught:
        fetch_to_file(
            server.url("/a", host="cdn.test"),
            tmp_path / "x",
            policy=policy,
            resolver=resolve_to("127.0.0.1"),
        )
    assert caught.value.details["reason"] == "host_not_allowed"
    assert server.connections == 2


def test_dns_failure_is_fetch_failed(tmp_path: Path, dns_lookups: list[str]) -> None:
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file("https://media.example/a", tmp_path / "a", policy=FetchPolicy())
    assert caught.value.code == "fetch_failed"
    assert caught.value.details["reason"] == "dns"
    assert dns_lookups == ["media.example."]  # the default resolver asks for the absolute name


def test_system_resolver_returns_each_address_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(host: str, port: int, **_: object) -> list[tuple[object, ...]]:
        assert host == "media.example."
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:4700::1111", port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert system_resolver("media.example", 443) == ["2606:4700::1111", "8.8.8.8"]


def test_non_2xx_is_fetch_failed_with_the_status(serve: Serve, tmp_path: Path) -> None:
    server = serve({})
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(server.url("/missing"), tmp_path / "a", policy=loopback_policy())
    assert caught.value.details == {"reason": "http_status", "status": 404}
    assert not (tmp_path / "a").exists()


# --- redirects


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_followed(serve: Serve, tmp_path: Path, status: int) -> None:
    server = serve({"/start": redirect("/dir/../final?x=1", status), "/final": ok(b"done")})
    result = fetch_to_file(server.url("/start"), tmp_path / "a", policy=loopback_policy())
    assert (result.redirects, result.final_url) == (1, server.url("/final?x=1"))
    assert (tmp_path / "a").read_bytes() == b"done"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/computeMetadata/v1/", "link_local"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "link_local"),
        ("http://0xa9fea9fe/", "link_local"),
        ("http://10.0.0.1/", "private"),
        ("http://internal.example/", "private"),  # resolves to 10.9.9.9 below
        ("http://metadata.google.internal/", "internal_name"),
        ("http://user:pw@media.test/", "userinfo"),
        ("gopher://media.test/", "scheme"),
        ("http://not-listed.example/", "host_not_allowed"),
    ],
)
def test_redirect_targets_are_checked_like_the_first_url(
    serve: Serve, tmp_path: Path, connects: list[object], location: str, reason: str
) -> None:
    server = serve({"/start": redirect(location)})
    allowed = ("media.test",) if reason == "host_not_allowed" else ()
    policy = loopback_policy(allowed_hosts=allowed)

    def resolver(host: str, _port: int) -> list[str]:
        return ["10.9.9.9"] if host == "internal.example" else ["127.0.0.1"]

    with pytest.raises(UrlNotAllowed) as caught:
        fetch_to_file(
            server.url("/start", host="media.test"),
            tmp_path / "a",
            policy=policy,
            resolver=resolver,
        )
    assert caught.value.details["reason"] == reason
    assert caught.value.details["redirects"] == 1
    assert connects == [("127.0.0.1", server.port)]  # only the first hop was dialled


def test_a_redirect_loop_is_fetch_failed(serve: Serve, tmp_path: Path) -> None:
    server = serve({"/a": redirect("/b"), "/b": redirect("/a")})
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(server.url("/a"), tmp_path / "a", policy=loopback_policy(max_redirects=5))
    assert caught.value.details == {"reason": "redirect_loop", "redirects": 2}


def test_redirects_past_the_limit_are_fetch_failed(serve: Serve, tmp_path: Path) -> None:
    routes = {f"/r{n}": redirect(f"/r{n + 1}") for n in range(4)}
    routes["/r4"] = ok(b"end")
    server = serve(routes)
    result = fetch_to_file(
        server.url("/r0"), tmp_path / "a", policy=loopback_policy(max_redirects=4)
    )
    assert result.redirects == 4
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(server.url("/r0"), tmp_path / "b", policy=loopback_policy(max_redirects=3))
    assert caught.value.details == {"reason": "too_many_redirects", "redirects": 3}
    with pytest.raises(FetchFailed):
        fetch_to_file(server.url("/r0"), tmp_path / "c", policy=loopback_policy(max_redirects=0))
    assert server.connections == 5 + 4 + 1


def test_the_next_checked_address_is_tried_when_one_refuses(
    serve: Serve, tmp_path: Path, connects: list[object]
) -> None:
    server = serve({"/a": ok(b"second")})  # listens on 127.0.0.1 only: 127.0.0.2 refuses
    result = fetch_to_file(
        server.url("/a", host="media.test"),
        tmp_path / "a",
        policy=loopback_policy(),
        resolver=resolve_to("127.0.0.2", "127.0.0.1"),
    )
    assert result.size_bytes == 6
    assert connects == [("127.0.0.2", server.port), ("127.0.0.1", server.port)]
