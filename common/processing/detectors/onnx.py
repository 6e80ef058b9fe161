"""The "onnx" detector: an ONNX export of a single-stage detector (YOLO or SSD DetectionOutput).

The model is a local file whose SHA-256 is checked before onnxruntime sees it (`load_onnx_detector`
or `verify_model_file`); fetching it from a models bucket is the caller's job.

Pre-processing: the BGR frame is letterboxed into the network input (scaled keeping its aspect
ratio, centred, padded with grey `pad_value`; Ultralytics' `LetterBox`,
https://github.com/ultralytics/ultralytics/blob/main/ultralytics/data/augment.py) or stretched
(`letterbox=False`), converted to RGB, and laid out as the input asks: NCHW or NHWC, float32 in
0..1 or uint8 in 0..255 (read from the input's declared shape and element type).

Outputs read (the first output of the model):

- **YOLO** (YOLOv8/v11 and later exports, https://docs.ultralytics.com/modes/export/):
  `[1, 4 + C, N]` (or transposed `[1, N, 4 + C]`): per candidate the box centre x, y, width,
  height in input pixels and C class scores; the confidence is the best class score. A
  `[1, N, 5 + C]` output (YOLOv5: an objectness column before the class scores) is read too, with
  confidence = objectness x class score.
- **SSD** (`[N, 7]` or `[1, 1, N, 7]`, the DetectionOutput layout of Caffe/OpenCV SSD exports,
  https://docs.opencv.org/4.x/d6/d0f/group__dnn.html): rows of image id, class id, score, x1, y1,
  x2, y2 with corners in 0..1 of the input; class ids index `class_names` after subtracting
  `ssd_label_offset`.

Then: confidence threshold, the label subset, a cap on candidates (best first), class-wise greedy
NMS at `nms_iou`, a cap on detections, and the boxes mapped back to source pixels.
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from common.processing import _cv
from common.processing._boxes import Letterbox, batched_nms, letterbox_geometry, to_int_box
from common.processing._frozen import Frozen
from common.processing.labels import COCO80_NAMES, DEFAULT_OBJECT_LABELS
from common.processing.types import Detection

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "ModelChecksumError",
    "ObjectModel",
    "OnnxDetector",
    "load_onnx_detector",
    "verify_model_file",
]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ObjectModel(Frozen):
    """Configuration of the "onnx" detector: an ONNX model file on local disk.

    Attributes:
        kind: "onnx".
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

    kind: Literal["onnx"] = "onnx"
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

    def build(self) -> OnnxDetector:
        """The detector (see `load_onnx_detector`)."""
        return load_onnx_detector(self)


_CHUNK_BYTES = 1 << 20


class ModelChecksumError(ValueError):
    """A model file's SHA-256 is not the pinned one (a wrong, changed or partial download).

    Attributes:
        path: the file.
        expected: the pinned SHA-256 (hex).
        actual: the file's SHA-256 (hex).
    """

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(
            f"model file {path} has SHA-256 {actual}, expected {expected}: refusing to load it"
        )
        self.path, self.expected, self.actual = path, expected, actual


def verify_model_file(path: Path, sha256: str) -> None:
    """Check a model file against its pinned SHA-256 (read in 1 MiB chunks).

    Raises:
        ModelChecksumError: the digest differs.
        OSError: the file cannot be read (FileNotFoundError when it is missing).
    """
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    actual = digest.hexdigest()
    if actual != sha256.lower():
        raise ModelChecksumError(path, sha256.lower(), actual)


