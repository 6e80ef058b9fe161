"""Signing in (dev login, identity provider) and browsing the grid: newest first, filter chips."""

from __future__ import annotations

import re
from typing import Any

import jwt
from playwright.sync_api import Page, expect

from emulators.stack import LocalStack

from .idp import LocalIdentityProvider
from .support import (
    DEMO_DEVICE,
    DEMO_USER,
    IDP_EMAIL,
    IDP_SUBJECT,
    PAGE_SIZE,
    SEEDS,
    ConsoleWatch,
    Shot,
    api_for,
    grid,
    own,
    tile,
)


def _listed(stack: LocalStack, **filters: str) -> list[str]:
    """Ids of what the demo user's gallery holds now (every page, newest capture first), as the
    API answers: what the grid must show, whatever other tests added to the shared stack."""
    api = api_for(stack, DEMO_USER, "user")
    found: list[str] = []
    cursor = None
    while True:
        page = api.gallery(filters, limit=100, cursor=cursor)
        found += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _scroll_to_the_end(page: Page) -> None:
    """Keep the grid's end in view, as a person scrolling down does, until its last page is
    loaded ("N shown, that is all.")."""
    page.wait_for_function(
        """() => {
            const end = document.querySelector('.more');
            end.scrollIntoView();
            return / that is all\\.$/.test(end.textContent);
        }""",
        polling=100,
    )


def test_sign_in_shows_the_demo_media_newest_first_with_thumbnails(
    page: Page,
    console: ConsoleWatch,
    shot: Shot,
    demo_media: dict[str, Any],
    gallery_stack: LocalStack,
) -> None:
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "/v1/media?" in r.url else None)
    page.goto("/")
    expect(page.get_by_role("heading", name="Media gallery")).to_be_visible()
    shot("sign-in")
    expected = _listed(gallery_stack)

    page.get_by_role("button", name="Sign in as the demo user").click()

    expect(tile(page, "astronaut.png")).to_be_visible()  # the first page, then every other
    _scroll_to_the_end(page)
    expect(page.get_by_text(f"{len(expected)} shown, that is all.")).to_be_visible()
    shown = grid(page).locator(".tile").evaluate_all("tiles => tiles.map(t => t.dataset.id)")
    assert shown == expected, "the gallery's media, newest capture first"
    for seed in SEEDS:
        expect(tile(page, seed.name, "processed")).to_be_visible()
    seeds = [demo_media[seed.name]["id"] for seed in SEEDS]
    page.wait_for_function(
        """(ids) => ids.every(id => {
            const img = document.querySelector(`.tile[data-id="${id}"] img`);
            return img && img.complete && img.naturalWidth > 0;
        })""",
        arg=seeds,
    )
    # pages of PAGE_SIZE, each next one asked for with the previous page's keyset cursor
    assert len(pages) >= -(-len(expected) // PAGE_SIZE)
    assert all("cursor=" in url for url in pages[1:]), pages
    expect(page.get_by_text("demo user (local stack)", exact=False)).to_be_visible()
    shot("gallery")


def test_signing_in_with_the_identity_provider_uses_its_id_token(
    page: Page,
    console: ConsoleWatch,
    shot: Shot,
    gallery_stack: LocalStack,
    idp: LocalIdentityProvider,
) -> None:
    own(gallery_stack, IDP_SUBJECT, DEMO_DEVICE)
    page.goto("/")

    page.get_by_role("button", name="Sign in with Test SSO").click()

    expect(tile(page, "astronaut.png", "processed")).to_be_visible()
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    expect(page.get_by_text(IDP_EMAIL)).to_be_visible()
    assert idp.refused == []
    session = page.evaluate("() => JSON.parse(localStorage.getItem('media-gallery.session'))")
    assert jwt.get_unverified_header(session["token"])["alg"] == "RS256"
    assert jwt.decode(session["token"], options={"verify_signature": False})["iss"] == idp.issuer
    shot("signed in with the provider")


def test_filter_chips_narrow_the_grid(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack
) -> None:
    page = signed_in
    expect(tile(page, "astronaut.png")).to_be_visible()

    page.get_by_role("group", name="Kind").get_by_role("button", name="Videos").click()

    expect(page).to_have_url(re.compile(r"[?&]tab=videos"))
    for name in ("bikes.mp4", "carphone_pristine.mp4"):
        expect(tile(page, name)).to_be_visible()
    for name in ("astronaut.png", "camera.png", "coffee.png"):
        expect(tile(page, name)).to_have_count(0)
    shot("videos")

    page.get_by_role("group", name="Kind").get_by_role("button", name="All").click()
    page.get_by_role("group", name="Camera").get_by_role("button", name="cam-2").click()

    for name in ("camera.png", "coffee.png"):
        expect(tile(page, name)).to_be_visible()
    for name in ("astronaut.png", "bikes.mp4"):
        expect(tile(page, name)).to_have_count(0)
    shot("camera cam-2")

    page.get_by_role("group", name="Camera").get_by_role("button", name="All cameras").click()
    page.get_by_role("group", name="Label").get_by_role("button", name="#portrait").click()

    expect(tile(page, "astronaut.png")).to_be_visible()
    portraits = _listed(gallery_stack, label="portrait")  # the seed's, and any another test made
    _scroll_to_the_end(page)
    expect(grid(page).get_by_role("listitem")).to_have_count(len(portraits))
    shot("label portrait")


def test_found_chips_show_the_media_where_an_object_was_seen(signed_in: Page, shot: Shot) -> None:
    page = signed_in
    found = page.get_by_role("group", name="Found")
    expect(tile(page, "bikes.mp4", "processed")).to_be_visible()
    # offered before anything shows them: what cameras are watched for
    for name in ("person", "dog", "cat", "car", "vehicle", "bicycle"):
        expect(found.get_by_role("button", name=name, exact=True)).to_be_visible()

    found.get_by_role("button", name="bicycle", exact=True).click()

    expect(page).to_have_url(re.compile(r"[?&]object=bicycle"))
    expect(tile(page, "bikes.mp4")).to_be_visible()
    for name in ("coffee.png", "astronaut.png", "carphone_pristine.mp4"):
        expect(tile(page, name)).to_have_count(0)
    shot("found bicycle")

    found.get_by_role("button", name="dog", exact=True).click()
    expect(page.locator(".empty")).to_be_visible()

    found.get_by_role("button", name="Anything found").click()
    expect(tile(page, "coffee.png")).to_be_visible()
