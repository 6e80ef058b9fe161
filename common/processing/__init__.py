"""Media analysis for process_media: probe, renditions, face and person detection.

Pure library code over local files. Importing this package is cheap: Pillow, PyAV, OpenCV and
numpy are imported inside the functions that need them, and models are loaded once per process by
cached getters on first use.

Public API:
    analyze_image(path, ...) -> ImageAnalysis
    analyze_video(path, ...) -> VideoAnalysis
    detect(frame_bgr, ...) -> list[Detection]

Bad media (corrupt, truncated, empty, no video stream, nothing decodable) raises
`common.errors.PermanentMediaError`.
"""

from __future__ import annotations

from common.processing.detect import detect
from common.processing.image import analyze_image
from common.processing.types import Detection, ImageAnalysis, Rendition, VideoAnalysis
from common.processing.video import analyze_video

__all__ = [
    "Detection",
    "ImageAnalysis",
    "Rendition",
    "VideoAnalysis",
    "analyze_image",
    "analyze_video",
    "detect",
]
