"""What a server-side fetch may do: schemes, hosts, size and time limits, redirects.

Built from `Settings` (`INGEST_*`) by `FetchPolicy.from_settings`; tests build one directly.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from common.core.settings import Settings

_LABEL: Final = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_MAX_HOST_CHARS: Final = 253  # RFC 1035 section 2.3.4, without the trailing dot


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits of one fetch; immutable, safe to share between threads.

    Attributes:
        allow_http: also accept `http://` URLs and https -> http redirects (`INGEST_ALLOW_HTTP`).
        allowed_hosts: exact host names (or IP literals) and `*.suffix` patterns; a pattern matches
            names below the suffix, never the suffix itself. Empty: any host. The allow-list never
            lifts the address rules (`INGEST_ALLOWED_HOSTS`).
        max_bytes: hard cap on the body in bytes (`INGEST_MAX_BYTES`).
        connect_timeout_seconds: bound on each TCP connect plus TLS handshake
            (`INGEST_CONNECT_TIMEOUT_SECONDS`).
        total_timeout_seconds: bound on the whole fetch, DNS to last byte, redirects included
            (`INGEST_TOTAL_TIMEOUT_SECONDS`).
        max_redirects: redirects followed before `fetch_failed` (`INGEST_MAX_REDIRECTS`).
        allow_loopback_for_tests: tests only: let 127.0.0.0/8 and ::1 through
            (`INGEST_ALLOW_LOOPBACK_FOR_TESTS`).
        ca_bundle_path: PEM file of trusted CAs instead of the system store (tests, private CAs).
        user_agent: the `User-Agent` request header.
    """

    allow_http: bool = False
    allowed_hosts: tuple[str, ...] = ()
    max_bytes: int = 100 * 1024**2
    connect_timeout_seconds: float = 5.0
    total_timeout_seconds: float = 60.0
    max_redirects: int = 3
    allow_loopback_for_tests: bool = False
    ca_bundle_path: Path | None = None
    user_agent: str = "media-pipeline-ingest/1"
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _suffixes: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the limits and normalise the allow-list.

        Raises:
            ValueError: a limit is out of range or an allow-list entry is not a host name, an IP
                literal or `*.suffix` with a suffix of at least two labels.
        """
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if self.connect_timeout_seconds <= 0 or self.total_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must be >= 0")
        exact: set[str] = set()
        suffixes: list[str] = []
        for entry in self.allowed_hosts:
            pattern = entry.strip().lower().rstrip(".")
            if pattern.startswith("*."):
                suffix = normalise_host_name(pattern[2:])
                if suffix is None or "." not in suffix:
                    raise ValueError(f"allow-list pattern needs a suffix of two labels: {entry!r}")
                suffixes.append("." + suffix)
            else:
                name = _canonical_ip(pattern.strip("[]")) or normalise_host_name(pattern)
                if name is None:
                    raise ValueError(f"not a host name: {entry!r}")
                exact.add(name)
        object.__setattr__(self, "_exact", frozenset(exact))
        object.__setattr__(self, "_suffixes", tuple(suffixes))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> FetchPolicy:
        """Build the policy from the `INGEST_*` settings (the process settings by default).

        Raises:
            ValueError: `INGEST_ALLOWED_HOSTS` holds an entry that is not a host or `*.suffix`.
        """
        if settings is None:
            from common.core.settings import get_settings

            settings = get_settings()
        return cls(
            allow_http=settings.ingest_allow_http,
            allowed_hosts=tuple(settings.ingest_allowed_hosts),
            max_bytes=settings.ingest_max_bytes,
            connect_timeout_seconds=settings.ingest_connect_timeout_seconds,
            total_timeout_seconds=settings.ingest_total_timeout_seconds,
            max_redirects=settings.ingest_max_redirects,
            allow_loopback_for_tests=settings.ingest_allow_loopback_for_tests,
        )

    def host_allowed(self, host: str) -> bool:
        """Whether the allow-list admits `host` (normalised ASCII name or canonical IP text)."""
        if not self.allowed_hosts:
            return True
        return host in self._exact or any(host.endswith(suffix) for suffix in self._suffixes)


def normalise_host_name(host: str) -> str | None:
    """Return `host` as lower-case ASCII (IDNA 2003 via the standard codec), or None if invalid.

    Accepts letters, digits, `-` and `_` in labels of 1-63 characters (RFC 1035 plus the
    underscores real hosts use), at most 253 characters, one trailing dot dropped. IP literals are
    not recognised here: callers parse them first.
    """
    if host.endswith("."):
        host = host[:-1]
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if not ascii_host or len(ascii_host) > _MAX_HOST_CHARS:
        return None
    if not all(_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        return None
    return ascii_host


def _canonical_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
