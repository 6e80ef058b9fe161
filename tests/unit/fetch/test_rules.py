"""The SSRF rules without any I/O: address classes, IPv4 literal forms, URL checks, the policy."""

from __future__ import annotations

import ipaddress
import os

import pytest

from common.core.errors import UrlNotAllowed, ValidationError
from common.core.settings import Settings
from common.fetch import FetchPolicy, refusal_reason, validate_url
from common.fetch.addresses import parse_ipv4_host

HTTP = FetchPolicy(allow_http=True)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link_local"),  # the metadata server
        ("169.254.0.1", "link_local"),
        ("100.64.0.1", "shared_address_space"),  # carrier-grade NAT
        ("100.127.255.254", "shared_address_space"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.0.9", "reserved"),
        ("198.18.0.1", "reserved"),
        ("192.0.2.1", "documentation"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link_local"),
        ("febf::1", "link_local"),
        ("fec0::1", "reserved"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped forms are judged by the IPv4 inside
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link_local"),
        ("64:ff9b::a9fe:a9fe", "link_local"),  # NAT64 of 169.254.169.254
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:c0a8:101::1", "private"),  # 6to4 of 192.168.1.1
        ("2002:7f00:1::1", "loopback"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"),
        ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
        ("2001:db8::1", "documentation"),
        ("100::1", "reserved"),
        ("4000::1", "reserved"),  # outside 2000::/3, unallocated
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111", "2a00:1450:4001::1",
     "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)  # fmt: skip
def test_public_addresses_pass(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_the_loopback_flag_lifts_loopback_only() -> None:
    for address in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        assert refusal_reason(ipaddress.ip_address(address), allow_loopback=True) is None
    for address in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "fe80::1", "::", "64:ff9b::a00:1"):
        assert refusal_reason(ipaddress.ip_address(address), allow_loopback=True) is not None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.0000.0000.0001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("025177524776", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("10.0.0.1.", "10.0.0.1"),
        ("0", "0.0.0.0"),
    ],
)
def test_ipv4_literals_in_every_form_are_normalised(host: str, address: str) -> None:
    assert parse_ipv4_host(host) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0xa9fea9fe/latest/meta-data/",
        "http://169.254.169.254/computeMetadata/v1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://[::]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
    ],
)
def test_urls_naming_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        validate_url(url, policy=HTTP)
    assert caught.value.code == "url_not_allowed"
    assert caught.value.details["reason"] not in ("invalid_url", "scheme")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/", "scheme"),
        ("ftp://example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com/", "scheme"),
        ("https://user:secret@example.com/", "userinfo"),
        ("https://user@example.com/", "userinfo"),
        ("https://example.com@10.0.0.1/", "userinfo"),
        ("https://evil.example\\@good.example/", "invalid_url"),
        ("https://exa mple.com/", "invalid_url"),
        ("https://example.com/\r\nHost: x", "invalid_url"),
        ("https://%31%32%37.0.0.1/", "invalid_url"),
        ("https://1.2.3.999/", "invalid_url"),
        ("https://1.2.3.4.5/", "invalid_url"),
        ("https://08.0.0.1/", "invalid_url"),
        ("https://example.com:0/", "invalid_url"),
        ("https://example.com:65536/", "invalid_url"),
        ("https:///no-host", "invalid_url"),
        ("https://[fe80::1%25eth0]/", "scoped"),
        ("https://localhost/", "loopback"),
        ("https://app.localhost/", "loopback"),
        ("https://metadata/computeMetadata/v1/", "internal_name"),
        ("https://metadata.google.internal/computeMetadata/v1/", "internal_name"),
        ("https://printer.local/", "internal_name"),
        ("https://" + "a" * 8200 + ".com/", "invalid_url"),
    ],
)
def test_url_refusals_and_their_reasons(url: str, reason: str) -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        validate_url(url, policy=FetchPolicy())
    assert caught.value.details["reason"] == reason
    assert isinstance(caught.value, ValidationError)
    assert caught.value.http_status == 422


def test_urls_are_canonicalised() -> None:
    policy = FetchPolicy()
    assert validate_url("HTTPS://Media.Example.:443/a/b?x=1#frag", policy=policy) == (
        "https://media.example/a/b?x=1"
    )
    assert validate_url("https://bücher.example/café", policy=policy) == (
        "https://xn--bcher-kva.example/caf%C3%A9"
    )
    assert validate_url("https://8.8.8.8:8443", policy=policy) == "https://8.8.8.8:8443/"
    assert validate_url("https://[2606:4700:0::1111]/", policy=policy) == (
        "https://[2606:4700::1111]/"
    )


def test_http_is_accepted_only_when_the_policy_allows_it() -> None:
    assert validate_url("http://example.com/x", policy=HTTP) == "http://example.com/x"


def test_allow_list_matches_exact_hosts_and_suffixes_below_them() -> None:
    policy = FetchPolicy(allowed_hosts=("Media.Example", "*.cdn.example", "8.8.8.8"))
    for url in (
        "https://media.example/a",
        "https://img.cdn.example/a",
        "https://a.b.cdn.example/a",
        "https://8.8.8.8/",
    ):
        validate_url(url, policy=policy)
    for url in (
        "https://cdn.example/a",  # the suffix itself is not below it
        "https://evilcdn.example/a",
        "https://media.example.evil.test/",
        "https://other.example/",
        "https://1.1.1.1/",
    ):
        with pytest.raises(UrlNotAllowed) as caught:
            validate_url(url, policy=policy)
        assert caught.value.details["reason"] == "host_not_allowed"


def test_allow_list_never_lifts_the_address_rules() -> None:
    policy = FetchPolicy(allowed_hosts=("127.0.0.1", "169.254.169.254"))
    for url in ("https://127.0.0.1/", "https://169.254.169.254/"):
        with pytest.raises(UrlNotAllowed):
            validate_url(url, policy=policy)


@pytest.mark.parametrize("entry", ["*", "*.com", "*.", "exa mple.com", "", "a..b"])
def test_bad_allow_list_entries_are_rejected(entry: str) -> None:
    with pytest.raises(ValueError, match=r"allow-list|host name"):
        FetchPolicy(allowed_hosts=(entry,))


def test_policy_defaults_match_the_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("INGEST_")]:
        monkeypatch.delenv(name)  # an integration session exports its stack's settings
    assert FetchPolicy.from_settings(Settings()) == FetchPolicy()


def test_policy_is_built_from_the_ingest_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_ALLOW_HTTP", "true")
    monkeypatch.setenv("INGEST_ALLOWED_HOSTS", '["media.example", "*.cdn.example"]')
    monkeypatch.setenv("INGEST_MAX_BYTES", "1000")
    monkeypatch.setenv("INGEST_CONNECT_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("INGEST_TOTAL_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("INGEST_MAX_REDIRECTS", "1")
    monkeypatch.setenv("INGEST_ALLOW_LOOPBACK_FOR_TESTS", "true")
    policy = FetchPolicy.from_settings()
    assert policy == FetchPolicy(
        allow_http=True,
        allowed_hosts=("media.example", "*.cdn.example"),
        max_bytes=1000,
        connect_timeout_seconds=1.5,
        total_timeout_seconds=7.0,
        max_redirects=1,
        allow_loopback_for_tests=True,
    )
    validate_url("http://img.cdn.example/", policy=policy)
