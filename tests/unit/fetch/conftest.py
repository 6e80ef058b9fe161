"""Fixtures of the fetch tests: scripted servers, a connect recorder, no real DNS, TLS files."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.unit.fetch.support import Handler, ScriptedServer, TlsFiles, make_tls_files


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    """Start scripted servers; all are stopped at teardown."""
    started: list[ScriptedServer] = []

    def start(routes: dict[str, Handler], tls: ssl.SSLContext | None = None) -> ScriptedServer:
        server = ScriptedServer(routes, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address a socket of the test's thread connects to during the test (none are
    blocked; other threads, such as an integration session's push router, are not counted)."""
    seen: list[object] = []
    original = socket.socket.connect
    test_thread = threading.get_ident()

    def connect(self: socket.socket, address: object) -> None:
        if threading.get_ident() == test_thread:
            seen.append(address)
        original(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture(autouse=True)
def dns_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names never reach a real resolver here (IP literals, as urllib3 passes them, still work)."""
    asked: list[str] = []
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(str(host))
        except ValueError:
            asked.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "no DNS in unit tests") from None
        return original(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA file and a `media.test` server certificate signed by it."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))
