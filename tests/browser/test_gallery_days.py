"""A gallery for every day: days, date range and jump, selection and bulk actions, keyboard,
sizes (srcset tiles, display rendition, zoom), the session across tabs, unknown routes.

Each test uploads its own media to a device of its own and looks only at that device's camera,
so what other tests add or delete never changes what these assert."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from emulators.stack import LocalStack

from .support import ConsoleWatch, Shot, grid, new_owned_device, tile, upload_processed


def _photo(
    folder: Path, name: str, colour: tuple[int, int, int], size: tuple[int, int] = (400, 300)
) -> Path:
    path = folder / name
    Image.new("RGB", size, colour).save(path, quality=90)
    return path


def _at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)


def test_days_have_headers_and_a_date_range_and_a_jump_narrow_them(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    device = new_owned_device(gallery_stack, "days")
    for name, colour, when in (
        ("yesterday-1420.jpg", (200, 30, 30), _at(1, 14, 20)),
        ("before-0900.jpg", (30, 200, 30), _at(3, 9)),
        ("before-1800.jpg", (30, 30, 200), _at(3, 18)),
    ):
        upload_processed(gallery_stack, device, _photo(tmp_path, name, colour), captured_at=when)
    page = signed_in
    page.goto(f"/?camera={device}/cam-1")

    yesterday = page.get_by_role("region", name=re.compile(r"^Yesterday · "))
    expect(yesterday.get_by_role("heading", level=2)).to_be_visible()
    expect(
        yesterday.get_by_role("link", name=re.compile(r"^yesterday-1420\.jpg ?, "))
    ).to_be_visible()
    day_name = _at(3, 0)
    earlier = page.get_by_role(
        "region",
        name=re.compile(rf"^{day_name:%A},? {day_name.day} {day_name:%B %Y}$"),
    )
    expect(earlier.get_by_role("link")).to_have_count(2)
    shot("days")

    day = _at(3, 0).strftime("%Y-%m-%d")
    page.get_by_label("From", exact=True).fill(day)
    page.get_by_label("From", exact=True).dispatch_event("change")
    page.get_by_label("To", exact=True).fill(day)
    page.get_by_label("To", exact=True).dispatch_event("change")

    expect(page).to_have_url(re.compile(rf"from={day}&to={day}"))
    expect(grid(page).get_by_role("link")).to_have_count(2)
    expect(tile(page, "yesterday-1420.jpg")).to_have_count(0)
    shot("date range")

    page.get_by_role("button", name="Any time").click()
    page.get_by_label("Jump to a date and hour").fill(f"{day}T10:00")
    page.get_by_label("Jump to a date and hour").dispatch_event("change")

    expect(page.get_by_text(re.compile(r"^Showing what was captured up to "))).to_be_visible()
    expect(grid(page).get_by_role("link")).to_have_count(1)
    expect(tile(page, "before-0900.jpg")).to_be_visible()
    shot("jumped")
    page.get_by_role("button", name="Back to the newest").click()
    expect(grid(page).get_by_role("link")).to_have_count(3)


def test_selected_media_are_deleted_together_with_a_summary_of_each(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    device = new_owned_device(gallery_stack, "bulk")
    names = ["one.jpg", "two.jpg", "three.jpg"]
    for index, name in enumerate(names):
        upload_processed(
            gallery_stack,
            device,
            _photo(tmp_path, name, (60 * index, 90, 120)),
            captured_at=_at(0, 0, index),
        )
    page = signed_in
    page.goto(f"/?camera={device}/cam-1")
    expect(grid(page).get_by_role("link")).to_have_count(3)

    # click the first box, shift-click the last: all three
    page.get_by_role("checkbox", name="Select three.jpg").click()
    page.get_by_role("checkbox", name="Select one.jpg").click(modifiers=["Shift"])
    bar = page.get_by_role("region", name="Selection")
    expect(bar.get_by_role("status")).to_have_text("3 selected")
    shot("selected")

    bar.get_by_role("button", name="Add label").click()
    page.get_by_label("Label to add").fill("trip")
    page.get_by_role("dialog").get_by_role("button", name="Add label").click()
    summary = page.get_by_role("dialog", name="Label #trip")
    expect(summary.get_by_role("status")).to_have_text("All 3 done.")
    expect(summary.get_by_role("listitem")).to_have_count(3)
    summary.get_by_role("button", name="Close").click()

    bar.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete 3 media?").get_by_role(
        "button", name="Delete 3"
    ).click()

    summary = page.get_by_role("dialog", name="Delete")
    expect(summary.get_by_role("status")).to_have_text("All 3 done.")
    for name in names:
        expect(summary.get_by_role("listitem").filter(has_text=name)).to_contain_text("deleted")
    shot("summary")
    summary.get_by_role("button", name="Close").click()
    expect(grid(page).get_by_role("link")).to_have_count(0)
    expect(page.get_by_text("No media match these filters.")).to_be_visible()
    expect(page.get_by_role("button", name="Clear filters")).to_be_visible()
    page.reload()
    expect(page.get_by_text("No media match these filters.")).to_be_visible()


def test_the_keyboard_moves_through_media_and_back_to_the_tile(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    device = new_owned_device(gallery_stack, "keys")
    for index, name in enumerate(["k-newest.jpg", "k-middle.jpg", "k-oldest.jpg"]):
        upload_processed(
            gallery_stack,
            device,
            _photo(tmp_path, name, (20, 80 * index, 40)),
            captured_at=_at(0, 0, 10 - index),
        )
    page = signed_in
    page.goto(f"/?camera={device}/cam-1")
    expect(grid(page).get_by_role("link")).to_have_count(3)

    # the first Tab stop is the skip link, which jumps over the header and filters
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    tile(page, "k-middle.jpg").focus()
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", level=1, name="k-middle.jpg")
    expect(heading).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("heading", level=1, name="k-oldest.jpg")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("heading", level=1, name="k-middle.jpg")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("heading", level=1, name="k-newest.jpg")).to_be_focused()
    shot("moved with arrows")

    page.keyboard.press("Escape")

    expect(tile(page, "k-newest.jpg")).to_be_focused()
    expect(page).to_have_url(re.compile(r"\?camera="))
    shot("back on the tile")


def test_tiles_come_in_webp_at_their_density_and_photos_at_display_size_until_zoomed(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    device = new_owned_device(gallery_stack, "sizes")
    big = upload_processed(
        gallery_stack, device, _photo(tmp_path, "big.jpg", (90, 140, 200), (4000, 3000))
    )
    page = signed_in
    page.goto(f"/?camera={device}/cam-1")

    img = tile(page, "big.jpg").locator("img")
    page.wait_for_function(
        "() => { const i = document.querySelector('.tile img'); return i && i.complete && i.naturalWidth > 0; }"
    )
    assert "/tile_webp.webp" in (img.evaluate("i => i.currentSrc") or "")
    assert img.evaluate("i => i.naturalWidth") == 320
    srcset = tile(page, "big.jpg").locator("source").get_attribute("srcset") or ""
    assert re.search(r"/tile_webp\.webp\S* 1x, \S+/tile_webp_2x\.webp\S* 2x$", srcset), srcset

    tile(page, "big.jpg").click()
    photo = page.get_by_role("img", name=re.compile(r"^Photo from cam-1, "))
    expect(photo).to_be_visible()
    assert "/display.webp" in (photo.get_attribute("src") or "")
    page.wait_for_function("() => document.querySelector('img.media').naturalWidth === 1600")
    shot("display size")

    stage = page.locator(".stage")
    box = stage.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -600)

    expect(stage).to_have_attribute("data-original", "true")
    assert float(stage.get_attribute("data-scale") or 1) > 1
    page.wait_for_function("() => document.querySelector('img.media').naturalWidth === 4000")
    shot("zoomed into the original")
    assert big["tiles"], "the API lists the tiles the page used"


def test_a_download_of_the_original_is_signed_with_its_file_name(
    signed_in: Page, console: ConsoleWatch, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    # the tab opened on storage makes Chromium ask fake-gcs for /favicon.ico (it answers 500)
    console.expect(r"\(http://127\.0\.0\.1:\d+/favicon\.ico\)$")
    device = new_owned_device(gallery_stack, "named")
    media = upload_processed(
        gallery_stack, device, _photo(tmp_path, "Garden party.jpg", (10, 120, 10))
    )
    page = signed_in
    page.goto(f"/media/{media['id']}")

    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Download original").click()

    # Cloud Storage (and S3) answer it with `Content-Disposition: attachment; filename*=...`, so
    # the browser saves "Garden party.jpg"; fake-gcs-server ignores the parameter (emulators/README)
    url = unquote(opened.value.url)
    assert "response-content-disposition=attachment" in url
    assert "filename*=UTF-8''Garden%20party.jpg" in url
    opened.value.close()


def test_a_tile_opened_in_a_new_tab_is_signed_in_and_unknown_routes_say_not_found(
    signed_in: Page, context: BrowserContext, console: ConsoleWatch, shot: Shot
) -> None:
    page = signed_in
    first = grid(page).get_by_role("link").first
    href = first.get_attribute("href")

    other = context.new_page()
    other.goto(href or "/")
    expect(other.get_by_role("heading", level=1)).to_be_visible()
    expect(other.get_by_role("button", name="Sign in as the demo user")).to_have_count(0)

    other.goto("/no/such/page")
    expect(other.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    expect(other.get_by_role("link", name="Go to the gallery")).to_be_visible()
    shot("not found", target=other)


def test_an_expired_session_says_why_it_asks_to_sign_in_again(
    new_context: Callable[..., BrowserContext], console: ConsoleWatch, shot: Shot
) -> None:
    page = new_context().new_page()
    console.watch(page.context)
    page.goto("/")
    page.evaluate(
        """() => localStorage.setItem('media-gallery.session', JSON.stringify({
            token: 'x.y.z', method: 'dev', user: 'demo', subject: 'demo', expiresAt: 1000 }))"""
    )

    page.reload()

    expect(page.get_by_role("status")).to_have_text("Your session expired: sign in again.")
    expect(page.get_by_role("button", name="Sign in as the demo user")).to_be_visible()
    shot("expired")
