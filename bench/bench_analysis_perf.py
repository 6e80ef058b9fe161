"""Analysis time and memory against baselines in the same run (issue 13's processing goals).

    python bench/bench_analysis_perf.py [--runs 3] [--long-seconds 120]

Inputs are generated into `.bench/perf/` (git-ignored) from package media and ffmpeg:

1. Image analysis of 1 MP JPEGs (astronaut and coffee, scaled to about 1 MP) with the local
   default detectors: min/median of `--runs` against the goal of 150 ms, and against a plain
   Pillow decode of the same file (the floor any analysis pays).
2. Peak RSS (VmHWM) of one analysis in a fresh process: a 200-face mosaic (astronaut faces),
   a 48 MP JPEG and an 89 MP PNG (Pillow's pixel limit), goal <= 600 MiB; the 200-face image
   also with the MTCNN caps off (no candidate cap, one refinement batch), the old behaviour, and
   the faces each finds, which is what the caps cost in recall there.
3. Video analysis of 1080p H.264 at 25 fps with a 250-frame GOP (a camera-like file made by
   ffmpeg; 30, 60 and `--long-seconds` s): time against a full decode of the same file (goal
   <= 0.35x), the sampling chosen, and the slope of analysis time per minute of video.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = ROOT / ".bench" / "perf"

_RSS = """
import sys, json
sys.path.insert(0, {root!r})
from pathlib import Path
from common.processing import AnalysisConfig, analyze_image
config = AnalysisConfig(max_face_candidates={cap}, refine_batch={batch})
result = analyze_image(Path({path!r}), config)
peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
print(json.dumps({{"peak_kib": int(peak), "faces": result.counts.get("face", 0)}}))
"""


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
    return out


def image_time(images: dict[str, Path], runs: int) -> None:
    from PIL import Image

    from common.processing import analyze_image

    analyze_image(images["astronaut-1mp.jpg"])  # load the models once
    print(
        f"{'1 MP image':<22}{'analysis ms min/med':>21}{'decode ms':>11}{'x decode':>10}{'goal ms':>9}"
    )
    for name in ("astronaut-1mp.jpg", "coffee-1mp.jpg"):
        path = images[name]
        ours = timed(lambda p=path: analyze_image(p), runs)
        decode = timed(lambda p=path: Image.open(p).convert("RGB"), runs)
        print(f"{name:<22}{1000 * min(ours):>10.0f} /{1000 * statistics.median(ours):>6.0f}"
              f"{1000 * min(decode):>11.1f}{min(ours) / min(decode):>10.1f}{150:>9}"
              f"  {'ok' if statistics.median(ours) <= 0.150 else 'OVER'}")  # fmt: skip


def peak_rss(images: dict[str, Path]) -> None:
    import json

    print(f"\n{'peak RSS, fresh process':<40}{'MiB':>7}{'faces':>7}{'goal':>6}")
    cases = [
        ("crowd-200-faces.jpg", 600, 64, "caps on (default)"),
        ("crowd-200-faces.jpg", 10**9, 10**9, "caps off (the old path)"),
        ("48mp.jpg", 600, 64, "default"),
        ("89mp.png", 600, 64, "default"),
    ]
    for name, cap, batch, note in cases:
        code = _RSS.format(root=str(ROOT), path=str(images[name]), cap=cap, batch=batch)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        mib = result["peak_kib"] / 1024
        print(
            f"{name + ', ' + note:<40}{mib:>7.0f}{result['faces']:>7}{600:>6}  {'ok' if mib <= 600 else 'OVER'}"
        )


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

    print(f"\n{'1080p H.264, GOP 250':<22}{'decode s':>9}{'analysis s':>11}{'ratio':>7}{'goal':>6}"
          f"{'sampling':>10}{'samples':>8}{'decoded':>8}")  # fmt: skip
    points = []
    for seconds in sorted({30, 60, long_seconds}):
        path = make_video(seconds)
        decode = min(timed(lambda p=path: full_decode(p), runs))
        result = None
        best = float("inf")
        for _ in range(runs):
            start = time.perf_counter()
            result = analyze_video(path)
            best = min(best, time.perf_counter() - start)
        assert result is not None
        points.append((seconds, best))
        print(f"{path.name:<22}{decode:>9.2f}{best:>11.2f}{best / decode:>7.2f}{0.35:>6}"
              f"{result.sampling:>10}{result.frames_sampled:>8}{result.frames_decoded:>8}"
              f"  {'ok' if best / decode <= 0.35 else 'OVER'}")  # fmt: skip
    xs, ys = [p[0] / 60 for p in points], [p[1] for p in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    residual = max(abs(y - (my + slope * (x - mx))) for x, y in zip(xs, ys, strict=True))
    print(f"slope: {slope:.2f} s of analysis per minute of video, intercept {my - slope * mx:.2f} s, "
          f"largest residual {residual:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long-seconds", type=int, default=120)
    args = parser.parse_args()
    images = make_images()
    image_time(images, args.runs)
    peak_rss(images)
    video_time(args.long_seconds, args.runs)


if __name__ == "__main__":
    main()
