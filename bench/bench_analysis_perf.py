"""Analysis time and memory against baselines in the same run (the processing goals of bench/README.md).

    python bench/eval/media.py    # once: the courtyard clip (OpenCV's vtest.avi) the video rows use
    python bench/bench_analysis_perf.py [--runs 3] [--long-seconds 120] [--skip-rss]

Inputs are generated into `.bench/perf/` (git-ignored) from package media and ffmpeg:

1. Image analysis of 1 MP JPEGs (astronaut and coffee, scaled to about 1 MP) with the default
   detectors (MTCNN faces, the SSD object detector on the whole picture and its tiles): min/median
   of `--runs` against the goal of 150 ms; the baselines in the same run are a plain Pillow decode
   of the same file (the floor any analysis pays) and the detectors this pipeline ran before the
   object model (`BEFORE`: MTCNN and OpenCV's HOG people detector).
2. Peak RSS (VmHWM) of one analysis in a fresh process: a 200-face mosaic (astronaut faces),
   a 48 MP JPEG, an 84 MP PNG and BMP (the BMP gets a "web" rendition) just under
   `common.processing.image.MAX_DECODE_BYTES`, an 89 MP PNG (Pillow's pixel limit) and 76 and
   89 MP RGBA TIFFs the bound refuses before decoding, and the 120 s 1080p video of row 3. Goal
   <= 600 MiB.
3. Video analysis of 1080p H.264 (25 fps, 250-frame GOP, as cameras write it): OpenCV's courtyard
   clip of walkers (`vtest.avi`, 768x576, 79.5 s) scaled to 1080p and looped to `--long-seconds`,
   and, as a worst case, ffmpeg's `testsrc2` pattern (motion in every frame). Each run times a
   full decode of the file (FFmpeg's frame threads, as analysis decodes) and then its analysis;
   the ratio of the two per run, the analysis against the video's duration (goal <= 0.1x), the
   samples the detectors ran per second of motion (goal >= 2), the regions per sample, and the
   detectors' time per sample against the raw model's inference in the same run (goal <= 30 ms
   per sample).

The last table repeats each goal row: baseline, ours min/median, ratio min/median, goal, status.
What the detectors find is `bench/bench_eval.py`'s.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = ROOT / ".bench" / "perf"

BEFORE: dict[str, Any] = {
    "detectors": ["faces", "people"],
    "people_from_faces": True,
    "filters": {"person": {"min_score": 0.5, "threshold": 0.8}},
}
"""The detectors before the object model (MTCNN, HOG, people from faces), on the same code."""

_RSS = """
import sys, json
sys.path.insert(0, {root!r})
from pathlib import Path
from common.processing import AnalysisConfig, analyze_image
from common.processing import analyze_video
faces = {{"kind": "faces", "max_candidates": {cap}, "refine_batch": {batch}}}
config = AnalysisConfig(detectors=(faces, "objects"))
from common.core.errors import MediaTooLarge
try:
    path = Path({path!r})
    analyze = analyze_video if path.suffix == ".mp4" else analyze_image
    faces = analyze(path, config).counts.get("face", 0)
except MediaTooLarge:
    faces = -1
peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
print(json.dumps({{"peak_kib": int(peak), "faces": faces}}))
"""

GOALS: list[tuple[str, str, str, str, str, str]] = []
"""Rows of the summary table: (goal, baseline, ours min/med, ratio min/med, goal, status)."""


def skimage_file(name: str) -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("scikit-image is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations)), "data", name)


def timed(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return out


def make_images() -> dict[str, Path]:
    from PIL import Image

    WORK.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, size in (("astronaut.png", (1024, 1024)), ("coffee.png", (1224, 816))):
        path = WORK / f"{Path(name).stem}-1mp.jpg"
        if not path.exists():
            Image.open(skimage_file(name)).convert("RGB").resize(size).save(path, quality=90)
        out[path.name] = path
    crowd = WORK / "crowd-200-faces.jpg"
    if not crowd.exists():
        face = Image.open(skimage_file("astronaut.png")).convert("RGB").crop((150, 30, 295, 205))
        face = face.resize((72, 87))
        mosaic = Image.new("RGB", (20 * 80, 10 * 95), (128, 128, 128))
        for i in range(200):
            mosaic.paste(face, ((i % 20) * 80 + 4, (i // 20) * 95 + 4))
        mosaic.save(crowd, quality=90)
    out[crowd.name] = crowd
    big_jpeg = WORK / "48mp.jpg"
    if not big_jpeg.exists():
        Image.open(skimage_file("astronaut.png")).convert("RGB").resize((8000, 6000)).save(
            big_jpeg, quality=85
        )
    out[big_jpeg.name] = big_jpeg
    big_png = WORK / "89mp.png"
    if not big_png.exists():
        Image.open(skimage_file("coffee.png")).convert("RGB").resize((9459, 9459)).save(
            big_png, compress_level=1
        )
    out[big_png.name] = big_png
    edge_png = WORK / "84mp.png"  # just under the decode bound (336 MiB decoded)
    if not edge_png.exists():
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(big_png) as image:
            image.resize((9170, 9170)).save(edge_png, compress_level=1)
    out[edge_png.name] = edge_png
    big_tiff = WORK / "89mp-rgba.tif"  # decoded whole, with an alpha channel
    if not big_tiff.exists():
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(big_png) as image:
            image.convert("RGBA").save(big_tiff, compression="tiff_lzw")
    out[big_tiff.name] = big_tiff
    edge_tiff = WORK / "76mp-rgba.tif"  # just under the decode bound: 303 MB + a 197 MB file
    if not edge_tiff.exists():
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(big_png) as image:
            image.resize((8700, 8700)).convert("RGBA").save(edge_tiff, compression="tiff_lzw")
    out[edge_tiff.name] = edge_tiff
    big_bmp = WORK / "84mp.bmp"
    if not big_bmp.exists():
        with Image.open(edge_png) as image:
            image.save(big_bmp)
    out[big_bmp.name] = big_bmp
    return out


def _min_med(values: list[float], scale: float = 1.0, fmt: str = ".0f") -> str:
    return f"{scale * min(values):{fmt}} / {scale * statistics.median(values):{fmt}}"


def image_time(images: dict[str, Path], runs: int) -> None:
    from PIL import Image

    from common.processing import AnalysisConfig, analyze_image

    before = AnalysisConfig().merged(BEFORE)
    print(f"{'1 MP image':<20}{'decode ms':>10}{'before ms min/med':>19}{'ours ms min/med':>17}"
          f"{'x decode':>10}{'x before':>10}{'goal ms':>9}")  # fmt: skip
    for name in ("astronaut-1mp.jpg", "coffee-1mp.jpg"):
        path = images[name]
        # Each setting runs its own block after one untimed run: MTCNN keeps one network per
        # pyramid level, whose shapes the other setting's pyramid would change in between.
        analyze_image(path)
        ours = timed(lambda p=path: analyze_image(p), runs)
        analyze_image(path, before)
        old = timed(lambda p=path: analyze_image(p, before), runs)
        decode = timed(lambda p=path: Image.open(p).convert("RGB"), runs)
        median = statistics.median(ours)
        status = "ok" if median <= 0.150 else "OVER"
        print(f"{name:<20}{1000 * min(decode):>10.1f}{_min_med(old, 1000):>19}"
              f"{_min_med(ours, 1000):>17}{median / statistics.median(decode):>10.1f}"
              f"{median / statistics.median(old):>10.2f}{150:>9}  {status}")  # fmt: skip
        GOALS.append(
            (
                f"image {name}",
                f"before {1000 * statistics.median(old):.0f} ms",
                f"{_min_med(ours, 1000)} ms",
                f"{min(ours) / min(old):.2f} / {median / statistics.median(old):.2f} x before",
                "<= 150 ms",
                status,
            )
        )


def peak_rss(images: dict[str, Path]) -> None:
    import json

    print(f"\n{'peak RSS, fresh process':<40}{'MiB':>7}{'faces':>7}{'goal':>6}")
    cases = [
        ("crowd-200-faces.jpg", 600, 64, "caps on (default)"),
        ("crowd-200-faces.jpg", 10**9, 10**9, "caps off (the old path)"),
        ("48mp.jpg", 600, 64, "default"),
        ("84mp.png", 600, 64, "default"),
        ("84mp.bmp", 600, 64, "web copy"),
        ("89mp.png", 600, 64, "refused"),
        ("76mp-rgba.tif", 600, 64, "refused"),
        ("89mp-rgba.tif", 600, 64, "refused"),
    ]
    courtyard = WORK / f"courtyard-1080p-{LONG_SECONDS}s.mp4"
    if courtyard.exists():
        images = {**images, courtyard.name: courtyard}
        cases.append((courtyard.name, 600, 64, "video"))
    for name, cap, batch, note in cases:
        code = _RSS.format(root=str(ROOT), path=str(images[name]), cap=cap, batch=batch)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        mib = result["peak_kib"] / 1024
        status = "ok" if mib <= 600 else "OVER"
        faces = "-" if result["faces"] < 0 else result["faces"]  # refused: over the decode bound
        print(f"{name + ', ' + note:<40}{mib:>7.0f}{faces:>7}{600:>6}  {status}")
        if cap == 600:
            GOALS.append((f"peak RSS {name}", "-", f"{mib:.0f} MiB", "-", "<= 600 MiB", status))


LONG_SECONDS = 120
COURTYARD = ROOT / ".bench" / "eval" / "media" / "opencv" / "vtest.avi"


def make_videos(seconds: int) -> dict[str, Path]:
    """The 1080p test videos (see the module docstring); the courtyard one needs its source."""
    WORK.mkdir(parents=True, exist_ok=True)
    encode = ["-c:v", "libx264", "-preset", "veryfast", "-g", "250", "-keyint_min", "250",
              "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-r", "25"]  # fmt: skip
    out = {}
    if COURTYARD.exists():
        path = WORK / f"courtyard-1080p-{seconds}s.mp4"
        if not path.exists():
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(COURTYARD),
                 "-t", str(seconds), "-vf", "scale=1440:1080,pad=1920:1080:240:0", *encode,
                 str(path)],
                check=True,
            )  # fmt: skip
        out["courtyard"] = path
    else:
        print(f"({COURTYARD} missing: run bench/eval/media.py for the courtyard video)")
    path = WORK / f"testsrc2-1080p-{seconds}s.mp4"
    if not path.exists():
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=size=1920x1080:rate=25:duration={seconds}", *encode, str(path)],
            check=True,
        )  # fmt: skip
    out["testsrc2"] = path
    return out


def full_decode(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def raw_inference(runs: int = 30) -> list[float]:
    """Seconds of one raw inference of the object model on a 300x300 input (no pre/post)."""
    import numpy as np

    from common.processing.config import SsdConfig

    detector = SsdConfig().build()
    frame = np.random.default_rng(1).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    detector.infer(frame)
    return timed(lambda: detector.infer(frame), runs)


class _SampleTimer:
    """Wraps `FrameAnalyzer.analyze` to time each sample's detectors, filters and tracking."""

    def __init__(self) -> None:
        from common.processing._pipeline import FrameAnalyzer

        self.seconds: list[float] = []
        self._original = FrameAnalyzer.analyze
        timer = self

        def analyze(analyzer: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return timer._original(analyzer, *args, **kwargs)
            finally:
                timer.seconds.append(time.perf_counter() - start)

        FrameAnalyzer.analyze = analyze  # type: ignore[method-assign]

    def close(self) -> None:
        from common.processing._pipeline import FrameAnalyzer

        FrameAnalyzer.analyze = self._original  # type: ignore[method-assign]


def video_time(long_seconds: int, runs: int) -> None:
    from common.processing import analyze_image, analyze_video

    videos = make_videos(long_seconds)
    analyze_image(skimage_file("astronaut.png"))  # load the models before timing
    inference = raw_inference()
    raw_ms = 1000 * statistics.median(inference)
    print(f"\nraw model inference (300x300, one thread): {_min_med(inference, 1000, '.1f')} ms")
    print(f"{'1080p H.264':<12}{'decode s':>14}{'analysis s':>14}{'x decode':>12}{'x duration':>12}"
          f"{'samples/s motion':>17}{'regions/sample':>15}{'ms/sample':>14}{'x raw':>8}")  # fmt: skip
    for name, path in videos.items():
        decode, analysis, ratios, per_sample = [], [], [], []
        result = None
        for _ in range(runs):  # decode and analysis back to back: one ratio per run
            decode += timed(lambda p=path: full_decode(p), 1)
            timer = _SampleTimer()
            start = time.perf_counter()
            try:
                result = analyze_video(path)
            finally:
                timer.close()
            analysis.append(time.perf_counter() - start)
            ratios.append(analysis[-1] / decode[-1])
            per_sample.append(statistics.mean(timer.seconds) if timer.seconds else 0.0)
        assert result is not None
        duration_s = result.duration_ms / 1000
        motion_s = sum(m.end_ms - m.start_ms for m in result.motion_segments) / 1000
        rate = result.frames_detected / max(motion_s, 1e-3)
        regions = result.regions_detected / max(1, result.frames_detected)
        of_duration = [a / duration_s for a in analysis]
        sample_ms = 1000 * statistics.median(per_sample)
        print(f"{name:<12}{_min_med(decode, fmt='.2f'):>14}{_min_med(analysis, fmt='.2f'):>14}"
              f"{_min_med(ratios, fmt='.2f'):>12}{_min_med(of_duration, fmt='.3f'):>12}"
              f"{rate:>17.2f}{regions:>15.2f}{_min_med(per_sample, 1000, '.1f'):>14}"
              f"{sample_ms / raw_ms:>8.1f}")  # fmt: skip
        print(f"{'':<12}{result.frames_decoded} frames decoded, {result.frames_detected} samples, "
              f"{motion_s:.0f} s of motion, counts {result.counts}")  # fmt: skip
        status = "ok" if statistics.median(of_duration) <= 0.1 else "OVER"
        GOALS.append(
            (
                f"video {name} {long_seconds} s",
                f"decode {statistics.median(decode):.2f} s",
                f"{_min_med(analysis, fmt='.2f')} s",
                f"{_min_med(of_duration, fmt='.3f')} x duration",
                "<= 0.1 x",
                status,
            )
        )
        GOALS.append(
            (
                "  samples per s of motion",
                "-",
                f"{rate:.2f}",
                "-",
                ">= 2",
                "ok" if rate >= 2 - 1e-6 else "UNDER",
            )
        )
        GOALS.append(
            (
                "  detectors per sample",
                f"raw model {raw_ms:.1f} ms",
                f"{_min_med(per_sample, 1000, '.1f')} ms",
                f"{sample_ms / raw_ms:.1f} x raw",
                "<= 30 ms",
                "ok" if sample_ms <= 30 else "OVER",
            )
        )


def summary() -> None:
    print(f"\n{'goal row':<34}{'baseline (same run)':>22}{'ours min/med':>18}"
          f"{'ratio min/med':>22}{'goal':>12}  status")  # fmt: skip
    for row in GOALS:
        print(f"{row[0]:<34}{row[1]:>22}{row[2]:>18}{row[3]:>22}{row[4]:>12}  {row[5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long-seconds", type=int, default=120)
    parser.add_argument("--skip-rss", action="store_true", help="skip the fresh-process RSS rows")
    args = parser.parse_args()
    make_videos(args.long_seconds)
    images = make_images()
    image_time(images, args.runs)
    if not args.skip_rss:
        peak_rss(images)
    video_time(args.long_seconds, args.runs)
    summary()


if __name__ == "__main__":
    main()
