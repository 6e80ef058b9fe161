"""The local gateway (the API's one origin) on 127.0.0.1: it routes by the URL map the load
balancer is built from, streams answers as they come, and keeps requests as they were sent; on
the real stack every route of the binding reaches a service that serves it."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import requests
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from common.api import routes
from common.api.auth import mint_token
from common.api.urlmap import UrlMap, url_map
from emulators.gateway import make_app
from tests.aio import run_async

pytestmark = pytest.mark.integration
SERVICES = ("create_media", "list_media", "manage_media", "streams")
GO_ON = web.AppKey("go_on", asyncio.Event)


def backend(name: str, seen: list[tuple[str, str, str, dict[str, str]]]) -> web.Application:
    """A stand-in service that says who it is and what it got."""

    async def answer(request: web.Request) -> web.StreamResponse:
        seen.append((name, request.method, request.raw_path, dict(request.headers)))
        if request.path == "/v1/events/stream":
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(b"data: one\n\n")
            await request.app[GO_ON].wait()  # the client saw the first event already
            await response.write(b"data: two\n\n")
            return response
        return web.json_response({"service": name})

    app = web.Application()
    app[GO_ON] = asyncio.Event()
    app.router.add_route("*", r"/{tail:[\s\S]*}", answer)
    return app


async def with_gateway(
    scenario: Callable[[str, list[Any], dict[str, web.Application]], Awaitable[None]],
    down: str | None = None,
) -> None:
    seen: list[Any] = []
    apps = {name: backend(name, seen) for name in SERVICES}
    servers = {name: TestServer(app, host="127.0.0.1") for name, app in apps.items()}
    for server in servers.values():
        await server.start_server()
    urls = {name: str(server.make_url("")).rstrip("/") for name, server in servers.items()}
    if down is not None:
        await servers[down].close()
    gateway = TestServer(make_app(UrlMap(url_map(routes.BINDING)), urls), host="127.0.0.1")
    await gateway.start_server()
    try:
        await scenario(str(gateway.make_url("")).rstrip("/"), seen, apps)
    finally:
        await gateway.close()
        for server in servers.values():
            await server.close()


def test_requests_go_to_the_service_of_their_route_as_they_were_sent() -> None:
    async def scenario(base: str, seen: list[Any], _apps: dict[str, web.Application]) -> None:
        async with ClientSession() as client:
            for method, path, headers in (
                ("POST", "/v1/media", {}),
                ("GET", "/v1/media?limit=3", {}),
                ("PATCH", "/v1/media/med_1", {}),
                ("OPTIONS", "/v1/media/med_1", {"Access-Control-Request-Method": "PATCH"}),
                ("PUT", "/v1/media/med_1", {}),
                ("GET", "/v1/media/a%0Ab", {}),
            ):
                async with client.request(method, base + path, headers=headers) as answer:
                    assert answer.status == 200
        assert [(s, m, p) for s, m, p, _ in seen] == [
            ("create_media", "POST", "/v1/media"),
            ("list_media", "GET", "/v1/media?limit=3"),
            ("manage_media", "PATCH", "/v1/media/med_1"),
            ("manage_media", "OPTIONS", "/v1/media/med_1"),
            ("list_media", "PUT", "/v1/media/med_1"),  # nobody's: the default service answers
            ("list_media", "GET", "/v1/media/a%0Ab"),
        ]
        headers = seen[0][3]
        assert headers["X-Forwarded-For"] == "127.0.0.1"
        assert headers["X-Forwarded-Proto"] == "http"

    run_async(with_gateway(scenario))


def test_an_event_stream_is_passed_on_as_it_comes() -> None:
    async def scenario(base: str, _seen: list[Any], apps: dict[str, web.Application]) -> None:
        async with ClientSession() as client, client.get(base + "/v1/events/stream") as answer:
            lines: AsyncIterator[bytes] = answer.content.__aiter__()
            assert await anext(lines) == b"data: one\n"  # before the service has finished
            apps["streams"][GO_ON].set()
            rest = [line async for line in lines]
        assert b"data: two\n" in rest

    run_async(with_gateway(scenario))


def test_a_service_that_is_down_is_a_json_503_with_retry_after() -> None:
    async def scenario(base: str, _seen: list[Any], _apps: dict[str, web.Application]) -> None:
        async with ClientSession() as client, client.post(base + "/v1/media") as answer:
            assert answer.status == 503
            assert answer.headers["Retry-After"] == "5"
            assert (await answer.json())["code"] == "unavailable"

    run_async(with_gateway(scenario, down="create_media"))


SAMPLE = re.compile(r"<(?:\w+:)?(\w+)>")
BOUND = [(service, route) for service, served in routes.BINDING.items() for route in served]


@pytest.mark.storage_backends("gcs")
def test_every_route_of_the_binding_reaches_a_service_that_serves_it(local_stack: Any) -> None:
    # A service that does not serve a route answers 421 naming the one that does, or 405:
    # through the gateway no route may get either.
    base = os.environ["MEDIA_API_URL"]
    token = mint_token("ops", "user", admin=True)  # type: ignore[arg-type]
    wrong = []
    for service, route in BOUND:
        path = SAMPLE.sub(lambda m: f"x{m.group(1)}", route.path)
        answer = requests.request(
            route.method,
            base + path,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            data=json.dumps({}) if route.method in ("POST", "PUT", "PATCH") else None,
            timeout=(10, 30),
            stream=True,
        )
        answer.close()
        if answer.status_code in (405, 421):
            wrong.append((service, route.method, route.path, answer.status_code))
    assert wrong == []
