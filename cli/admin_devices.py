"""`mediactl admin device-token` (mint, revoke) and `mediactl admin delete-device`.

    mediactl admin device-token --device cam-01 [--ttl-seconds 86400]   # mint (provisioning)
    mediactl admin device-token revoke --device cam-01 --token <jwt>    # that token only
    mediactl admin device-token revoke --device cam-01 --token-id <jti> # by its id
    mediactl admin device-token revoke --device cam-01 --all            # every token until now
    mediactl admin delete-device --device cam-01 --yes                  # and all its media

Minting needs `JWT_SECRET` (from Secret Manager in production, docs/RUNBOOKS/DEPLOY.md); revoking
and deleting go through the API with an admin credential (`ADMIN_TOKEN`, or `--admin-user`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.admin_common import (
    AdminToken,
    AdminUser,
    AsJson,
    admin_api,
    console,
    fail,
    purge_pages,
)
from cli.client import ApiError, json_answer

device_token_app = typer.Typer(
    help="Device tokens: mint one (no subcommand), or revoke them.", invoke_without_command=True
)


@device_token_app.callback()
def mint(
    ctx: typer.Context,
    device: Annotated[
        str | None, typer.Option("--device", help="The device id (its `sub`).")
    ] = None,
    ttl_seconds: Annotated[int, typer.Option(min=60, max=30 * 86400)] = 86400,
    kid: Annotated[
        str, typer.Option(envvar="JWT_KEY_ID", help="Key id to name (the secret's version).")
    ] = "current",
) -> None:
    """Mint a short-lived device token with JWT_SECRET (see docs/RUNBOOKS/DEPLOY.md)."""
    if ctx.invoked_subcommand is not None:
        return
    from common.api.auth import mint_token
    from common.core.ids import is_segment

    if device is None or not is_segment(device):
        raise typer.BadParameter("give --device, a valid device id")
    try:
        typer.echo(mint_token(device, "device", ttl_seconds=ttl_seconds, kid=kid))
    except RuntimeError as exc:
        raise typer.BadParameter("set JWT_SECRET (from Secret Manager in production)") from exc


def _token_facts(token: str, device: str) -> tuple[str, str | None]:
    """(jti, exp as RFC 3339) of a token of `device`, read without checking its signature (the
    API refuses it afterwards whoever signed it)."""
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise typer.BadParameter(f"--token is not a JWT: {exc}") from exc
    if claims.get("sub") != device:
        raise typer.BadParameter(f"--token is a token of {claims.get('sub')!r}, not of {device!r}")
    if not isinstance(claims.get("jti"), str):
        raise typer.BadParameter("--token has no id (jti): revoke the device's tokens with --all")
    exp = claims.get("exp")
    expires = datetime.fromtimestamp(exp, UTC).isoformat() if isinstance(exp, int | float) else None
    return claims["jti"], expires


@device_token_app.command()
def revoke(
    device: Annotated[str, typer.Option("--device", help="The device whose token(s) go.")],
    token: Annotated[str | None, typer.Option("--token", help="The token to revoke.")] = None,
    token_id: Annotated[str | None, typer.Option("--token-id", help="Its id (jti).")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every token of the device issued until now.")
    ] = False,
    as_json: AsJson = False,
    admin_user: AdminUser = "ops",
    admin_token: AdminToken = None,
) -> None:
    """Revoke a device's token (by the token or its id), or all of them: refused at once."""
    if len([given for given in (token, token_id, every) if given]) != 1:
        raise typer.BadParameter("give exactly one of --token, --token-id, --all")
    body: dict[str, Any] = {}
    if token is not None:
        body["token_id"], expires = _token_facts(token, device)
        if expires:
            body["expires_at"] = expires
    elif token_id is not None:
        body["token_id"] = token_id
    api = admin_api(admin_user, admin_token)
    url = f"{api.manage_url}/v1/devices/{device}/tokens/revoke"
    try:
        done = json_answer(api.session.post(url, json=body, timeout=30))
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(done, indent=2))
    elif done["token_id"]:
        console.print(f"device {device}: token {done['token_id']} revoked")
    else:
        console.print(
            f"device {device}: every token issued before {done['tokens_valid_after']} revoked; "
            f"{done['shares_ended']} share(s) it created ended"
        )


def delete_device(
    device: Annotated[str, typer.Option("--device", help="The device to delete.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete (default: say what would go).")
    ] = False,
    as_json: AsJson = False,
    admin_user: AdminUser = "ops",
    admin_token: AdminToken = None,
) -> None:
    """Delete a device: its tokens are refused at once, its owners removed, its shares ended,
    then all its media are deleted. Says what would go unless --yes."""
    api = admin_api(admin_user, admin_token)
    try:
        if not yes:
            body, _ = purge_pages(api, device, {"dry_run": True}, apply=False)
            report: dict[str, Any] = {"device_id": device, "would_delete": body["matched_count"]}
        else:
            gone = json_answer(
                api.session.delete(f"{api.manage_url}/v1/admin/devices/{device}", timeout=60)
            )
            body, deleted = purge_pages(api, device, {"dry_run": False}, apply=True)
            report = {**gone, "media_deleted": len(deleted), "media_remaining": body["remaining"]}
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    elif not yes:
        console.print(
            f"device {device}: would refuse its tokens and delete {report['would_delete']} media"
        )
    else:
        console.print(
            f"device {device} deleted: tokens refused, {report['shares_ended']} share(s) ended, "
            f"{report['media_deleted']} media deleted, {report['media_remaining']} remaining"
        )
