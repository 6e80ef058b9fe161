"""Static file server of the web gallery: the files of the npm build (web/dist) from memory.

terraform/web/Dockerfile copies the build next to this file and runs
`gunicorn 'server:from_environment()'`; Terraform (terraform/web.tf) deploys the image as a Cloud
Run service. Standard library only, so the image needs nothing but gunicorn.

- Every file under WEB_ROOT is read once at start; gzip variants of text files are made then too.
- `GET`/`HEAD` only (405 with `Allow` otherwise). `/` and any path without a file extension that
  is not a file (a client-side route) answer `index.html`; other unknown paths 404.
- `/config.json` is WEB_CONFIG_JSON (a JSON object Terraform writes: the function URLs and public
  settings), never cached, so one image serves every deployment.
- Files under `assets/` (content-hashed by the bundler) are cached for a year as immutable; the
  rest revalidate (`no-cache`) with a strong ETag (304 on `If-None-Match`).
- Security headers on every answer, including WEB_CONTENT_SECURITY_POLICY when set.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

StartResponse = Callable[[str, list[tuple[str, str]]], object]

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}
COMPRESSIBLE_SUFFIXES = frozenset(
    {".html", ".js", ".mjs", ".css", ".json", ".map", ".webmanifest", ".txt", ".svg", ".wasm"}
)
MIN_GZIP_BYTES = 1024
IMMUTABLE_PREFIX = "assets/"
INDEX = "index.html"
CONFIG_PATH = "config.json"
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Strict-Transport-Security", "max-age=31536000"),
)


@dataclass(frozen=True)
class Asset:
    """One servable file, kept in memory."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    cache_control: str


def _asset(body: bytes, suffix: str, cache_control: str) -> Asset:
    compress = suffix in COMPRESSIBLE_SUFFIXES and len(body) >= MIN_GZIP_BYTES
    return Asset(
        body=body,
        # mtime=0: the same bytes always give the same gzip stream.
        gzipped=gzip.compress(body, compresslevel=9, mtime=0) if compress else None,
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        cache_control=cache_control,
    )


def load_assets(root: Path) -> dict[str, Asset]:
    """Every regular file under `root`, by its path relative to it (`assets/app-1a2b.js`)."""
    assets: dict[str, Asset] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        immutable = name.startswith(IMMUTABLE_PREFIX)
        cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
        assets[name] = _asset(path.read_bytes(), path.suffix.lower(), cache)
    if INDEX not in assets:
        raise ValueError(f"{root} has no {INDEX}: is it the npm build's output (web/dist)?")
    return assets


def _config_asset(config_json: str) -> Asset:
    config = json.loads(config_json)
    if not isinstance(config, dict):
        raise ValueError("WEB_CONFIG_JSON must be a JSON object")
    body = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return _asset(body, ".json", "no-store")


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "").lower() not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def _matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"; * matches anything."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


class StaticApp:
    """The WSGI application."""

    def __init__(
        self, assets: dict[str, Asset], config_json: str = "{}", csp: str | None = None
    ) -> None:
        self._assets = {**assets, CONFIG_PATH: _config_asset(config_json)}
        self._headers = list(SECURITY_HEADERS)
        if csp:
            self._headers.append(("Content-Security-Policy", csp))

    def _find(self, raw_path: str) -> Asset | None:
        """The asset for a request path, `index.html` for client-side routes, else None."""
        try:  # WSGI hands the path over as latin-1; the bytes are UTF-8
            path = raw_path.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return None
        if "\x00" in path or "\\" in path:
            return None
        parts = PurePosixPath(path).parts
        segments = [p for p in parts if p != "/"]
        if any(s in {".", ".."} for s in segments) or path.count("//"):
            return None
        name = "/".join(segments)
        if not name:
            return self._assets[INDEX]
        if name in self._assets:
            return self._assets[name]
        if "." not in segments[-1]:
            return self._assets[INDEX]
        return None

    def _plain(
        self, start_response: StartResponse, status: str, extra: list[tuple[str, str]]
    ) -> list[bytes]:
        body = status.encode() + b"\n"
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *self._headers,
            *extra,
        ]
        start_response(status, headers)
        return [body]

    def __call__(
        self, environ: dict[str, object], start_response: StartResponse
    ) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if method not in {"GET", "HEAD"}:
            return self._plain(start_response, "405 Method Not Allowed", [("Allow", "GET, HEAD")])
        asset = self._find(str(environ.get("PATH_INFO", "/")))
        if asset is None:
            return self._plain(start_response, "404 Not Found", [])
        headers = [
            ("Content-Type", asset.content_type),
            ("Cache-Control", asset.cache_control),
            ("ETag", asset.etag),
            *self._headers,
        ]
        if asset.gzipped is not None:
            headers.append(("Vary", "Accept-Encoding"))
        if _matches(str(environ.get("HTTP_IF_NONE_MATCH", "")), asset.etag):
            start_response("304 Not Modified", headers)
            return []
        body = asset.body
        if asset.gzipped is not None and _accepts_gzip(
            str(environ.get("HTTP_ACCEPT_ENCODING", ""))
        ):
            body = asset.gzipped
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [] if method == "HEAD" else [body]


def from_environment() -> StaticApp:
    """The application configured by WEB_ROOT, WEB_CONFIG_JSON and WEB_CONTENT_SECURITY_POLICY."""
    root = Path(os.environ.get("WEB_ROOT", Path(__file__).with_name("dist")))
    return StaticApp(
        load_assets(root),
        config_json=os.environ.get("WEB_CONFIG_JSON", "{}"),
        csp=os.environ.get("WEB_CONTENT_SECURITY_POLICY") or None,
    )
