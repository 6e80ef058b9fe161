"""What a person does in the web gallery, in Debian's Chromium against the real local stack.

The tests run in this order and share the stack: each one looks only at the media it names, so
media added by an earlier test (an upload, a clip) never changes what a later one asserts.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import requests
from playwright.sync_api import BrowserContext, JSHandle, Locator, Page, expect

from cli.client import describe_file
from cli.samples import sample_path
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
    api_for,
    own,
    token_for,
)

PROCESSING_MS = 90_000
"""How long a person may wait for a medium or a job to finish on this 2-core machine."""

Shot = Callable[..., Path]


def grid(page: Page) -> Locator:
    return page.get_by_role("list", name="Media")


def tile(page: Page, name: str, status: str | None = None) -> Locator:
    label = re.compile(rf"^{re.escape(name)}, {re.escape(status) if status else '.*'}$")
    return grid(page).get_by_role("listitem", name=label)


def open_media(page: Page, name: str) -> None:
    tile(page, name, "processed").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def record_attribute(page: Page, selector: str, attribute: str) -> None:
    """Keep every value `attribute` takes on elements matching `selector` in window.__seen."""
    page.evaluate(
        """([selector, attribute]) => {
            window.__seen = [];
            const note = (el) => {
              const value = el.getAttribute(attribute);
              if (value && window.__seen.at(-1) !== value) window.__seen.push(value);
            };
            new MutationObserver((changes) => {
              for (const change of changes) {
                const nodes = change.type === 'attributes' ? [change.target] : [...change.addedNodes];
                for (const node of nodes) {
                  if (node.nodeType !== 1) continue;
                  if (node.matches(selector)) note(node);
                  node.querySelectorAll?.(selector).forEach(note);
                }
              }
            }).observe(document.body, { subtree: true, childList: true, attributes: true,
                                        attributeFilter: [attribute] });
        }""",
        [selector, attribute],
    )


def seen(page: Page) -> list[str]:
    values: list[str] = page.evaluate("() => window.__seen")
    return values


# --------------------------------------------------------------------------------- browsing
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


# ------------------------------------------------------------------------------------ looking
def test_a_video_shows_its_detections_at_the_frames_of_a_clickable_timeline(
    signed_in: Page, shot: Shot, demo_media: dict[str, Any]
) -> None:
    page = signed_in
    open_media(page, "bikes.mp4")
    timeline = page.get_by_role("region", name="Detections timeline")
    face_frames = {
        d["time_ms"] for d in demo_media["bikes.mp4"]["detections"] if d["label"] == "face"
    }
    assert face_frames, "the demo video has faces"

    tick = timeline.get_by_role("button", name=re.compile(r"^face.* at ")).first
    tick.click()

    video = page.locator("video")
    expect(page.get_by_role("img", name="face box")).to_be_visible()
    state = video.evaluate("v => ({paused: v.paused, ms: v.currentTime * 1000})")
    assert state["paused"]
    assert min(abs(state["ms"] - t) for t in face_frames) < 50, state
    frame = int(page.locator(".stage").get_attribute("data-frame") or -1)
    assert frame in face_frames
    shot("face frame")

    timeline.get_by_role("button", name=re.compile(r"^person track")).click()

    expect(page.get_by_role("img", name="person box")).to_be_visible()
    shot("person track")


def test_labels_and_note_are_edited_in_place_and_a_stale_edit_is_refused(
    signed_in: Page,
    console: ConsoleWatch,
    shot: Shot,
    gallery_stack: LocalStack,
    demo_media: dict[str, Any],
) -> None:
    page = signed_in
    open_media(page, "camera.png")
    editor = page.get_by_role("region", name="Labels and note")

    editor.get_by_label("New label").fill("tripod")
    editor.get_by_label("New label").press("Enter")
    editor.get_by_label("Note").fill("the man at the tripod")
    editor.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    page.reload()
    editor = page.get_by_role("region", name="Labels and note")
    expect(editor.get_by_role("list", name="Labels")).to_contain_text("tripod")
    expect(editor.get_by_label("Note")).to_have_value("the man at the tripod")
    shot("saved")

    # GIVEN someone else changes the note after this page loaded it
    other = api_for(gallery_stack, DEMO_USER, "user")
    media_id = demo_media["camera.png"]["id"]
    etag = other.session.get(f"{other.list_url}/v1/media/{media_id}", timeout=30).headers["ETag"]
    changed = other.session.patch(
        f"{other.manage_url}/v1/media/{media_id}",
        json={"note": "changed elsewhere"},
        headers={"If-Match": etag},
        timeout=30,
    )
    assert changed.status_code == 200
    console.expect(r"status of 412")

    # WHEN this page saves its own edit with the ETag it loaded
    editor.get_by_label("New label").fill("mine")
    editor.get_by_role("button", name="Save").click()

    # THEN it is refused, says so with the API's code, and offers the other change
    alert = page.get_by_role("alert").filter(has_text="precondition_failed")
    expect(alert).to_contain_text("Someone else changed this media")
    shot("stale edit refused")
    alert.get_by_role("button", name="Load their change").click()
    expect(page.get_by_role("region", name="Labels and note").get_by_label("Note")).to_have_value(
        "changed elsewhere"
    )


# ------------------------------------------------------------------------------------ working
def photo_jpeg() -> bytes:
    """A real photo the demo device does not have yet: the astronaut, as a JPEG."""
    from PIL import Image

    out = io.BytesIO()
    with Image.open(sample_path("astronaut.png")) as image:
        image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def drop_files(page: Page, files: list[tuple[str, str, bytes]]) -> JSHandle:
    """A DataTransfer holding `(name, type, bytes)` files, as a drag from the desktop has."""
    return page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, type, b64] of files) {
              const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
              transfer.items.add(new File([bytes], name, { type }));
            }
            return transfer;
        }""",
        [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files],
    )


