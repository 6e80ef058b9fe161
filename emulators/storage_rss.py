"""Memory of the storage emulator as uploads accumulate (reproducible).

    python -m emulators.storage_rss [--backend filesystem|memory] [--size-mib 1024] [--count 3]
        [--gomemlimit 256MiB] [--settle-seconds 5]

Starts an infrastructure-only local stack (no functions, no migrations) in `.stack/storage-rss`
with the chosen fake-gcs backend, then uploads `--count` objects of `--size-mib` each the way a
device does (a V4 signed PUT, streamed from a sparse file), checks each with a ranged read, and
prints fake-gcs-server's resident memory (VmRSS) after each upload has settled and its peak
(VmHWM). This is a measurement, not a test: it asserts nothing and always exits 0 once it ran.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from emulators.stack import REPO_ROOT, LocalStack

MIB = 1 << 20
EXTERNAL_KEYS = ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")


def proc_memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (from /proc/PID/status)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def _signed_put(stack: LocalStack, name: str, path: Path, size_bytes: int) -> int:
    import requests
    from google.cloud import storage
    from google.oauth2 import service_account

    env = stack.env
    credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
        env["SIGNING_CREDENTIALS_FILE"]
    )
    client = storage.Client(project=env["GOOGLE_CLOUD_PROJECT"], credentials=credentials)
    blob = client.bucket(env["UPLOADS_BUCKET"]).blob(name)
    url = blob.generate_signed_url(
        version="v4",
        method="PUT",
        expiration=timedelta(minutes=15),
        content_type="application/octet-stream",
        api_access_endpoint=env["STORAGE_PUBLIC_URL"],
    )
    with path.open("rb") as body:
        response = requests.put(
            url,
            data=body,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size_bytes),
            },
            timeout=600,
        )
    return response.status_code


def _ranged_read(stack: LocalStack, name: str) -> tuple[int, int]:
    import requests

    env = stack.env
    url = f"{env['STORAGE_EMULATOR_HOST']}/download/storage/v1/b/{env['UPLOADS_BUCKET']}/o/{name}"
    response = requests.get(
        url, params={"alt": "media"}, headers={"Range": "bytes=100-199"}, timeout=60
    )
    return response.status_code, len(response.content)


def main(argv: list[str] | None = None) -> int:
    """Run the measurement; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m emulators.storage_rss", description=__doc__)
    parser.add_argument("--backend", choices=("filesystem", "memory"), default="filesystem")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--gomemlimit", default="256MiB", help="GOMEMLIMIT of fake-gcs-server")
    parser.add_argument("--settle-seconds", type=float, default=5.0)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / ".stack" / "storage-rss")
    args = parser.parse_args(argv)
    base = {k: v for k, v in os.environ.items() if k not in EXTERNAL_KEYS}
    base.update(FAKE_GCS_BACKEND=args.backend, FAKE_GCS_GOMEMLIMIT=args.gomemlimit)
    size = args.size_mib * MIB
    with (
        tempfile.TemporaryDirectory() as scratch,
        LocalStack(
            args.workdir,
            with_functions=False,
            apply_migrations=False,
            base_env=base,
            run_schedules=False,
        ) as stack,
    ):
        pid = next(s.pid for s in stack.services if s.name.startswith("storage") and s.pid)
        source = Path(scratch) / "object.bin"
        with source.open("wb") as handle:
            handle.truncate(size)
        print(
            f"fake-gcs-server backend={args.backend} GOMEMLIMIT={args.gomemlimit}: "
            f"{args.count} signed PUTs of {args.size_mib} MiB"
        )
        print(f"  at start: VmRSS {proc_memory_kib(pid)['VmRSS'] / 1024:7.0f} MiB")
        for index in range(args.count):
            name = f"rss/object-{index}.bin"
            status = _signed_put(stack, name, source, size)
            time.sleep(args.settle_seconds)  # let the Go scavenger return what it will
            ranged = _ranged_read(stack, name)
            memory = proc_memory_kib(pid)
            print(
                f"  after upload {index + 1} (PUT {status}, range read {ranged[0]} "
                f"{ranged[1]} B): VmRSS {memory['VmRSS'] / 1024:7.0f} MiB, "
                f"peak VmHWM {memory['VmHWM'] / 1024:7.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
