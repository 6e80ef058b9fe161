"""Size cap, time limits and broken responses, against scripted servers on 127.0.0.1.

Time limits are short ones the tests set; outcomes are asserted, never elapsed time. A server
that stalls or trickles waits on its `stopped` event, so teardown ends it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from common.core.errors import FetchFailed, PayloadTooLarge, RemoteTooLarge
from common.fetch import FetchPolicy, fetch_to_file
from tests.unit.fetch.support import Request, ScriptedServer, loopback_policy, ok, send_head

Serve = Callable[..., ScriptedServer]
FLOOD_BYTES = 64 * 1024**2
CAP_BYTES = 256 * 1024


def declare_and_stall(declared: int) -> Callable[[socket.socket, Request, ScriptedServer], None]:
    def handler(conn: socket.socket, _request: Request, server: ScriptedServer) -> None:
        send_head(conn, 200, {"Content-Length": str(declared)})
        server.stopped.wait(30)

    return handler


def flood(chunked: bool) -> Callable[[socket.socket, Request, ScriptedServer], None]:
    """Send up to FLOOD_BYTES with no Content-Length; record how much went out and why it ended."""

    def handler(conn: socket.socket, _request: Request, server: ScriptedServer) -> None:
        chunk = b"\xab" * 65536
        framing = {"Transfer-Encoding": "chunked"} if chunked else {"Connection": "close"}
        server.notes["sent"] = 0
        try:
            send_head(conn, 200, framing)
            while server.notes["sent"] < FLOOD_BYTES:
                conn.sendall(b"10000\r\n" + chunk + b"\r\n" if chunked else chunk)
                server.notes["sent"] += len(chunk)
            server.notes["ended"] = "all sent"
        except OSError:
            server.notes["ended"] = "client hung up"
        finally:
            server.notes.setdefault("done", threading.Event()).set()

    return handler


def trickle_header(_conn: socket.socket, _request: Request, server: ScriptedServer) -> None:
    _conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(3000):  # one byte each 20 ms: every socket read is quick, the sum is not
        if server.stopped.wait(0.02):
            return
        _conn.sendall(b"a")


def trickle_body(conn: socket.socket, _request: Request, server: ScriptedServer) -> None:
    send_head(conn, 200, {"Content-Length": "100000"})
    for _ in range(3000):
        if server.stopped.wait(0.02):
            return
        conn.sendall(b"b")


def stall(_conn: socket.socket, _request: Request, server: ScriptedServer) -> None:
    server.stopped.wait(30)


def raw(data: bytes) -> Callable[[socket.socket, Request, ScriptedServer], None]:
    def handler(conn: socket.socket, _request: Request, _server: ScriptedServer) -> None:
        conn.sendall(data)

    return handler


# --- size cap


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    serve: Serve, tmp_path: Path
) -> None:
    # The server sends no body at all: reading it would end in a timeout, not in too_large.
    server = serve({"/big": declare_and_stall(10 * 1024**3)})
    with pytest.raises(RemoteTooLarge) as caught:
        fetch_to_file(
            server.url("/big"), tmp_path / "a", policy=loopback_policy(max_bytes=CAP_BYTES)
        )
    assert caught.value.code == "too_large"
    assert isinstance(caught.value, PayloadTooLarge)
    assert caught.value.http_status == 413
    assert caught.value.details == {"reason": "declared", "max_bytes": CAP_BYTES}
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("chunked", [False, True], ids=["close-delimited", "chunked"])
def test_a_stream_past_the_cap_is_cut_off(serve: Serve, tmp_path: Path, chunked: bool) -> None:
    server = serve({"/flood": flood(chunked)})
    with pytest.raises(RemoteTooLarge) as caught:
        fetch_to_file(
            server.url("/flood"), tmp_path / "a", policy=loopback_policy(max_bytes=CAP_BYTES)
        )
    assert caught.value.details == {"reason": "body", "max_bytes": CAP_BYTES}
    assert not (tmp_path / "a").exists()
    # The client stopped reading and hung up long before the server had sent everything.
    server.notes.setdefault("done", threading.Event()).wait(10)
    assert server.notes["ended"] == "client hung up"
    assert server.notes["sent"] < FLOOD_BYTES


def test_a_body_exactly_at_the_cap_is_accepted(serve: Serve, tmp_path: Path) -> None:
    body = b"z" * 1000
    server = serve(
        {"/cl": ok(body), "/close": raw(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)}
    )
    for path in ("/cl", "/close"):
        result = fetch_to_file(
            server.url(path), tmp_path / "a", policy=loopback_policy(max_bytes=1000)
        )
        assert result.size_bytes == 1000
    for path, reason in (("/cl", "declared"), ("/close", "body")):
        with pytest.raises(RemoteTooLarge) as caught:
            fetch_to_file(server.url(path), tmp_path / "a", policy=loopback_policy(max_bytes=999))
        assert caught.value.details["reason"] == reason


def test_bytes_past_a_smaller_content_length_are_never_stored(serve: Serve, tmp_path: Path) -> None:
    # A Content-Length lie downwards: only the declared bytes are read, the rest is dropped.
    server = serve(
        {"/lie": raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" + b"q" * 1024**2)}
    )
    result = fetch_to_file(
        server.url("/lie"), tmp_path / "a", policy=loopback_policy(max_bytes=4096)
    )
    assert result.size_bytes == 1024
    assert (tmp_path / "a").read_bytes() == b"q" * 1024


def test_a_body_shorter_than_its_content_length_is_fetch_failed(
    serve: Serve, tmp_path: Path
) -> None:
    server = serve({"/short": raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"s" * 10)})
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(server.url("/short"), tmp_path / "a", policy=loopback_policy())
    assert caught.value.details["reason"] == "incomplete_body"
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
            "content_encoding",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nabcde", "bad_response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabcde", "bad_response"),
        (b"NOT HTTP AT ALL\r\n\r\n", "bad_response"),
        (b"", "bad_response"),
    ],
)
def test_broken_responses_are_fetch_failed(
    serve: Serve, tmp_path: Path, response: bytes, reason: str
) -> None:
    server = serve({"/": raw(response)})
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(server.url("/"), tmp_path / "a", policy=loopback_policy())
    assert caught.value.details["reason"] == reason


# --- time limits


@pytest.mark.parametrize(
    "handler",
    [stall, trickle_header, trickle_body],
    ids=["stall", "trickle-header", "trickle-body"],
)
def test_a_slow_server_hits_the_total_time_limit(
    serve: Serve, tmp_path: Path, handler: Callable[[socket.socket, Request, ScriptedServer], None]
) -> None:
    server = serve({"/": handler})
    policy = loopback_policy(total_timeout_seconds=0.4, connect_timeout_seconds=0.4)
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(server.url("/"), tmp_path / "a", policy=policy)
    assert caught.value.details == {"reason": "timeout"}
    assert not (tmp_path / "a").exists()


def test_a_connect_that_is_never_answered_hits_the_connect_timeout(tmp_path: Path) -> None:
    # A listener with a full accept queue drops new SYNs (Linux), so connecting hangs.
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(8):
            filler = socket.socket()
            fillers.append(filler)
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.skip("this kernel completes connections past a full backlog")
        policy = loopback_policy(connect_timeout_seconds=0.2, total_timeout_seconds=5)
        with pytest.raises(FetchFailed) as caught:
            fetch_to_file(f"http://127.0.0.1:{port}/", tmp_path / "a", policy=policy)
        assert caught.value.details == {"reason": "connect_timeout"}
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_refused_connection_is_fetch_failed(tmp_path: Path) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(FetchFailed) as caught:
        fetch_to_file(f"http://127.0.0.1:{port}/", tmp_path / "a", policy=loopback_policy())
    assert caught.value.details == {"reason": "connect"}


def test_a_hung_resolver_hits_the_total_time_limit(tmp_path: Path) -> None:
    release = threading.Event()

    def resolver(_host: str, _port: int) -> list[str]:
        release.wait(10)
        return ["8.8.8.8"]

    try:
        with pytest.raises(FetchFailed) as caught:
            fetch_to_file(
                "https://media.example/",
                tmp_path / "a",
                policy=FetchPolicy(total_timeout_seconds=0.2),
                resolver=resolver,
            )
        assert caught.value.details == {"reason": "timeout"}
    finally:
        release.set()
