"""`mediactl events` and `mediactl webhooks`: what the cameras saw, and where it is sent.

    mediactl events list --user alice --label person --since 2026-12-07T00:00:00Z
    mediactl events follow --user alice          # new events as they happen
    mediactl events review evt_... [--all]       # mark reviewed (one, or every unreviewed)
    mediactl webhooks add https://hooks.example.com/cam --event event.created --label person
    mediactl webhooks list | deliveries whk_... | replay whk_... whd_...

A user token comes from `--token` / `MEDIA_TOKEN`, or is minted for `--user` with `JWT_SECRET`
(the local stack); `events` also takes a device's token (`--device`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.client import MediaApi, parse_sse, sse_lines
from cli.manage import api_for

events_app = typer.Typer(help="Events: objects the cameras care about.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhook endpoints and their deliveries.", no_args_is_help=True)
console = Console()

UserOpt = Annotated[
    str | None,
    typer.Option("--user", envvar="MEDIA_USER_ID", help="Mint a user token for this user."),
]
DeviceOpt = Annotated[
    str | None, typer.Option("--device", help="Mint a device token for this device instead.")
]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="MEDIA_TOKEN", help="Bearer JWT.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
FOLLOW_POLL_SECONDS = 2.0


def _api(user: str | None, device: str | None, token: str | None) -> MediaApi:
    if not (token or user or device):
        raise typer.BadParameter("give --token (MEDIA_TOKEN), --user or --device")
    return api_for(device or "", token, user=user)


def _call(response: Any) -> Any:
    if response.status_code >= 400:
        try:
            body = response.json()
            raise typer.BadParameter(f"{response.status_code} {body['code']}: {body['message']}")
        except (ValueError, KeyError):
            raise typer.BadParameter(f"HTTP {response.status_code}") from None
    return response.json() if response.content else None


def _event_table(items: list[dict[str, Any]]) -> Table:
    table = Table(title="events")
    for column in ("start", "camera", "label", "score", "seconds", "reviewed", "event"):
        table.add_column(column)
    for e in items:
        start = datetime.fromisoformat(e["start_at"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(e["end_at"].replace("Z", "+00:00"))
        table.add_row(
            start.strftime("%Y-%m-%d %H:%M:%S"),
            f"{e['device_id']}/{e['camera_id']}",
            e["label"],
            f"{e['best_score']:.2f}",
            f"{(end - start).total_seconds():.1f}",
            "yes" if e["reviewed_at"] else "",
            e["event_id"],
        )
    return table


@events_app.command("list")
def list_events(
    user: UserOpt = None,
    device: DeviceOpt = None,
    token: TokenOpt = None,
    device_id: Annotated[str | None, typer.Option("--device-id", help="Only this device.")] = None,
    camera: Annotated[str | None, typer.Option(help="Only this camera.")] = None,
    label: Annotated[str | None, typer.Option(help="Only this label.")] = None,
    since: Annotated[str | None, typer.Option(help="Start at or after (RFC 3339).")] = None,
    until: Annotated[str | None, typer.Option(help="Start before (RFC 3339).")] = None,
    min_score: Annotated[float | None, typer.Option(help="Best score at least.")] = None,
    unreviewed: Annotated[bool, typer.Option(help="Only unreviewed events.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Events of your devices, newest first."""
    api = _api(user, device, token)
    query: dict[str, Any] = {
        "device_id": device_id,
        "camera_id": camera,
        "label": label,
        "start_after": since,
        "start_before": until,
        "min_score": min_score,
        "reviewed": "false" if unreviewed else None,
    }
    params = {k: v for k, v in query.items() if v is not None}
    items: list[dict[str, Any]] = []
    cursor = None
    while len(items) < limit:
        page_params = {**params, "limit": min(100, limit - len(items))}
        if cursor:
            page_params["cursor"] = cursor
        page = _call(api.session.get(f"{api.base_url}/v1/events", params=page_params, timeout=30))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    if as_json:
        typer.echo(json.dumps(items, indent=2))
    else:
        console.print(_event_table(items))


