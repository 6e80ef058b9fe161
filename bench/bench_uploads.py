"""Upload + verify on each store against a raw SDK read of the same object, in the same run, and
the peak memory of a device's resumable upload.

    python bench/bench_uploads.py [--size-mib 256] [--resumable-mib 1024] [--backends gcs,s3]

For each backend a local stack without functions is started (`emulators.stack.LocalStack`:
Postgres, fake-gcs-server or moto's S3, Pub/Sub, Firestore), then:

1. Upload + verify: a `--size-mib` file of random bytes is declared, PUT through its signed URL
   (requests, streamed from disk, as `mediactl` does) and verified by `verify_version` (claim,
   one streaming pass through SHA-256 + size + sampling id, MD5 from the store where it keeps
   one, the status writes). Baseline: the same object read raw with the SDK into a sink that
   drops the bytes (`boto3` `get_object` body in 1 MiB chunks; `google-cloud-storage`
   `download_to_file`, raw). Prints seconds and MiB/s of each and the ratios verify / raw read and
   (upload + verify) / raw read (1.0 = as fast as reading the object once).
2. Resumable upload memory: a child process (the "device") hashes a `--resumable-mib` file
   (`describe_file`) and sends it with `cli.resumable` (Cloud Storage session chunks, or S3
   presigned parts) of `RESUMABLE_CHUNK_SIZE_BYTES` (default 16 MiB); it reports its peak RSS
   (VmHWM) after imports and at the end. The server side (declaration, the multipart
   completion and the 1 GiB verification) runs in this process, not in the child.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024


def _vm_hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _random_file(directory: Path, size_mib: int, name: str) -> Path:
    path = directory / name
    block = os.urandom(MIB)
    with path.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + block[8:])  # sniffed as the declared image/png
        for index in range(1, size_mib):
            handle.write(block[index % 7 :] + block[: index % 7])
    return path


class _Drop:
    def write(self, chunk: bytes) -> int:
        return len(chunk)


def _raw_read_seconds(backend: str, bucket: str, name: str, version: str) -> float:
    started = time.perf_counter()
    if backend == "s3":
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])
        body = client.get_object(Bucket=bucket, Key=name, VersionId=version)["Body"]
        for _ in body.iter_chunks(MIB):
            pass
    else:
        from google.cloud import storage

        blob = storage.Client().bucket(bucket).blob(name, generation=int(version))
        blob.download_to_file(_Drop(), raw_download=True, checksum=None)
    return time.perf_counter() - started


def _declare(facts: Any, device: str) -> Any:
    from common.media.declare import MediaSpec, declare

    media, _ = declare(
        MediaSpec(
            device_id=device,
            camera_id="bench",
            message_id=f"bench-{uuid.uuid4().hex[:12]}",
            captured_at=datetime.now(UTC),
            mime_type="image/png",
            size_bytes=facts.size_bytes,
            sha256=facts.sha256,
            md5=facts.md5,
            created_by="bench",
        )
    )
    return media


def upload_and_verify(backend: str, size_mib: int, directory: Path) -> None:
    import requests

    from cli.client import describe_file
    from common.db.engine import session_scope
    from common.media.ingest import sign_upload
    from common.media.verify import verify_version
    from common.storage import get_store

    path = _random_file(directory, size_mib, "upload.png")
    facts = describe_file(path)
    media = _declare(facts, "bench-device")
    signed = sign_upload(media)
    started = time.perf_counter()
    with path.open("rb") as handle:
        answer = requests.put(signed.url, data=handle, headers=signed.headers, timeout=600)
    answer.raise_for_status()
    upload_s = time.perf_counter() - started
    live = get_store().stat(media.bucket, media.object_name)
    assert live is not None
    started = time.perf_counter()
    with session_scope() as session:
        outcome = verify_version(
            session, media.id, live.version, event_id="bench", hand_over_after=False
        )
    verify_s = time.perf_counter() - started
    raw_s = _raw_read_seconds(backend, media.bucket, media.object_name, live.version)
    print(f"[{backend}] {size_mib} MiB object, upload + verify ({outcome.value}):")
    for what, seconds in (
        ("signed PUT (requests, streamed)", upload_s),
        ("verify_version", verify_s),
        ("raw SDK read (baseline)", raw_s),
    ):
        print(f"  {what:<34} {seconds:7.2f} s  {size_mib / seconds:8.1f} MiB/s")
    print(f"  ratio verify / raw read           {verify_s / raw_s:7.2f}")
    print(f"  ratio (upload + verify) / raw read {(upload_s + verify_s) / raw_s:6.2f}")
    path.unlink()


def _device(offer_file: str, path: str, media_id: str) -> None:
    """The child: hash and send the file as a device; print its peak RSS and the seconds of each
    chunk request as JSON."""
    from cli import resumable
    from cli.client import describe_file

    offer = json.loads(Path(offer_file).read_text())
    chunk_seconds: list[float] = []
    put = resumable.requests.put

    def timed_put(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return put(*args, **kwargs)
        finally:
            chunk_seconds.append(time.perf_counter() - started)

    resumable.requests.put = timed_put  # type: ignore[assignment]
    baseline = _vm_hwm_kib()
    facts = describe_file(Path(path))
    states = resumable.StateDir(Path(offer_file).parent / "state")
    if offer["protocol"] == "gcs_resumable":
        resumable.upload_gcs(offer, media_id, facts, states, lambda _: None, print)
    else:
        resumable.upload_s3(offer, facts, lambda _: None, print, lambda: offer)
    print(
        json.dumps(
            {"baseline_kib": baseline, "peak_kib": _vm_hwm_kib(), "chunk_seconds": chunk_seconds}
        )
    )


def resumable_memory(backend: str, size_mib: int, directory: Path) -> None:
    from cli.client import describe_file
    from common.api.upload_schemas import resumable_body
    from common.db.engine import session_scope
    from common.media import uploads

    path = _random_file(directory, size_mib, "resumable.png")
    facts = describe_file(path)
    media = _declare(facts, "bench-device")
    with session_scope() as session:
        offer = uploads.offer_upload(session, media, "resumable").resumable
    assert offer is not None
    offer_file = directory / "offer.json"
    offer_file.write_text(resumable_body(media, offer).model_dump_json())
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--device", str(offer_file), str(path), media.id],
        check=True,
        capture_output=True,
        text=True,
    )
    upload_s = time.perf_counter() - started
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    with session_scope() as session:
        done = uploads.complete(session, media, event_id="bench")
    complete_s = time.perf_counter() - started
    print(
        f"[{backend}] resumable upload of {size_mib} MiB in {offer.chunk_size_bytes // MIB} MiB "
        f"chunks ({offer.protocol}): {upload_s:.1f} s ({size_mib / upload_s:.0f} MiB/s, hashing "
        f"included); complete + verify {complete_s:.1f} s -> {done.media.status}"
    )
    chunks = memory["chunk_seconds"]
    print(
        f"  {len(chunks)} chunk requests: first three {sum(chunks[:3]) / 3:.2f} s each, last "
        f"three {sum(chunks[-3:]) / 3:.2f} s each (hashing the file before: the rest)"
    )
    print(
        f"  device peak RSS (VmHWM) {memory['peak_kib'] / 1024:.0f} MiB, after imports "
        f"{memory['baseline_kib'] / 1024:.0f} MiB: growth "
        f"{(memory['peak_kib'] - memory['baseline_kib']) / 1024:.0f} MiB for {size_mib} MiB"
    )
    path.unlink()


def _clear_cached_clients() -> None:
    """Forget `common`'s cached settings, engine and clients (each stack has its own ports)."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "common" or name.startswith("common.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


def run_backend(backend: str, size_mib: int, resumable_mib: int) -> None:
    from emulators.stack import LocalStack

    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
    }
    with (
        tempfile.TemporaryDirectory(dir=ROOT / ".stack") as scratch,
        LocalStack(
            ROOT / ".stack" / f"bench-{backend}",
            with_functions=False,
            storage_backend=backend,
            run_schedules=False,
            base_env=base,
        ) as stack,
    ):
        saved = dict(os.environ)
        os.environ.update(stack.env)
        _clear_cached_clients()
        try:
            upload_and_verify(backend, size_mib, Path(scratch))
            if resumable_mib:
                resumable_memory(backend, resumable_mib, Path(scratch))
        finally:
            os.environ.clear()
            os.environ.update(saved)
            _clear_cached_clients()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--resumable-mib", type=int, default=1024, help="0: skip")
    parser.add_argument("--backends", default="gcs,s3")
    parser.add_argument("--device", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.device:
        _device(*args.device)
        return
    (ROOT / ".stack").mkdir(exist_ok=True)
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.size_mib, args.resumable_mib)


if __name__ == "__main__":
    main()
