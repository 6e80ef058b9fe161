"""`mediactl admin`: operators' commands, with an admin credential.

    mediactl admin describe med_...                  # media, history, jobs, shares, stored objects
    mediactl admin purge --device cam-01 [--before T] [--yes]   # dry run unless --yes
    mediactl admin reissue-url med_...               # a fresh upload URL while pending
    mediactl admin redrive [--max 100] [--yes]       # dead-lettered messages back to their topic
    mediactl admin device-token --device cam-01      # a short-lived device token (provisioning)
    mediactl admin device-token revoke --device cam-01 (--token T | --token-id J | --all)
    mediactl admin delete-device --device cam-01 [--yes]  # tokens refused, owners, shares, media
    mediactl admin run reconcile | retention         # a housekeeping tick now (local stack)
    mediactl admin audit [--media ...] [--device ...] [--actor ...] [--action ...] [--since T]
    mediactl admin stats [--logs .stack/logs]        # the log-based metrics, summed locally

The API commands use `ADMIN_TOKEN` (a user token with `"admin": true`), or mint one from
`JWT_SECRET` for `--admin-user`. `redrive` talks to Pub/Sub with the operator's own credentials
(`PUBSUB_EMULATOR_HOST` locally). Every command prints a table, or JSON with `--json`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.admin_common import (
    AdminToken,
    AdminUser,
    AsJson,
    admin_api,
    fail,
    purge_pages,
)
from cli.client import ApiError, json_answer

admin_app = typer.Typer(help="Operators' commands (an admin credential).", no_args_is_help=True)
console = Console()


@admin_app.command()
def describe(
    media_id: str,
    as_json: AsJson = False,
    admin_user: AdminUser = "ops",
    admin_token: AdminToken = None,
) -> None:
    """Everything about one media: status history, jobs, shares, stored objects."""
    api = admin_api(admin_user, admin_token)
    try:
        body = json_answer(api.session.get(f"{api.base_url}/v1/admin/media/{media_id}", timeout=30))
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    media = body["media"]
    console.print(
        f"{media['id']}  {media['status']}  device {media['device_id']}/{media['camera_id']}  "
        f"{media['mime_type']}  created by {body['created_by']}"
    )
    history = Table("at", "from", "to", "reason", title="history")
    for h in body["history"]:
        history.add_row(h["at"], h["from_status"] or "-", h["to_status"], h["reason_code"] or "")
    console.print(history)
    objects = Table("role", "object", "stored", "size", title="objects")
    for o in body["objects"]:
        objects.add_row(
            o["role"],
            f"{o['bucket']}/{o['name']}",
            "yes" if o["exists"] else "no",
            str(o["size_bytes"] or "-"),
        )
    console.print(objects)
    if body["jobs"]:
        jobs = Table("job", "kind", "status", "error", title="jobs")
        for j in body["jobs"]:
            jobs.add_row(j["job_id"], j["kind"], j["status"], j["error_code"] or "")
        console.print(jobs)
    if body["shares"]:
        shares = Table("share", "expires", "revoked", "opened", title="shares")
        for s in body["shares"]:
            shares.add_row(
                s["share_id"], s["expires_at"], s["revoked_at"] or "", str(s["open_count"])
            )
        console.print(shares)


@admin_app.command()
def purge(
    device: Annotated[str, typer.Option("--device", help="The device whose media go.")],
    before: Annotated[
        datetime | None, typer.Option(help="Only media captured before this time (RFC 3339).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Delete (default: a dry run).")] = False,
    as_json: AsJson = False,
    admin_user: AdminUser = "ops",
    admin_token: AdminToken = None,
) -> None:
    """Delete a device's media (a returned camera, an erasure request). A dry run unless --yes."""
    api = admin_api(admin_user, admin_token)
    payload: dict[str, Any] = {"dry_run": not yes}
    if before is not None:
        payload["before"] = (before if before.tzinfo else before.astimezone()).isoformat()
    try:
        body, deleted = purge_pages(api, device, payload, apply=yes)
    except ApiError as exc:
        raise fail(exc) from exc
    report = {**body, "deleted": deleted}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    verb = "would delete" if not yes else "deleted"
    count = body["matched_count"] if not yes else len(deleted)
    console.print(
        f"device {device}: {verb} {count} media ({body['matched_bytes']:,} bytes, "
        f"{body.get('matched_events', 0)} events matched); "
        f"{body['remaining']} remaining"
    )


