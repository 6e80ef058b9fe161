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
    IDP_EMAIL,
    IDP_SUBJECT,
    PAGE_SIZE,
    SEEDS,
    ConsoleWatch,
    Shot,
    grid,
    own,
    tile,
)


def test_sign_in_shows_the_demo_media_newest_first_with_thumbnails(
    page: Page, console: ConsoleWatch, shot: Shot, demo_media: dict[str, Any]
) -> None:
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "/v1/media?" in r.url else None)
    page.goto("/")
    expect(page.get_by_role("heading", name="Media gallery")).to_be_visible()
    shot("sign-in")

    page.get_by_role("button", name="Sign in as the demo user").click()

    for seed in SEEDS:
        expect(tile(page, seed.name, "processed")).to_be_visible()
    expect(page.get_by_text(f"{len(SEEDS)} shown, that is all.")).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    thumbnails = grid(page).locator(".tile img")
    expect(thumbnails).to_have_count(len(SEEDS))
    names = grid(page).locator(".tile .name").all_inner_texts()
    captured = [demo_media[name]["captured_at"] for name in names]
    assert captured == sorted(captured, reverse=True), "newest capture first"
    # pages of PAGE_SIZE, each next one asked for with the previous page's keyset cursor
    assert len(pages) >= -(-len(SEEDS) // PAGE_SIZE)
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
    session = page.evaluate("() => JSON.parse(sessionStorage.getItem('media-gallery.session'))")
    assert jwt.get_unverified_header(session["token"])["alg"] == "RS256"
    assert jwt.decode(session["token"], options={"verify_signature": False})["iss"] == idp.issuer
    shot("signed in with the provider")


def test_filter_chips_narrow_the_grid(signed_in: Page, shot: Shot) -> None:
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
    expect(grid(page).get_by_role("listitem")).to_have_count(1)
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
