"""`mediactl` commands on media that exist: list (the gallery), delete, share, label, note, pin,
snapshot.

    mediactl list [--camera C] [--kind clip] [--type video] [--status processed] [--label L]
                  [--object person] [--after T] [--before T] [--parent med_...] [--json]
    mediactl delete med_... [--cascade] --yes
    mediactl share med_... [--ttl-seconds 86400] [--note ...]   # prints the link (shown once)
    mediactl shares med_...                                       # the media's links
    mediactl unshare shr_...                                      # revoke a link at once
    mediactl label med_... --add cat --remove dog                 # or --set a --set b
    mediactl note med_... "the neighbour's cat"                   # or --clear
    mediactl pin med_... [--off]                                  # kept out of retention
    mediactl snapshot med_... --at 2.5                            # a still of a video (seconds)

Edits read the media first and send its ETag as `If-Match`, so an edit racing someone else's is
refused (412) rather than lost. Ids are printed whole whatever the terminal's width; `--json`
prints the API's answer as it is.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.client import ApiError, MediaApi
from common.core.status import MediaKind as Kind
from common.core.status import MediaType

console = Console()

ID_WIDTH = 30
"""Our ids (`med_`, `job_`, `shr_` and a 26-character ULID) are 30 characters."""

DeviceOpt = Annotated[str, typer.Option("--device", envvar="MEDIA_DEVICE_ID", help="Device id.")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="MEDIA_TOKEN", help="Bearer JWT.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")]


def api_for(device: str, token: str | None, *, user: str | None = None) -> MediaApi:
    """The API with `token`, or a token minted from `JWT_SECRET`: for `user` when given (a user
    token), else for `device`."""
    if not token:
        from common.api.auth import mint_token

        try:
            token = mint_token(user, "user") if user else mint_token(device, "device")
        except RuntimeError as exc:
            raise typer.BadParameter("set MEDIA_TOKEN, or JWT_SECRET to mint one") from exc
    try:
        return MediaApi(token)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def id_column(table: Table, header: str = "id") -> None:
    """A column that shows ids whole: never cut, never wrapped, whatever the width."""
    table.add_column(header, no_wrap=True, min_width=ID_WIDTH, overflow="ignore")


def fail(exc: ApiError) -> typer.Exit:
    """Print the API's refusal and exit 1."""
    console.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.astimezone()).isoformat()


def list_media(
    camera: Annotated[str | None, typer.Option("--camera", help="Camera id.")] = None,
    kind: Annotated[Kind | None, typer.Option(help="upload, clip, snapshot or ingest.")] = None,
    media_type: Annotated[MediaType | None, typer.Option("--type", help="image or video.")] = None,
    status: Annotated[str | None, typer.Option(help="e.g. processed, failed, deleted.")] = None,
    label: Annotated[str | None, typer.Option(help="A label people set.")] = None,
    found: Annotated[
        str | None, typer.Option("--object", help="An object analysis found (person, car...).")
    ] = None,
    after: Annotated[datetime | None, typer.Option(help="Captured at or after (RFC 3339).")] = None,
    before: Annotated[datetime | None, typer.Option(help="Captured before (RFC 3339).")] = None,
    parent: Annotated[str | None, typer.Option(help="Clips and snapshots of this media.")] = None,
    other_device: Annotated[
        str | None,
        typer.Option("--of-device", help="Another device the token sees (a user token)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    as_json: AsJson = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """List media newest capture first, with the gallery's filters."""
    filters = {
        "device_id": other_device,
        "camera_id": camera,
        "kind": kind.value if kind else None,
        "media_type": media_type.value if media_type else None,
        "status": status,
        "label": label,
        "object": found,
        "captured_after": _utc(after),
        "captured_before": _utc(before),
        "parent_id": parent,
    }
    try:
        page = api_for(device, token).gallery(filters, limit=limit, cursor=cursor)
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(page, indent=2))
        return
    table = Table()
    id_column(table)
    for header in ("captured_at", "camera", "type", "status", "size", "labels"):
        table.add_column(header, overflow="fold")
    for item in page["items"]:
        table.add_row(
            item["id"],
            item["captured_at"],
            item["camera_id"],
            item["media_type"],
            item["status"],
            str(item["size_bytes"]),
            ", ".join(item["labels"]),
        )
    console.print(table)
    if page["next_cursor"]:
        console.print(f"next: --cursor {page['next_cursor']}", soft_wrap=True)


def delete(
    media_id: str,
    cascade: Annotated[bool, typer.Option(help="Also its clips and snapshots.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete (no question asked).")] = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Delete a media: its bytes, renditions and links go; a tombstone stays."""
    if not yes and not typer.confirm(f"delete {media_id}?"):
        raise typer.Exit(1)
    try:
        api_for(device, token).delete(media_id, cascade=cascade)
    except ApiError as exc:
        raise fail(exc) from exc
    console.print(f"{media_id}: deleted", soft_wrap=True)


def share(
    media_id: str,
    ttl_seconds: Annotated[int, typer.Option(min=60, help="How long the link works.")] = 86400,
    note: Annotated[str | None, typer.Option(help="A note for the owners.")] = None,
    as_json: AsJson = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Create a share link (its URL is shown only now) that opens the media without an account."""
    try:
        made = api_for(device, token).share(media_id, ttl_seconds, note)
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(made, indent=2))
        return
    console.print(f"{made['share_id']} until {made['expires_at']}", soft_wrap=True)
    typer.echo(made["url"])


def shares(media_id: str, as_json: AsJson = False, device: DeviceOpt = "device-1",
           token: TokenOpt = None) -> None:  # fmt: skip
    """A media's share links, newest first (their URLs are not shown again)."""
    try:
        page = api_for(device, token).shares(media_id)
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(page, indent=2))
        return
    table = Table()
    id_column(table, "share")
    for header in ("expires", "opened", "ended", "why", "note"):
        table.add_column(header, overflow="fold")
    for item in page["items"]:
        table.add_row(
            item["share_id"],
            item["expires_at"],
            str(item["open_count"]),
            item["revoked_at"] or "",
            item["revoked_reason"] or "",
            item["note"] or "",
        )
    console.print(table)


def unshare(share_id: str, device: DeviceOpt = "device-1", token: TokenOpt = None) -> None:
    """Revoke a share link at once."""
    try:
        api_for(device, token).revoke_share(share_id)
    except ApiError as exc:
        raise fail(exc) from exc
    console.print(f"{share_id}: revoked", soft_wrap=True)


def _edited(api: MediaApi, media_id: str, changes: dict[str, Any], as_json: bool) -> None:
    try:
        media = api.edit(media_id, changes)
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(media, indent=2))
    else:
        console.print(
            f"{media['id']}: labels [{', '.join(media['labels'])}], note {media['note']!r}",
            soft_wrap=True,
        )


