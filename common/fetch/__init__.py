"""SSRF-safe fetching of a URL a client hands over (server-side ingest); the only user of urllib3.

`fetch_to_file(url, destination, policy=FetchPolicy.from_settings())` streams the body to a file
with a hard size cap and returns a `FetchResult`; it raises `UrlNotAllowed` (`url_not_allowed`),
`FetchFailed` (`fetch_failed`) or `RemoteTooLarge` (`too_large`), all `RemoteFetchError`s from
`common.core.errors`. `validate_url` runs the checks that need no DNS, for a synchronous 422.
"""

from __future__ import annotations

from common.core.errors import FetchFailed, RemoteFetchError, RemoteTooLarge, UrlNotAllowed
from common.fetch._net import Resolver, system_resolver
from common.fetch.addresses import refusal_reason
from common.fetch.client import FetchResult, fetch_to_file, validate_url
from common.fetch.policy import FetchPolicy

__all__ = [
    "FetchFailed",
    "FetchPolicy",
    "FetchResult",
    "RemoteFetchError",
    "RemoteTooLarge",
    "Resolver",
    "UrlNotAllowed",
    "fetch_to_file",
    "refusal_reason",
    "system_resolver",
    "validate_url",
]
