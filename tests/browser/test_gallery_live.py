"""Live arrivals: the open gallery follows the user's one event stream (`GET /v1/events/stream`),
so media of their devices appear without a reload and a camera used for the first time gets its
chip."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, Request, expect

from emulators.stack import LocalStack

from .support import PROCESSING_MS, Shot, grid, new_owned_device, tile, upload_processed


def _is_user_stream(request: Request) -> bool:
    return "/v1/events/stream?" in request.url


def test_a_new_camera_s_upload_appears_live_with_its_chip(
    signed_in: Page, shot: Shot, gallery_stack: LocalStack, tmp_path: Path
) -> None:
    page = signed_in
    # GIVEN a device of the user's, and the gallery open on it (one stream for the whole grid)
    device = new_owned_device(gallery_stack, "live")
    with page.expect_request(_is_user_stream, timeout=30_000):
        page.reload()
    expect(grid(page)).to_be_visible()
    camera = f"porch-{uuid.uuid4().hex[:6]}"
    expect(page.get_by_role("button", name=re.compile(camera))).to_have_count(0)

    # WHEN a camera the page has never seen uploads a photo (of nothing: no event to review)
    name = f"arrival-{uuid.uuid4().hex[:6]}.png"
    Image.new("RGB", (400, 300), (40, 90, 160)).save(tmp_path / name)
    upload_processed(gallery_stack, device, tmp_path / name, camera=camera)

    # THEN its tile appears, processed, and its camera gets a chip, without a reload
    expect(tile(page, name, "processed")).to_be_visible(timeout=PROCESSING_MS)
    expect(page.get_by_role("button", name=re.compile(camera))).to_be_visible()
    shot("live arrival")