def label(
    media_id: str,
    add: Annotated[list[str] | None, typer.Option("--add", help="Add (repeatable).")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="Remove.")] = None,
    replace: Annotated[list[str] | None, typer.Option("--set", help="Set exactly these.")] = None,
    as_json: AsJson = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Change a media's labels (read, then edited with its ETag)."""
    api = api_for(device, token)
    if replace is not None:
        labels = list(replace)
    else:
        try:
            labels = list(api.get(media_id)["labels"])
        except ApiError as exc:
            raise fail(exc) from exc
        labels = [x for x in labels if x not in set(remove or [])] + list(add or [])
    _edited(api, media_id, {"labels": list(dict.fromkeys(labels))}, as_json)


def note(
    media_id: str,
    text: Annotated[str | None, typer.Argument(help="The note.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the note.")] = False,
    as_json: AsJson = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Set or clear a media's note."""
    if (text is None) == (not clear):
        raise typer.BadParameter("give the note's text, or --clear")
    _edited(api_for(device, token), media_id, {"note": None if clear else text}, as_json)


def pin(
    media_id: str,
    off: Annotated[bool, typer.Option("--off", help="Unpin: retention applies again.")] = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Pin a media (retention never deletes it), or unpin it."""
    try:
        media = api_for(device, token).pin(media_id, not off)
    except ApiError as exc:
        raise fail(exc) from exc
    console.print(f"{media['id']}: {'pinned' if media['pinned'] else 'not pinned'}", soft_wrap=True)


def snapshot(
    media_id: str,
    at: Annotated[float, typer.Option("--at", min=0, help="Time in the video, in seconds.")],
    wait: Annotated[bool, typer.Option(help="Wait until the still is made.")] = True,
    timeout_seconds: Annotated[float, typer.Option(min=1)] = 300.0,
    as_json: AsJson = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Make a still of a processed video at a time (a snapshot job); print the new media's id."""
    from cli.mediactl import watch_with_bar

    api = api_for(device, token)
    try:
        job = api.create_job(media_id, "snapshot", at_ms=round(at * 1000))
        if wait and job["status"] not in ("completed", "failed"):
            if as_json:  # nothing but the JSON on stdout
                for _ in api.watch(job["job_id"], timeout_seconds=timeout_seconds):
                    pass
            else:
                watch_with_bar(api, job["job_id"], timeout_seconds)
            job = api.get_job(job["job_id"])
    except ApiError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(job, indent=2))
    else:
        result = job["result_media_id"] or job["error_code"] or job["status"]
        console.print(f"{job['job_id']}: {job['status']} {result}", soft_wrap=True)
    if job["status"] == "failed":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these commands to `mediactl`."""
    app.command("list")(list_media)
    for command in (delete, share, shares, unshare, label, note, pin, snapshot):
        app.command()(command)
