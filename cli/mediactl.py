"""mediactl: the device side of the pipeline, from a terminal.

    mediactl token --device cam-01             # mint a device JWT (needs JWT_SECRET)
    mediactl upload a.jpg b.mp4 --camera front # declare, upload with a progress bar, wait
    mediactl upload big.mp4 --protocol resumable   # chunked; run it again to resume
    mediactl list [--camera C --kind clip --type video --status S --label L --object person
                   --after T --before T --json]   # newest captures, the gallery's filters
    mediactl delete | share | shares | unshare | label | note | pin | snapshot   # cli/manage.py
    mediactl get med_...                       # metadata, detections, derivative URLs
    mediactl clip med_... --start 2 --duration 3   # cut a clip (seconds), watch it being made
    mediactl watch job_... | med_...           # live status and progress (Server-Sent Events)
    mediactl ingest https://... | photo.png    # the server fetches a URL (or a data URL of a file)
    mediactl resolve doc.json [--inline]       # media references in a JSON file -> signed URLs
    mediactl events list | follow | review     # events of your cameras (cli/alerts.py)
    mediactl webhooks add | list | deliveries | replay

Reads `MEDIA_TOKEN` (or mints one from `JWT_SECRET` for `--device`) and the API's one base URL,
`MEDIA_API_URL`, from the environment (`source .stack/env.sh` for the local stack; Terraform's
output `api_base_url` in the cloud).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from cli.admin import admin_app
from cli.alerts import events_app, webhooks_app
from cli.capture import capture_time
from cli.client import ApiError, MediaApi, describe_file
from cli.manage import api_for, id_column
from cli.manage import register as register_manage_commands
from cli.resumable import StateDir, default_state_dir, upload_gcs, upload_s3

app = typer.Typer(help="Device CLI for the media pipeline.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(events_app, name="events")
app.add_typer(webhooks_app, name="webhooks")
register_manage_commands(app)
console = Console()


class UploadProtocol(StrEnum):
    """How `mediactl upload` sends the bytes."""

    AUTO = "auto"
    SINGLE = "single"
    RESUMABLE = "resumable"


DeviceOpt = Annotated[str, typer.Option("--device", envvar="MEDIA_DEVICE_ID", help="Device id.")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="MEDIA_TOKEN", help="Bearer JWT.")]


def message_id_for(path: Path, sampling_id: str) -> str:
    """A stable message id for a file: its stem (made path-safe) plus its sampling id."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", path.stem).strip(".-")[:80] or "capture"
    return f"{stem}-{sampling_id}"


@app.command()
def token(
    device: DeviceOpt = "device-1",
    user: Annotated[str | None, typer.Option(help="Mint a user token instead.")] = None,
    ttl_seconds: Annotated[int, typer.Option(min=60, max=30 * 86400)] = 3600,
) -> None:
    """Print a JWT for a device (or a user) signed with JWT_SECRET."""
    from common.api.auth import mint_token

    subject, kind = (user, "user") if user else (device, "device")
    try:
        typer.echo(mint_token(subject, kind, ttl_seconds=ttl_seconds))  # type: ignore[arg-type]
    except RuntimeError as exc:
        raise typer.BadParameter(str(exc)) from exc


def upload_one(
    api: MediaApi,
    path: Path,
    camera: str,
    reason: str | None,
    progress: Progress,
    captured_at: datetime | None = None,
    *,
    protocol: str = "auto",
    complete: bool = True,
    states: StateDir | None = None,
) -> Any:
    """Declare one file and send its bytes with a progress bar; return the create response (with
    `completed`, the answer of the complete call, when it was made).

    The capture time comes from the file (`cli.capture`) unless given, and the message id from its
    name and content, so running the same upload again is a replay of the same declaration, and
    a resumable upload interrupted before continues where it stopped (`cli.resumable`).

    Args:
        protocol: `auto` (the server chooses by size), `single` or `resumable`.
        complete: say "done" after the upload (`POST /v1/media/{id}/complete`), which verifies
            at once instead of waiting for the bucket's notification.
        states: where Cloud Storage sessions in progress are saved.

    Raises:
        ApiError: the API refused the declaration or the store refused the bytes.
    """
    facts = describe_file(path)
    when = captured_at or capture_time(path)
    extra: dict[str, Any] = {"captured_at": when.isoformat(), "original_filename": path.name}
    if reason:
        extra["reason"] = reason
    if protocol != "auto":
        extra["upload_protocol"] = protocol
    message_id = message_id_for(path, facts.sampling_id)
    created = api.declare(facts, camera, message_id, **dict(extra))
    task = progress.add_task(path.name, total=facts.size_bytes)

    def advance(count: int) -> None:
        progress.advance(task, count)

    def say(line: str) -> None:
        progress.console.print(line)

    offer = created.get("resumable")
    if created.get("upload"):
        api.put_bytes(created["upload"], facts, advance)
    elif offer and offer["protocol"] == "gcs_resumable":
        upload_gcs(
            offer, created["id"], facts, states or StateDir(default_state_dir()), advance, say
        )
    elif offer:
        upload_s3(
            offer,
            facts,
            advance,
            say,
            lambda: api.declare(facts, camera, message_id, **dict(extra))["resumable"],
        )
    else:
        progress.update(task, completed=facts.size_bytes)
        return created
    if complete:
        created["completed"] = api.complete(created["id"])
    return created


