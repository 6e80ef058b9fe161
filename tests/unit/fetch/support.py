"""Scripted HTTP(S) servers on 127.0.0.1 and small helpers for the fetch tests.

Servers are raw sockets so a test can lie (Content-Length), stall, trickle or flood. Every server
thread waits on the server's `stopped` event, so stopping ends them; joins are bounded.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from common.fetch import FetchPolicy


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


Handler = Callable[[socket.socket, Request, "ScriptedServer"], None]


@dataclass
class ScriptedServer:
    """Answers each connection on 127.0.0.1 with `routes[path]` (404 for unknown paths)."""

    routes: dict[str, Handler]
    tls: ssl.SSLContext | None = None
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        if self.tls is not None:
            self.tls.sni_callback = self._record_sni
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True)
        self._accepter.start()

    def url(self, path: str = "/", *, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.stopped.set()
        self._accepter.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)

    def _record_sni(self, _sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.server_names.append(name)

    def _accept_loop(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = _read_request(conn)
            self.requests.append(request)
            self.routes.get(request.path, not_found)(conn, request, self)
        except (OSError, ValueError):
            pass  # the client went away, refused our certificate, or sent garbage
        finally:
            conn.close()


def _read_request(conn: socket.socket) -> Request:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > 65536:
            raise ValueError("no request")
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, target, headers)


def send_head(
    conn: socket.socket, status: int = 200, headers: dict[str, str] | None = None
) -> None:
    lines = [f"HTTP/1.1 {status} Scripted"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def ok(body: bytes, content_type: str = "application/octet-stream") -> Handler:
    def handler(conn: socket.socket, _request: Request, _server: ScriptedServer) -> None:
        send_head(conn, 200, {"Content-Type": content_type, "Content-Length": str(len(body))})
        conn.sendall(body)

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    def handler(conn: socket.socket, _request: Request, _server: ScriptedServer) -> None:
        send_head(conn, status, {"Location": location, "Content-Length": "0"})

    return handler


def not_found(conn: socket.socket, _request: Request, _server: ScriptedServer) -> None:
    send_head(conn, 404, {"Content-Length": "0"})


def loopback_policy(**overrides: Any) -> FetchPolicy:
    """The policy tests use to reach their own servers: http and loopback allowed, short limits."""
    settings: dict[str, Any] = {
        "allow_http": True,
        "allow_loopback_for_tests": True,
        "connect_timeout_seconds": 2.0,
        "total_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return FetchPolicy(**settings)


def resolve_to(*addresses: str, calls: list[str] | None = None) -> Callable[[str, int], list[str]]:
    """A resolver answering every name with `addresses` (recording the names asked)."""

    def resolver(host: str, _port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return list(addresses)

    return resolver


@dataclass(frozen=True)
class TlsFiles:
    ca_pem: Path
    chain_pem: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.chain_pem)
        return context


def make_tls_files(folder: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for `media.test` signed by it (P-256, one day)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fetch tests CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "media.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("media.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsFiles(ca_pem=ca_pem, chain_pem=chain)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