@admin_app.command("reissue-url")
def reissue_url(
    media_id: str,
    as_json: AsJson = False,
    admin_user: AdminUser = "ops",
    admin_token: AdminToken = None,
) -> None:
    """A fresh signed upload URL for a media still waiting for its bytes."""
    api = admin_api(admin_user, admin_token)
    try:
        body = json_answer(
            api.session.post(f"{api.base_url}/v1/admin/media/{media_id}/upload-url", timeout=30)
        )
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    upload = body["upload"]
    console.print(f"{upload['method']} {upload['url']}")
    for name, value in upload["headers"].items():
        console.print(f"  {name}: {value}")
    console.print(f"expires {upload['expires_at']}")


@admin_app.command()
def redrive(
    max_messages: Annotated[int, typer.Option("--max", min=1, max=1000)] = 100,
    yes: Annotated[bool, typer.Option("--yes", help="Redrive (default: list them).")] = False,
    project: Annotated[str | None, typer.Option(envvar="GOOGLE_CLOUD_PROJECT")] = None,
    prefix: Annotated[str, typer.Option(help="Name prefix of the topics and subscriptions.")] = "",
    subscription: Annotated[
        str,
        typer.Option(
            help="Where the dead letters wait: dead-letter-inspect, or "
            "dead-letter-unhandled-inspect (those the dead-letter handler gave up on)."
        ),
    ] = "dead-letter-inspect",
    as_json: AsJson = False,
    admin_user: AdminUser = "ops",
    admin_token: AdminToken = None,
) -> None:
    """Send dead-lettered messages back to their topic after a fix, reviving their media first."""
    from cli.redrive import redrive_messages

    api = admin_api(admin_user, admin_token) if yes else None
    report = redrive_messages(
        project or "local-project",
        prefix,
        max_messages=max_messages,
        api=api,
        apply=yes,
        subscription=subscription,
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table("message", "from", "to topic", "about", "done", title="dead letters")
    for row in report:
        table.add_row(
            row["message_id"], row["subscription"], row["topic"], row["about"], row["done"]
        )
    console.print(table)


@admin_app.command()
def audit(
    media_id: Annotated[str | None, typer.Option("--media")] = None,
    device_id: Annotated[str | None, typer.Option("--device")] = None,
    actor: Annotated[str | None, typer.Option(help="e.g. device:cam-01, user:alice")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. deleted, share_opened")] = None,
    since: Annotated[datetime | None, typer.Option(help="RFC 3339, with an offset")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: AsJson = False,
    admin_user: AdminUser = "ops",
    admin_token: AdminToken = None,
) -> None:
    """Read the audit log (newest first) with filters."""
    api = admin_api(admin_user, admin_token)
    params = {
        "media_id": media_id,
        "device_id": device_id,
        "actor": actor,
        "action": action,
        "since": since.isoformat() if since else None,
        "limit": limit,
    }
    query = {k: v for k, v in params.items() if v is not None}
    try:
        body = json_answer(
            api.session.get(f"{api.base_url}/v1/admin/audit", params=query, timeout=30)
        )
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(body, indent=2))
        return
    table = Table("at", "actor", "action", "media", "device", "details", title="audit")
    for event in body["items"]:
        table.add_row(
            event["at"],
            event["actor"],
            event["action"],
            event["media_id"] or "",
            event["device_id"] or "",
            json.dumps(event["details"] or {}, separators=(",", ":"))[:80],
        )
    console.print(table)


@admin_app.command()
def stats(
    logs: Annotated[
        Path, typer.Option(envvar="STACK_LOGS_DIR", help="Directory of the functions' logs.")
    ] = Path(".stack/logs"),
    as_json: AsJson = False,
) -> None:
    """Sum the log-based metrics (uploads, bytes, dedupe hits, rejections, quotas, fetches,
    dead letters, share opens) from the functions' JSON logs of the local stack."""
    from cli.stats import log_lines, summarize

    if not logs.is_dir():
        raise typer.BadParameter(f"{logs} is not a directory (the stack's logs/)")
    summary = summarize(log_lines(logs))
    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
        return
    table = Table("event", "count", "by", title=f"events in {logs}")
    for event, count in sorted(summary.counts.items()):
        by = summary.by_label.get(event)
        table.add_row(
            event, str(count), ", ".join(f"{k}={v}" for k, v in sorted((by or {}).items()))
        )
    console.print(table)
    console.print(f"bytes uploaded (verified): {summary.bytes_uploaded}")


def _register() -> None:
    from cli.admin_devices import delete_device, device_token_app
    from cli.admin_run import run_app

    admin_app.add_typer(device_token_app, name="device-token")
    admin_app.command("delete-device")(delete_device)
    admin_app.add_typer(run_app, name="run")


_register()
