"""What the browser tests share: the stack's demo data, tokens, the console watch."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from playwright.sync_api import BrowserContext, ConsoleMessage, WebError

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
    return MediaApi(
        token_for(stack, subject, kind),
        create_url=stack.function_url("create_media"),
        list_url=stack.function_url("list_media"),
        manage_url=stack.function_url("manage_media"),
    )


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
