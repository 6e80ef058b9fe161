"""Verification throughput and memory against raw hashlib, on the same bytes, in the same run.

    python bench/bench_verify.py [--runs 5] [--size-mib 256] [--rss-size-mib 1024]

Starts its own local stack (fake-gcs-server on its filesystem backend, as the stack runs it), so
every figure involving storage is measured against the storage emulator, never a local file.

1. Digest path, `--runs` runs: `common.core.hashing.StreamingDigester` exactly as finalize_upload
   runs it (SHA-256 + size + sampling id + the head kept for sniffing; MD5 from the store's hash),
   fed the blocks `GcsStore.stream` hands it (`STREAM_BLOCK_BYTES`), against `hashlib.sha256`
   over the same bytes in the same blocks. Each run interleaves the two over 16 MiB slices of
   `--size-mib` random bytes (so a load spike on this shared machine hits both) and prints the
   ratio baseline time / candidate time. Goal: >= 0.9x in every run. For comparison:
   the digester fed 8 KiB pieces (what google-cloud-storage's `download_to_file` delivers, the
   former read path) and with MD5 computed locally (`VERIFY_MD5_LOCALLY`).
2. Read path, end to end: `GcsStore.stream` of a `--size-mib` object from the emulator into the
   digester, into a sink that only counts (the transport alone), and the former path
   (`Blob.download_to_file`) into the digester, against raw SHA-256 of the same bytes in memory;
   min / median of `--runs`. With `PYTHONPATH=<older checkout>` it measures that checkout's
   `common` the same way (a before/after comparison).
3. Memory: a child process streams a `--rss-size-mib` object from the emulator through
   `GcsStore.stream` into the digester and reports its peak RSS (VmHWM) growth over the stream
   (goal <= 64 MiB for 1 GiB).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import ROOT, machine_load, private_stack

SLICE_BYTES = 16 << 20
OLD_CHUNK_BYTES = 8192
"""The piece size google-cloud-storage's raw download writes to a sink."""


def _digester(size: int, *, md5: bool) -> object:
    from common.core.hashing import StreamingDigester
    from common.media.sniff import SNIFF_BYTES

    return StreamingDigester(size, md5=md5, head_bytes=SNIFF_BYTES)


def interleaved_ratio(data: bytes, block: int, *, md5: bool = False) -> float:
    """Baseline time / candidate time over `data`, alternating 16 MiB slices."""
    view = memoryview(data)
    baseline = hashlib.sha256()
    candidate = _digester(len(data), md5=md5)
    write = candidate.write  # type: ignore[attr-defined]
    spent = [0.0, 0.0]
    for index, start in enumerate(range(0, len(data), SLICE_BYTES)):
        blocks = [view[i : i + block] for i in range(start, start + SLICE_BYTES, block)]
        order = (0, 1) if index % 2 == 0 else (1, 0)
        for side in order:
            began = time.perf_counter()
            if side == 0:
                for piece in blocks:
                    baseline.update(piece)
            else:
                for piece in blocks:
                    write(piece)
            spent[side] += time.perf_counter() - began
    assert candidate.result().sha256_hex == baseline.hexdigest()  # type: ignore[attr-defined]
    return spent[0] / spent[1]


def _stream_block_bytes() -> int:
    """The blocks `GcsStore.stream` feeds its sink (8 KiB before it had its own GET)."""
    from common.storage import gcs

    return int(getattr(gcs, "STREAM_BLOCK_BYTES", OLD_CHUNK_BYTES))


def digest_path(size_mib: int, runs: int) -> None:
    block = _stream_block_bytes()

    data = os.urandom(size_mib << 20)
    rows: dict[str, list[float]] = {
        f"finalize path, {block >> 10} KiB blocks (goal >= 0.9x)": [],
        f"former read path, {OLD_CHUNK_BYTES >> 10} KiB pieces": [],
        f"with local MD5, {block >> 10} KiB blocks": [],
    }
    started = time.perf_counter()
    for _ in range(runs):
        goal, old, md5 = rows.values()
        goal.append(interleaved_ratio(data, block))
        old.append(interleaved_ratio(data, OLD_CHUNK_BYTES))
        md5.append(interleaved_ratio(data, block, md5=True))
    raw_speed = size_mib * runs * 3 * 2 / (time.perf_counter() - started)
    print(f"1. digest path over {size_mib} MiB in memory, x raw SHA-256, each of {runs} runs:")
    for name, ratios in rows.items():
        verdict = ""
        if "goal" in name:
            verdict = "  ok" if min(ratios) >= 0.9 else "  BELOW"
        print(f"  {name:<48} {' '.join(f'{r:.2f}' for r in ratios)}{verdict}")
    print(f"  (about {raw_speed:.0f} MiB/s of SHA-256 on this machine now)")