def _stream(api: MediaApi, last_event_id: list[str]) -> Iterator[dict[str, Any]]:
    """Events of one connection to `GET /v1/events/stream` (`event: event`), keeping the last
    id for the reconnect.

    Raises:
        LookupError: the deployment serves no event stream.
    """
    headers = {"Accept": "text/event-stream"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id[0]
    with api.session.get(
        f"{api.base_url}/v1/events/stream", headers=headers, stream=True, timeout=(10, None)
    ) as response:
        if response.status_code in (404, 405, 421):
            raise LookupError("no event stream")
        if response.status_code >= 400:
            _call(response)
        response.encoding = "utf-8"
        chunks = response.iter_content(chunk_size=None, decode_unicode=True)
        for event in parse_sse(sse_lines(chunks)):
            if event.id:
                last_event_id[:] = [event.id]
            if event.event == "event":
                yield json.loads(event.data)


def _poll(api: MediaApi, since: datetime) -> Iterator[dict[str, Any]]:
    """New and continued events by polling `GET /v1/events` (a deployment without the stream)."""
    seen: set[str] = set()
    while True:
        params: dict[str, Any] = {"start_after": since.isoformat(), "limit": 100}
        page = _call(api.session.get(f"{api.base_url}/v1/events", params=params, timeout=30))
        for item in reversed(page["items"]):
            key = f"{item['event_id']}:{item['updated_at']}"
            if key not in seen:
                seen.add(key)
                yield item
        time.sleep(FOLLOW_POLL_SECONDS)


def _follow(api: MediaApi) -> Iterator[dict[str, Any]]:
    """The stream, reconnecting with `Last-Event-ID` when the server closes it; polling when
    there is none."""
    last_event_id: list[str] = []
    try:
        while True:
            yield from _stream(api, last_event_id)
            time.sleep(1.0)
    except LookupError:
        console.print("[dim]no event stream here: polling GET /v1/events[/dim]")
    yield from _poll(api, datetime.now(UTC))


@events_app.command()
def follow(
    user: UserOpt = None,
    device: DeviceOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print events as they are made or continued (Ctrl-C to stop)."""
    api = _api(user, device, token)
    try:
        for item in _follow(api):
            _print_event(item, as_json)
    except KeyboardInterrupt:
        return


def _print_event(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(item))
    else:
        console.print(
            f"{item['start_at']}  {item['device_id']}/{item['camera_id']}  "
            f"[bold]{item['label']}[/bold] {item['best_score']:.2f}  {item['event_id']}"
        )


@events_app.command()
def review(
    event_id: Annotated[str | None, typer.Argument(help="The event (omit with --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every unreviewed event.")] = False,
    device_id: Annotated[
        str | None, typer.Option("--device-id", help="With --all: one device.")
    ] = None,
    user: UserOpt = None,
    device: DeviceOpt = None,
    token: TokenOpt = None,
) -> None:
    """Mark one event, or every unreviewed one, reviewed."""
    api = _api(user, device, token)
    if all_:
        total = 0
        while True:
            body = {"device_id": device_id} if device_id else {}
            done = _call(
                api.session.post(f"{api.base_url}/v1/events/review", json=body, timeout=30)
            )
            total += done["updated"]
            if not done["updated"]:
                break
        console.print(f"{total} events marked reviewed")
        return
    if not event_id:
        raise typer.BadParameter("give an event id, or --all")
    _call(api.session.post(f"{api.base_url}/v1/events/{event_id}/review", json={}, timeout=30))
    console.print(f"{event_id} reviewed")


@webhooks_app.command("add")
def add(
    url: str,
    event: Annotated[
        list[str],
        typer.Option("--event", help="event.created, event.updated, media.processed, ..."),
    ],
    label: Annotated[list[str] | None, typer.Option("--label", help="Only these labels.")] = None,
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only these cameras.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="For people.")] = None,
    user: UserOpt = None,
    token: TokenOpt = None,
) -> None:
    """Register an endpoint; prints its signing secret (shown this once)."""
    api = _api(user, None, token)
    body: dict[str, Any] = {"url": url, "events": event}
    if label:
        body["labels"] = label
    if camera:
        body["cameras"] = camera
    if description:
        body["description"] = description
    created = _call(api.session.post(f"{api.base_url}/v1/webhooks", json=body, timeout=30))
    console.print(f"webhook {created['webhook_id']} -> {created['url']}")
    console.print(f"signing secret (store it now, it is not shown again): {created['secret']}")


@webhooks_app.command("list")
def list_webhooks(user: UserOpt = None, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Your endpoints."""
    api = _api(user, None, token)
    items = _call(api.session.get(f"{api.base_url}/v1/webhooks", timeout=30))["items"]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table(title="webhooks")
    for column in ("webhook", "url", "events", "labels", "cameras"):
        table.add_column(column)
    for w in items:
        table.add_row(
            w["webhook_id"],
            w["url"],
            ", ".join(w["events"]),
            ", ".join(w["labels"] or []) or "all",
            ", ".join(w["cameras"] or []) or "all",
        )
    console.print(table)


@webhooks_app.command()
def deliveries(
    webhook_id: str,
    status: Annotated[
        str | None, typer.Option(help="pending, succeeded, failed, dead_lettered")
    ] = None,
    user: UserOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An endpoint's latest deliveries: status, attempts, last response code."""
    api = _api(user, None, token)
    params = {"status": status} if status else {}
    page = _call(
        api.session.get(
            f"{api.base_url}/v1/webhooks/{webhook_id}/deliveries", params=params, timeout=30
        )
    )
    if as_json:
        typer.echo(json.dumps(page["items"], indent=2))
        return
    table = Table(title=f"deliveries of {webhook_id}")
    for column in ("created", "type", "status", "attempts", "response", "error", "delivery"):
        table.add_column(column)
    for d in page["items"]:
        table.add_row(
            d["created_at"],
            d["event_type"],
            d["status"],
            str(d["attempts"]),
            str(d["response_status"] or ""),
            d["error"] or "",
            d["delivery_id"],
        )
    console.print(table)


@webhooks_app.command()
def replay(webhook_id: str, delivery_id: str, user: UserOpt = None, token: TokenOpt = None) -> None:
    """Send a delivery again (same id and payload)."""
    api = _api(user, None, token)
    _call(
        api.session.post(
            f"{api.base_url}/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
            timeout=30,
        )
    )
    console.print(f"{delivery_id} queued again")
