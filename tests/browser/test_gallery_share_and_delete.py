"""A share link opened in a fresh browser until revoked, and deleting a medium after asking."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from playwright.sync_api import BrowserContext, Page, expect

from emulators.stack import LocalStack

from .support import ConsoleWatch, Shot, open_media, tile


def test_a_share_link_opens_its_page_in_a_fresh_browser_until_revoked(
    signed_in: Page,
    context: BrowserContext,
    new_context: Callable[..., BrowserContext],
    console: ConsoleWatch,
    shot: Shot,
    gallery_stack: LocalStack,
) -> None:
    page = signed_in
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_media(page, "astronaut.png")
    share = page.get_by_role("region", name="Share")
    share.get_by_label("Link expires after").select_option(label="1 hour")

    share.get_by_role("button", name="Create share link").click()

    link = share.get_by_label("Share link", exact=True)
    expect(link).to_have_value(re.compile(rf"^{re.escape(gallery_stack.web_url or '')}/s/[\w-]+$"))
    url = link.input_value()
    expect(share.get_by_role("list", name="Share links")).to_contain_text("active")
    share.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status").filter(has_text="Link copied.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    shot("share created")

    # a visitor without an account sees the page: name, capture time, expiry, the photo
    stranger = new_context()
    console.watch(stranger)
    visitor = stranger.new_page()
    visitor.goto(url)
    expect(visitor.get_by_role("heading", level=1, name="astronaut.png")).to_be_visible()
    expect(
        visitor.get_by_text(re.compile(r"^Captured .* · this link works until "))
    ).to_be_visible()
    photo = visitor.get_by_role("img", name="Shared photo: astronaut.png")
    expect(photo).to_be_visible()
    visitor.wait_for_function("() => document.querySelector('img.media').naturalWidth > 0")
    assert visitor.url == url, "the address bar keeps the page's URL, not a storage URL"
    download = visitor.get_by_role("link", name="Download original")
    assert "response-content-disposition" in unquote(download.get_attribute("href") or "")
    shot("share page", target=visitor)

    share.get_by_role("button", name="Revoke").click()

    expect(share.get_by_role("list", name="Share links")).to_contain_text("revoked")
    console.expect(r"status of 410")
    late = new_context().new_page()
    console.watch(late.context)
    late.goto(url)
    expect(late.get_by_role("heading", level=1, name="This link was turned off")).to_be_visible()
    expect(late.locator("body")).not_to_contain_text("share_revoked")
    assert late.url == url
    shot("share revoked", target=late)


def test_an_unknown_share_link_says_so_in_words(
    new_context: Callable[..., BrowserContext],
    console: ConsoleWatch,
    shot: Shot,
    gallery_stack: LocalStack,
) -> None:
    visitor = new_context().new_page()
    console.watch(visitor.context)
    console.expect(r"status of 404")

    visitor.goto(f"{gallery_stack.web_url}/s/{'x' * 43}")

    expect(visitor.get_by_role("heading", level=1, name="This link does not work")).to_be_visible()
    expect(visitor.get_by_text("Check that the whole link was copied.")).to_be_visible()
    expect(visitor.locator("body")).not_to_contain_text("{")
    shot("unknown share", target=visitor)


def test_delete_asks_first_then_removes_the_tile(signed_in: Page, shot: Shot) -> None:
    page = signed_in
    open_media(page, "coffee.png")

    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete coffee.png?")
    expect(dialog).to_be_visible()
    shot("confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("heading", level=1, name="coffee.png")).to_be_visible()

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()

    expect(page.get_by_role("status").filter(has_text="coffee.png deleted.")).to_be_visible()
    expect(tile(page, "camera.png")).to_be_visible()
    expect(tile(page, "coffee.png")).to_have_count(0)
    page.reload()
    expect(tile(page, "camera.png")).to_be_visible()
    expect(tile(page, "coffee.png")).to_have_count(0)
    shot("deleted")