@app.command()
def upload(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    camera: Annotated[str, typer.Option(help="Camera id.")] = "cam-1",
    reason: Annotated[str | None, typer.Option(help="Why it was captured.")] = None,
    captured_at: Annotated[
        datetime | None,
        typer.Option(help="Capture time (RFC 3339) for every file; default: from each file."),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait until each media is terminal.")] = True,
    protocol: Annotated[
        UploadProtocol,
        typer.Option(
            help="auto (the server chooses by size), single or resumable (chunks; interrupted, "
            "run again to continue)."
        ),
    ] = UploadProtocol.AUTO,
    complete: Annotated[
        bool, typer.Option(help="Say when an upload is done: verified at once.")
    ] = True,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Where resumable sessions are saved (MEDIACTL_STATE_DIR)."),
    ] = None,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Upload files through signed URLs, then show where each one ended.

    A file the API refuses does not stop the others: each is reported, and the exit status is 1
    when any file was refused or did not reach `processed`.
    """
    api = api_for(device, token)
    states = StateDir(state_dir or default_state_dir())
    when = captured_at.astimezone(UTC) if captured_at and captured_at.tzinfo else captured_at
    if when is not None and when.tzinfo is None:
        when = when.astimezone()
    created: list[tuple[Path, Any]] = []
    refused: list[tuple[Path, str]] = []
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        for path in files:
            try:
                created.append(
                    (
                        path,
                        upload_one(
                            api, path, camera, reason, progress, when,
                            protocol=protocol.value, complete=complete, states=states,
                        ),
                    )
                )  # fmt: skip
            except ApiError as exc:
                refused.append((path, f"{exc.code}: {exc.message}"))
    table = Table("file", title="uploads")
    id_column(table)
    table.add_column("status")
    table.add_column("why", overflow="fold")
    failed = bool(refused)
    for path, item in created:
        body = api.wait_terminal(item["id"]) if wait else api.get(item["id"])
        failed |= wait and body["status"] != "processed"
        why = body.get("status_reason") or ""
        table.add_row(path.name, body["id"], body["status"], why)
    for path, why in refused:
        table.add_row(path.name, "-", "[red]refused[/red]", why)
    console.print(table)
    if failed:
        raise typer.Exit(1)


@app.command()
def get(media_id: str, device: DeviceOpt = "device-1", token: TokenOpt = None) -> None:
    """Print one media object's metadata as JSON."""
    try:
        console.print_json(json.dumps(api_for(device, token).get(media_id)))
    except ApiError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def watch_with_bar(api: MediaApi, target_id: str, timeout_seconds: float) -> dict[str, Any]:
    """Show a media's or a job's live progress as a bar until it is terminal; return its last
    state (empty if the stream gave none)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    last: dict[str, Any] = {}
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(target_id, total=1.0, status="connecting")
        for document in api.watch(target_id, timeout_seconds=timeout_seconds):
            last = document
            status = str(document.get("status"))
            done = status in ("processed", "completed")
            fraction = 1.0 if done else float(document.get("progress") or 0.0)
            progress.update(task, completed=fraction, status=status)
    return last


@app.command()
def clip(
    media_id: str,
    start: Annotated[float, typer.Option(min=0, help="Clip start, in seconds.")],
    duration: Annotated[float, typer.Option(min=0.001, help="Clip length, in seconds.")],
    watch: Annotated[bool, typer.Option(help="Show progress until the clip is ready.")] = True,
    timeout_seconds: Annotated[float, typer.Option(min=1)] = 600.0,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Cut a clip out of a processed video, then watch the job (Server-Sent Events)."""
    api = api_for(device, token)
    try:
        job = api.create_job(
            media_id, "clip", start_ms=round(start * 1000), duration_ms=round(duration * 1000)
        )
        console.print(f"job {job['job_id']}: {job['status']}")
        if watch and job["status"] not in ("completed", "failed"):
            watch_with_bar(api, job["job_id"], timeout_seconds)
        job = api.get_job(job["job_id"])
    except ApiError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    table = Table()
    id_column(table, "job")
    table.add_column("status")
    id_column(table, "clip media")
    for header in ("path", "duration_ms", "error"):
        table.add_column(header, overflow="fold")
    result = job.get("result") or {}
    table.add_row(
        job["job_id"], job["status"], str(job["result_media_id"]), str(result.get("path")),
        str(result.get("duration_ms")), str(job["error"] or ""),
    )  # fmt: skip
    console.print(table)
    if job["status"] == "failed":
        raise typer.Exit(1)


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help="An https:// URL, or a local file (sent inline).")],
    label: Annotated[list[str] | None, typer.Option("--label", help="Label (repeatable).")] = None,
    timeout_seconds: Annotated[float, typer.Option(min=1)] = 600.0,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Have the server ingest a URL or a file's bytes, and wait for the media."""
    import base64

    if source.startswith(("https://", "http://")):
        body = {"type": "remote_url", "url": source}
    else:
        path = Path(source)
        if not path.is_file():
            raise typer.BadParameter(f"{source} is neither a URL nor a file")
        encoded = base64.b64encode(path.read_bytes()).decode()
        body = {"type": "data_url", "data": f"data:application/octet-stream;base64,{encoded}"}
    api = api_for(device, token)
    try:
        job = api.ingest(body, labels=label or [])
        if job["status"] not in ("completed", "failed"):
            watch_with_bar(api, job["job_id"], timeout_seconds)
        job = api.get_job(job["job_id"])
    except ApiError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    result = job.get("result") or {}
    table = Table()
    id_column(table, "job")
    table.add_column("status")
    id_column(table, "media")
    for header in ("deduplicated", "type", "error"):
        table.add_column(header, overflow="fold")
    table.add_row(
        job["job_id"], job["status"], str(job["result_media_id"]),
        str(result.get("deduplicated", "")), str(result.get("mime_type", "")),
        str(job["error_code"] or ""),
    )  # fmt: skip
    console.print(table)
    if job["status"] == "failed":
        raise typer.Exit(1)


