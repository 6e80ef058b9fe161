"""The pipeline end to end on real media, offline: `make demo` / `python -m cli.demo`.

Starts the local stack (Postgres, storage / Pub/Sub / Firestore emulators, the functions, the
push router, the web gallery; `--storage s3` or `STORAGE_BACKEND=s3` for moto's S3 in place of
fake-gcs-server), mints a device token and, as a camera would, uploads photos and videos that ship
inside installed packages through the signed-URL flow. It then follows each one through the HTTP
API until it is terminal, prints what happened and the gallery's URL. Exit status 1 if any item
did not reach `processed`. Nothing is left running unless `--keep` (`make demo KEEP=1`): then the
stack and the gallery stay up until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress
from rich.table import Table

from cli.samples import sample_path

DEFAULT_SAMPLES = (
    "astronaut.png",
    "camera.png",
    "chelsea.png",
    "bikes.mp4",
    "carphone_pristine.mp4",
)


def _found(body: dict[str, Any]) -> str:
    """The objects found: reported tracks per label, e.g. "2 car, 1 person, 1 bicycle"."""
    counts = body.get("counts") or {}
    return ", ".join(f"{n} {label}" for label, n in counts.items()) or "none"


def _events_by_media(api: Any, device_id: str) -> dict[str, dict[str, int]]:
    """The device's events (`GET /v1/events`), counted per media and label."""
    from collections import Counter, defaultdict

    found: dict[str, Counter[str]] = defaultdict(Counter)
    cursor = None
    for _ in range(50):  # 50 pages of 100: far more than a demo makes
        params: dict[str, Any] = {"device_id": device_id, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        answer = api.session.get(f"{api.base_url}/v1/events", params=params, timeout=30)
        answer.raise_for_status()
        page = answer.json()
        for event in page["items"]:
            found[event["media_id"]][event["label"]] += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return {media_id: dict(counts) for media_id, counts in found.items()}


def _detectors(body: dict[str, Any]) -> str:
    analysis = body.get("analysis") or {}
    return ", ".join(analysis.get("detectors") or []) or "-"


_JSON_5XX = re.compile(r'"httpRequest":\{[^}]*"status":5\d\d\b')


def log_problems(logs: Path) -> tuple[int, int]:
    """ERROR lines in every service log, and 5xx answers: those the push router saw
    (`status=5..`) and those the functions logged (`httpRequest.status` of their JSON lines)."""
    errors = answers_5xx = 0
    for path in sorted(logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            errors += (
                " ERROR " in line
                or line.startswith("ERROR")
                or '"severity":"ERROR"' in line
                or '"severity":"CRITICAL"' in line
            )
            answers_5xx += " status=5" in line or _JSON_5XX.search(line) is not None
    return errors, answers_5xx


def run(files: list[Path], console: Console, device_id: str) -> int:
    """Upload `files` as `device_id` against the running stack's env; print the table; exit code."""
    from cli.client import MediaApi
    from cli.mediactl import upload_one
    from common.api.auth import mint_token

    api = MediaApi(mint_token(device_id, "device"))
    created = []
    with Progress(
        *Progress.get_default_columns()[:1], BarColumn(), DownloadColumn(), console=console
    ) as progress:
        for path in files:
            created.append(upload_one(api, path, "cam-1", "demo", progress))
    table = Table(title=f"device {device_id}", expand=False)
    table.add_column("file", no_wrap=True)  # names whole at any width; the counts fold
    for column in ("status", "SHA-256", "objects found (tracks)", "events"):
        table.add_column(column, overflow="fold")
    failures = 0
    with console.status("following each item through the pipeline ..."):
        results = [api.wait_terminal(c["id"], timeout_seconds=300) for c in created]
        events = _events_by_media(api, device_id)
    for path, body in zip(files, results, strict=True):
        ok = body["status"] == "processed"
        failures += not ok
        status = f"[{'green' if ok else 'red'}]{body['status']}[/]"
        if body["status_reason"]:
            status += f" ({body['status_reason_code']})"
        table.add_row(
            path.name,
            status,
            "verified" if body["verified"]["sha256_matches"] else "NOT verified",
            _found(body),
            _found({"counts": events.get(body["id"])}),
        )
    console.print(table)
    for path, body in zip(files, results, strict=True):
        console.print(
            f"  {body['id']}  {path.name}: {body['media_type']}, detectors {_detectors(body)}"
        )
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Start the stack, run the demo, stop the stack."""
    parser = argparse.ArgumentParser(prog="python -m cli.demo", description=__doc__)
    parser.add_argument(
        "files", nargs="*", type=Path, help="media files (default: packaged samples)"
    )
    parser.add_argument("--device", default="demo-camera-01")
    parser.add_argument("--workdir", type=Path, default=Path(".stack/demo"))
    parser.add_argument(
        "--storage",
        choices=("gcs", "s3"),
        default=None,
        help="the stack's store: fake-gcs-server (gcs) or moto's S3 (s3); default "
        "$STORAGE_BACKEND, else gcs",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the stack and the web gallery running until Ctrl-C (make demo KEEP=1)",
    )
    args = parser.parse_args(argv)
    console = Console()
    files = args.files or [sample_path(name) for name in DEFAULT_SAMPLES]
    from common.core.settings import get_settings
    from emulators._proc import StackError
    from emulators.stack import LocalStack
    from emulators.web import check_built

    try:
        check_built(Path(__file__).resolve().parents[1])
        with_web = True
    except StackError as exc:
        console.print(f"[yellow]no web gallery: {exc}[/]")
        with_web = False
    stop = threading.Event()
    console.print("starting the local stack ...")
    with LocalStack(
        args.workdir,
        storage_backend=args.storage,
        with_web=with_web,
        extra_env={"WEB_DEMO_DEVICES": args.device},
    ) as stack:
        console.print(stack.table())
        os.environ.update(stack.env)
        get_settings.cache_clear()
        code = run(files, console, args.device)
        errors, answers_5xx = log_problems(stack.workdir / "logs")
        console.print(f"logs: {errors} ERROR lines, {answers_5xx} answers with a 5xx status")
        console.print(
            "[green]all items processed[/]"
            if code == 0
            else "[red]some items did not reach processed[/]"
        )
        if stack.web_url:
            console.print(
                f"web gallery: {stack.web_url}  (sign in as the demo user, who owns {args.device})"
            )
        if args.keep:
            _wait_for_interrupt(stop, console)
        elif stack.web_url:
            console.print("stopping the stack (make demo KEEP=1 keeps it and the gallery running)")
    return code


def _wait_for_interrupt(stop: threading.Event, console: Console) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    console.print("the stack keeps running; Ctrl-C stops it.")
    stop.wait()


if __name__ == "__main__":
    sys.exit(main())
