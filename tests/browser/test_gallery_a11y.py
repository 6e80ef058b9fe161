"""Accessibility: axe-core (from the web app's lockfile) finds no violation of any impact on the
sign-in, gallery, detail (photo and video), upload, share and not-found views, in light and dark
colour schemes. The events review view (issue 18's) does not exist yet; its module gets the same
check when it lands."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from emulators.stack import LocalStack

from .support import ConsoleWatch, Shot, axe_violations, grid, open_media


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest, page: Page) -> str:
    page.emulate_media(color_scheme=request.param)
    return str(request.param)


def _clean(page: Page, where: str) -> None:
    found = axe_violations(page)
    assert not found, f"{where}: axe-core found\n" + "\n".join(found)


def test_sign_in_and_gallery_have_no_axe_violations(
    page: Page, console: ConsoleWatch, shot: Shot, scheme: str, demo_media: dict[str, Any]
) -> None:
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in as the demo user")).to_be_visible()
    _clean(page, "sign-in")

    page.get_by_role("button", name="Sign in as the demo user").click()
    expect(grid(page).get_by_role("link").first).to_be_visible()
    page.wait_for_function(
        "() => !document.querySelector('.more').textContent.startsWith('Loading')"
    )
    _clean(page, "gallery")
    shot(f"gallery {scheme}")

    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("complementary", name="Upload")).to_be_visible()
    _clean(page, "upload")

    grid(page).get_by_role("checkbox").first.click()
    expect(page.get_by_role("region", name="Selection")).to_be_visible()
    _clean(page, "selection")


def test_detail_views_have_no_axe_violations(
    signed_in: Page, console: ConsoleWatch, shot: Shot, scheme: str
) -> None:
    page = signed_in
    open_media(page, "astronaut.png")
    expect(page.get_by_role("img", name="face box")).to_be_visible()
    _clean(page, "photo detail")
    shot(f"photo {scheme}")

    page.goto("/")
    open_media(page, "bikes.mp4")
    expect(page.get_by_role("region", name="Detections timeline")).to_be_visible()
    _clean(page, "video detail")
    shot(f"video {scheme}")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the timeline's marks merge
    _clean(page, "video detail on a phone")

    page.goto("/no/such/page")
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    _clean(page, "not found")


def test_share_pages_have_no_axe_violations(
    signed_in: Page,
    new_context: Callable[..., BrowserContext],
    console: ConsoleWatch,
    shot: Shot,
    scheme: str,
    gallery_stack: LocalStack,
) -> None:
    page = signed_in
    open_media(page, "bikes.mp4")
    share = page.get_by_role("region", name="Share")
    share.get_by_role("button", name="Create share link").click()
    url = share.get_by_label("Share link", exact=True).input_value()
    _clean(page, "detail with a share link")

    visitor = new_context(color_scheme=scheme).new_page()
    console.watch(visitor.context)
    visitor.goto(url)
    expect(visitor.get_by_role("heading", level=1, name="bikes.mp4")).to_be_visible()
    _clean(visitor, "share page")
    shot(f"share page {scheme}", target=visitor)

    console.expect(r"status of 404")
    visitor.goto(re.sub(r"/s/[^/]+$", "/s/" + "n" * 43, url))
    expect(visitor.get_by_role("heading", level=1, name="This link does not work")).to_be_visible()
    _clean(visitor, "unknown share page")