@app.command()
def resolve(
    document: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A JSON file.")],
    inline: Annotated[bool, typer.Option(help="Small media as data URLs.")] = False,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Print a JSON document with its `data:<mime>;med_<id>` references swapped for URLs."""
    try:
        parsed = json.loads(document.read_text())
        answer = api_for(device, token).resolve(parsed, inline=inline)
    except ValueError as exc:
        raise typer.BadParameter(f"{document} is not JSON: {exc}") from exc
    except ApiError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(answer, indent=2))
    if answer["unresolved"]:
        console.print(f"[yellow]unresolved: {', '.join(answer['unresolved'])}[/yellow]")


@app.command()
def watch(
    target_id: Annotated[str, typer.Argument(help="A media id (med_...) or a job id (job_...).")],
    timeout_seconds: Annotated[float, typer.Option(min=1)] = 600.0,
    device: DeviceOpt = "device-1",
    token: TokenOpt = None,
) -> None:
    """Follow a media's or a job's status and progress live until it is terminal."""
    if not target_id.startswith(("med_", "job_")):
        raise typer.BadParameter("expected a media id (med_...) or a job id (job_...)")
    try:
        last = watch_with_bar(api_for(device, token), target_id, timeout_seconds)
    except ApiError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    status = last.get("status", "unknown")
    detail = last.get("reason") or last.get("error") or last.get("result_media_id") or ""
    console.print(f"{target_id}: {status} {detail}".rstrip())
    if status in ("failed", "rejected", "unknown"):
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    from cli.entry import main

    main()
