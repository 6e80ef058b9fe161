"""The analysis configuration a media is processed with: settings, then its camera's override.

`base_config()` builds `common.processing.AnalysisConfig` from the settings once per process (the
object detector's model is fetched from `DETECTOR_MODEL_URI` once per instance and checked against
`DETECTOR_MODEL_SHA256` before it is used; without it, the file `make models` builds); `config_for(device, camera)` merges the camera's
override (`camera_detection_configs`, set by an owner through
`PUT /v1/devices/{id}/cameras/{camera}/detection`) into it. Overrides apply to media processed
after they are set.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.core.errors import ValidationError
from common.core.settings import Settings, get_settings
from common.core.validation import validation_error

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from common.processing.config import AnalysisConfig

MODEL_CACHE_DIR = Path(tempfile.gettempdir()) / "media-models"
"""Where fetched models are kept for the instance's lifetime, named by their SHA-256."""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_model(uri: str, sha256: str) -> Path:
    """A local copy of the model at `uri` (a path, or `<scheme>://bucket/object` of the store).

    A fetched model is written under a temporary name, checked, then renamed into
    `MODEL_CACHE_DIR/<sha256>.onnx`, so a half-written or wrong file is never used.

    Raises:
        ValueError: the URI's scheme is not the store's, or the bytes' SHA-256 is not `sha256`.
        ObjectNotFound, StorageUnavailable: the object cannot be read.
    """
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return Path(uri)
    from common.storage import get_store

    store = get_store()
    if scheme != store.scheme:
        raise ValueError(f"DETECTOR_MODEL_URI {uri!r} is not on the {store.scheme}:// store")
    bucket, _, name = rest.partition("/")
    target = MODEL_CACHE_DIR / f"{sha256}.onnx"
    if target.exists():
        return target
    MODEL_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = MODEL_CACHE_DIR / f".{sha256}.{os.getpid()}.partial"
    store.download_to_file(bucket, name, None, partial)
    actual = _file_sha256(partial)
    if actual != sha256:
        partial.unlink(missing_ok=True)
        raise ValueError(f"model {uri} has SHA-256 {actual}, not the pinned {sha256}")
    partial.replace(target)
    return target


def config_from_settings(settings: Settings) -> AnalysisConfig:
    """The base analysis configuration the settings describe (fetches the model files).

    Raises:
        ValueError: an inconsistent setting (a model URI without its SHA-256, an unknown
            detector kind, an "onnx" detector without a model).
    """
    from common.processing.config import AnalysisConfig

    detectors: list[dict[str, Any]] = []
    for kind in settings.detectors:
        detector: dict[str, Any] = {"kind": kind}
        if kind == "faces":
            detector.update(
                face_model=settings.detector_face_model,
                max_candidates=settings.mtcnn_max_candidates,
                refine_batch=settings.mtcnn_refine_batch,
            )
        elif kind == "objects":
            detector["score_threshold"] = settings.detector_model_score_threshold
            if settings.detector_model_labels:
                detector["labels"] = tuple(settings.detector_model_labels)
            if settings.detector_model_uri:
                sha256 = _required_sha(settings.detector_model_sha256, "DETECTOR_MODEL")
                detector["path"] = fetch_model(settings.detector_model_uri, sha256)
                detector["sha256"] = sha256
        elif kind == "onnx":
            if not settings.onnx_model_uri:
                raise ValueError("the onnx detector needs ONNX_MODEL_URI and ONNX_MODEL_SHA256")
            sha256 = _required_sha(settings.onnx_model_sha256, "ONNX_MODEL")
            detector.update(
                path=fetch_model(settings.onnx_model_uri, sha256),
                sha256=sha256,
                output_format=settings.onnx_model_format,
                score_threshold=settings.onnx_model_score_threshold,
                nms_iou=settings.onnx_model_nms_iou,
            )
            if settings.onnx_model_labels:
                detector["labels"] = tuple(settings.onnx_model_labels)
        detectors.append(detector)
    values: dict[str, Any] = {
        "detectors": detectors,
        "default_filter": {"min_score": settings.detection_min_score},
        "thumbnail_max_px": settings.thumbnail_max_px,
        "track_iou": settings.track_iou,
        "track_max_gap_ms": settings.track_max_gap_ms,
        "video": {
            "detect_fps": settings.video_detect_fps,
            "max_samples": settings.video_max_samples,
            "stationary_interval_ms": settings.video_stationary_interval_ms,
            "full_frame_every_ms": settings.video_full_frame_every_ms,
            "motion_gating": settings.motion_gating,
            "motion_min_area_fraction": settings.motion_min_area_fraction,
        },
    }
    config = AnalysisConfig().merged(values)
    if settings.detection_filters_json:
        config = config.merged({"filters": settings.detection_filters_json})
    return config


def _required_sha(sha256: str | None, prefix: str) -> str:
    if not sha256:
        raise ValueError(f"{prefix}_URI needs {prefix}_SHA256")
    return sha256


@cache
def base_config() -> AnalysisConfig:
    """`config_from_settings` of the process settings, built once per process."""
    return config_from_settings(get_settings())


def check_override(override: dict[str, Any]) -> AnalysisConfig:
    """Validate a camera override against the base configuration.

    Raises:
        ValidationError: the merged configuration is invalid (422, with the fields).
    """
    from pydantic import ValidationError as PydanticError

    allowed = {
        "filters",
        "default_filter",
        "masks",
        "detectors",
        "video",
        "track_iou",
        "track_max_gap_ms",
        "stationary_after_ms",
        "max_tile_grid",
    }
    unknown = sorted(set(override) - allowed)
    if unknown:
        raise ValidationError(
            f"these fields cannot be set per camera: {', '.join(unknown)}",
            details={"allowed": sorted(allowed)},
        )
    for item in override.get("detectors") or ():
        fixed = sorted({"path", "sha256", "name"} & set(item)) if isinstance(item, dict) else []
        if fixed:
            raise ValidationError(
                f"a camera cannot set a detector's {', '.join(fixed)}: models are the deployment's",
                details={"fields": fixed},
            )
    try:
        return base_config().merged(override)
    except PydanticError as exc:
        raise validation_error(exc, "the detection override is invalid") from exc


def config_for(session: Session, device_id: str, camera_id: str) -> AnalysisConfig:
    """The configuration for new media of one camera: the base plus the camera's override."""
    from common.db.models import CameraDetectionConfig

    row = session.get(CameraDetectionConfig, (device_id, camera_id))
    return base_config() if row is None else base_config().merged(row.config)
