"""A small OpenID Connect provider on 127.0.0.1 for the gallery's cloud sign-in: discovery, an
authorization endpoint that signs in one person without asking (as a provider does for someone
already signed in there), a token endpoint that checks the code and its PKCE verifier (RFC 7636)
and answers an RS256 ID token, and the JWKS the functions verify that token with.

It plays the team's identity provider (Keycloak, Auth0, Entra ID...), configured as the gallery
runbook says: a public client, the gallery's callback as redirect URI, CORS on the token endpoint,
and a `kind: "user"` claim in the ID token.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "test-idp-1"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class LocalIdentityProvider:
    """The provider; `start()` serves it on a free port, `stop()` ends it."""

    client_id: str
    subject: str
    email: str
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    issuer: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> LocalIdentityProvider:
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider._get(self)

            def do_POST(self) -> None:
                provider._post(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    # ------------------------------------------------------------------------------- answers
    def _send(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Access-Control-Allow-Origin", "*")  # discovery and token: CORS
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _get(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(handler.path)
        if url.path == "/.well-known/openid-configuration":
            return self._send(
                handler,
                200,
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": self.jwks_url,
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        if url.path == "/jwks":
            numbers = self.key.public_key().public_numbers()
            jwk = {
                "kty": "RSA",
                "kid": KID,
                "use": "sig",
                "alg": "RS256",
                "n": _b64url_uint(numbers.n),
                "e": _b64url_uint(numbers.e),
            }
            return self._send(handler, 200, {"keys": [jwk]})
        if url.path == "/authorize":
            return self._authorize(handler, dict(urllib.parse.parse_qsl(url.query)))
        return self._send(handler, 204)  # /favicon.ico and the rest: nothing

    def _authorize(
        self, handler: http.server.BaseHTTPRequestHandler, query: dict[str, str]
    ) -> None:
        problems = [
            name
            for name, ok in (
                ("response_type", query.get("response_type") == "code"),
                ("client_id", query.get("client_id") == self.client_id),
                ("code_challenge_method", query.get("code_challenge_method") == "S256"),
                ("code_challenge", bool(query.get("code_challenge"))),
                ("scope", "openid" in query.get("scope", "").split()),
                ("redirect_uri", query.get("redirect_uri", "").endswith("/auth/callback")),
            )
            if not ok
        ]
        if problems:
            self.refused.append(f"authorize: {problems}")
            return self._send(handler, 400, {"error": "invalid_request", "fields": problems})
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        target = (
            query["redirect_uri"]
            + "?"
            + urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
        )
        return self._send(handler, 302, headers={"Location": target})

    def _post(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        if urllib.parse.urlsplit(handler.path).path != "/token":
            return self._send(handler, 404, {"error": "not_found"})
        length = int(handler.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(handler.rfile.read(length).decode()))
        asked = self.codes.pop(form.get("code", ""), None)
        if asked is None:
            self.refused.append("token: unknown or reused code")
            return self._send(handler, 400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            challenge != asked["code_challenge"]
            or form.get("redirect_uri") != asked["redirect_uri"]
            or form.get("client_id") != self.client_id
            or form.get("grant_type") != "authorization_code"
        ):
            self.refused.append("token: the verifier, redirect URI or client does not match")
            return self._send(handler, 400, {"error": "invalid_grant"})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": self.subject,
            "email": self.email,
            "kind": "user",
            "nonce": asked.get("nonce"),
            "iat": now,
            "exp": now + 3600,
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})
        return self._send(
            handler, 200, {"id_token": token, "token_type": "Bearer", "expires_in": 3600}
        )
