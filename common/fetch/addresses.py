"""Which IP addresses the server may connect to on a client's behalf, and IPv4 literal parsing.

An address is allowed only if it is publicly routable unicast. The refusals follow the IANA IPv4
and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates: RFC 6598 shared space,
RFC 8190, RFC 9637 documentation prefix, RFC 9602 SRv6 SIDs) and the IPv6 Address Space registry
(only 2000::/3 is allocated global unicast), with Python's `ipaddress.is_global` as a backstop.
The tables are spelled out here because `ipaddress` differs across Python patch releases (3.11.7
calls multicast, 6to4 and NAT64 forms of private IPv4 "global").

Addresses that embed an IPv4 address are judged by the embedded one: IPv4-mapped `::ffff:a.b.c.d`
(RFC 4291), NAT64 `64:ff9b::a.b.c.d` (RFC 6052) and 6to4 `2002:AABB:CCDD::/48` (RFC 3056). Teredo
(2001::/32, RFC 4380) and IPv4-compatible `::a.b.c.d` (deprecated by RFC 4291) are refused whole.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# (network, reason): the first match decides. Reasons are the `details.reason` of `url_not_allowed`.
_IPV4_REFUSED: Final[tuple[tuple[ipaddress.IPv4Network, str], ...]] = (
    (_V4("0.0.0.0/8"), "unspecified"),  # "this network", RFC 791 / RFC 1122
    (_V4("10.0.0.0/8"), "private"),  # RFC 1918
    (_V4("100.64.0.0/10"), "shared_address_space"),  # carrier-grade NAT, RFC 6598
    (_V4("127.0.0.0/8"), "loopback"),  # RFC 1122
    (_V4("169.254.0.0/16"), "link_local"),  # RFC 3927; the metadata server 169.254.169.254
    (_V4("172.16.0.0/12"), "private"),  # RFC 1918
    (_V4("192.0.0.0/24"), "reserved"),  # IETF protocol assignments, RFC 6890
    (_V4("192.0.2.0/24"), "documentation"),  # TEST-NET-1, RFC 5737
    (_V4("192.88.99.0/24"), "reserved"),  # deprecated 6to4 relay anycast, RFC 7526
    (_V4("192.168.0.0/16"), "private"),  # RFC 1918
    (_V4("198.18.0.0/15"), "reserved"),  # benchmarking, RFC 2544
    (_V4("198.51.100.0/24"), "documentation"),  # TEST-NET-2, RFC 5737
    (_V4("203.0.113.0/24"), "documentation"),  # TEST-NET-3, RFC 5737
    (_V4("224.0.0.0/4"), "multicast"),  # RFC 5771
    (_V4("240.0.0.0/4"), "reserved"),  # RFC 1112, includes 255.255.255.255 broadcast
)

_IPV6_REFUSED: Final[tuple[tuple[ipaddress.IPv6Network, str], ...]] = (
    (_V6("::/128"), "unspecified"),  # RFC 4291
    (_V6("::1/128"), "loopback"),  # RFC 4291
    (_V6("::/96"), "reserved"),  # IPv4-compatible, deprecated by RFC 4291
    (_V6("64:ff9b:1::/48"), "private"),  # local-use NAT64, RFC 8215
    (_V6("100::/64"), "reserved"),  # discard-only, RFC 6666
    (_V6("2001::/32"), "teredo"),  # RFC 4380: tunnels to an IPv4 host we cannot check
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments, RFC 2928
    (_V6("2001:db8::/32"), "documentation"),  # RFC 3849
    (_V6("3fff::/20"), "documentation"),  # RFC 9637
    (_V6("5f00::/16"), "reserved"),  # SRv6 SIDs, RFC 9602
    (_V6("fc00::/7"), "private"),  # unique local, RFC 4193
    (_V6("fe80::/10"), "link_local"),  # RFC 4291
    (_V6("fec0::/10"), "reserved"),  # site-local, deprecated by RFC 3879
    (_V6("ff00::/8"), "multicast"),  # RFC 4291
)

_DECIMAL: Final = re.compile(r"[0-9]+")
_HEX: Final = re.compile(r"0[xX][0-9a-fA-F]*")
_OCTAL: Final = re.compile(r"0[0-7]+")

_IPV6_GLOBAL_UNICAST: Final = _V6("2000::/3")
_IPV4_MAPPED: Final = _V6("::ffff:0:0/96")
_NAT64_WELL_KNOWN: Final = _V6("64:ff9b::/96")
_SIXTOFOUR: Final = _V6("2002::/16")


def refusal_reason(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Say why the server must not connect to `address`, or None if it may.

    Args:
        address: an IPv4 or IPv6 address (a scope id on IPv6 is refused).
        allow_loopback: tests only: let 127.0.0.0/8, ::1 and their IPv4-mapped forms through.

    Returns:
        None for a publicly routable unicast address, else a snake_case reason: `loopback`,
        `private`, `link_local`, `shared_address_space`, `multicast`, `unspecified`, `reserved`,
        `documentation`, `teredo`, `scoped` or `not_global`.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "scoped"
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return refusal_reason(embedded, allow_loopback=allow_loopback)
        if allow_loopback and address.is_loopback:
            return None
        for network6, reason in _IPV6_REFUSED:
            if address in network6:
                return reason
        if address not in _IPV6_GLOBAL_UNICAST:
            return "reserved"
    else:
        if allow_loopback and address.is_loopback:
            return None
        for network4, reason in _IPV4_REFUSED:
            if address in network4:
                return reason
    if not address.is_global or address.is_multicast:
        return "not_global"
    return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 address stands for.

    Args:
        address: any IPv6 address.

    Returns:
        The embedded IPv4 address, or None when `address` is none of those forms.
    """
    if address in _IPV4_MAPPED:
        return address.ipv4_mapped
    if address in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIXTOFOUR:
        return address.sixtofour
    return None


def parse_ipv4_host(host: str) -> ipaddress.IPv4Address | None:
    """Parse a URL host the way browsers and `inet_aton` read IPv4 (WHATWG URL "IPv4 parser").

    `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1` and `0x7f.1` all mean 127.0.0.1: each of up
    to four dot-separated parts is decimal, `0x` hexadecimal or leading-zero octal; the last part
    fills the remaining bytes. One trailing dot is ignored.

    Args:
        host: a URL host, lower-case, without brackets.

    Returns:
        The address when the host ends in a number (so it must be an IPv4 literal), None when it is
        a domain name.

    Raises:
        ValueError: the host ends in a number but is not a valid IPv4 literal (`1.2.3.999`,
            `1.2.3.4.5`, `08.1.1.1`): refuse it rather than let a resolver guess.
    """
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if not parts or not _is_number(parts[-1]):
        return None
    if len(parts) > 4:
        raise ValueError("too many parts for an IPv4 address")
    numbers = [_parse_ipv4_number(part) for part in parts]
    if any(number > 255 for number in numbers[:-1]):
        raise ValueError("IPv4 part out of range")
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError("IPv4 last part out of range")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _is_number(part: str) -> bool:
    return _DECIMAL.fullmatch(part) is not None or _HEX.fullmatch(part) is not None


def _parse_ipv4_number(part: str) -> int:
    # Regexes, not bare int(): int() also takes "_", "+", "-" and surrounding whitespace.
    if _HEX.fullmatch(part):
        return int(part[2:], 16) if len(part) > 2 else 0
    if _OCTAL.fullmatch(part):
        return int(part[1:], 8)
    if _DECIMAL.fullmatch(part) and not part.startswith("0"):
        return int(part)
    if part == "0":
        return 0
    raise ValueError("IPv4 part is not a number")
