"""Analysis time and memory against baselines in the same run (the processing goals of bench/README.md).

    python bench/bench_analysis_perf.py [--runs 3] [--long-seconds 120] [--skip-rss]

Inputs are generated into `.bench/perf/` (git-ignored) from package media and ffmpeg:

1. Image analysis of 1 MP JPEGs (astronaut and coffee, scaled to about 1 MP) with the local
   default detectors: min/median of `--runs` against the goal of 150 ms; the baselines in the
   same run are a plain Pillow decode of the same file (the floor any analysis pays) and the same
   analysis with the search settings before the search tuning (commit a88a30d) (`BEFORE`: faces from 20 px,
   HOG pyramid step 1.05).
2. Peak RSS (VmHWM) of one analysis in a fresh process: a 200-face mosaic (astronaut faces),
   a 48 MP JPEG, an 89 MP PNG (Pillow's pixel limit), and formats that get a "web" rendition:
   an 89 MP BMP, a 76 MP RGBA TIFF (LZW; libtiff maps the 197 MB file while it decodes, and those
   file pages count in VmHWM), just under `common.processing.image.MAX_DECODE_BYTES`, and an
   89 MP one that the bound refuses before decoding. Goal <= 600 MiB; the 200-face image
   also with the MTCNN caps off (no candidate cap, one refinement batch), the old behaviour, and
   the faces each finds, which is what the caps cost in recall there.
3. Video analysis of 1080p H.264 at 25 fps with a 250-frame GOP (a camera-like file made by
   ffmpeg; 30, 60 and `--long-seconds` s): each run times a full decode of the file and then
   its analysis, and the ratio of the two is taken per run (goal <= 0.35x at the long file); the
   slope of analysis time per minute of video is fitted over the three lengths.

The last table repeats each goal row: baseline, ours min/median, ratio min/median, goal, status.
What detector settings cost in recall is printed by `bench/bench_eval.py --search`.

Figures recorded on the 2-core development machine (shared with other workloads, load 3.7-4.2;
min / median of 3; "before" is commit a88a30d's bench run just before on the same files):

    goal row                          before (a88a30d)             after
    image astronaut-1mp (<= 150 ms)   523 / 553 ms                 105 / 110 ms
    image coffee-1mp (<= 150 ms)      344 / 365 ms                 111 / 116 ms
      same code, before's settings    -                            302 / 313, 210 / 212 ms
    video 120 s 1080p / full decode   0.35x (2.50 s / 7.24 s);     0.20 / 0.21x (0.88 / 0.89 s
      (<= 0.35x)                      0.45x and 0.61x in 2 runs    against 4.18 / 4.29 s)
    video slope                       1.15 s per minute            0.43 s per minute (residual
                                                                   0.01 s over 30/60/120 s)
    peak RSS 200 faces / 48 MP JPEG   166 / 164 MiB                171 / 152 MiB
    peak RSS 89 MP PNG                480 MiB                      467 MiB
    peak RSS 89 MP BMP, web copy      (not measured then)          548 MiB
    peak RSS 89 MP RGBA TIFF (LZW)    (not measured then)          648 MiB: over; 227 MiB of it
                                                                   is the file libtiff maps;
                                                                   now refused (too_large) at
                                                                   71 MiB
    peak RSS 76 MP RGBA TIFF (LZW)    (not measured then)          548 MiB (below the bound)
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
    "face_search": {
        "min_face_px": 20,
        "min_face_fraction": 0.0,
        "pyramid_factor": 0.709,
        "pnet_threshold": 0.6,
    },
    "people_search": {
        "scale_step": 1.05,
        "max_side_px": 640,
        "max_area_px": None,
        "pad_fraction": 0.25,
    },
    "filters": {"person": {"threshold": 0.9}},
}
"""The detector search settings before the search tuning (commit a88a30d), run on the same code as a baseline."""

_RSS = """
import sys, json
sys.path.insert(0, {root!r})
from pathlib import Path
from common.processing import AnalysisConfig, analyze_image
config = AnalysisConfig(max_face_candidates={cap}, refine_batch={batch})
from common.core.errors import MediaTooLarge
try:
    faces = analyze_image(Path({path!r}), config).counts.get("face", 0)
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
    big_bmp = WORK / "89mp.bmp"
    if not big_bmp.exists():
        with Image.open(big_png) as image:
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
        ("89mp.png", 600, 64, "default"),
        ("89mp.bmp", 600, 64, "web copy"),
        ("76mp-rgba.tif", 600, 64, "web copy"),
        ("89mp-rgba.tif", 600, 64, "refused"),
    ]
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


def make_video(seconds: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"1080p-{seconds}s.mp4"
    if not path.exists():
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=size=1920x1080:rate=25:duration={seconds}", "-c:v", "libx264",
             "-preset", "ultrafast", "-g", "250", "-keyint_min", "250", "-sc_threshold", "0",
             "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )  # fmt: skip
    return path


def full_decode(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def video_time(long_seconds: int, runs: int) -> None:
    from common.processing import analyze_video

    print(f"\n{'1080p H.264, GOP 250':<20}{'decode s min/med':>17}{'analysis s min/med':>19}"
          f"{'ratio min/med':>15}{'goal':>6}{'sampling':>10}{'samples':>8}{'decoded':>8}"
          f"{'detected':>9}")  # fmt: skip
    analyze_video(make_video(30))  # load the models once
    points = []
    for seconds in sorted({30, 60, long_seconds}):
        path = make_video(seconds)
        decode, analysis, ratios = [], [], []
        result = None
        for _ in range(runs):  # decode and analysis back to back: one ratio per run
            decode += timed(lambda p=path: full_decode(p), 1)
            start = time.perf_counter()
            result = analyze_video(path)
            analysis.append(time.perf_counter() - start)
            ratios.append(analysis[-1] / decode[-1])
        assert result is not None
        points.append((seconds, statistics.median(analysis)))
        median = statistics.median(ratios)
        status = "ok" if median <= 0.35 else "OVER"
        print(f"{path.name:<20}{_min_med(decode, fmt='.2f'):>17}{_min_med(analysis, fmt='.2f'):>19}"
              f"{_min_med(ratios, fmt='.2f'):>15}{0.35:>6}{result.sampling:>10}"
              f"{result.frames_sampled:>8}{result.frames_decoded:>8}{result.frames_detected:>9}"
              f"  {status}")  # fmt: skip
        if seconds == long_seconds:
            GOALS.append(
                (
                    f"video {path.name}",
                    f"full decode {statistics.median(decode):.2f} s",
                    f"{_min_med(analysis, fmt='.2f')} s",
                    f"{_min_med(ratios, fmt='.2f')} x decode",
                    "<= 0.35 x",
                    status,
                )
            )
    xs, ys = [p[0] / 60 for p in points], [p[1] for p in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    residual = max(abs(y - (my + slope * (x - mx))) for x, y in zip(xs, ys, strict=True))
    print(f"slope: {slope:.2f} s of analysis per minute of video, intercept {my - slope * mx:.2f} s, "
          f"largest residual {residual:.2f} s")  # fmt: skip
    GOALS.append(
        (
            "video slope (linear in duration)",
            "-",
            f"{slope:.2f} s/min",
            f"residual {residual:.2f} s",
            "linear",
            "ok" if residual <= 0.25 * max(ys) else "CHECK",
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
    images = make_images()
    image_time(images, args.runs)
    if not args.skip_rss:
        peak_rss(images)
    video_time(args.long_seconds, args.runs)
    summary()


if __name__ == "__main__":
    main()