def _upload(size: int, name: str, *, random_bytes: bytes | None = None) -> tuple[str, str, str]:
    """Store `size` bytes (random, or a sparse file's zeros) in the uploads bucket."""
    from common.storage import get_store

    store = get_store()
    bucket = os.environ.get("UPLOADS_BUCKET", "media-uploads")
    if random_bytes is not None:
        info = store.write(bucket, name, random_bytes, "application/octet-stream")
    else:
        with tempfile.NamedTemporaryFile() as handle:
            handle.truncate(size)
            info = store.write_file(bucket, name, Path(handle.name), "application/octet-stream")
    return bucket, name, info.version


def read_path(size_mib: int, runs: int) -> None:
    from common.core.hashing import StreamingDigester
    from common.storage import get_store

    store = get_store()
    data = os.urandom(size_mib << 20)
    bucket, name, version = _upload(len(data), "bench/verify.bin", random_bytes=data)

    class Count:
        size = 0

        def write(self, block: bytes) -> int:
            self.size += len(block)
            return len(block)

    rows: dict[str, list[float]] = {
        "stream -> digester": [],
        "stream -> count only": [],
        "former path (download_to_file) -> digester": [],
    }
    blob = store.client.bucket(bucket).blob(name, generation=int(version))  # type: ignore[attr-defined]
    for _ in range(runs):
        began = time.perf_counter()
        hashlib.sha256(data).hexdigest()
        raw = time.perf_counter() - began
        digester = StreamingDigester(len(data), md5=False, head_bytes=512)
        began = time.perf_counter()
        store.stream(bucket, name, version, digester)
        rows["stream -> digester"].append(raw / (time.perf_counter() - began))
        assert digester.result().sha256_hex == hashlib.sha256(data).hexdigest()
        counter = Count()
        began = time.perf_counter()
        store.stream(bucket, name, version, counter)
        rows["stream -> count only"].append(raw / (time.perf_counter() - began))
        assert counter.size == len(data)
        former = StreamingDigester(len(data), md5=False, head_bytes=512)
        began = time.perf_counter()
        blob.download_to_file(former, raw_download=True, checksum=None)
        rows["former path (download_to_file) -> digester"].append(
            raw / (time.perf_counter() - began)
        )
    print(f"2. read path from the storage emulator, {size_mib} MiB, x raw SHA-256 in memory:")
    for label, ratios in rows.items():
        print(f"  {label:<48} {min(ratios):.2f} / {statistics.median(ratios):.2f} (min / median)")


def _peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM), which exec resets, unlike getrusage's ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _child_rss(bucket: str, name: str, version: str, size: int, warm_version: str) -> None:
    from common.core.hashing import StreamingDigester
    from common.storage import get_store

    store = get_store()
    # client, connection pool and the sink thread once, before the baseline: we measure the stream
    store.stream(bucket, name + ".small", warm_version, StreamingDigester(0))
    before = _peak_rss_kib()
    digester = StreamingDigester(size, md5=False, head_bytes=512)
    store.stream(bucket, name, version, digester)
    result = digester.result()
    after = _peak_rss_kib()
    assert result.size_bytes == size
    growth = (after - before) / 1024
    verdict = "ok" if growth <= 64 else "OVER"
    print(
        f"  streamed {result.size_bytes >> 20} MiB: peak RSS {before / 1024:.0f} -> "
        f"{after / 1024:.0f} MiB, growth {growth:.1f} MiB (goal <= 64) {verdict}"
    )


def memory(size_mib: int) -> None:
    size = size_mib << 20
    print(f"3. peak RSS while verifying a {size_mib} MiB object served by the storage emulator:")
    bucket, name, version = _upload(size, "bench/large.bin")
    _, _, warm = _upload(1 << 20, "bench/large.bin.small", random_bytes=os.urandom(1 << 20))
    subprocess.run(
        [sys.executable, __file__, "--child", bucket, name, version, str(size), warm],
        check=True,
        env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rss-size-mib", type=int, default=1024)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bucket, name, version, size, warm = args.child
        _child_rss(bucket, name, version, int(size), warm)
        return
    print(f"{machine_load()} at start")
    digest_path(args.size_mib, args.runs)
    with private_stack("bench-verify"):
        read_path(args.size_mib, args.runs)
        memory(args.rss_size_mib)
    print(f"{machine_load()} at end")


if __name__ == "__main__":
    main()
