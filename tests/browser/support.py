"""What the browser tests share: the stack's demo data, tokens, the console watch, the grid."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, WebError, expect

from cli.client import MediaApi
from emulators.stack import LocalStack

ROOT = Path(__file__).parents[2]
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Chromium looks up Google's hosts at start even with background networking off: resolve
# nothing but loopback (../shared/LOCAL-STACK.md).
HOST_RULES = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
DEMO_DEVICE = "demo-camera-01"
DEMO_USER = "demo-user"
IDP_CLIENT_ID = "media-api"
"""The gallery's client at the identity provider: its ID tokens' `aud`, so JWT_AUDIENCE."""
IDP_SUBJECT = "sso-7f3a"
IDP_EMAIL = "ada@example.test"
PAGE_SIZE = 3
"""Gallery page size in this stack, small so a few media already take several pages."""
PROCESS_TIMEOUT_SECONDS = 180.0
RESUMABLE_THRESHOLD_BYTES = 1024 * 1024
"""The gallery stack offers resumable uploads from this size up (a camera's choice, not a page's)."""
PROCESSING_MS = 90_000
"""How long a person may wait for a medium or a job to finish on this 2-core machine."""

Shot = Callable[..., Path]
"""The `shot` fixture (conftest.py): `shot("step")` saves a screenshot of the page at this step."""


@dataclass(frozen=True)
class Seed:
    """A demo media: its file, camera and labels."""

    name: str
    camera: str
    labels: tuple[str, ...] = ()


SEEDS = (
    Seed("astronaut.png", "cam-1", ("demo", "portrait")),
    Seed("camera.png", "cam-2"),
    Seed("coffee.png", "cam-2", ("demo",)),
    Seed("bikes.mp4", "cam-1"),
    Seed("carphone_pristine.mp4", "cam-1"),
)


def token_for(stack: LocalStack, subject: str, kind: str = "device") -> str:
    """A bearer token of the stack's secret (what `mediactl token` mints)."""
    now = int(time.time())
    claims = {"sub": subject, "kind": kind, "aud": "media-api", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, stack.env["JWT_SECRET"], algorithm="HS256")


def api_for(stack: LocalStack, subject: str, kind: str = "device") -> MediaApi:
    return MediaApi(token_for(stack, subject, kind), base_url=stack.api_url)


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of every page of the watched contexts."""

    errors: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", self._on_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location.get('url')})")

    def _on_error(self, error: WebError) -> None:
        self.errors.append(f"uncaught: {error.error}")

    def expect(self, pattern: str) -> None:
        """An error this test provokes on purpose (a regular expression of its text)."""
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


def own(stack: LocalStack, user: str, device: str) -> None:
    """Make `user` an owner of `device` (what `POST /v1/devices/{id}/owners` records)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.env["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into device_owners (user_id, device_id) values (:u, :d) "
                "on conflict do nothing"
            ),
            {"u": user, "d": device},
        )
    engine.dispose()


# --------------------------------------------------------------------------------- the page
def grid(page: Page) -> Locator:
    """The gallery's grid: every day's list of tiles."""
    return page.get_by_role("region", name="Media", exact=True)


def tile(page: Page, name: str, status: str | None = None) -> Locator:
    """A tile's link, announced "name, camera · time, found ..., status, ..." (any status: None;
    Chromium puts a space before each comma, at the line boundaries of the caption)."""
    said = rf" ?, {re.escape(status)}( ?,|$)" if status else ""
    label = re.compile(rf"^{re.escape(name)} ?, .*{said}")
    return grid(page).get_by_role("link", name=label)


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


# ------------------------------------------------------------------- media a test sets up itself
def new_owned_device(stack: LocalStack, prefix: str) -> str:
    """A fresh device id the demo user owns (so only this test's media are on it)."""
    import uuid

    device = f"{prefix}-{uuid.uuid4().hex[:8]}"
    own(stack, DEMO_USER, device)
    return device


def upload_processed(
    stack: LocalStack,
    device: str,
    path: Path,
    camera: str = "cam-1",
    captured_at: datetime | None = None,
) -> dict[str, Any]:
    """Upload `path` as `device`'s camera would and wait until it is processed: its detail."""
    from rich.progress import Progress

    from cli.mediactl import upload_one

    api = api_for(stack, device)
    with Progress(disable=True) as progress:
        created = upload_one(api, path, camera, None, progress, captured_at)
    body = api.wait_terminal(created["id"], timeout_seconds=PROCESS_TIMEOUT_SECONDS)
    assert body["status"] == "processed", (path.name, body["status"], body["status_reason"])
    detail: dict[str, Any] = api.get(created["id"])
    return detail


def sql(stack: LocalStack, statement: str, **params: Any) -> None:
    """Run one statement on the stack's database (seeding what a test needs)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.env["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text(statement), params)
    engine.dispose()


def axe_violations(page: Page, context: str | None = None) -> list[str]:
    """axe-core's violations of any impact on the page as it is now (axe-core from the web app's
    lockfile, web/node_modules; its rules plus WCAG 2.2's target size, which axe leaves off by
    default), one line each: rule, impact, the first offending elements."""
    source = (ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js").read_text()
    page.evaluate(source)  # evaluated by DevTools: the page's CSP allows no inline script
    found: list[dict[str, Any]] = page.evaluate(
        """async (context) => {
            const result = await axe.run(context ? document.querySelector(context) : document,
                                         { resultTypes: ['violations'],
                                           rules: { 'target-size': { enabled: true } } });
            return result.violations.map((v) => ({ id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary) }));
        }""",
        context,
    )
    return [f"{v['id']} ({v['impact']}): {' | '.join(v['nodes'])}" for v in found]
