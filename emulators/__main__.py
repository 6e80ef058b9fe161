"""CLI: `python -m emulators up [--workdir .stack] [--no-functions] [--no-migrations]
[--storage gcs|s3] [--no-schedules] [--no-web]`.

Runs the local stack in the foreground until Ctrl-C or SIGTERM, then stops what it started.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from emulators._proc import StackError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local stack and run until interrupted")
    up.add_argument("--workdir", type=Path, default=None, help="work dir (default <repo>/.stack)")
    up.add_argument("--no-functions", action="store_true", help="do not start the functions")
    up.add_argument("--no-migrations", action="store_true", help="do not run alembic upgrade head")
    up.add_argument(
        "--storage",
        choices=("gcs", "s3"),
        default=None,
        help="storage emulator: fake-gcs-server (gcs) or moto's S3 (s3); "
        "default $STORAGE_BACKEND, else gcs",
    )
    up.add_argument(
        "--no-schedules",
        action="store_true",
        help="do not publish topology.json's schedules on their timers",
    )
    up.add_argument(
        "--no-web",
        action="store_true",
        help="do not serve the web gallery (web/dist, built by `make web`)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the command; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from emulators.stack import LocalStack  # lazy: keep --help fast

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        print(f"\nreceived {signal.Signals(signum).name}, stopping ...", file=sys.stderr)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(
        args.workdir,
        with_functions=not args.no_functions,
        apply_migrations=not args.no_migrations,
        storage_backend=args.storage,
        run_schedules=not args.no_schedules,
        with_web=not (args.no_web or args.no_functions),
    )
    try:
        stack.start()
    except StackError as exc:
        print(f"local stack failed to start: {exc}", file=sys.stderr)
        return 1
    try:
        print(stack.table())
        print(f"\nready in {stack.startup_seconds:.1f} s; env: source {stack.workdir / 'env.sh'}")
        if "MEDIA_API_URL" in stack.env:
            print(f"API base URL: {stack.api_url}  (MEDIA_API_URL)")
        if stack.web_url:
            print(f"web gallery: {stack.web_url}  (open it; 'Sign in' is the local dev login)")
        print("Ctrl-C to stop.")
        sys.stdout.flush()
        stop.wait()
    finally:
        stack.stop()
    print("stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