def test_a_dropped_photo_uploads_with_progress_and_reaches_processed_with_a_face_box(
    signed_in: Page, shot: Shot
) -> None:
    page = signed_in
    data = photo_jpeg()
    page.get_by_role("button", name="Upload", exact=True).click()
    panel = page.get_by_role("complementary", name="Upload")
    expect(panel.get_by_label("Device")).to_have_value(DEMO_DEVICE)
    panel.get_by_label("Camera").fill("cam-1")
    files = drop_files(page, [("portrait.jpg", "image/jpeg", data)])
    record_attribute(page, ".upload", "data-phase")

    page.dispatch_event("body", "dragenter", {"dataTransfer": files})
    expect(page.get_by_text(f"Drop to upload to {DEMO_DEVICE} · cam-1")).to_be_visible()
    shot("drop zone", full_page=False)
    page.dispatch_event("body", "drop", {"dataTransfer": files})

    row = panel.get_by_role("list", name="Uploads").locator("li", has_text="portrait.jpg")
    expect(row).to_have_attribute("data-status", "processed", timeout=PROCESSING_MS)
    size = f"{len(data) / 1000:.1f} kB"
    expect(row).to_contain_text(f"{size} of {size}")
    bar = row.get_by_role("progressbar", name="Upload of portrait.jpg")
    assert bar.evaluate("p => [p.value, p.max]") == [len(data), len(data)]
    phases = seen(page)
    assert phases[:2] == ["hashing", "declaring"], phases
    assert "uploading" in phases, phases
    assert phases.index("uploaded") < phases.index("status"), phases
    expect(tile(page, "portrait.jpg", "processed")).to_be_visible()
    shot("uploaded and processed")

    row.get_by_role("link", name="Open").click()

    expect(page.get_by_role("heading", level=1, name="portrait.jpg")).to_be_visible()
    expect(page.get_by_role("img", name="face box")).to_be_visible()
    expect(page.locator(".box-label")).to_contain_text(re.compile(r"^face \d+ %$"))
    shot("face box")


def test_dropping_bytes_the_device_has_sends_nothing_and_points_at_them(
    signed_in: Page, shot: Shot
) -> None:
    page = signed_in
    page.get_by_role("button", name="Upload", exact=True).click()
    panel = page.get_by_role("complementary", name="Upload")
    files = drop_files(page, [("again.png", "image/png", sample_path("camera.png").read_bytes())])

    page.dispatch_event("body", "drop", {"dataTransfer": files})

    row = panel.get_by_role("list", name="Uploads").locator("li", has_text="again.png")
    expect(row).to_contain_text("already in the gallery (processed)")
    expect(row).to_contain_text("nothing sent")
    shot("already there", full_page=False)
    row.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", level=1, name="camera.png")).to_be_visible()


