"""Uploading in the gallery: photos, a large file, a TIFF, bytes the device has, a live badge."""

from __future__ import annotations

import base64
import io
import re

from playwright.sync_api import JSHandle, Page, expect

from cli.client import describe_file
from cli.samples import sample_path
from emulators.stack import LocalStack

from .support import (
    DEMO_DEVICE,
    PROCESSING_MS,
    RESUMABLE_THRESHOLD_BYTES,
    Shot,
    api_for,
    record_attribute,
    seen,
    tile,
)


def photo_jpeg() -> bytes:
    """A real photo the demo device does not have yet: the astronaut, as a JPEG."""
    from PIL import Image

    out = io.BytesIO()
    with Image.open(sample_path("astronaut.png")) as image:
        image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def drop_files(
    page: Page, files: list[tuple[str, str, bytes]], *, padding_bytes: int = 0
) -> JSHandle:
    """A DataTransfer holding `(name, type, bytes)` files, as a drag from the desktop has; each
    followed by `padding_bytes` zero bytes made in the page (a JPEG ignores what follows it)."""
    return page.evaluate_handle(
        """([files, padding]) => {
            const transfer = new DataTransfer();
            for (const [name, type, b64] of files) {
              const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
              transfer.items.add(new File([bytes, new Uint8Array(padding)], name, { type }));
            }
            return transfer;
        }""",
        [
            [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files],
            padding_bytes,
        ],
    )


def test_a_dropped_photo_uploads_with_progress_and_reaches_processed_with_its_boxes(
    signed_in: Page, shot: Shot
) -> None:
    page = signed_in
    data = photo_jpeg()
    page.get_by_role("button", name="Upload", exact=True).click()
    panel = page.get_by_role("complementary", name="Upload")
    # the demo user owns the devices other tests made too: choose the demo camera's
    panel.get_by_label("Device").select_option(DEMO_DEVICE)
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
    # the astronaut's body is inferred from her face (HOG sees no pedestrian): both are drawn
    expect(page.get_by_role("img", name="person box")).to_be_visible()
    labels = page.locator(".box-label")
    expect(labels).to_have_count(2)
    expect(labels.filter(has_text=re.compile(r"^face \d+ %$"))).to_have_count(1)
    expect(labels.filter(has_text=re.compile(r"^person \d+ %$"))).to_have_count(1)
    shot("face box")


def test_a_file_over_the_resumable_threshold_is_sent_in_one_put_and_processed(
    signed_in: Page,
) -> None:
    # GIVEN a photo followed by zero bytes up to 1.5x the size from which the stack offers
    # resumable uploads
    page = signed_in
    data = photo_jpeg()
    padding = RESUMABLE_THRESHOLD_BYTES * 3 // 2 - len(data)
    page.get_by_role("button", name="Upload", exact=True).click()
    panel = page.get_by_role("complementary", name="Upload")
    panel.get_by_label("Device").select_option(DEMO_DEVICE)
    panel.get_by_label("Camera").fill("cam-1")
    files = drop_files(page, [("large.jpg", "image/jpeg", data)], padding_bytes=padding)
    # WHEN it is dropped
    page.dispatch_event("body", "drop", {"dataTransfer": files})
    # THEN its bytes go up in one PUT and it is processed
    row = panel.get_by_role("list", name="Uploads").locator("li", has_text="large.jpg")
    expect(row).to_have_attribute("data-status", "processed", timeout=PROCESSING_MS)
    size = f"{(len(data) + padding) / 1e6:.1f} MB"
    expect(row).to_contain_text(f"{size} of {size}")


def test_a_dropped_tiff_is_shown_through_its_web_rendition(signed_in: Page, shot: Shot) -> None:
    from PIL import Image

    # GIVEN a scan saved as TIFF, a format Chromium does not display
    out = io.BytesIO()
    with Image.open(sample_path("camera.png")) as image:
        image.convert("RGB").resize((400, 300)).save(out, "TIFF")
    page = signed_in
    page.get_by_role("button", name="Upload", exact=True).click()
    panel = page.get_by_role("complementary", name="Upload")
    panel.get_by_label("Device").select_option(DEMO_DEVICE)
    panel.get_by_label("Camera").fill("cam-1")
    # WHEN it is dropped and processed, and its page opened
    page.dispatch_event(
        "body",
        "drop",
        {"dataTransfer": drop_files(page, [("scan.tiff", "image/tiff", out.getvalue())])},
    )
    row = panel.get_by_role("list", name="Uploads").locator("li", has_text="scan.tiff")
    expect(row).to_have_attribute("data-status", "processed", timeout=PROCESSING_MS)
    row.get_by_role("link", name="Open").click()
    expect(page.get_by_role("heading", level=1, name="scan.tiff")).to_be_visible()
    # THEN the picture on it is drawn, at the original's size (the web rendition, a JPEG)
    picture = page.locator("img.media")
    expect(picture).to_be_visible()
    picture.evaluate("img => img.decode()")
    assert picture.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [400, 300]
    shot("tiff shown")


def test_dropping_bytes_the_device_has_sends_nothing_and_points_at_them(
    signed_in: Page, shot: Shot
) -> None:
    page = signed_in
    page.get_by_role("button", name="Upload", exact=True).click()
    panel = page.get_by_role("complementary", name="Upload")
    panel.get_by_label("Device").select_option(DEMO_DEVICE)
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
    # the tile's link says what it is; its picture is decorative
    expect(done.locator("img")).to_have_attribute("alt", "")
    page.wait_for_function(
        "(id) => document.querySelector(`.tile[data-id='${id}'] img`)?.naturalWidth > 0",
        arg=created["id"],
    )
    assert seen(page)[-1] == "processed"
    shot("processed")
