"""What the `mediactl admin` commands share: the admin credential, reading an answer, failing."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from cli.client import ApiError, MediaApi, json_answer

console = Console()

AdminUser = Annotated[str, typer.Option("--admin-user", help="Admin user id to mint a token for.")]
AdminToken = Annotated[
    str | None, typer.Option("--admin-token", envvar="ADMIN_TOKEN", help="Admin bearer JWT.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def admin_api(user: str, token: str | None) -> MediaApi:
    """The API as an admin: `token`, or one minted for `user` from `JWT_SECRET`."""
    if not token:
        from common.api.auth import mint_token

        try:
            token = mint_token(user, "user", admin=True, ttl_seconds=900)
        except RuntimeError as exc:
            raise typer.BadParameter("set ADMIN_TOKEN, or JWT_SECRET to mint one") from exc
    try:
        return MediaApi(token)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def fail(exc: ApiError) -> typer.Exit:
    """Print the error and exit 1."""
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


def purge_pages(
    api: MediaApi, device: str, payload: dict[str, Any], *, apply: bool
) -> tuple[dict[str, Any], list[str]]:
    """`POST /v1/admin/devices/{device}/purge` until nothing remains (once for a dry run).

    Returns:
        The last answer and every media id deleted.

    Raises:
        ApiError: the API refused.
    """
    url = f"{api.manage_url}/v1/admin/devices/{device}/purge"
    deleted: list[str] = []
    while True:
        body = json_answer(api.session.post(url, json=payload, timeout=300))
        deleted += body["deleted"]
        if not apply or body["remaining"] == 0 or not body["deleted"]:
            return body, deleted
