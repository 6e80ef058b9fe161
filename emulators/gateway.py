"""The local stack's gateway: the API's one origin, as the load balancer is in the cloud.

`python -m emulators.gateway --port P --map terraform/url_map.json --backend NAME=URL ...`
serves 127.0.0.1:P and sends each request to the service the URL map names
(`common.api.urlmap.UrlMap`: the same document terraform/lb.tf builds the load balancer's URL map
from), streaming the answer back as it comes (Server-Sent Events included). Requests bodies are
read whole first (the API's bodies are bounded; bytes go to storage by signed URLs, never
through here); hop-by-hop headers are dropped; `X-Forwarded-For`, `X-Forwarded-Proto` and
`X-Forwarded-Host` are added, as Google's load balancers do. A service that cannot be reached
answers 503 `unavailable` with `Retry-After` (the API's JSON error). One line per request goes to
stdout (the stack's `logs/gateway.log`). aiohttp, one event loop: thousands of open streams cost
connections, not threads.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from aiohttp.client_exceptions import ClientConnectionError
from yarl import URL

from common.api.urlmap import UrlMap

log = logging.getLogger("emulators.gateway")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
MAX_BODY_BYTES = 64 * 1024 * 1024
SESSION_KEY = web.AppKey("session", ClientSession)
READY_LINE = "GATEWAY_READY"


def _forward_headers(request: web.Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    peer = request.remote or "127.0.0.1"
    prior = request.headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Host"] = request.host
    return headers


def _unavailable(service: str) -> web.Response:
    body = {
        "code": "unavailable",
        "message": "The service could not complete the request now; retry later.",
    }
    log.warning("service %s unreachable", service)
    return web.json_response(body, status=503, headers={"Retry-After": "5"})


def make_app(urls: UrlMap, backends: Mapping[str, str]) -> web.Application:
    """The gateway application.

    Args:
        urls: the URL map.
        backends: service name -> base URL (`http://127.0.0.1:PORT`).

    Raises:
        ValueError: a service of the map has no backend.
    """
    missing = sorted((set(urls.services) | {urls.default_service}) - set(backends))
    if missing:
        raise ValueError(f"no backend for {', '.join(missing)}")

    async def proxy(request: web.Request) -> web.StreamResponse:
        began = time.perf_counter()
        service = urls.service_for(
            request.method,
            request.raw_path.split("?", 1)[0],
            request.headers.get("Access-Control-Request-Method"),
        )
        # as sent: a percent-encoded byte stays encoded, so the service judges the same path
        upstream = URL(backends[service].rstrip("/") + request.raw_path, encoded=True)
        body = await request.read() if request.body_exists else None
        if body is not None and len(body) > MAX_BODY_BYTES:
            return web.json_response(
                {"code": "payload_too_large", "message": "request body too large"}, status=413
            )
        session = request.app[SESSION_KEY]
        try:
            async with session.request(
                request.method,
                upstream,
                headers=_forward_headers(request),
                data=body,
                allow_redirects=False,
                auto_decompress=False,
            ) as answer:
                headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                response = web.StreamResponse(status=answer.status, reason=answer.reason)
                response.headers.update(headers)
                if answer.content_length is not None:
                    response.content_length = answer.content_length
                await response.prepare(request)
                try:
                    async for chunk in answer.content.iter_any():
                        await response.write(chunk)
                    await response.write_eof()
                except ConnectionError:
                    pass  # the client went away; closing the upstream answer ends it there
        except ClientConnectionError:
            return _unavailable(service)
        log.info(
            "%s %s -> %s %d %.0fms",
            request.method,
            request.path,
            service,
            answer.status,
            (time.perf_counter() - began) * 1000,
        )
        return response

    async def open_session(app: web.Application) -> None:
        timeout = ClientTimeout(total=None, connect=10, sock_connect=10, sock_read=None)
        app[SESSION_KEY] = ClientSession(
            connector=TCPConnector(limit=0, force_close=False),
            timeout=timeout,
            auto_decompress=False,
        )

    async def close_session(app: web.Application) -> None:
        await app[SESSION_KEY].close()

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_route("*", r"/{tail:[\s\S]*}", proxy)  # any path, odd bytes too
    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    return app


def _backends(pairs: Sequence[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not url.startswith("http"):
            raise SystemExit(f"--backend {pair!r}: expected NAME=http://HOST:PORT")
        found[name] = url
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the gateway until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m emulators.gateway", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--map", type=Path, required=True, help="terraform/url_map.json")
    parser.add_argument("--backend", action="append", default=[], help="NAME=URL, per service")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s"
    )
    urls = UrlMap(json.loads(args.map.read_text()))
    app = make_app(urls, _backends(args.backend))

    async def announce(_app: web.Application) -> None:
        print(f"{READY_LINE} 127.0.0.1:{args.port}", flush=True)

    app.on_startup.append(announce)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