def test_a_tile_s_status_badge_changes_live_when_its_bytes_arrive(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack
) -> None:
    page = signed_in
    camera = api_for(gallery_stack, DEMO_DEVICE)
    facts = describe_file(sample_path("chelsea.png"))
    # GIVEN a camera declared a capture and has not sent its bytes yet
    created = camera.declare(facts, "cam-1", "live-badge-1", original_filename="chelsea.png")
    page.reload()
    waiting = tile(page, "chelsea.png", "waiting for upload")
    expect(waiting).to_be_visible()
    record_attribute(page, f'.tile[data-id="{created["id"]}"]', "data-status")
    shot("waiting for upload")

    # WHEN the camera sends them
    camera.put_bytes(created["upload"], facts, lambda _n: None)

    # THEN the badge follows the pipeline without a reload, thumbnail included
    done = tile(page, "chelsea.png", "processed")
    expect(done).to_be_visible(timeout=PROCESSING_MS)
    expect(done.locator("img")).to_have_attribute("alt", "chelsea.png")
    assert seen(page)[-1] == "processed"
    shot("processed")


def test_a_clip_job_shows_live_progress_and_its_result_appears_in_the_grid(
    signed_in: Page, shot: Shot
) -> None:
    page = signed_in
    open_media(page, "carphone_pristine.mp4")
    tools = page.get_by_role("region", name="Clip and snapshot")
    tools.get_by_label("Clip start").fill("1000")
    tools.get_by_label("Clip end").fill("2500")
    expect(tools.get_by_role("status").filter(has_text="1.5 s")).to_be_visible()
    record_attribute(page, ".job", "data-status")
    shot("range selected")

    tools.get_by_role("button", name="Cut clip").click()

    job = tools.get_by_role("list", name="Jobs").locator("li").first
    expect(job).to_contain_text("clip 0:01.0\u20130:02.5")  # en dash, as shown
    expect(job).to_have_attribute("data-status", "completed", timeout=PROCESSING_MS)
    expect(job.get_by_role("status")).to_have_text("completed 100 %")
    assert job.get_by_role("progressbar").evaluate("p => p.value") == 1
    statuses = seen(page)
    # the answer to the POST says queued; only the job's event stream can say anything after
    assert statuses[0] == "queued", statuses
    assert statuses[-1] == "completed", statuses
    shot("clip done")

    job.get_by_role("link", name="Open clip").click()

    expect(page.get_by_role("heading", level=1, name="cam-1 clip")).to_be_visible()
    details = page.get_by_role("region", name="Metadata")
    expect(details).to_contain_text("Cut from")
    expect(details).to_contain_text("0:01.5")
    page.get_by_role("link", name="← Gallery").click()
    page.get_by_role("group", name="Kind").get_by_role("button", name="Clips").click()
    expect(tile(page, "cam-1 clip", "processed")).to_be_visible()
    shot("clip in the grid")


def test_a_snapshot_at_the_playhead_shows_progress_and_opens(signed_in: Page, shot: Shot) -> None:
    page = signed_in
    open_media(page, "bikes.mp4")
    page.get_by_role("region", name="Detections timeline").get_by_role(
        "button", name=re.compile(r"^face.* at ")
    ).first.click()
    tools = page.get_by_role("region", name="Clip and snapshot")
    at = page.locator("video").evaluate("v => Math.round(v.currentTime * 1000)")

    tools.get_by_role("button", name=re.compile(r"^Snapshot at playhead")).click()

    job = tools.get_by_role("list", name="Jobs").locator("li").first
    expect(job).to_have_attribute("data-status", "completed", timeout=PROCESSING_MS)
    expect(job).to_contain_text("snapshot at")
    job.get_by_role("link", name="Open snapshot").click()
    expect(page.get_by_role("heading", level=1, name="cam-1 snapshot")).to_be_visible()
    expect(page.locator("img.media")).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.media').naturalWidth > 0")
    assert at > 0
    shot("snapshot")


# ---------------------------------------------------------------------------- sharing, deleting
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


# -------------------------------------------------------------------------------- the edges
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
    columns = grid(page).evaluate("g => getComputedStyle(g).gridTemplateColumns.split(' ').length")
    assert columns == 2
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot("phone gallery", full_page=False)

    open_media(page, "astronaut.png")

    expect(page.get_by_role("img", name="face box")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot("phone detail")
