"""Media analysis for process_media: probe, renditions, detection, tracking, motion.

Pure library code over local files. Importing this package is cheap: the result types are plain
dataclasses, everything else is imported on first attribute access (PEP 562), and pydantic,
Pillow, PyAV, OpenCV, numpy and onnxruntime are imported by the modules and functions that need
them. Models are loaded once per process by cached getters on first use.

Public API:
    AnalysisConfig(...)                       detectors, filters, masks, tiles, video sampling
    analyze_image(path, config) -> ImageAnalysis
    analyze_video(path, config, on_progress=...) -> VideoAnalysis
    detect(frame_bgr, ...) -> list[Detection]  MTCNN faces + HOG people on one frame, no tracking
    get_detectors(config) -> tuple[Detector, ...]
    load_onnx_detector(model) / verify_model_file(path, sha256)

Bad media (corrupt, truncated, empty, no video stream, nothing decodable) raises
`common.core.errors.PermanentMediaError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from common.processing.types import (
    Detection,
    ImageAnalysis,
    MotionSegment,
    Rendition,
    Track,
    VideoAnalysis,
)

if TYPE_CHECKING:
    from common.processing.config import (
        AnalysisConfig,
        LabelFilter,
        Mask,
        ObjectModel,
        VideoOptions,
    )
    from common.processing.detection import detect
    from common.processing.detectors import Detector, get_detectors
    from common.processing.detectors.onnx import (
        ModelChecksumError,
        load_onnx_detector,
        verify_model_file,
    )
    from common.processing.image import analyze_image
    from common.processing.video import analyze_video

__all__ = [
    "AnalysisConfig",
    "Detection",
    "Detector",
    "ImageAnalysis",
    "LabelFilter",
    "Mask",
    "ModelChecksumError",
    "MotionSegment",
    "ObjectModel",
    "Rendition",
    "Track",
    "VideoAnalysis",
    "VideoOptions",
    "analyze_image",
    "analyze_video",
    "detect",
    "get_detectors",
    "load_onnx_detector",
    "verify_model_file",
]

_LAZY = {
    "AnalysisConfig": "common.processing.config",
    "LabelFilter": "common.processing.config",
    "Mask": "common.processing.config",
    "ObjectModel": "common.processing.config",
    "VideoOptions": "common.processing.config",
    "Detector": "common.processing.detectors",
    "get_detectors": "common.processing.detectors",
    "ModelChecksumError": "common.processing.detectors.onnx",
    "load_onnx_detector": "common.processing.detectors.onnx",
    "verify_model_file": "common.processing.detectors.onnx",
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
