from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from common.api.auth import authenticate, mint_token
from common.core.errors import Forbidden, TransientError, Unauthenticated
from common.core.settings import Settings

SETTINGS = Settings(jwt_secret="s3cret-for-tests-only-0123456789abcdef")


def test_device_token_round_trip() -> None:
    token = mint_token("cam-7", settings=SETTINGS)
    principal = authenticate(f"Bearer {token}", SETTINGS)
    assert (principal.kind, principal.subject) == ("device", "cam-7")
    assert principal.require_device() == "cam-7"


def test_user_token_cannot_act_as_device() -> None:
    principal = authenticate(f"Bearer {mint_token('alice', 'user', settings=SETTINGS)}", SETTINGS)
    assert principal.kind == "user"
    with pytest.raises(Forbidden):
        principal.require_device()


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer not.a.jwt"])
def test_missing_or_malformed_tokens_are_401(header: str | None) -> None:
    with pytest.raises(Unauthenticated) as info:
        authenticate(header, SETTINGS)
    assert info.value.http_status == 401


def test_expired_token() -> None:
    old = datetime.now(UTC) - timedelta(hours=2)
    token = mint_token("cam-7", ttl_seconds=60, settings=SETTINGS, now=old)
    with pytest.raises(Unauthenticated) as info:
        authenticate(f"Bearer {token}", SETTINGS)
    assert info.value.code == "token_expired"


def test_wrong_secret_audience_and_algorithm() -> None:
    other = Settings(jwt_secret="another-secret-another-secret-0123")
    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {mint_token('cam-7', settings=other)}", SETTINGS)
    wrong_aud = jwt.encode(
        {"sub": "cam-7", "aud": "someone-else", "exp": datetime.now(UTC) + timedelta(minutes=5)},
        SETTINGS.jwt_secret or "",
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {wrong_aud}", SETTINGS)
    unsigned = jwt.encode(
        {"sub": "cam-7", "aud": "media-api", "exp": datetime.now(UTC) + timedelta(minutes=5)},
        None,
        algorithm="none",
    )
    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {unsigned}", SETTINGS)


def test_previous_secret_is_accepted_during_rotation_only() -> None:
    old = Settings(jwt_secret="the-old-secret-the-old-secret-0123")
    rotating = Settings(
        jwt_secret="the-new-secret-the-new-secret-0123", jwt_previous_secret=old.jwt_secret
    )
    rotated = Settings(jwt_secret="the-new-secret-the-new-secret-0123")
    token = mint_token("cam-7", settings=old)
    assert authenticate(f"Bearer {token}", rotating).subject == "cam-7"
    assert (
        authenticate(f"Bearer {mint_token('cam-7', settings=rotating)}", rotated).subject == "cam-7"
    )
    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {token}", rotated)


def _signed(claims: dict[str, object]) -> str:
    return "Bearer " + jwt.encode(claims, SETTINGS.jwt_secret or "", algorithm="HS256")


def _claims(**overrides: object) -> dict[str, object]:
    exp = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    return {"sub": "cam-7", "kind": "device", "aud": "media-api", "exp": exp, **overrides}


@pytest.mark.parametrize(
    "sub",
    ["x" * 129, "cam\x00", "../other-device", "cam/7", "..", ""],
)
def test_device_subjects_that_could_escape_their_prefix_are_401(sub: str) -> None:
    with pytest.raises(Unauthenticated) as info:
        authenticate(_signed(_claims(sub=sub)), SETTINGS)
    assert info.value.code == "invalid_token"


def test_user_subjects_may_be_emails_but_not_control_characters() -> None:
    user = authenticate(_signed(_claims(sub="alice@example.com", kind="user")), SETTINGS)
    assert user.actor == "user:alice@example.com"
    with pytest.raises(Unauthenticated):
        authenticate(_signed(_claims(sub="alice\x00", kind="user")), SETTINGS)


@pytest.mark.parametrize("exp", ["9999999999", True, [1]])
def test_time_claims_must_be_numbers(exp: object) -> None:
    with pytest.raises(Unauthenticated) as info:
        authenticate(_signed(_claims(exp=exp)), SETTINGS)
    assert info.value.code in ("invalid_token", "token_expired")


def test_an_unreachable_jwks_endpoint_is_503_not_401() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(), key, algorithm="ES256", headers={"kid": "k1"})
    settings = Settings(jwt_algorithms=["ES256"], jwt_jwks_url="http://127.0.0.1:9/jwks.json")
    with pytest.raises(TransientError):
        authenticate(f"Bearer {token}", settings)


def test_identity_provider_tokens_are_users_and_never_devices() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(
            jwt_algorithms=["RS256"],
            jwt_jwks_url=f"http://127.0.0.1:{server.server_address[1]}/jwks.json",
        )

        def id_token(**claims: object) -> str:
            base = {k: v for k, v in _claims().items() if k != "kind"}
            token = jwt.encode(
                {**base, "sub": "alice@example.com", **claims},
                key,
                algorithm="RS256",
                headers={"kid": "idp-1"},
            )
            return f"Bearer {token}"

        principal = authenticate(id_token(), settings)  # no `kind`: a user, not device "alice"
        assert (principal.kind, principal.subject) == ("user", "alice@example.com")
        for kind in ("device", "admin"):
            with pytest.raises(Unauthenticated) as info:
                authenticate(id_token(sub="cam-7", kind=kind), settings)
            assert info.value.code == "invalid_token"
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ verified-token cache
def test_a_verified_token_is_reused_within_the_ttl_and_never_past_its_exp() -> None:
    from common.api.auth import Principal, VerifiedTokens

    now = [1_000.0]
    cache = VerifiedTokens(ttl_seconds=60, max_entries=10, clock=lambda: now[0])
    alice = Principal("user", "alice")
    cache.put("token-a", SETTINGS, alice, exp=1_030.0)  # expires before the TTL ends
    assert cache.get("token-a", SETTINGS) == alice
    now[0] = 1_030.0
    assert cache.get("token-a", SETTINGS) is None  # not one second past exp
    cache.put("token-b", SETTINGS, alice, exp=5_000.0)
    now[0] = 1_089.0
    assert cache.get("token-b", SETTINGS) == alice
    now[0] = 1_090.0
    assert cache.get("token-b", SETTINGS) is None  # the TTL bounds it


def test_the_cache_is_bounded_and_bound_to_the_settings_it_verified_with() -> None:
    from common.api.auth import Principal, VerifiedTokens

    cache = VerifiedTokens(ttl_seconds=60, max_entries=2, clock=lambda: 0.0)
    for name in ("a", "b", "c"):
        cache.put(name, SETTINGS, Principal("device", name), exp=100.0)
    assert cache.get("a", SETTINGS) is None  # least recently used went first
    assert cache.get("c", SETTINGS) == Principal("device", "c")
    assert cache.get("c", Settings(jwt_secret="another-secret-another-secret-0123")) is None


def test_authenticate_reuses_a_verification_but_refuses_a_token_once_it_expired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import jwt as pyjwt

    from common.api import auth

    monkeypatch.setattr(auth, "VERIFIED", auth.VerifiedTokens())
    token = mint_token("cam-7", ttl_seconds=120, settings=SETTINGS)
    calls = []
    real_decode = pyjwt.decode

    def counting_decode(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pyjwt, "decode", counting_decode)
    for _ in range(3):
        assert authenticate(f"Bearer {token}", SETTINGS).subject == "cam-7"
    assert len(calls) == 1
    # a failure is never remembered: a bad token is checked (and refused) every time
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            authenticate(f"Bearer {token}x", SETTINGS)
    assert len(calls) == 3
