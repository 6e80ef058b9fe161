"""The web gallery of the local stack: the npm build of `web/` (web/dist) served on its own port
of 127.0.0.1 by the same static server the Cloud Run image runs (terraform/web/server.py), with
a `/config.json` naming this stack's functions, a Content-Security-Policy of the same shape as
Terraform's, and a one-click dev login that exists only here.

`POST /dev/login` mints a user token (HS256 with the stack's `JWT_SECRET`) for the demo user and
records that user as an owner of the demo devices (`device_owners`), so the gallery shows what
`make demo` uploaded. The cloud image has no such route: there the page signs in with the team's
identity provider (docs/RUNBOOKS/GALLERY.md).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from emulators._proc import StackError

DEFAULT_DEMO_USER = "demo-user"
DEFAULT_DEMO_DEVICES = ("demo-camera-01",)
DEV_LOGIN_PATH = "/dev/login"
OIDC_SETTINGS = {
    "WEB_OIDC_ISSUER": "oidcIssuer",
    "WEB_OIDC_CLIENT_ID": "oidcClientId",
    "WEB_OIDC_NAME": "oidcName",
}
"""Environment of the stack → /config.json keys naming an OpenID Connect provider."""
DEV_TOKEN_TTL_SECONDS = 12 * 3600
DIST_INDEX = Path("web") / "dist" / "index.html"
SERVER_SOURCE = Path("terraform") / "web" / "server.py"

StartResponse = Callable[[str, list[tuple[str, str]]], object]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def gallery_origins(port: int) -> list[str]:
    """The origins a browser may load the gallery from (both names of the loopback host)."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def merge_cors_origins(current: str | None, extra: Sequence[str]) -> str:
    """`CORS_ALLOWED_ORIGINS` (a JSON list, as the functions' settings read it) plus `extra`.

    Raises:
        StackError: `current` is set but is not a JSON list of strings.
    """
    origins: list[str] = []
    if current:
        try:
            parsed = json.loads(current)
        except json.JSONDecodeError as exc:
            raise StackError(f"CORS_ALLOWED_ORIGINS must be a JSON list: {current!r}") from exc
        if not isinstance(parsed, list) or not all(isinstance(o, str) for o in parsed):
            raise StackError(f"CORS_ALLOWED_ORIGINS must be a JSON list of strings: {current!r}")
        origins = list(parsed)
    return json.dumps(list(dict.fromkeys([*origins, *extra])))


def content_security_policy(connect_origins: Iterable[str]) -> str:
    """The policy of terraform/web.tf's `web_gallery_default_csp`, with this stack's origins
    (functions and storage) where Terraform names the functions and storage.googleapis.com."""
    others = " ".join(sorted(set(connect_origins)))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {others}",
            f"media-src 'self' blob: {others}",
            f"connect-src 'self' {others}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def check_built(repo_root: Path) -> Path:
    """web/dist/index.html of the npm build.

    Raises:
        StackError: It is missing.
    """
    index = repo_root / DIST_INDEX
    if not index.is_file():
        raise StackError(
            f"the web gallery is not built ({index} missing): run `make web` "
            "(npm ci and npm run build in web/)"
        )
    return index


