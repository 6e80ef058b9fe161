"""What an analysis runs and what it reports: one validated, immutable configuration object.

`AnalysisConfig` gathers the detectors (each a typed configuration, `DetectorConfig`), the
filters camera users tune, tracking, the tiling of stills and the sampling of videos. Every field
has a default, so `AnalysisConfig()` is the local default: MTCNN faces and the SSD object detector
(people, pets, vehicles) built by `make models`. The pipeline fills it from settings and then
applies a per-camera override stored as JSON with `AnalysisConfig.merged(override)`.

The filters follow the semantics of the open-source NVR Frigate
(https://docs.frigate.video/configuration/object_filters): a box under the label's `min_score`
is dropped before tracking; a track is reported only when the median of its score history reaches
the label's `threshold`; `min_area` / `max_area` and aspect-ratio bounds drop boxes of the wrong
size or shape; a box whose bottom-centre point (where an object stands) lies inside a mask polygon
is dropped. What each costs in recall on the evaluation set is printed by `bench/bench_eval.py`.

Importing this module imports pydantic (not numpy, OpenCV, PyAV or onnxruntime).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from common.processing._frozen import Frozen
from common.processing.detectors.faces import FaceModel, FacesConfig, FaceSearch
from common.processing.detectors.hog import HogConfig, PeopleSearch
from common.processing.detectors.onnx import ObjectModel
from common.processing.detectors.ssd import SsdConfig

__all__ = [
    "DEFAULT_LABEL_FILTERS",
    "AnalysisConfig",
    "DetectorConfig",
    "DetectorKind",
    "FaceModel",
    "FaceSearch",
    "FacesConfig",
    "HogConfig",
    "LabelFilter",
    "Mask",
    "ObjectModel",
    "PeopleSearch",
    "SsdConfig",
    "VideoOptions",
    "resolve",
]

DetectorConfig = Annotated[
    FacesConfig | HogConfig | SsdConfig | ObjectModel, Field(discriminator="kind")
]
"""One detector's configuration; its `kind` names it. Adding a detector is one module in
`common.processing.detectors` (a config class with a `kind` and a `build()`) and its class
here."""
DetectorKind = Literal["faces", "people", "objects", "onnx"]
"""The `kind` of each `DetectorConfig` member: "faces" (MTCNN), "people" (OpenCV HOG),
"objects" (the SSD object detector), "onnx" (a YOLO / DetectionOutput ONNX export)."""


class LabelFilter(Frozen):
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
    # Chosen on the evaluation set (bench/bench_eval.py), so optimistic there; bench/README.md
    # has the figures. The SSD scores walkers in camera footage 0.45-0.7 and cones, bollards,
    # tripods and rocks up to 0.4; cars 0.4-0.6 (parked and far ones lower); other animals
    # (primates, meerkats) as dogs or cats up to 0.6. MTCNN scores real faces 0.99+ (and
    # monkeys' too), a fractal 0.87.
    "person": LabelFilter(
        min_score=0.35, threshold=0.45, min_aspect_ratio=0.15, max_aspect_ratio=2.0
    ),
    "car": LabelFilter(min_score=0.3, threshold=0.4),
    "vehicle": LabelFilter(min_score=0.3, threshold=0.4),
    "bicycle": LabelFilter(min_score=0.3, threshold=0.4),
    "dog": LabelFilter(min_score=0.35, threshold=0.45),
    "cat": LabelFilter(min_score=0.4, threshold=0.55),
    "face": LabelFilter(min_score=0.7, threshold=0.9),
}
"""Per-label defaults; labels not listed use `AnalysisConfig.default_filter`."""


class Mask(Frozen):
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


class VideoOptions(Frozen):
    """How a video is sampled: every frame is decoded and watched for motion; the detectors run
    on a sample when something moves or is tracked, on regions around it.

    Attributes:
        detect_fps: samples per second the detectors run at while there is motion or a moving
            tracked object (Frigate's `detect.fps`; its default is 5).
        max_samples: at most this many samples per video; a longer video is sampled at
            `max_samples / duration` per second instead (bounds the work).
        stationary_interval_ms: a tracked object that has not moved is looked at again this often
            (a parked car stays one track without a detector run every sample).
        full_frame_every_ms: the first frame and one frame at least this often are full passes:
            the whole frame and its tiles, faces searched everywhere (catches what appears
            without motion).
        motion_gating: False makes every sample a full pass at `detect_fps`.
        motion_height_px: motion runs on a greyscale copy this tall (Frigate's motion
            `frame_height`; its default is 100).
        motion_threshold: a pixel moves when it differs from the background by more (0..255,
            Frigate's `motion.threshold`).
        motion_min_area_fraction: a frame has motion when its moving area covers at least this
            fraction of the frame.
        max_regions: at most this many regions per sample (more are merged into larger ones).
        detect_max_side_px: frames are converted for detection at most this large on their
            longest side (a 4K frame is halved).
    """

    detect_fps: float = Field(default=2.0, gt=0.0, le=30.0)
    max_samples: int = Field(default=2400, ge=1)
    stationary_interval_ms: int = Field(default=3000, ge=1)
    full_frame_every_ms: int = Field(default=5000, ge=1)
    motion_gating: bool = True
    motion_height_px: int = Field(default=120, ge=32, le=1080)
    motion_threshold: int = Field(default=25, ge=1, le=255)
    motion_min_area_fraction: float = Field(default=0.001, ge=0.0, le=1.0)
    max_regions: int = Field(default=3, ge=1, le=32)
    detect_max_side_px: int = Field(default=1920, ge=64)


class AnalysisConfig(Frozen):
    """Everything `analyze_image` and `analyze_video` need to know besides the file.

    Attributes:
        detectors: the detectors that run, in order (at least one, no kind twice). In JSON a
            detector may be named by its kind alone ("faces"), which takes that kind's defaults,
            or a per-camera override's base detector of that kind (`merged`).
        filters: per-label filters; a label not listed uses `default_filter`.
        default_filter: the filter of every other label.
        masks: regions where nothing is reported.
        label_groups: labels that one object may carry from one sample to the next (a "car" box
            and a "vehicle" box of one object): a track follows its object across them and takes
            the label it scored best as.
        max_tile_grid: stills (and a video's full passes) are searched whole and, when larger
            than 1.5 times a region detector's input on a side, also in a grid of overlapping
            tiles, round(side / (1.5 x input side)) across each side, up to this many (0 or 1:
            whole frame only; `common.processing.regions.tiles`).
        thumbnail_max_px: bound on the thumbnail's longest side.
        web_rendition: re-encode still images in formats browsers do not all show (GIF, BMP,
            TIFF, ...) as a "web" rendition (`ImageAnalysis.web`); False leaves them without one.
        web_max_px: bound on the longest side of the "web" rendition.
        snapshot_max_px: bound on the longest side of a track's cropped snapshot.
        track_iou: a box joins a track of its label (group) when its IoU with the track's
            predicted box is at least this.
        track_max_gap_ms: a track ends when not seen for longer than this (and at least two
            stationary intervals for a stationary one).
        stationary_after_ms: a track that stays in place at least this long is flagged
            stationary.
        faces_in_people: on video samples that are not full passes, faces are searched only
            around the people found (upper part of each person box, the largest four).
        people_from_faces: with a "faces" detector, a face that passed the filters, scores at
            least `people_from_faces_min_score` and that no person box holds confirms a weak
            person box of the object detector around it (or, with HOG, adds a person box
            estimated from it; `common.processing.derived`). On the evaluation set it adds
            person recall in photos (0.12 -> 0.34) and no false person.
        people_from_faces_min_score: what such a face must score.
        video: sampling, motion and regions of videos.
    """

    detectors: tuple[DetectorConfig, ...] = (FacesConfig(), SsdConfig())
    filters: dict[str, LabelFilter] = Field(default_factory=lambda: dict(DEFAULT_LABEL_FILTERS))
    default_filter: LabelFilter = LabelFilter(min_score=0.35, threshold=0.45)
    masks: tuple[Mask, ...] = ()
    label_groups: tuple[tuple[str, ...], ...] = (("car", "vehicle"),)
    max_tile_grid: int = Field(default=3, ge=0, le=6)
    thumbnail_max_px: int = Field(default=320, ge=1)
    web_rendition: bool = True
    web_max_px: int = Field(default=4096, ge=16)
    snapshot_max_px: int = Field(default=320, ge=16)
    track_iou: float = Field(default=0.2, gt=0.0, le=1.0)
    track_max_gap_ms: int = Field(default=2000, ge=0)
    stationary_after_ms: int = Field(default=10_000, ge=0)
    faces_in_people: bool = True
    people_from_faces: bool = True
    people_from_faces_min_score: float = Field(default=0.98, ge=0.0, le=1.0)
    video: VideoOptions = VideoOptions()

    def __hash__(self) -> int:  # `filters` is a dict: hash a canonical dump instead
        return hash(self.model_dump_json())

    @field_validator("detectors", mode="before")
    @classmethod
    def _kinds_as_names(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"kind": item} if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _detectors_valid(self) -> AnalysisConfig:
        kinds = [d.kind for d in self.detectors]
        if not kinds:
            raise ValueError("detectors must name at least one detector")
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"detectors repeat a kind: {kinds}")
        return self

    def detector(self, kind: DetectorKind) -> DetectorConfig | None:
        """The configured detector of that kind, or None."""
        return next((d for d in self.detectors if d.kind == kind), None)

    def filter_for(self, label: str) -> LabelFilter:
        """The filter of `label`."""
        return self.filters.get(label, self.default_filter)

    def group_of(self, label: str) -> str:
        """The first label of `label`'s group in `label_groups` (itself when in none)."""
        return _group_of(self.label_groups, label)

    def merged(self, override: Mapping[str, Any]) -> AnalysisConfig:
        """A copy with `override` (JSON-like, e.g. a per-camera row) merged in and validated.

        Nested mappings merge key by key (`{"filters": {"person": {"threshold": 0.8}}}` changes
        one value and keeps the rest of the person filter); lists and scalars replace, except
        `detectors`: each item ("faces", or {"kind": "objects", "score_threshold": 0.3}) is
        merged into this configuration's detector of that kind when there is one, so a camera
        can choose detectors and tune them without repeating a model's path and checksum.

        Raises:
            pydantic.ValidationError: the merged configuration is invalid.
        """
        base = self.model_dump(mode="python")
        if "detectors" in override and isinstance(override["detectors"], list | tuple):
            override = {
                **override,
                "detectors": [self._merged_detector(item) for item in override["detectors"]],
            }
        return AnalysisConfig.model_validate(_deep_merge(base, override))

    def _merged_detector(self, item: Any) -> Any:
        kind = (
            item
            if isinstance(item, str)
            else item.get("kind")
            if isinstance(item, Mapping)
            else None
        )
        current = next((d for d in self.detectors if d.kind == kind), None)
        if current is None:
            return {"kind": item} if isinstance(item, str) else item
        dumped = current.model_dump(mode="python")
        return dumped if isinstance(item, str) else _deep_merge(dumped, item)


@cache
def _group_of(groups: tuple[tuple[str, ...], ...], label: str) -> str:
    return next((group[0] for group in groups if label in group), label)


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
) -> AnalysisConfig:
    """The configuration an analysis runs with: `config` (or the default) and the keyword
    overrides that `analyze_image` / `analyze_video` accept.

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
    return config.merged(update) if update else config
