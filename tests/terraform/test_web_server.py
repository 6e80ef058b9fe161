"""The web gallery's static server (terraform/web/server.py), as its image runs it.

WSGI calls for the behaviour (routes, caching, gzip, headers, refusals), and one run under the
project's gunicorn with the image's command line (`server:from_environment()`).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

WEB_DIR = Path(__file__).resolve().parents[2] / "terraform" / "web"
INDEX_HTML = (
    b"<!doctype html><title>gallery</title><script type=module src=/assets/app-1a2b.js></script>"
)
APP_JS = b"export const gallery = 'grid';\n" * 200


def _load_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_server", WEB_DIR / "server.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["web_server"] = module
    spec.loader.exec_module(module)
    return module


server = _load_server()


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX_HTML)
    (root / "assets" / "app-1a2b.js").write_bytes(APP_JS)
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    return root


Response = tuple[str, dict[str, str], bytes]


@pytest.fixture
def call(dist: Path) -> Callable[..., Response]:
    app = server.StaticApp(
        server.load_assets(dist),
        config_json=json.dumps({"listMediaUrl": "https://fn.example/list-media"}),
        csp="default-src 'self'",
    )

    def run(path: str, method: str = "GET", **headers: str) -> Response:
        environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
        setup_testing_defaults(environ)
        environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
        seen: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            seen["status"], seen["headers"] = status, dict(response_headers)

        body = b"".join(app(environ, start_response))
        return seen["status"], seen["headers"], body

    return run


def test_root_and_client_routes_answer_index_without_caching(call: Callable[..., Response]) -> None:
    for path in ("/", "/media/med_123", "/devices/cam-1/clips"):
        status, headers, body = call(path)
        assert status == "200 OK", path
        assert body == INDEX_HTML
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Cache-Control"] == "no-cache"
        assert headers["Content-Security-Policy"] == "default-src 'self'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"


def test_hashed_assets_are_immutable_and_gzipped_on_request(call: Callable[..., Response]) -> None:
    status, headers, body = call("/assets/app-1a2b.js", accept_encoding="br, gzip")
    assert status == "200 OK"
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert gzip.decompress(body) == APP_JS
    assert int(headers["Content-Length"]) == len(body) < len(APP_JS)
    status, headers, body = call("/assets/app-1a2b.js", accept_encoding="gzip;q=0")
    assert "Content-Encoding" not in headers
    assert body == APP_JS


def test_etag_revalidation_answers_304(call: Callable[..., Response]) -> None:
    _, headers, _ = call("/")
    status, again, body = call("/", if_none_match=f'W/{headers["ETag"]}, "other"')
    assert status == "304 Not Modified"
    assert body == b""
    assert again["ETag"] == headers["ETag"]


def test_config_json_comes_from_the_environment_and_is_never_cached(
    call: Callable[..., Response],
) -> None:
    status, headers, body = call("/config.json")
    assert status == "200 OK"
    assert json.loads(body) == {"listMediaUrl": "https://fn.example/list-media"}
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    ["/missing.png", "/../server.py", "/assets/../../etc/passwd", "/a\x00b", "/a\\b", "//x.js"],
)
def test_unknown_files_and_odd_paths_are_404(call: Callable[..., Response], path: str) -> None:
    status, headers, body = call(path)
    assert status == "404 Not Found"
    assert body == b"404 Not Found\n"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_only_get_and_head(call: Callable[..., Response]) -> None:
    status, headers, _ = call("/", method="POST")
    assert status == "405 Method Not Allowed"
    assert headers["Allow"] == "GET, HEAD"
    status, headers, body = call("/favicon.ico", method="HEAD")
    assert status == "200 OK"
    assert body == b""
    assert headers["Content-Length"] == "4"
    assert headers["Content-Type"] == "image/x-icon"


def test_a_build_without_index_or_a_bad_config_refuses_to_start(dist: Path) -> None:
    with pytest.raises(ValueError, match="WEB_CONFIG_JSON must be a JSON object"):
        server.StaticApp(server.load_assets(dist), config_json="[1, 2]")
    (dist / "index.html").unlink()
    with pytest.raises(ValueError, match=r"has no index\.html"):
        server.load_assets(dist)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def gunicorn_server(dist: Path) -> Iterator[str]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.is_file():
        pytest.fail(
            "gunicorn is not installed in the project virtualenv (functions-framework needs it)"
        )
    port = _free_port()
    env = {
        **os.environ,
        "WEB_ROOT": str(dist),
        "WEB_CONFIG_JSON": json.dumps({"createMediaUrl": "https://fn.example/create-media"}),
        "PORT": str(port),
    }
    # The image's command line, with the port bound to loopback only.
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "server:from_environment()",
        ],
        cwd=WEB_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/config.json", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"gunicorn did not start:\n{output}")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def test_gunicorn_serves_the_app_with_the_images_command(gunicorn_server: str) -> None:
    with urllib.request.urlopen(gunicorn_server + "/gallery/route", timeout=5) as response:
        assert response.status == 200
        assert response.read() == INDEX_HTML
    with urllib.request.urlopen(gunicorn_server + "/config.json", timeout=5) as response:
        assert json.loads(response.read()) == {"createMediaUrl": "https://fn.example/create-media"}
