"""Parse and check a URL before anything is resolved or connected: scheme, userinfo, host, port.

The URL is read with `urllib.parse.urlsplit`, but anything on which parsers disagree (WHATWG URL
vs RFC 3986: backslashes, whitespace, control characters, percent-encoded hosts, userinfo) is
refused rather than interpreted, and IPv4 literals are read the browser / `inet_aton` way
(`addresses.parse_ipv4_host`) so `http://2130706433/` is judged as 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote, urlsplit

from common.core.errors import UrlNotAllowed
from common.fetch.addresses import IPAddress, parse_ipv4_host, refusal_reason
from common.fetch.policy import FetchPolicy, normalise_host_name

MAX_URL_CHARS: Final = 8192
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_FORBIDDEN_CHARS: Final = re.compile(r"[\x00-\x20\x7f\\]")
# Names that resolve to the machine itself or to the cloud's internal services whatever the DNS
# answers: RFC 6761 `localhost`, RFC 6762 `.local`, ICANN's private-use `.internal` (Google's
# metadata.google.internal and VM names live there).
_INTERNAL_SUFFIXES: Final = (".local", ".internal")
# Characters kept as they are in a path or query; anything else (non-ASCII) is percent-encoded.
_PATH_SAFE: Final = "/%!$&'()*+,;=:@-._~"
_QUERY_SAFE: Final = _PATH_SAFE + "?"


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed the checks, in the parts the client connects and speaks with.

    Attributes:
        scheme: `https` or (when the policy allows it) `http`.
        host: the lower-case ASCII host name, or the canonical text of an IP literal.
        address: the IP when the URL names one (no DNS then), else None.
        port: TCP port, 1-65535 (the scheme's default when the URL has none).
        request_target: origin-form path and query sent in the request line (`/a?b`), never empty.
    """

    scheme: Literal["http", "https"]
    host: str
    address: IPAddress | None
    port: int
    request_target: str

    @property
    def host_header(self) -> str:
        """The `Host` header value: the host, with the port when it is not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The canonical URL (no userinfo, no fragment)."""
        return f"{self.scheme}://{self.host_header}{self.request_target}"


def refuse(reason: str, message: str, **details: object) -> UrlNotAllowed:
    """Build the `url_not_allowed` error with `details={"reason": reason, ...}`."""
    return UrlNotAllowed(message, details={"reason": reason, **details})


def parse_url(url: str, policy: FetchPolicy) -> Target:
    """Check `url` against the policy's URL rules and split it into a `Target`; no DNS, no I/O.

    Args:
        url: an absolute URL as the client (or a `Location` header, already joined) gave it.
        policy: scheme, allow-list and loopback rules.

    Returns:
        The parsed target. When the host is an IP literal its address class is already checked.

    Raises:
        UrlNotAllowed: reasons `invalid_url` (unparseable, too long, whitespace, control characters,
            backslashes, bad port or host), `scheme`, `userinfo`, `host_not_allowed` (allow-list),
            `internal_name`, or an address class from `addresses.refusal_reason`.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        raise refuse("invalid_url", "the URL is empty or too long")
    if _FORBIDDEN_CHARS.search(url):
        raise refuse("invalid_url", "the URL contains whitespace, control characters or '\\'")
    try:
        parts = urlsplit(url)
        port_in_url = parts.port
    except ValueError as exc:
        raise refuse("invalid_url", "the URL cannot be parsed") from exc
    scheme = parts.scheme.lower()
    if scheme not in _allowed_schemes(policy):
        raise refuse("scheme", "only https URLs are accepted", scheme=scheme[:32])
    if "@" in parts.netloc:
        raise refuse("userinfo", "URLs with user names or passwords are not accepted")
    raw_host = parts.hostname
    if not raw_host:
        raise refuse("invalid_url", "the URL has no host")
    if port_in_url == 0:
        raise refuse("invalid_url", "the URL's port is not valid")
    port = port_in_url or _DEFAULT_PORTS[scheme]
    host, address = _parse_host(raw_host, bracketed="[" in parts.netloc)
    _check_host(host, address, policy)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if not path.startswith("/"):
        raise refuse("invalid_url", "the URL's path is not absolute")
    query = f"?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else ""
    return Target(
        scheme="https" if scheme == "https" else "http",
        host=host,
        address=address,
        port=port,
        request_target=path + query,
    )


def _check_host(host: str, address: IPAddress | None, policy: FetchPolicy) -> None:
    """Apply the allow-list, then the address (IP literal) or name rules."""
    if not policy.host_allowed(host):
        raise refuse("host_not_allowed", "the URL's host is not on the allow-list")
    allow_loopback = policy.allow_loopback_for_tests
    if address is not None:
        reason = refusal_reason(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise refuse(reason, "the URL's address is not publicly routable")
    elif _is_loopback_name(host):
        if not allow_loopback:
            raise refuse("loopback", "the URL's host names this machine")
    elif host.endswith(_INTERNAL_SUFFIXES) or "." not in host:
        # A single-label name goes through the resolver's search domains (in Google Cloud
        # `metadata` and the project's VMs resolve that way).
        raise refuse("internal_name", "the URL's host names an internal service")


def _is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _allowed_schemes(policy: FetchPolicy) -> tuple[str, ...]:
    return ("https", "http") if policy.allow_http else ("https",)


def _parse_host(raw_host: str, *, bracketed: bool) -> tuple[str, IPAddress | None]:
    """Return the canonical host text and, for an IP literal, its address."""
    if bracketed:
        try:
            address6 = ipaddress.IPv6Address(raw_host)
        except ValueError as exc:
            raise refuse("invalid_url", "the URL's IPv6 address is not valid") from exc
        if address6.scope_id:
            raise refuse("scoped", "the URL's IPv6 address has a zone")
        return str(address6), address6
    if "%" in raw_host:
        raise refuse("invalid_url", "percent-encoded hosts are not accepted")
    try:
        address4 = parse_ipv4_host(raw_host)
    except ValueError as exc:
        raise refuse("invalid_url", "the URL's host looks like a malformed IPv4 address") from exc
    if address4 is not None:
        return str(address4), address4
    name = normalise_host_name(raw_host)
    if name is None:
        raise refuse("invalid_url", "the URL's host is not a valid host name")
    # An IDNA name can decode to digits and dots (full-width digits, U+FF10-U+FF19).
    try:
        again = parse_ipv4_host(name)
    except ValueError as exc:
        raise refuse("invalid_url", "the URL's host looks like a malformed IPv4 address") from exc
    if again is not None:
        return str(again), again
    return name, None
