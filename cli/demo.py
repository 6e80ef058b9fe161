"""The pipeline end to end on real media, offline: `make demo` / `python -m cli.demo`.

Starts the local stack (Postgres, storage / Pub/Sub / Firestore emulators, the four functions, the
push router), mints a device token and, as a camera would, uploads photos and videos that ship inside
installed packages through the signed-URL flow. It then follows each one through the HTTP API until
it is terminal and prints what happened. Exit status 1 if any item did not reach `processed`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress
from rich.table import Table

from cli.samples import sample_path

DEFAULT_SAMPLES = ("astronaut.png", "camera.png", "bikes.mp4", "carphone_pristine.mp4")


def _detections(body: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for detection in body.get("detections", []):
        counts[detection["label"]] = counts.get(detection["label"], 0) + 1
    return ", ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "none"


def _thumbnail(body: dict[str, Any]) -> str:
    for derivative in body.get("derivatives", []):
        if derivative["kind"] == "thumbnail":
            return f"{derivative['width_px']}x{derivative['height_px']} jpeg"
    return "-"


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
    table = Table(title=f"device {device_id}")
    for column in (
        "id",
        "file",
        "type",
        "status",
        "size",
        "SHA-256 verified",
        "detections",
        "thumbnail",
    ):
        table.add_column(column)
    failures = 0
    with console.status("following each item through the pipeline ..."):
        results = [api.wait_terminal(c["id"], timeout_seconds=300) for c in created]
    for path, body in zip(files, results, strict=True):
        ok = body["status"] == "processed"
        failures += not ok
        table.add_row(
            body["id"],
            path.name,
            body["media_type"],
            f"[{'green' if ok else 'red'}]{body['status']}[/]"
            + (f" ({body['status_reason']})" if body["status_reason"] else ""),
            f"{body['size_bytes']:,}",
            "yes" if body["verified"]["sha256_matches"] else "NO",
            _detections(body),
            _thumbnail(body),
        )
    console.print(table)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Start the stack, run the demo, stop the stack."""
    parser = argparse.ArgumentParser(prog="python -m cli.demo", description=__doc__)
    parser.add_argument(
        "files", nargs="*", type=Path, help="media files (default: packaged samples)"
    )
    parser.add_argument("--device", default="demo-camera-01")
    parser.add_argument("--workdir", type=Path, default=Path(".stack/demo"))
    args = parser.parse_args(argv)
    console = Console()
    files = args.files or [sample_path(name) for name in DEFAULT_SAMPLES]
    from common.core.settings import get_settings
    from emulators.stack import LocalStack

    console.print("starting the local stack ...")
    with LocalStack(args.workdir) as stack:
        console.print(stack.table())
        os.environ.update(stack.env)
        get_settings.cache_clear()
        code = run(files, console, args.device)
    console.print(
        "[green]all items processed[/]"
        if code == 0
        else "[red]some items did not reach processed[/]"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
