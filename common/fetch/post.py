"""POST a body to a URL a client registered (a webhook endpoint), under the SSRF rules of
`FetchPolicy`: the same URL and address checks as `fetch_to_file`, no redirects followed (a 3xx
is an answer like any other), the response body read only up to a small cap.
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final

from urllib3.exceptions import HTTPError

from common.fetch._net import Deadline, Resolver, Watchdog, connect, resolve, system_resolver
from common.fetch._net import tls_context as _tls_context
from common.fetch.client import network_failure
from common.fetch.policy import FetchPolicy
from common.fetch.urls import parse_url

_NETWORK_ERRORS: Final = (OSError, http.client.HTTPException, HTTPError)
RESPONSE_EXCERPT_BYTES: Final = 1024


@dataclass(frozen=True, slots=True)
class PostResult:
    """The answer to one POST.

    Attributes:
        status: the HTTP status the server answered (any: redirects are not followed).
        excerpt: the first `RESPONSE_EXCERPT_BYTES` of the response body, decoded leniently.
    """

    status: int
    excerpt: str


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    policy: FetchPolicy,
    resolver: Resolver | None = None,
) -> PostResult:
    """POST `body` to `url` with `headers` (plus Host, Content-Length, Connection: close).

    Args:
        url: absolute URL.
        body: the request body.
        headers: extra request headers (Content-Type, signatures, ...).
        policy: the limits; `total_timeout_seconds` bounds the whole exchange.
        resolver: as for `fetch_to_file`.

    Returns:
        The status and an excerpt of the body.

    Raises:
        UrlNotAllowed: the URL or an address it resolves to is refused (see `fetch_to_file`).
        FetchFailed: `dns`, `connect`, `connect_timeout`, `timeout`, `tls`, `bad_response`.
    """
    deadline = Deadline(policy.total_timeout_seconds)
    target = parse_url(url, policy)
    addresses = resolve(target, resolver or system_resolver, policy, deadline)
    context = cache(lambda: _tls_context(policy))
    with Watchdog(policy.total_timeout_seconds) as watchdog:
        conn = connect(target, addresses, policy, deadline, context)
        try:
            if conn.sock is not None:
                watchdog.watch(conn.sock)
            conn.timeout = deadline.remaining()
            sent = {
                **headers,
                "Host": target.host_header,
                "User-Agent": policy.user_agent,
                "Content-Length": str(len(body)),
                "Connection": "close",
            }
            conn.request("POST", target.request_target, body=body, headers=sent)
            response = conn.getresponse()
            try:
                excerpt = response.read(RESPONSE_EXCERPT_BYTES, decode_content=False)
            finally:
                response.close()
            return PostResult(response.status, excerpt.decode("utf-8", "replace"))
        except _NETWORK_ERRORS as exc:
            raise network_failure(exc, watchdog) from exc
        finally:
            conn.close()
