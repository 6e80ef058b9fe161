"""A share link opened in a fresh browser until revoked, and deleting a medium after asking."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from .support import ConsoleWatch, Shot, open_media, tile


def test_a_share_link_opens_in_a_fresh_browser_without_a_token_until_revoked(
    signed_in: Page,
    context: BrowserContext,
    new_context: Callable[..., BrowserContext],
    console: ConsoleWatch,
    shot: Shot,
) -> None:
    page = signed_in
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_media(page, "astronaut.png")
    share = page.get_by_role("region", name="Share")
    share.get_by_label("Link expires after").select_option(label="1 hour")

    share.get_by_role("button", name="Create share link").click()

    link = share.get_by_label("Share link", exact=True)
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/v1/s/"))
    url = link.input_value()
    expect(share.get_by_role("list", name="Share links")).to_contain_text("active")
    share.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status").filter(has_text="Link copied.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    shot("share created")

    stranger = new_context()
    console.watch(stranger)
    # A page opened on storage or on list_media makes Chromium ask that origin for /favicon.ico
    # (fake-gcs answers 500, the function 404): not the gallery's doing.
    console.expect(r"\(http://127\.0\.0\.1:\d+/favicon\.ico\)$")
    visitor = stranger.new_page()
    answer = visitor.goto(url)
    assert answer is not None
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/png"
    assert "authorization" not in answer.request.redirected_from.headers  # type: ignore[union-attr]
    shot("share opened", target=visitor)

    share.get_by_role("button", name="Revoke").click()

    expect(share.get_by_role("list", name="Share links")).to_contain_text("revoked")
    console.expect(r"status of 410")
    late = new_context().new_page()
    console.watch(late.context)
    answer = late.goto(url)
    assert answer is not None
    assert answer.status == 410
    assert answer.json()["code"] == "share_revoked"
    shot("share revoked", target=late)


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
