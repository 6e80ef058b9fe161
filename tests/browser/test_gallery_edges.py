"""The edges: a preflight from another origin, an API error on the page, the phone width."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import requests
from playwright.sync_api import Page, expect

from emulators.stack import LocalStack

from .support import DEMO_USER, ConsoleWatch, Shot, grid, open_media, tile, token_for


def test_a_preflight_from_an_origin_not_on_the_list_is_refused(
    page: Page, console: ConsoleWatch, shot: Shot, gallery_stack: LocalStack
) -> None:
    # A page of another origin: a server of this test on another port of 127.0.0.1 (a routed
    # page would not do: Playwright answers preflights itself while it intercepts requests).
    with elsewhere_server() as intruder:
        _preflight_from(intruder, page, console, shot, gallery_stack)


@contextlib.contextmanager
def elsewhere_server() -> Iterator[str]:
    """`http://127.0.0.1:PORT`, serving one page, on a free port, until the block ends."""
    body = b"<!doctype html><title>elsewhere</title><h1>Another site</h1>"

    class OnePage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = body if self.path == "/" else b""  # /favicon.ico: nothing, no error
            self.send_response(200 if page else 204)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OnePage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _preflight_from(
    intruder: str, page: Page, console: ConsoleWatch, shot: Shot, gallery_stack: LocalStack
) -> None:
    token = token_for(gallery_stack, DEMO_USER, "user")
    gallery_url = f"{gallery_stack.function_url('list_media')}/v1/media"
    call = """async ([url, token]) => {
        try {
          const answer = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
          return `answered ${answer.status}`;
        } catch (error) {
          return `refused: ${error.message}`;
        }
    }"""
    preflights: list[int] = []
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on(
        "Network.responseReceived",
        lambda e: (
            preflights.append(e["response"]["status"]) if e.get("type") == "Preflight" else None
        ),
    )
    console.expect(r"blocked by CORS policy")
    console.expect(r"net::ERR_FAILED")

    page.goto(f"{intruder}/")
    assert page.evaluate(call, [gallery_url, token]) == "refused: Failed to fetch"

    assert preflights == [403]
    refused = requests.options(
        gallery_url,
        headers={
            "Origin": intruder,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=30,
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "cors_origin_not_allowed"
    shot("elsewhere")
    # the same call from the gallery's own origin is answered
    page.goto("/")
    assert page.evaluate(call, [gallery_url, token]) == "answered 200"


def test_an_api_error_shows_its_code_and_message(
    signed_in: Page, console: ConsoleWatch, shot: Shot
) -> None:
    page = signed_in
    console.expect(r"status of 404")

    page.goto("/media/med_00000000000000000000000000")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("not_found")
    expect(alert).to_contain_text("not found")
    expect(page.get_by_role("link", name="← Gallery")).to_be_visible()
    shot("not found")


def test_it_works_at_phone_width(signed_in: Page, shot: Shot) -> None:
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    expect(tile(page, "astronaut.png")).to_be_visible()
    columns = (
        grid(page)
        .locator("ul.grid")
        .first.evaluate("g => getComputedStyle(g).gridTemplateColumns.split(' ').length")
    )
    assert columns == 2
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot("phone gallery", full_page=False)

    open_media(page, "astronaut.png")

    expect(page.get_by_role("img", name="face box")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot("phone detail")
