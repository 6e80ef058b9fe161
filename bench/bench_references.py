"""Media by reference: resolve of 1,000 references, and the content proxy against reading the
object straight from the storage emulator, in the same run.

    python bench/bench_references.py [--references 1000] [--proxy-mib 64] [--rounds 3]
                                     [--workdir .stack/bench-references]

Starts its own local stack (real Postgres, fake-gcs-server, the functions over HTTP), then:

- media: `--references` small verified media of one device, made through the one ingest path
  (`common.media.ingest.ingest_bytes`, not processed: resolve needs verified bytes only);
- resolve, baseline: the same process signs one GET per media with the store (no cache), the
  least a resolve has to do; cold: `POST /v1/media/resolve` of a document with every reference,
  the first time (each URL signed once); warm: the same again (URLs from the signing cache);
- proxy: one object of `--proxy-mib`; baseline: `read_range` of all of it straight from the
  emulator in this process; proxy: `GET /v1/media/{id}/content` through list_media; the list_media
  process's resident memory (all its processes) before and after.

Prints each as min / median over `--rounds` and the ratios against the baseline. Signing here is
local (the emulator needs no IAM); in the cloud each uncached signature is an IAM signBlob call,
which is what the cache saves. Checks only that the answers are complete.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from emulators.stack import LocalStack

ROOT = Path(__file__).resolve().parents[1]
DEVICE = "bench-refs"


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (KiB), from /proc."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(entry.name) == pid or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def _spec(data: bytes, index: int, mime_type: str) -> Any:
    from common.media.declare import MediaSpec

    return MediaSpec(
        device_id=DEVICE,
        camera_id="bench",
        message_id=f"ref-{index}-{os.getpid()}",
        captured_at=datetime.now(UTC),
        mime_type=mime_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        md5=base64.b64encode(hashlib.md5(data).digest()).decode(),
        created_by="job:bench",  # jobs count against no quota
        request={"bench": index},
    )


def _make_media(count: int) -> list[Any]:
    from common.db.engine import session_scope
    from common.media.ingest import ingest_bytes

    made = []
    with session_scope() as session:
        for index in range(count):
            data = b"\xff\xd8\xff\xe0" + os.urandom(2048)
            spec = _spec(data, index, "image/jpeg")
            made.append(ingest_bytes(session, spec, data, hand_over_after=False).media)
    return made


def _timed(run: Any) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def _summary(name: str, seconds: list[float], baseline: list[float] | None = None) -> str:
    low, median = min(seconds), statistics.median(seconds)
    text = f"{name:<28} min {low * 1000:9.1f} ms   median {median * 1000:9.1f} ms"
    if baseline:
        text += f"   x{median / statistics.median(baseline):6.2f} of baseline"
    return text


def bench_resolve(api: Any, media: list[Any], rounds: int) -> None:
    from common.core.settings import get_settings
    from common.storage import get_store

    store = get_store()
    ttl = get_settings().download_url_ttl_seconds
    document = {"items": [{"image": f"data:image/jpeg;{m.id}"} for m in media]}

    def sign_all() -> None:
        for m in media:
            store.sign_download(m.bucket, m.object_name, ttl_seconds=ttl, version=m.object_version)

    def resolve() -> None:
        answer = api.session.post(
            f"{api.list_url}/v1/media/resolve", json={"document": document}, timeout=300
        )
        if answer.status_code != 200 or answer.json()["resolved"] != len(media):
            raise RuntimeError(f"resolve answered {answer.status_code}: {answer.text[:300]}")

    baseline = [_timed(sign_all) for _ in range(rounds)]
    cold = [_timed(resolve)]  # the first resolve signs every URL
    warm = [_timed(resolve) for _ in range(rounds)]
    print(f"\nresolve of {len(media)} references ({len(media)} media)")
    print(_summary("baseline: sign each", baseline))
    print(_summary("resolve, first (signs)", cold, baseline))
    print(_summary("resolve, cached URLs", warm, baseline))


def bench_proxy(api: Any, size_mib: int, rounds: int, list_media_pid: int | None) -> None:
    from common.db.engine import session_scope
    from common.media.ingest import ingest_bytes
    from common.storage import get_store

    data = b"\xff\xd8\xff\xe0" + os.urandom(size_mib * 1024**2 - 4)
    with session_scope() as session:
        spec = _spec(data, 10**6, "image/jpeg")
        media = ingest_bytes(session, spec, data, hand_over_after=False).media
    del data
    store = get_store()

    def direct() -> None:
        read = 0
        for chunk in store.read_range(
            media.bucket, media.object_name, media.object_version, 0, None
        ):
            read += len(chunk)
        if read != size_mib * 1024**2:
            raise RuntimeError(f"read {read} bytes from the emulator")

    def proxied() -> None:
        read = 0
        with api.session.get(
            f"{api.list_url}/v1/media/{media.id}/content", stream=True, timeout=300
        ) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"content answered {answer.status_code}")
            for chunk in answer.iter_content(chunk_size=1024 * 1024):
                read += len(chunk)
        if read != size_mib * 1024**2:
            raise RuntimeError(f"read {read} bytes through the proxy")

    before = _rss_kib(list_media_pid) if list_media_pid else 0
    baseline = [_timed(direct) for _ in range(rounds)]
    proxy = [_timed(proxied) for _ in range(rounds)]
    after = _rss_kib(list_media_pid) if list_media_pid else 0
    print(f"\ncontent of one {size_mib} MiB object")
    print(_summary("baseline: read from emulator", baseline))
    print(_summary("GET /content (list_media)", proxy, baseline))
    for name, seconds in (("baseline", baseline), ("proxy", proxy)):
        print(f"  {name:<9} {size_mib / statistics.median(seconds):8.1f} MiB/s")
    if list_media_pid:
        print(f"  list_media RSS {before / 1024:.0f} MiB before, {after / 1024:.0f} MiB after")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=1000)
    parser.add_argument("--proxy-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".stack" / "bench-references")
    args = parser.parse_args()
    stack = LocalStack(args.workdir).start()
    saved = dict(os.environ)
    try:
        os.environ.update(stack.env)
        from cli.client import MediaApi
        from common.api.auth import mint_token

        api = MediaApi(mint_token(DEVICE, "device"))
        requests.get(f"{api.list_url}/v1/devices/{DEVICE}/media", timeout=60)  # warm up
        began = time.perf_counter()
        media = _make_media(args.references)
        print(f"made {len(media)} media in {time.perf_counter() - began:.1f} s")
        bench_resolve(api, media, args.rounds)
        pid = next((s.pid for s in stack.services if s.name == "function list_media"), None)
        bench_proxy(api, args.proxy_mib, args.rounds, pid)
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
