"""Webhook signatures: what a receiver checks (docs/CONTRACTS.md, "Webhooks")."""

from __future__ import annotations

import hashlib
import hmac

from common.webhooks import signing

BODY = b'{"data":{},"id":"whd_01","type":"media.processed"}'


def test_the_header_is_stripe_style_hmac_over_timestamp_dot_body() -> None:
    secret = signing.new_secret()
    header = signing.signature_header(secret, 1_800_000_000, BODY)
    expected = hmac.new(secret.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"


def test_verify_accepts_the_signature_within_the_tolerance() -> None:
    secret = signing.new_secret()
    header = signing.signature_header(secret, 1_800_000_000, BODY)
    assert signing.verify(secret, header, BODY, now=1_800_000_100)


def test_verify_refuses_another_body_secret_or_an_old_timestamp() -> None:
    secret = signing.new_secret()
    header = signing.signature_header(secret, 1_800_000_000, BODY)
    assert not signing.verify(secret, header, BODY + b" ", now=1_800_000_000)
    assert not signing.verify(signing.new_secret(), header, BODY, now=1_800_000_000)
    assert not signing.verify(secret, header, BODY, now=1_800_000_000 + 301)
    assert not signing.verify(secret, "v1=abc", BODY, now=1_800_000_000)


def test_secrets_are_new_each_time_and_prefixed() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(first) > 40
