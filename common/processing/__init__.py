"""Media analysis for process_media: probe, renditions, face and person detection.

Pure library code over local files. Importing this package is cheap: the result types are plain
dataclasses, the functions are imported on first attribute access (PEP 562), and Pillow, PyAV,
OpenCV and numpy are imported inside the functions that need them. Models are loaded once per
process by cached getters on first use.

Public API:
    analyze_image(path, ...) -> ImageAnalysis
    analyze_video(path, ...) -> VideoAnalysis
    detect(frame_bgr, ...) -> list[Detection]

Bad media (corrupt, truncated, empty, no video stream, nothing decodable) raises
`common.errors.PermanentMediaError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from common.processing.types import Detection, ImageAnalysis, Rendition, VideoAnalysis

if TYPE_CHECKING:
    from common.processing.detection import detect
    from common.processing.image import analyze_image
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

_LAZY = {
    "analyze_image": "common.processing.image",
    "analyze_video": "common.processing.video",
    "detect": "common.processing.detection",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
