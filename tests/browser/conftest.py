"""The web gallery in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium, no
browser download) against a real local stack of its own that serves the built app (web/dist).

- `gallery_stack`: one stack for this package (`.stack/browser`), with the gallery served on its
  own port and its origin on the functions' CORS list; stopped when the package's tests end, so
  it never runs beside the integration tests' stack.
- `demo_media`: the demo's media, uploaded by a camera through the signed-URL flow and processed,
  on the device the dev login's demo user owns.
- `console`: every test fails on a console error or an uncaught exception of the page, unless it
  says which error it expects (`console.expect(pattern)`).
- `shot`: screenshots of each step in tests/browser/screenshots/<test>/ (git-ignored).

The tests in the browser (the test_gallery_* modules but _server) share the stack, in any order.
Each looks only at the media it names, or asks the API what the grid must hold at that moment
(test_gallery_browse counts and orders the whole gallery that way), so what another test adds
(an upload, a clip) or deletes never changes what one asserts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from cli.mediactl import upload_one
from cli.samples import sample_path
from emulators._proc import WorkdirBusyError
from emulators.stack import LocalStack

from .idp import LocalIdentityProvider
from .support import (
    CHROMIUM,
    DEMO_DEVICE,
    DEMO_USER,
    HOST_RULES,
    IDP_CLIENT_ID,
    IDP_EMAIL,
    IDP_SUBJECT,
    PAGE_SIZE,
    PROCESS_TIMEOUT_SECONDS,
    RESUMABLE_THRESHOLD_BYTES,
    ROOT,
    SCREENSHOTS,
    SEEDS,
    ConsoleWatch,
    api_for,
    own,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is a browser test (`-m browser` selects them)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def idp() -> Iterator[LocalIdentityProvider]:
    """The team's identity provider, as the gallery's cloud sign-in expects one."""
    provider = LocalIdentityProvider(
        client_id=IDP_CLIENT_ID, subject=IDP_SUBJECT, email=IDP_EMAIL
    ).start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="package")
def gallery_stack(idp: LocalIdentityProvider) -> Iterator[LocalStack]:
    """The whole local stack with the gallery, for this package's tests.

    Started from a copy of the environment without another stack's addresses, so it never
    reuses (or is reused by) the integration tests' stack; nothing is exported to os.environ.
    The functions accept the identity provider's RS256 ID tokens (its JWKS) besides HS256, and
    the page offers it next to the dev login, as a deployment configures both.
    """
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"}
    }
    options: dict[str, Any] = {
        "with_web": True,
        "run_schedules": False,
        "base_env": base,
        "extra_env": {
            "ROUTER_BACKOFF_SCALE": "0.01",
            "WEB_GALLERY_PAGE_SIZE": str(PAGE_SIZE),
            "WEB_DEMO_USER": DEMO_USER,
            "WEB_DEMO_DEVICES": DEMO_DEVICE,
            "JWT_ALGORITHMS": json.dumps(["HS256", "RS256"]),
            "JWT_JWKS_URL": idp.jwks_url,
            "WEB_OIDC_ISSUER": idp.issuer,
            "WEB_OIDC_CLIENT_ID": IDP_CLIENT_ID,
            "WEB_OIDC_NAME": "Test SSO",
            # Files from 1 MiB up would get a resumable upload: the page must ask for one PUT
            "RESUMABLE_THRESHOLD_BYTES": str(RESUMABLE_THRESHOLD_BYTES),
        },
    }
    workdir = ROOT / ".stack" / "browser"
    try:
        stack = LocalStack(workdir, **options).start()
    except WorkdirBusyError:
        stack = LocalStack(workdir.with_name(f"browser-{os.getpid()}"), **options).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
def demo_media(gallery_stack: LocalStack) -> dict[str, dict[str, Any]]:
    """The demo's media, uploaded as the demo camera would, each processed: name → detail."""
    from rich.progress import Progress

    api = api_for(gallery_stack, DEMO_DEVICE)
    with Progress(disable=True) as progress:
        created = {
            seed.name: upload_one(
                api,
                sample_path(seed.name),
                seed.camera,
                None,
                progress,
            )
            for seed in SEEDS
        }
    # labels are part of the gallery's filters: set them as a person would, by PATCH with ETag
    owner = api_for(gallery_stack, DEMO_USER, "user")
    own(gallery_stack, DEMO_USER, DEMO_DEVICE)
    done = {}
    for seed in SEEDS:
        body = api.wait_terminal(created[seed.name]["id"], timeout_seconds=PROCESS_TIMEOUT_SECONDS)
        assert body["status"] == "processed", (seed.name, body["status"], body["status_reason"])
        if seed.labels:
            url = f"{owner.list_url}/v1/media/{body['id']}"
            etag = owner.session.get(url, timeout=30).headers["ETag"]
            patched = owner.session.patch(
                f"{owner.manage_url}/v1/media/{body['id']}",
                json={"labels": list(seed.labels)},
                headers={"If-Match": etag},
                timeout=30,
            )
            assert patched.status_code == 200, patched.text
            body = patched.json()
        done[seed.name] = body
    return done


# ------------------------------------------------------------------------------- Playwright
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, resolving nothing but loopback."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: bash scripts/install_system_deps.sh (apt chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": [HOST_RULES]}


@pytest.fixture(scope="package")
def browser_context_args(gallery_stack: LocalStack, demo_media: dict[str, Any]) -> dict[str, Any]:
    """Every context opens the gallery (`page.goto("/")`) once the demo media are there."""
    assert gallery_stack.web_url
    return {
        "base_url": gallery_stack.web_url,
        "viewport": {"width": 1280, "height": 860},
        "locale": "en-GB",
        "timezone_id": "UTC",
    }


@pytest.fixture
def console(context: BrowserContext) -> Iterator[ConsoleWatch]:
    watch = ConsoleWatch()
    watch.watch(context)
    yield watch
    unexpected = watch.unexpected()
    assert not unexpected, "the page logged errors:\n" + "\n".join(unexpected)


@pytest.fixture
def shot(request: pytest.FixtureRequest, page: Page) -> Callable[..., Path]:
    """`shot("signed in")` saves a screenshot of this step as
    tests/browser/screenshots/<test>/<NN>-signed-in.png (the whole page unless `full_page=False`;
    `target` another page)."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.originalname)
    folder = SCREENSHOTS / test
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = 0

    def take(name: str, target: Page | None = None, full_page: bool = True) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        shown = target or page
        if full_page:  # the sticky header stays on top of a whole-page picture
            shown.evaluate("() => window.scrollTo(0, 0)")
        shown.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def signed_in(page: Page, console: ConsoleWatch) -> Page:
    """The gallery, signed in with the dev login."""
    page.goto("/")
    page.get_by_role("button", name="Sign in as the demo user").click()
    page.get_by_role("region", name="Media", exact=True).wait_for()
    return page
