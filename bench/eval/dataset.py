"""The object evaluation set: labelled boxes (`bench/eval/objects.json`) and the frames they are on.

    python bench/eval/dataset.py --summary   # counts per label, person heights, negatives
    python bench/eval/dataset.py --contact   # every labelled frame with its boxes, to .bench/eval/contact/

`load()` reads the labels into `Sample`s; `frame_rgb(sample)` returns the frame the boxes were drawn
on: an image decoded by Pillow and turned upright by its EXIF orientation, or for a video frame the
first frame PyAV decodes whose presentation time is >= `time_ms`. The media come from the package
registries (`python bench/eval/media.py`); the schema is described in objects.json's "about".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OBJECTS = HERE / "objects.json"
MEDIA = ROOT / ".bench" / "eval" / "media"
CONTACT = ROOT / ".bench" / "eval" / "contact"
VOCABULARY = ("person", "dog", "cat", "bicycle", "car", "motorcycle", "bus", "truck")
HEIGHT_BANDS = ((0, 40, "<40 px"), (40, 100, "40-100 px"), (100, 1 << 30, ">=100 px"))


@dataclass(frozen=True)
class Box:
    """One labelled object: `box` is (x1, y1, x2, y2) in source pixels of the upright frame."""

    label: str
    box: tuple[float, float, float, float]
    difficult: bool

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Sample:
    """One labelled image or video frame (`time_ms` is None for images)."""

    id: str
    kind: str
    path: Path
    time_ms: int | None
    width: int
    height: int
    night_or_gray: bool
    boxes: tuple[Box, ...]


def load(objects: Path = OBJECTS, media: Path = MEDIA) -> list[Sample]:
    """Every labelled media entry of objects.json, in file order (paths under `media`)."""
    document = json.loads(objects.read_text())
    return [_sample(entry, media) for entry in document["media"]]


def _sample(entry: dict[str, Any], media: Path) -> Sample:
    boxes = tuple(
        Box(b["label"], tuple(b["box"]), bool(b.get("difficult", False)))  # type: ignore[arg-type]
        for b in entry["boxes"]
    )
    return Sample(
        id=entry["id"],
        kind=entry["kind"],
        path=media / entry["source"],
        time_ms=entry.get("time_ms"),
        width=entry["width"],
        height=entry["height"],
        night_or_gray=entry["night_or_gray"],
        boxes=boxes,
    )


def frame_rgb(sample: Sample) -> Any:
    """The labelled frame as a numpy uint8 array of shape (height, width, 3), RGB.

    Images: Pillow, rotated upright by EXIF orientation (`ImageOps.exif_transpose`), then RGB.
    Video frames: the first frame PyAV decodes from the first video stream whose pts (in seconds,
    pts x time_base) is >= time_ms / 1000.

    Raises:
        FileNotFoundError: the media file is absent (run bench/eval/media.py).
        LookupError: the video has no frame at or after time_ms.
    """
    import numpy as np

    if not sample.path.exists():
        raise FileNotFoundError(f"{sample.path} (run: python bench/eval/media.py)")
    if sample.kind == "image":
        from PIL import Image, ImageOps

        with Image.open(sample.path) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    import av

    wanted = Fraction(sample.time_ms or 0, 1000)
    with av.open(str(sample.path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is not None and frame.pts * stream.time_base >= wanted:
                return frame.to_ndarray(format="rgb24")
    raise LookupError(f"{sample.path} has no frame at or after {sample.time_ms} ms")


def summary(samples: list[Sample]) -> str:
    """A plain-text table: media, boxes per label, person heights, negatives, night/gray."""
    labels: Counter[str] = Counter()
    difficult: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    for sample in samples:
        for box in sample.boxes:
            (difficult if box.difficult else labels)[box.label] += 1
            if box.label == "person" and not box.difficult:
                bands[next(n for lo, hi, n in HEIGHT_BANDS if lo <= box.height < hi)] += 1
    kinds = Counter(s.kind for s in samples)
    empty = [s for s in samples if not s.boxes]
    lines = [
        f"media: {len(samples)} ({kinds['image']} images, {kinds['video_frame']} video frames)",
        f"boxes: {sum(labels.values()) + sum(difficult.values())}"
        f" ({sum(difficult.values())} difficult)",
        f"{'label':<12}{'boxes':>7}{'difficult':>11}{'media':>7}",
    ]
    for label in VOCABULARY:
        with_label = sum(any(b.label == label for b in s.boxes) for s in samples)
        lines.append(f"{label:<12}{labels[label]:>7}{difficult[label]:>11}{with_label:>7}")
    lines.append("non-difficult persons by height: " + ", ".join(
        f"{name} {bands[name]}" for _, _, name in HEIGHT_BANDS
    ))  # fmt: skip
    lines.append(f"media with nothing of interest: {len(empty)}")
    lines.append(f"night or gray media: {sum(s.night_or_gray for s in samples)}")
    return "\n".join(lines)


def contact_sheets(samples: list[Sample], out: Path = CONTACT) -> list[Path]:
    """Render every labelled frame with its boxes (difficult ones dashed-thin) to out/<id>.jpg."""
    from PIL import Image, ImageDraw

    colours = {"person": "red", "dog": "orange", "cat": "magenta", "bicycle": "cyan",
               "car": "lime", "motorcycle": "blue", "bus": "yellow", "truck": "white"}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for sample in samples:
        image = Image.fromarray(frame_rgb(sample))
        draw = ImageDraw.Draw(image)
        for box in sample.boxes:
            width = 1 if box.difficult else 2
            draw.rectangle(box.box, outline=colours[box.label], width=width)
            draw.text((box.box[0] + 2, box.box[1] + 1), box.label[:3], fill=colours[box.label])
        target = out / f"{sample.id}.jpg"
        image.save(target, quality=85)
        written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--summary", action="store_true", help="print the set's counts")
    parser.add_argument("--contact", action="store_true", help="render every frame with boxes")
    args = parser.parse_args()
    samples = load()
    if args.contact:
        paths = contact_sheets(samples)
        print(f"{len(paths)} frames with boxes in {CONTACT.relative_to(ROOT)}")
    if args.summary or not args.contact:
        print(summary(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
