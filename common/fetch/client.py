"""Fetch a URL a client handed over into a local file, under the SSRF rules of `FetchPolicy`.

One GET per hop, `Connection: close`, no cookies, no credentials, no proxy (urllib3 reads no proxy
variables), `Accept-Encoding: identity`. Redirects (301, 302, 303, 307, 308) are followed by hand,
each target checked like the first URL; the body is streamed with a hard cap and hashed on the
way. The response's Content-Type is returned as a hint only: the pipeline sniffs the bytes.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final
from urllib.parse import urljoin

from urllib3.connection import HTTPConnection
from urllib3.exceptions import HTTPError, IncompleteRead, ProtocolError
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.response import BaseHTTPResponse

from common.core.errors import RemoteTooLarge, UrlNotAllowed
from common.core.hashing import ContentDigest, StreamingDigester
from common.fetch._net import (
    Deadline,
    Resolver,
    Watchdog,
    connect,
    fetch_failed,
    resolve,
    system_resolver,
    tls_context,
)
from common.fetch.policy import FetchPolicy
from common.fetch.urls import Target, parse_url

_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES: Final = 64 * 1024
_NETWORK_ERRORS: Final = (OSError, http.client.HTTPException, HTTPError)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a successful fetch wrote and saw.

    Attributes:
        final_url: canonical URL of the last hop (after redirects; no userinfo, no fragment).
        status: the final HTTP status (2xx).
        size_bytes: bytes written to the destination.
        sha256_hex: SHA-256 of those bytes, lowercase hex (64 characters).
        md5_base64: MD5 of those bytes, standard base64 (24 characters), the form of GCS `md5Hash`.
        content_type_hint: the response's media type (`image/png`, lower case, parameters dropped)
            or None: a hint only, never to be trusted over the sniffed type.
        redirects: redirects followed (0 to `policy.max_redirects`).
    """

    final_url: str
    status: int
    size_bytes: int
    sha256_hex: str
    md5_base64: str
    content_type_hint: str | None
    redirects: int


def validate_url(url: str, *, policy: FetchPolicy) -> str:
    """Check a URL without DNS or I/O (for answering 422 before a job is queued).

    What needs DNS (the addresses a name resolves to) is checked again by `fetch_to_file`.

    Returns:
        The canonical URL.

    Raises:
        UrlNotAllowed: as `fetch_to_file`, for the rules that need no lookup.
    """
    return parse_url(url, policy).url


def fetch_to_file(
    url: str,
    destination: Path,
    *,
    policy: FetchPolicy,
    resolver: Resolver | None = None,
) -> FetchResult:
    """GET `url` and stream its body into `destination`, refusing anything the policy forbids.

    Rules, each checked before any connection to the address concerned: https only (http when
    `policy.allow_http`); no userinfo; IPv4 literals in any form normalised; the host on the
    allow-list when there is one; the host resolved once and every address publicly routable
    (`common.fetch.addresses`), the connection made to that address with TLS verifying the host
    name (SNI set); every redirect target checked the same way, at most `policy.max_redirects`.
    The body is cut off past `policy.max_bytes`; the whole fetch is bounded by
    `policy.total_timeout_seconds`, each connect by `policy.connect_timeout_seconds`.

    Args:
        url: absolute URL from the client.
        destination: file to create or truncate; removed again when the fetch fails.
        policy: the limits (`FetchPolicy.from_settings()` in production).
        resolver: `resolver(host, port) -> [ip, ...]`; `system_resolver` (getaddrinfo) by default.

    Returns:
        The final URL, status, size and digests of the stored body, and the Content-Type hint.

    Raises:
        UrlNotAllowed: `url_not_allowed`, `details.reason` one of `invalid_url`, `scheme`,
            `userinfo`, `host_not_allowed`, `internal_name`, an address class (`loopback`,
            `private`, `link_local`, `shared_address_space`, `multicast`, `unspecified`,
            `reserved`, `documentation`, `teredo`, `scoped`, `not_global`); `details.redirects`
            when a redirect led there.
        FetchFailed: `fetch_failed`, `details.reason` one of `dns`, `connect`, `connect_timeout`,
            `timeout`, `tls`, `http_status` (with `details.status`), `too_many_redirects`,
            `redirect_loop`, `content_encoding`, `incomplete_body`, `bad_response`.
        RemoteTooLarge: `too_large`, `details.reason` `declared` (Content-Length over the cap,
            nothing read) or `body` (the stream ran past the cap; reading stopped there).
    """
    deadline = Deadline(policy.total_timeout_seconds)
    target = parse_url(url, policy)
    resolver = resolver or system_resolver
    context = cache(lambda: tls_context(policy))
    seen = {target.url}
    redirects = 0
    with Watchdog(policy.total_timeout_seconds) as watchdog:
        while True:
            try:
                conn, response = _exchange(target, resolver, policy, deadline, watchdog, context)
            except UrlNotAllowed as exc:  # the target's name resolved to a refused address
                if redirects:
                    raise _after_redirect(exc, redirects) from exc
                raise
            try:
                if response.status in _REDIRECT_STATUSES and "location" in response.headers:
                    if redirects >= policy.max_redirects:
                        raise fetch_failed(
                            "too_many_redirects", "the URL redirects too often", redirects=redirects
                        )
                    redirects += 1
                    target = _redirect_target(
                        target, response.headers["location"], policy, redirects
                    )
                    if target.url in seen:
                        raise fetch_failed(
                            "redirect_loop", "the URL redirects in a loop", redirects=redirects
                        )
                    seen.add(target.url)
                    continue
                if not 200 <= response.status < 300:
                    raise fetch_failed(
                        "http_status",
                        f"the URL answered HTTP {response.status}",
                        status=response.status,
                    )
                size_bytes, digest = _stream_body(response, destination, policy, watchdog)
                return FetchResult(
                    final_url=target.url,
                    status=response.status,
                    size_bytes=size_bytes,
                    sha256_hex=digest.sha256_hex,
                    md5_base64=digest.md5_base64 or "",
                    content_type_hint=_media_type(response.headers.get("content-type")),
                    redirects=redirects,
                )
            finally:
                response.close()
                conn.close()


