"""Verification throughput and memory against raw hashlib, on the same bytes, in the same run.

    python bench/bench_verify.py [--size-mib 256] [--rss-size-mib 1024]

1. Throughput: `common.core.hashing.StreamingDigester` (SHA-256 + MD5 + size + sampling id, as
   finalize_upload runs it) and SHA-256 alone through the same streaming path, each against
   `hashlib.sha256` over the same in-memory buffer fed in the same 1 MiB chunks. Prints MiB/s and the
   ratio (baseline / candidate speed; goal for the SHA-256 path >= 0.8x).
2. Memory: a child process streams a `--rss-size-mib` object from the storage emulator when
   `STORAGE_EMULATOR_HOST` is set (else from a sparse local file) through `common.storage.stream_object`
   / the digester, and reports peak RSS growth (goal <= 64 MiB for 1 GiB).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.core.hashing import StreamingDigester

CHUNK = 1 << 20


def _best_of(runs: int, fn: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def throughput(size_mib: int, runs: int) -> None:
    data = os.urandom(size_mib * CHUNK)
    view = memoryview(data)
    chunks = [view[i : i + CHUNK] for i in range(0, len(data), CHUNK)]

    def baseline() -> None:
        h = hashlib.sha256()
        for c in chunks:
            h.update(c)
        h.hexdigest()

    def sha_only() -> None:
        class Sink:
            def __init__(self) -> None:
                self.h = hashlib.sha256()

            def write(self, b: bytes) -> int:
                self.h.update(b)
                return len(b)

        sink = Sink()
        for c in chunks:
            sink.write(c)

    def full(md5: bool) -> None:
        digester = StreamingDigester(len(data), md5=md5)
        for c in chunks:
            digester.write(c)
        digester.result()

    base = _best_of(runs, baseline)
    rows = [
        ("hashlib.sha256 (baseline)", base),
        ("sink: SHA-256 only", _best_of(runs, sha_only)),
        ("finalize path: SHA-256+size+sampling id", _best_of(runs, lambda: full(md5=False))),
        ("with local MD5 (VERIFY_MD5_LOCALLY)", _best_of(runs, lambda: full(md5=True))),
    ]
    print(f"throughput over {size_mib} MiB, best of {runs}:")
    for name, seconds in rows:
        print(f"  {name:<52} {size_mib / seconds:8.1f} MiB/s  ratio {base / seconds:5.2f}x")


def _peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM), which exec resets, unlike getrusage's ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child_rss(path: str, size: int) -> None:
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from common.storage import get_client

        get_client()  # client libraries loaded before the baseline: we measure the stream
    before = _peak_rss_kib()
    digester = StreamingDigester(size, md5=False)
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from common.storage import stream_object

        bucket, name, generation = path.split("|")
        stream_object(bucket, name, int(generation), digester)
    else:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digester.write(chunk)
    result = digester.result()
    after = _peak_rss_kib()
    print(
        f"  streamed {result.size_bytes / CHUNK:.0f} MiB: peak RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB (growth {(after - before) / 1024:.1f} MiB)"
    )


def memory(size_mib: int) -> None:
    size = size_mib * CHUNK
    print(f"peak RSS while verifying a {size_mib} MiB object:")
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from common.storage import blob_at

        bucket, name = os.environ.get("UPLOADS_BUCKET", "media-uploads"), "bench/large.bin"
        with tempfile.NamedTemporaryFile() as handle:
            handle.truncate(size)
            blob = blob_at(bucket, name)
            blob.upload_from_filename(handle.name, content_type="application/octet-stream")
        target = f"{bucket}|{name}|{blob.generation}"
    else:
        with tempfile.NamedTemporaryFile(delete=False) as handle:
            handle.truncate(size)
        target = handle.name
    subprocess.run([sys.executable, __file__, "--child", target, str(size)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rss-size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_rss(args.child[0], int(args.child[1]))
        return
    throughput(args.size_mib, args.runs)
    memory(args.rss_size_mib)


if __name__ == "__main__":
    main()