def load_static_server(repo_root: Path) -> ModuleType:
    """terraform/web/server.py as a module (it is a file of the image, not a package)."""
    name = "emulators._gallery_static_server"
    if (loaded := sys.modules.get(name)) is not None:
        return loaded
    path = repo_root / SERVER_SOURCE
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StackError(f"cannot load the gallery's static server from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@dataclass
class DevLogin:
    """Mints user tokens for the demo user and makes it an owner of the demo devices.

    Args:
        env: The stack's environment (`JWT_SECRET`, `DATABASE_URL`, optional `JWT_AUDIENCE`,
            `JWT_ISSUER`).
        user_id: The demo user (`WEB_DEMO_USER`).
        device_ids: The devices it owns (`WEB_DEMO_DEVICES`, comma-separated).
    """

    env: Mapping[str, str]
    user_id: str = DEFAULT_DEMO_USER
    device_ids: tuple[str, ...] = DEFAULT_DEMO_DEVICES
    ttl_seconds: int = DEV_TOKEN_TTL_SECONDS
    _engine: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _own_devices(self) -> None:
        from sqlalchemy import create_engine, text

        with self._lock:
            if self._engine is None:
                self._engine = create_engine(self.env["DATABASE_URL"], pool_size=1)
            with self._engine.begin() as connection:
                for device_id in self.device_ids:
                    connection.execute(
                        text(
                            "insert into device_owners (user_id, device_id) values (:u, :d) "
                            "on conflict do nothing"
                        ),
                        {"u": self.user_id, "d": device_id},
                    )

    def login(self) -> dict[str, Any]:
        """The body of `POST /dev/login`: `{token, token_type, user_id, device_ids, expires_at}`."""
        import jwt

        self._own_devices()
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": self.user_id,
            "kind": "user",
            "aud": self.env.get("JWT_AUDIENCE") or "media-api",
            "iat": now,
            "exp": now + self.ttl_seconds,
            "name": "Demo user (local stack)",
        }
        if issuer := self.env.get("JWT_ISSUER"):
            claims["iss"] = issuer
        token = jwt.encode(claims, self.env["JWT_SECRET"], algorithm="HS256")
        return {
            "token": token,
            "token_type": "Bearer",
            "user_id": self.user_id,
            "device_ids": list(self.device_ids),
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"])),
        }

    def close(self) -> None:
        """Dispose of the database engine."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def dev_app(
    static: WsgiApp,
    login: DevLogin,
    headers: Sequence[tuple[str, str]],
    origins: Sequence[str] = (),
) -> WsgiApp:
    """`static` plus `POST /dev/login` (JSON, same-origin: the page calls it with fetch).

    A browser sends `Origin` with every POST: one from another site (which could post without
    a preflight, though it could not read the answer) is refused, so no other page can make the
    stack record owners.
    """

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != DEV_LOGIN_PATH:
            return static(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        if environ.get("REQUEST_METHOD") != "POST":
            body = b'{"code":"method_not_allowed","message":"POST /dev/login"}'
            status, extra = "405 Method Not Allowed", [("Allow", "POST")]
        elif origin is not None and origin not in origins:
            body = b'{"code":"forbidden","message":"the dev login is for the gallery\'s own page"}'
            status, extra = "403 Forbidden", []
        else:
            body = json.dumps(login.login()).encode()
            status, extra = "200 OK", []
        start_response(
            status,
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                *headers,
                *extra,
            ],
        )
        return [body]

    return app


class GalleryServer:
    """The gallery on 127.0.0.1:`port`, served by a thread of the stack's process.

    Args:
        repo_root: Repository root (web/dist, terraform/web/server.py).
        port: Port to listen on (chosen before the functions start: their CORS names it).
        env: The stack's environment: function URLs, storage URL, JWT and database settings,
            optional `WEB_DEMO_USER` / `WEB_DEMO_DEVICES`.
        log_path: Request log (`logs/web.log`).

    Raises:
        StackError: web/dist is not built, or the port cannot be bound.
    """

    def __init__(self, repo_root: Path, port: int, env: Mapping[str, str], log_path: Path) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        index = check_built(repo_root)
        server = load_static_server(repo_root)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = {
            "apiBaseUrl": env["MEDIA_API_URL"],
            "devLoginUrl": DEV_LOGIN_PATH,
            "environment": "local stack",
            "liveArrivals": True,  # the stack's stream service serves GET /v1/events/stream
        }
        if page_size := env.get("WEB_GALLERY_PAGE_SIZE"):
            config["galleryPageSize"] = page_size
        # An identity provider besides the dev login, as web_gallery_extra_config gives one.
        for key, name in OIDC_SETTINGS.items():
            if value := env.get(key):
                config[name] = value
        storage = env.get("STORAGE_PUBLIC_URL") or env.get("S3_ENDPOINT_URL") or ""
        api = [env["MEDIA_API_URL"]]
        issuer = env.get("WEB_OIDC_ISSUER")
        idp = [urlsplit(issuer)._replace(path="", query="", fragment="").geturl()] if issuer else []
        csp = content_security_policy([*api, *([storage] if storage else []), *idp])
        static = server.StaticApp(
            server.load_assets(index.parent), config_json=json.dumps(config), csp=csp
        )
        devices = tuple(
            d.strip() for d in (env.get("WEB_DEMO_DEVICES") or "").split(",") if d.strip()
        )
        self.login = DevLogin(
            env,
            user_id=env.get("WEB_DEMO_USER") or DEFAULT_DEMO_USER,
            device_ids=devices or DEFAULT_DEMO_DEVICES,
        )
        headers = [*server.SECURITY_HEADERS, ("Content-Security-Policy", csp)]
        self._log = logging.getLogger(f"emulators.web.{port}")
        self._log.propagate = False
        self._log.setLevel(logging.INFO)
        self._handler = logging.FileHandler(log_path, mode="w")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        self._log.addHandler(self._handler)
        log = self._log

        class Handler(WSGIRequestHandler):
            def log(self, type: str, message: str, *args: Any) -> None:
                log.info("%s %s", type, message % args)

        try:
            self._server = make_server(
                "127.0.0.1",
                port,
                dev_app(static, self.login, headers, gallery_origins(port)),
                threaded=True,
                request_handler=Handler,
            )
        except OSError as exc:
            self._handler.close()
            raise StackError(f"the web gallery cannot listen on 127.0.0.1:{port}: {exc}") from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"web-gallery-{port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the log and the database engine. Idempotent."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self.login.close()
        self._log.removeHandler(self._handler)
        self._handler.close()