class OnnxDetector:
    """One ONNX detector session, safe to share between threads (calls are serialised).

    Attributes:
        name: "onnx:<file stem>:<first 12 hex digits of its SHA-256>", the `model` of its boxes.
        labels: the labels it may report.
        input_size: (width, height) of the network input.
        output_format: "yolo" or "ssd", as configured or read from the output shape.
    """

    def __init__(self, model: ObjectModel, *, verified: bool = False) -> None:
        """Verify the file (unless `verified`) and open an onnxruntime CPU session.

        Raises:
            ModelChecksumError: the file is not the pinned one.
            ValueError: the model's input or output is not a layout this class reads.
            OSError: the file cannot be read.
        """
        import onnxruntime as ort

        if not verified:
            verify_model_file(model.path, model.sha256)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._model = model
        self._lock = threading.Lock()
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        self._uint8 = inp.type == "tensor(uint8)"
        shape = list(inp.shape)
        if len(shape) != 4:
            raise ValueError(f"model input {inp.name} has shape {shape}; expected 4 dimensions")
        self._nhwc = shape[3] == 3 and shape[1] != 3
        if model.input_size is not None:
            self.input_size = model.input_size
        else:
            dims = shape[1:3] if self._nhwc else shape[2:4]
            if not all(isinstance(d, int) and d > 0 for d in dims):
                raise ValueError(f"model input {inp.name} has dynamic size {shape}: set input_size")
            self.input_size = (int(dims[1]), int(dims[0]))
        self.output_format = model.output_format
        self.name = f"onnx:{model.path.stem}:{model.sha256[:12]}"
        self.labels = tuple(model.labels)
        self.region_px: int | None = max(self.input_size)
        self._wanted = [name in set(model.labels) for name in model.class_names]

    @property
    def max_side_px(self) -> int | None:
        """The longest frame side that reaches the network: a letterboxed frame is scaled to fit
        the input, so a longer side gains nothing; a stretched one (no letterbox) needs both of
        its sides at full size (None)."""
        return max(self.input_size) if self._model.letterbox else None

    def preprocess(self, frame_bgr: NDArray[np.uint8]) -> tuple[NDArray[Any], Letterbox]:
        """Letterbox (or stretch) a BGR frame into the model's input tensor.

        Returns:
            The tensor, (1, 3, H, W) or (1, H, W, 3), float32 in 0..1 or uint8, RGB; and where the
            frame sits in it.
        """
        cv2 = _cv.cv2()
        import numpy as np

        height, width = frame_bgr.shape[:2]
        box = letterbox_geometry(
            (width, height), self.input_size, keep_aspect=self._model.letterbox
        )
        new_w = round(width * box.scale_x)
        new_h = round(height * box.scale_y)
        resized = cv2.resize(frame_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        in_w, in_h = self.input_size
        canvas = np.full((in_h, in_w, 3), self._model.pad_value, dtype=np.uint8)
        canvas[box.pad_y : box.pad_y + new_h, box.pad_x : box.pad_x + new_w] = resized
        rgb = canvas[:, :, ::-1]
        tensor: NDArray[Any] = rgb[np.newaxis] if self._nhwc else rgb.transpose(2, 0, 1)[np.newaxis]
        if self._uint8:
            return np.ascontiguousarray(tensor), box
        return np.ascontiguousarray(tensor, dtype=np.float32) / np.float32(255.0), box

    def infer(self, tensor: NDArray[Any]) -> NDArray[Any]:
        """Run the network on a prepared tensor; return its first output as a numpy array."""
        import numpy as np

        with self._lock:
            outputs = self._session.run(None, {self._input_name: tensor})
        return np.asarray(outputs[0])

    def postprocess(self, output: NDArray[Any], box: Letterbox) -> NDArray[np.float64]:
        """Decode, threshold, cap and suppress; return rows (x1, y1, x2, y2, score, class id).

        Corners are in source pixels, clipped to the frame.

        Raises:
            ValueError: the output's shape fits neither layout.
        """
        import numpy as np

        fmt = self.output_format
        if fmt == "auto":
            fmt = "ssd" if output.shape[-1] == 7 and output.ndim in (2, 4) else "yolo"
        if fmt == "ssd":
            corners, scores, classes = self._decode_ssd(output)
        else:
            corners, scores, classes = self._decode_yolo(output)
        model = self._model
        valid = (classes >= 0) & (classes < len(self._wanted))
        keep = valid & (scores >= model.score_threshold)
        keep[keep] = np.asarray(self._wanted)[classes[keep]]
        corners, scores, classes = corners[keep], scores[keep], classes[keep]
        if len(scores) > model.max_candidates:
            top = np.argsort(-scores, kind="stable")[: model.max_candidates]
            corners, scores, classes = corners[top], scores[top], classes[top]
        picked = batched_nms(corners, scores, classes, model.nms_iou)[: model.max_detections]
        source = box.to_source(corners[picked]) if len(picked) else np.empty((0, 4))
        return np.column_stack([source, scores[picked], classes[picked]]).reshape(-1, 6)

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        """Find objects in a BGR frame (height, width, 3), uint8; boxes in its pixels, best first."""
        tensor, box = self.preprocess(frame_bgr)
        rows = self.postprocess(self.infer(tensor), box)
        out = []
        for x1, y1, x2, y2, score, cls in rows:
            corners = to_int_box(x1, y1, x2, y2)
            if corners is None:
                continue
            x, y, w, h = corners
            label = self._model.class_names[int(cls)]
            out.append(Detection(label, round(float(score), 4), x, y, w, h, time_ms, self.name))
        return out

    def _decode_yolo(self, output: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        import numpy as np

        classes = len(self._model.class_names)
        arr = np.asarray(output, dtype=np.float32)
        if arr.ndim == 3 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim != 2:
            raise ValueError(f"YOLO output must be [1, 4+C, N] or [1, N, 4+C], got {output.shape}")
        if arr.shape[0] in (4 + classes, 5 + classes) and arr.shape[1] not in (
            4 + classes,
            5 + classes,
        ):
            arr = arr.T
        if arr.shape[1] == 4 + classes:
            class_scores = arr[:, 4:]
        elif arr.shape[1] == 5 + classes:
            class_scores = arr[:, 5:] * arr[:, 4:5]
        else:
            raise ValueError(
                f"YOLO output {output.shape} does not match {classes} class names (4+C or 5+C)"
            )
        class_ids = np.argmax(class_scores, axis=1) if len(arr) else np.empty(0, dtype=np.intp)
        scores = class_scores[np.arange(len(arr)), class_ids] if len(arr) else np.empty(0)
        cx, cy, w, h = arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]
        corners = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        return corners.astype(np.float64), scores.astype(np.float64), class_ids.astype(np.intp)

    def _decode_ssd(self, output: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        import numpy as np

        arr = np.asarray(output, dtype=np.float64).reshape(-1, 7)
        in_w, in_h = self.input_size
        corners = arr[:, 3:7] * np.array([in_w, in_h, in_w, in_h], dtype=np.float64)
        classes = np.rint(arr[:, 1]).astype(np.intp) - self._model.ssd_label_offset
        return corners, arr[:, 2], classes


def load_onnx_detector(model: ObjectModel) -> OnnxDetector:
    """The process-wide detector for `model`: verified and loaded on first use, then reused.

    Raises:
        ModelChecksumError: the file's SHA-256 is not `model.sha256` (nothing is cached then).
        ValueError: the model's input or output layout is not supported.
        OSError: the file cannot be read.
    """
    return _cached(model)


@cache
def _cached(model: ObjectModel) -> OnnxDetector:
    return OnnxDetector(model)
