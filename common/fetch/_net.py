"""Resolution, the total deadline and connecting to a checked address (only module with sockets).

The host is resolved once per hop; every address the resolver returns must pass
`addresses.refusal_reason`, and the connection goes to one of those addresses (never to the name
again), so a DNS answer that changes between check and connect (DNS rebinding) cannot redirect it.
TLS still verifies the certificate against the URL's host name, which is also sent as SNI
(`urllib3.connection.HTTPSConnection(host=<ip>, server_hostname=<name>)`, a documented parameter).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from common.core.errors import FetchFailed
from common.fetch.addresses import IPAddress, refusal_reason
from common.fetch.policy import FetchPolicy
from common.fetch.urls import Target, refuse

Resolver = Callable[[str, int], Sequence[str]]
"""`resolver(host, port) -> IP address strings`; raises OSError (e.g. `socket.gaierror`) on failure."""

_MAX_CONNECT_ATTEMPTS: Final = 3


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve `host` with `getaddrinfo` as an absolute name (trailing dot: no search domains).

    Returns:
        The addresses in the resolver's preference order (RFC 6724), duplicates removed.

    Raises:
        socket.gaierror: the name does not resolve.
    """
    infos = socket.getaddrinfo(host + ".", port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def fetch_failed(reason: str, message: str, **details: object) -> FetchFailed:
    """Build the `fetch_failed` error with `details={"reason": reason, ...}`."""
    return FetchFailed(message, details={"reason": reason, **details})


class Deadline:
    """The instant the whole fetch must be over by (monotonic clock)."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, > 0.

        Raises:
            FetchFailed: reason `timeout` when none are left.
        """
        left = self._end - time.monotonic()
        if left <= 0:
            raise fetch_failed("timeout", "the fetch took longer than its time limit")
        return left


class Watchdog:
    """Shuts the fetch's sockets down when the total time is up.

    Socket timeouts bound each wait, not their sum: a server that trickles a header byte every
    second would otherwise hold the fetch for hours. A timer thread shuts the watched sockets
    down at the deadline, so any blocked read returns at once; `fired` tells callers why.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down at the deadline (at once if it has passed)."""
        with self._lock:
            if self.fired:
                _shutdown(sock)
            else:
                self._sockets.append(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    # The base class's method acts on the file descriptor only: `SSLSocket.shutdown` would also
    # drop the TLS state under the reading thread. A closed socket has fd -1 (EBADF, ignored).
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def resolve(
    target: Target, resolver: Resolver, policy: FetchPolicy, deadline: Deadline
) -> list[IPAddress]:
    """Return the checked addresses to connect to for `target`, IPv4-mapped ones unwrapped.

    The resolver runs in a daemon thread so the total deadline bounds it too (a hung lookup is
    abandoned, not waited for).

    Raises:
        UrlNotAllowed: any returned address is refused (its reason; all must pass).
        FetchFailed: reasons `dns` (no such name, no address, resolver error) or `timeout`.
    """
    if target.address is not None:
        return [_unwrap(target.address)]
    outcome: list[Sequence[str] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(resolver(target.host, target.port))
        except Exception as exc:  # handed to the fetching thread below
            outcome.append(exc)

    thread = threading.Thread(target=run, name="fetch-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if not outcome:
        raise fetch_failed("timeout", "resolving the URL's host took too long")
    answer = outcome[0]
    if isinstance(answer, OSError):
        raise fetch_failed("dns", "the URL's host does not resolve") from answer
    if isinstance(answer, BaseException):
        raise answer
    try:
        addresses = [ipaddress.ip_address(text) for text in answer]
    except ValueError as exc:
        raise fetch_failed("dns", "the resolver returned something that is not an address") from exc
    if not addresses:
        raise fetch_failed("dns", "the URL's host has no address")
    for address in addresses:
        reason = refusal_reason(address, allow_loopback=policy.allow_loopback_for_tests)
        if reason is not None:
            raise refuse(reason, "the URL's host resolves to an address that is not public")
    return list(dict.fromkeys(_unwrap(address) for address in addresses))


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def tls_context(policy: FetchPolicy) -> ssl.SSLContext:
    """A verifying client context: system CAs (or `policy.ca_bundle_path`), TLS 1.2 or newer."""
    cafile = str(policy.ca_bundle_path) if policy.ca_bundle_path is not None else None
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connect(
    target: Target,
    addresses: Sequence[IPAddress],
    policy: FetchPolicy,
    deadline: Deadline,
    context: Callable[[], ssl.SSLContext],
) -> HTTPConnection:
    """Open a connection to the first of `addresses` that answers (at most three are tried).

    Args:
        target: the URL's parts; `target.host` is the TLS server name.
        addresses: checked addresses from `resolve`.
        policy: the connect timeout.
        deadline: the total deadline (each attempt waits at most what is left of it).
        context: returns the TLS context for https.

    Returns:
        A connected `HTTPConnection` (an `HTTPSConnection` with TLS done for https).

    Raises:
        FetchFailed: reasons `tls` (handshake or certificate failure, wrong host name),
            `connect_timeout`, `connect` (refused, unreachable) or `timeout` (deadline).
    """
    failure = fetch_failed("connect", "could not connect to the URL's host")
    for address in addresses[:_MAX_CONNECT_ATTEMPTS]:
        timeout = min(policy.connect_timeout_seconds, deadline.remaining())
        conn: HTTPConnection
        if target.scheme == "https":
            conn = HTTPSConnection(
                str(address),
                target.port,
                timeout=timeout,
                server_hostname=target.host,
                ssl_context=context(),
            )
        else:
            conn = HTTPConnection(str(address), target.port, timeout=timeout)
        try:
            conn.connect()
        except ssl.SSLError as exc:
            conn.close()
            raise fetch_failed("tls", "the TLS handshake with the URL's host failed") from exc
        except NewConnectionError as exc:
            conn.close()
            failure = fetch_failed("connect", "could not connect to the URL's host")
            failure.__cause__ = exc
        except (ConnectTimeoutError, TimeoutError) as exc:
            conn.close()
            failure = fetch_failed("connect_timeout", "connecting to the URL's host timed out")
            failure.__cause__ = exc
        except OSError as exc:
            conn.close()
            failure = fetch_failed("connect", "could not connect to the URL's host")
            failure.__cause__ = exc
        else:
            return conn
    raise failure