def _exchange(
    target: Target,
    resolver: Resolver,
    policy: FetchPolicy,
    deadline: Deadline,
    watchdog: Watchdog,
    context: Callable[[], ssl.SSLContext],
) -> tuple[HTTPConnection, BaseHTTPResponse]:
    """Resolve, connect, send the GET and read the status line and headers of one hop."""
    addresses = resolve(target, resolver, policy, deadline)
    conn = connect(target, addresses, policy, deadline, context)
    try:
        if conn.sock is not None:
            watchdog.watch(conn.sock)
        conn.timeout = deadline.remaining()
        conn.request(
            "GET",
            target.request_target,
            headers=_request_headers(target, policy),
            preload_content=False,
            decode_content=False,
            enforce_content_length=True,
        )
        response = conn.getresponse()
        if watchdog.fired:  # headers cut short by the shutdown can parse as complete
            raise _timed_out()
        return conn, response
    except _NETWORK_ERRORS as exc:
        conn.close()
        raise network_failure(exc, watchdog) from exc
    except BaseException:
        conn.close()
        raise


def _request_headers(target: Target, policy: FetchPolicy) -> dict[str, str]:
    return {
        "Host": target.host_header,
        "User-Agent": policy.user_agent,
        "Accept": "*/*",
        "Accept-Encoding": "identity",
        "Connection": "close",
    }


def _redirect_target(current: Target, location: str, policy: FetchPolicy, hop: int) -> Target:
    """Check a redirect's `Location` (joined to the current URL) like a URL from the client."""
    try:
        return parse_url(urljoin(current.url, location.strip()), policy)
    except UrlNotAllowed as exc:
        raise _after_redirect(exc, hop) from exc


def _after_redirect(exc: UrlNotAllowed, hop: int) -> UrlNotAllowed:
    """The same refusal, saying that redirect number `hop` led to it."""
    details = dict(exc.details) if isinstance(exc.details, dict) else {}
    details["redirects"] = hop
    return UrlNotAllowed(f"a redirect leads to a refused URL: {exc.message}", details=details)


def _stream_body(
    response: BaseHTTPResponse, destination: Path, policy: FetchPolicy, watchdog: Watchdog
) -> tuple[int, ContentDigest]:
    """Write the body to `destination`, hashing it; never read more than `max_bytes + 1` bytes."""
    declared = _content_length(response)
    if declared is not None and declared > policy.max_bytes:
        raise RemoteTooLarge(
            "the remote file is larger than the limit",
            details={"reason": "declared", "max_bytes": policy.max_bytes},
        )
    encoding = (response.headers.get("content-encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise fetch_failed("content_encoding", "the response is compressed (Content-Encoding)")
    digester = StreamingDigester(declared or 0)
    size_bytes = 0
    try:
        with destination.open("wb") as out:
            while True:
                try:
                    chunk = response.read1(min(_CHUNK_BYTES, policy.max_bytes - size_bytes + 1))
                except _NETWORK_ERRORS as exc:
                    raise network_failure(exc, watchdog) from exc
                if not chunk:
                    if watchdog.fired:  # a close-delimited body cut by the shutdown looks whole
                        raise _timed_out()
                    break
                size_bytes += len(chunk)
                if size_bytes > policy.max_bytes:
                    raise RemoteTooLarge(
                        "the remote file is larger than the limit",
                        details={"reason": "body", "max_bytes": policy.max_bytes},
                    )
                out.write(chunk)
                digester.write(chunk)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return size_bytes, digester.result()


def _content_length(response: BaseHTTPResponse) -> int | None:
    values = response.headers.getlist("content-length")
    if not values:
        return None
    lengths = {value.strip() for joined in values for value in joined.split(",")}
    if len(lengths) != 1 or not next(iter(lengths)).isdigit():
        raise fetch_failed("bad_response", "the response's Content-Length is not valid")
    return int(next(iter(lengths)))


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type if "/" in media_type else None


def _timed_out() -> Exception:
    return fetch_failed("timeout", "the fetch took longer than its time limit")


def network_failure(exc: BaseException, watchdog: Watchdog) -> Exception:
    """Map what the socket, http.client or urllib3 raised to a `fetch_failed`."""
    if watchdog.fired or isinstance(exc, TimeoutError | Urllib3TimeoutError):
        return _timed_out()
    if isinstance(exc, ssl.SSLError | Urllib3SSLError):
        return fetch_failed("tls", "the TLS connection to the URL's host failed")
    if isinstance(exc, IncompleteRead | http.client.IncompleteRead) or (
        isinstance(exc, ProtocolError) and isinstance(exc.__context__, IncompleteRead)
    ):
        return fetch_failed("incomplete_body", "the response ended before its Content-Length")
    return fetch_failed("bad_response", "the URL's server sent a broken response or hung up")
