"""The detector search table of `bench/bench_eval.py` (section 4): one row per setting.

Each setting is merged into `AnalysisConfig()`. Its raw boxes (every filter off, the setting's
search) are computed on the evaluation set (tracked, as in the quality table) and on every
labelled still (a photo, or a video frame that shows a person or a face) resized by each of
`SCALES`; the default filters then apply per box. `search_table` takes the evaluation
primitives of bench_eval.py (`Media`, `apply`, `score`, ...) as `ev`.

Recorded with `python bench/bench_eval.py --search` (TP/FP/FN; false P: person-free media with
a reported person (set) or person boxes on person-free stills; 96 person and 96 face boxes over
the 8 scales of the stills):

    setting                              set person  set face  false P  stills person  stills face
    before (faces 20 px, HOG step 1.05)  5/0/7       12/2/0    0 / 0    37/0/59        89/1/7
    + faces from 3% of the side          5/0/7       12/1/0    0 / 0    37/0/59        89/1/7
    + faces from 4% of the side          5/0/7       12/3/0    0 / 0    37/0/59        89/1/7
    + P-Net pyramid step 0.6             5/0/7       12/2/0    0 / 0    37/0/59        88/1/8
    + P-Net threshold 0.7                5/0/7       12/2/0    0 / 0    37/0/59        89/1/7
    + HOG step 1.1                       5/0/7       12/2/0    0 / 0    28/0/68        89/1/7
    + HOG step 1.15                      5/0/7       12/2/0    0 / 0    32/0/64        89/1/7
    + HOG step 1.15, person thr 0.8      5/0/7       12/2/0    0 / 0    35/0/61        89/1/7
    + HOG step 1.2                       0/1/12      12/2/0    0 / 0    4/0/92         89/1/7
    + HOG stride 16                      1/0/11      12/2/0    0 / 0    14/0/82        89/1/7
    + HOG working size 512               5/0/7       12/2/0    0 / 0    33/0/63        89/1/7
    + HOG copy <= 640 x 480 px           5/0/7       12/2/0    0 / 0    37/0/59        89/1/7
    + HOG padding 0.125                  5/0/7       12/2/0    0 / 0    21/0/75        89/1/7
    default (every kept change)          5/0/7       12/1/0    0 / 0    35/0/61        89/1/7

The CPU column (detectors on two ~1 MP stills) is indicative only: on a loaded machine it moved
by +-30% between runs; it read 382 ms before and 163 ms for the default in that run, and
`bench/bench_analysis_perf.py` is the timing reference.

The table above was recorded before people were inferred from faces (`common.processing.derived`,
on in every row since); a plain `python bench/bench_eval.py` run with it reads:

    setting                              set person  set face  false P  stills person  stills face
    before (faces 20 px, HOG step 1.05)  11/1/1      12/2/0    1 / 0    85/0/11        89/1/7
    default (every kept change)          11/0/1      12/1/0    0 / 0    83/0/13        89/1/7
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from common.processing import AnalysisConfig
from common.processing.types import Detection

SCALES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.4, 2.0)
"""Factors the labelled stills are resized by in the search table: below 1 people and faces
shrink in the detectors' working copies (and fall between pyramid levels differently); at 1.4
and 2.0 the images pass the working sizes and are shrunk back (2.0 makes the photos about 1 MP)."""

_BEFORE = {
    "face_search": {"max_side_px": 1024, "min_face_px": 20, "min_face_fraction": 0.0,
                    "pyramid_factor": 0.709, "pnet_threshold": 0.6},
    "people_search": {"max_side_px": 640, "max_area_px": None, "scale_step": 1.05,
                      "stride_px": 8, "pad_fraction": 0.25},
    "filters": {"person": {"threshold": 0.9}},
}  # fmt: skip


def _before_with(change: dict[str, Any]) -> dict[str, Any]:
    out = {key: dict(value) for key, value in _BEFORE.items()}
    for key, value in change.items():
        out[key] = {**out.get(key, {}), **value}
    return out


SEARCH_VARIANTS: dict[str, dict[str, Any]] = {
    "before (faces 20 px, HOG step 1.05)": _BEFORE,
    "before + faces from 3% of the side": _before_with(
        {"face_search": {"min_face_fraction": 0.03}}
    ),
    "before + faces from 4% of the side": _before_with(
        {"face_search": {"min_face_fraction": 0.04}}
    ),
    "before + P-Net pyramid step 0.6": _before_with({"face_search": {"pyramid_factor": 0.6}}),
    "before + P-Net threshold 0.7": _before_with({"face_search": {"pnet_threshold": 0.7}}),
    "before + HOG step 1.1": _before_with({"people_search": {"scale_step": 1.1}}),
    "before + HOG step 1.15": _before_with({"people_search": {"scale_step": 1.15}}),
    "before + HOG step 1.15, person thr 0.8": _before_with(
        {"people_search": {"scale_step": 1.15}, "filters": {"person": {"threshold": 0.8}}}
    ),
    "before + HOG step 1.2": _before_with({"people_search": {"scale_step": 1.2}}),
    "before + HOG stride 16": _before_with({"people_search": {"stride_px": 16}}),
    "before + HOG working size 512": _before_with({"people_search": {"max_side_px": 512}}),
    "before + HOG copy <= 640 x 480 px": _before_with(
        {"people_search": {"max_area_px": 640 * 480}}
    ),
    "before + HOG padding 0.125": _before_with({"people_search": {"pad_fraction": 0.125}}),
    "default (every kept change)": {},
}
"""Detector search settings compared by `bench_eval.py --search`, one change at a time from the
settings before the search tuning (commit a88a30d) (each merged into `AnalysisConfig()`); a plain run compares the
first and the last only."""


class Still:
    """One labelled still (a photo or a video frame) resized by `scale`, with the raw boxes of
    one search setting; shaped like `Media` for `apply` and `score`."""

    kind = "image"
    all_frames_labelled = True

    def __init__(self, name: str, rgb: Any, truth: list[dict[str, Any]], scale: float) -> None:
        import cv2

        self.name = f"{name}@{scale:g}"
        height, width = rgb.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        self.rgb = cv2.resize(rgb, size, interpolation=interpolation) if scale != 1 else rgb
        self.size = size
        sx, sy = size[0] / width, size[1] / height
        self.truth: dict[int | None, list[dict[str, Any]]] = {
            None: [
                {**b, "box": [b["box"][0] * sx, b["box"][1] * sy, b["box"][2] * sx,
                              b["box"][3] * sy]}
                for b in truth
            ]
        }  # fmt: skip
        self.negative = not any(b["label"] == "person" for b in truth)
        self.frames: dict[int | None, list[Detection]] = {}
        self.cpu_s = 0.0

    def detect(self, permissive: AnalysisConfig) -> None:
        from common.processing._pipeline import FrameAnalyzer

        analyzer = FrameAnalyzer(permissive, snapshots=False)
        start = time.process_time()
        analyzer.analyze(self.rgb, None)
        self.cpu_s = time.process_time() - start
        self.frames = {None: analyzer.raw_detections}


def labelled_stills(
    labels: dict[str, Any], media_path: Any
) -> list[tuple[str, Any, list[dict[str, Any]]]]:
    """Every labelled photo, and every labelled video frame that shows a person or a face."""
    import av
    import numpy as np
    from PIL import Image

    out = []
    for item in labels["images"]:
        rgb = np.asarray(Image.open(media_path(item)).convert("RGB"))
        out.append((Path(item["path"]).name, rgb, item["boxes"]))
    for item in labels["videos"]:
        if item["frames"] == "none":
            continue
        wanted = {f["time_ms"]: f["boxes"] for f in item["frames"] if f["boxes"]}
        name = Path(item.get("path", item.get("generated", "?"))).stem
        with av.open(str(media_path(item))) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                time_ms = int(frame.pts * stream.time_base * 1000)
                due = [t for t in wanted if t <= time_ms]
                for t in due:
                    out.append((f"{name}@{t}ms", frame.to_ndarray(format="rgb24"), wanted.pop(t)))
                if not wanted:
                    break
    return out


def search_table(
    labels: dict[str, Any], variants: dict[str, dict[str, Any]], ev: dict[str, Any]
) -> None:
    """Recall, false persons and detector CPU time of each search setting (see `SCALES`)."""
    media_cls, apply, score = ev["media"], ev["apply"], ev["score"]
    eval_labels = ev["labels"]
    stills = labelled_stills(labels, ev["media_path"])
    print(
        f"\nsearch settings: the eval set (tracked, as above) and {len(stills)} labelled stills "
        f"x {len(SCALES)} scales (per box, default filters), counts TP/FP/FN; false P: media "
        "(set) or boxes (stills) with a person where there is none; CPU ms: the detectors on "
        "astronaut and coffee x2.0 (~1 MP), mean of their least of 3 runs"
    )
    print(f"{'setting':<44}{'set person':>11}{'set face':>10}{'false P':>8}{'stills person':>14}"
          f"{'stills face':>12}{'false P':>8}{'CPU ms':>8}")  # fmt: skip
    per_scale: dict[str, list[str]] = {}
    for name, override in variants.items():
        # Raw boxes come from the permissive config with the variant's search settings; its
        # filters apply afterwards, as in `quality`.
        search = {k: v for k, v in override.items() if k not in ("filters", "default_filter")}
        permissive = ev["permissive"].merged(search)
        config = AnalysisConfig().merged(override)
        items = [media_cls(i, "image", permissive) for i in labels["images"]] + [
            media_cls(v, "video", permissive) for v in labels["videos"]
        ]
        counts: dict[str, list[int]] = {label: [0, 0, 0] for label in eval_labels}
        false_media = 0
        for media in items:
            boxes = apply(media, config)
            score(media, boxes, counts)
            false_media += media.negative and any(d.label == "person" for d in boxes)
        sweep: dict[str, list[int]] = {label: [0, 0, 0] for label in eval_labels}
        false_boxes, cpu, cells = 0, [], []
        for scale in SCALES:
            at_scale: dict[str, list[int]] = {label: [0, 0, 0] for label in eval_labels}
            for still_name, rgb, truth in stills:
                still = Still(still_name, rgb, truth, scale)
                still.detect(permissive)
                if scale == 2.0 and still_name in ("astronaut.png", "coffee.png"):
                    for _ in range(2):  # the least of 3 runs: CPU time still varies under load
                        cpu_s = still.cpu_s
                        still.detect(permissive)
                        still.cpu_s = min(cpu_s, still.cpu_s)
                    cpu.append(still.cpu_s)
                boxes = apply(still, config)
                score(still, boxes, at_scale)
                if still.negative:
                    false_boxes += sum(1 for d in boxes if d.label == "person")
            for label in eval_labels:
                sweep[label] = [a + b for a, b in zip(sweep[label], at_scale[label], strict=True)]
            cells.append(f"{scale:g}:{at_scale['person'][0]}/{at_scale['face'][0]}")
        per_scale[name] = cells
        print(f"{name:<44}{_tpfn(counts['person']):>11}{_tpfn(counts['face']):>10}"
              f"{false_media:>8}{_tpfn(sweep['person']):>14}{_tpfn(sweep['face']):>12}"
              f"{false_boxes:>8}{1000 * statistics.mean(cpu):>8.0f}")  # fmt: skip
    print("\nhits per scale (person/face) on the stills:")
    for name, cells in per_scale.items():
        print(f"{name:<44}{' '.join(cells)}")


def _tpfn(tp_fp_fn: list[int]) -> str:
    tp, fp, fn = tp_fp_fn
    return f"{tp}/{fp}/{fn}"
