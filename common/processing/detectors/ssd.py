"""The "objects" detector: an SSD whose raw outputs are decoded here against its anchors.

The default model is SSD MobileNetV2 trained on Open Images v4 (24 classes) from MediaPipe's
Objectron solution (npm `@mediapipe/objectron`, Apache-2.0), converted to ONNX by `make models`
(`models/models.json`, `scripts/build_models.py`). It takes a 300 x 300 RGB image scaled to
[-1, 1] (NCHW after conversion) and outputs, for each of 1917 anchors, four box encodings
(`box_encodings`, [1, 1917, 4]) and one logit per class (`class_predictions`, [1, 1917, 24],
class 0 is the background).

Anchors follow MediaPipe's `SsdAnchorsCalculator`
(mediapipe/calculators/tflite/ssd_anchors_calculator.cc) with the options of MediaPipe's
Open Images v4 detection graph: 6 layers of strides 16..512 (feature maps 19, 10, 5, 3, 2, 1),
scales spaced linearly from 0.2 to 0.95, aspect ratios 1, 2, 1/2, 3, 1/3 plus one box at the
geometric mean of this layer's and the next layer's scale, and the lowest layer reduced to 3
boxes (scale 0.1 at ratio 1, then ratios 2 and 1/2): 1083 + 600 + 150 + 54 + 24 + 6 = 1917.

Decoding follows `TfLiteTensorsToDetectionsCalculator` with the TensorFlow Object Detection API's
box coder (`faster_rcnn_box_coder`, scales y, x, h, w = 10, 10, 5, 5): for an anchor with centre
(ya, xa) and size (ha, wa) and encodings (ty, tx, th, tw), the box centre is
(ty / 10 * ha + ya, tx / 10 * wa + xa) and its size (exp(th / 5) * ha, exp(tw / 5) * wa), in
0..1 of the input. Class scores are the sigmoid of the logits. Every reported class above
`score_threshold` is a candidate (multi-class, as the Object Detection API's post-processing),
then greedy NMS runs per class group (`nms_groups`: a car and a "vehicle" box of one object are
one), and boxes are mapped to the frame (the frame is stretched to the input, as the model was
trained).

The model's class names are mapped to lower-case COCO names where COCO has the class (Person ->
person, Cattle -> cow, Table -> dining table, Computer monitor -> tv, Coffee cup -> cup, ...);
Open Images' generic "Vehicle" (buses, trucks, vans, ...) stays "vehicle".
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from common.processing._frozen import Frozen
from common.processing.types import Detection

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_MODEL_FILE = Path(__file__).resolve().parents[3] / "models" / "ssd_mobilenetv2_oidv4.onnx"
"""Where `make models` writes the default model (a checkout's `models/`); deployed functions get
it from the models bucket instead (`DETECTOR_MODEL_URI`)."""
DEFAULT_MODEL_SHA256 = "bfb816895bb6a1ea5c6b842265a4c0207f7773a27aac7295bb2afb1fc82afa19"
"""SHA-256 of that file: `output_sha256` in `models/models.json`."""

OIDV4_CLASS_NAMES: tuple[str, ...] = (
    "", "bicycle", "boot", "laptop", "person", "chair", "cow", "desk", "cat", "mouse", "tv",
    "box", "mug", "cup", "stationary bicycle", "dining table", "bottle", "high heels", "vehicle",
    "footwear", "dog", "book", "camera", "car",
)  # fmt: skip
"""The model's 24 outputs (MediaPipe's `object_detection_oidv4_labelmap.txt`: ???, Bicycle, Boot,
Laptop, Person, Chair, Cattle, Desk, Cat, Computer mouse, Computer monitor, Box, Mug, Coffee cup,
Stationary bicycle, Table, Bottle, High heels, Vehicle, Footwear, Dog, Book, Camera, Car) in the
pipeline's vocabulary; "" is the background class, never reported."""

DEFAULT_LABELS: tuple[str, ...] = ("person", "dog", "cat", "car", "vehicle", "bicycle")
"""What a camera user wants reported by default: people, pets and vehicles."""


class SsdAnchors(Frozen):
    """The anchor layout (MediaPipe's `SsdAnchorsCalculatorOptions`; defaults: the Open Images v4
    detection graph's). Centres are offset by half a cell; sizes are fractions of the input."""

    min_scale: float = Field(default=0.2, gt=0.0)
    max_scale: float = Field(default=0.95, gt=0.0)
    strides: tuple[int, ...] = Field(default=(16, 32, 64, 128, 256, 512), min_length=1)
    aspect_ratios: tuple[float, ...] = Field(default=(1.0, 2.0, 0.5, 3.0, 0.3333), min_length=1)
    interpolated_scale_aspect_ratio: float = 1.0
    reduce_boxes_in_lowest_layer: bool = True
    anchor_offset: float = Field(default=0.5, ge=0.0, le=1.0)


class SsdConfig(Frozen):
    """Configuration of the "objects" detector (an SSD with raw box encodings and anchors).

    Attributes:
        kind: "objects".
        name: the model's name in each box's `model` (with its checksum's first 12 digits).
        path: the `.onnx` file; None is `DEFAULT_MODEL_FILE`.
        sha256: its pinned SHA-256, checked before the file is loaded.
        input_size: (width, height) of the network input.
        anchors: the anchor layout.
        box_scales: the box coder's (y, x, h, w) scales.
        class_names: the name of each class output, "" for the background.
        labels: the class names reported.
        score_threshold: class scores below this are not candidates (the per-label filters of
            `AnalysisConfig` apply after this; weak person boxes may still be confirmed by a
            face, `common.processing.derived`).
        nms_iou: a candidate overlapping a better one of its class group by more is dropped.
        nms_groups: classes suppressed together (one object seen as two classes).
        max_detections: at most this many boxes per run.
        threads: onnxruntime intra-op threads (1 leaves the other core to the video decoder).
    """

    kind: Literal["objects"] = "objects"
    name: str = Field(default="ssd_mobilenetv2_oidv4", min_length=1, max_length=64)
    path: Path | None = None
    sha256: str = DEFAULT_MODEL_SHA256
    input_size: tuple[int, int] = (300, 300)
    anchors: SsdAnchors = SsdAnchors()
    box_scales: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    class_names: tuple[str, ...] = OIDV4_CLASS_NAMES
    labels: tuple[str, ...] = DEFAULT_LABELS
    score_threshold: float = Field(default=0.1, ge=0.0, le=1.0)
    nms_iou: float = Field(default=0.45, gt=0.0, le=1.0)
    nms_groups: tuple[tuple[str, ...], ...] = (("car", "vehicle"),)
    max_detections: int = Field(default=100, ge=1)
    threads: int = Field(default=1, ge=1, le=16)

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("sha256 must be 64 hexadecimal digits")
        return value

    @model_validator(mode="after")
    def _labels_known(self) -> SsdConfig:
        known = set(self.class_names) - {""}
        unknown = sorted(set(self.labels) - known)
        if unknown:
            raise ValueError(f"labels not among class_names: {unknown}")
        return self

    @property
    def model_file(self) -> Path:
        """The model file to load."""
        return self.path if self.path is not None else DEFAULT_MODEL_FILE

    def build(self) -> SsdDetector:
        """The detector.

        Raises:
            ModelChecksumError: the file is not the pinned one.
            OSError: the file cannot be read (FileNotFoundError names `make models`).
            ValueError: the model's inputs or outputs are not an SSD of this layout.
        """
        return SsdDetector(self)


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1)


def ssd_anchors(options: SsdAnchors, input_size: tuple[int, int]) -> NDArray[np.float32]:
    """The anchors of an SSD, as MediaPipe's `SsdAnchorsCalculator` lays them out.

    Args:
        options: the layout.
        input_size: (width, height) of the network input in pixels.

    Returns:
        (n, 4) float32 rows (y_centre, x_centre, height, width), fractions of the input, in the
        order of the model's outputs: layer by layer, then row, column and box.
    """
    import numpy as np

    width, height = input_size
    strides = options.strides
    count = len(strides)
    rows: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < count:
        ratios: list[float] = []
        scales: list[float] = []
        last = layer
        while last < count and strides[last] == strides[layer]:
            scale = _scale(options.min_scale, options.max_scale, last, count)
            if last == 0 and options.reduce_boxes_in_lowest_layer:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, scale, scale]
            else:
                for ratio in options.aspect_ratios:
                    ratios.append(ratio)
                    scales.append(scale)
                if options.interpolated_scale_aspect_ratio > 0.0:
                    following = (
                        1.0
                        if last == count - 1
                        else _scale(options.min_scale, options.max_scale, last + 1, count)
                    )
                    scales.append(math.sqrt(scale * following))
                    ratios.append(options.interpolated_scale_aspect_ratio)
            last += 1
        sizes = [(s / math.sqrt(r), s * math.sqrt(r)) for r, s in zip(ratios, scales, strict=True)]
        map_h = math.ceil(height / strides[layer])
        map_w = math.ceil(width / strides[layer])
        for y in range(map_h):
            for x in range(map_w):
                yc = (y + options.anchor_offset) / map_h
                xc = (x + options.anchor_offset) / map_w
                rows += [(yc, xc, h, w) for h, w in sizes]
        layer = last
    return np.asarray(rows, dtype=np.float32)


def decode_boxes(
    encodings: NDArray[Any], anchors: NDArray[Any], box_scales: tuple[float, float, float, float]
) -> NDArray[np.float64]:
    """Box encodings to corners (see the module docstring for the formula).

    Args:
        encodings: (n, 4) rows (ty, tx, th, tw).
        anchors: (n, 4) rows (y_centre, x_centre, height, width), as `ssd_anchors` gives.
        box_scales: (y, x, h, w) scales of the box coder.

    Returns:
        (n, 4) rows (x1, y1, x2, y2), fractions of the input (may reach past 0..1).
    """
    import numpy as np

    enc = np.asarray(encodings, dtype=np.float64)
    anc = np.asarray(anchors, dtype=np.float64)
    sy, sx, sh, sw = box_scales
    yc = enc[:, 0] / sy * anc[:, 2] + anc[:, 0]
    xc = enc[:, 1] / sx * anc[:, 3] + anc[:, 1]
    h = np.exp(enc[:, 2] / sh) * anc[:, 2]
    w = np.exp(enc[:, 3] / sw) * anc[:, 3]
    return np.column_stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2])


class SsdDetector:
    """One onnxruntime session of an SSD model; `detect` is safe to call from several threads.

    Attributes:
        name: "<config name>:<first 12 hex digits of its SHA-256>", the `model` of its boxes.
        labels: the labels it reports.
        region_px: the input's side: regions of a frame are cut at about this size.
        max_side_px: None (a frame is stretched to the input whatever its size).
    """

    max_side_px: int | None = None

    def __init__(self, config: SsdConfig) -> None:
        import numpy as np
        import onnxruntime as ort

        from common.processing.detectors.onnx import verify_model_file

        path = config.model_file
        if not path.is_file():
            raise FileNotFoundError(
                f"object detector model {path} is missing: run `make models` (or set "
                "DETECTOR_MODEL_URI and DETECTOR_MODEL_SHA256)"
            )
        verify_model_file(path, config.sha256)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        self._anchors = ssd_anchors(config.anchors, config.input_size)
        shapes = [list(o.shape) for o in outputs]
        if len(inputs) != 1 or len(outputs) != 2 or shapes[0][-1] != 4:
            raise ValueError(f"{path.name}: not an SSD with box encodings and class scores")
        if shapes[0][1] != len(self._anchors) or shapes[1][-1] != len(config.class_names):
            raise ValueError(
                f"{path.name}: outputs {shapes} do not match {len(self._anchors)} anchors and "
                f"{len(config.class_names)} classes"
            )
        self._input_name = inputs[0].name
        self._config = config
        self.name = f"{config.name}:{config.sha256[:12]}"
        self.labels = config.labels
        self.region_px: int | None = max(config.input_size)
        wanted = set(config.labels)
        self._classes = np.asarray(
            [i for i, n in enumerate(config.class_names) if n and n in wanted], dtype=np.intp
        )
        group_of = {label: g for g, group in enumerate(config.nms_groups) for label in group}
        offset = len(config.nms_groups)
        self._groups = np.asarray(
            [group_of.get(config.class_names[i], offset + i) for i in self._classes],
            dtype=np.intp,
        )

    def infer(self, frame_bgr: NDArray[np.uint8]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Run the network on a frame stretched to its input (area-averaged when it shrinks by
        more than 2x, else bilinear).

        Returns:
            The box encodings (n, 4) and the class logits (n, classes).
        """
        from common.processing import _cv

        cv2 = _cv.cv2()
        width, height = self._config.input_size
        if frame_bgr.shape[1] > 2 * width or frame_bgr.shape[0] > 2 * height:
            # area averaging: a bilinear shrink by more than 2x aliases (and scores drop)
            frame_bgr = cv2.resize(frame_bgr, (width, height), interpolation=cv2.INTER_AREA)
        blob = cv2.dnn.blobFromImage(
            frame_bgr, 1 / 127.5, (width, height), (127.5, 127.5, 127.5), swapRB=True
        )
        encodings, logits = self._session.run(None, {self._input_name: blob})
        return encodings[0], logits[0]

    def postprocess(
        self, encodings: NDArray[Any], logits: NDArray[Any], frame_size: tuple[int, int]
    ) -> NDArray[np.float64]:
        """Decode, threshold and suppress; rows (x1, y1, x2, y2, score, class index) in frame
        pixels (clipped to the frame), best first."""
        import numpy as np

        from common.processing._boxes import batched_nms

        config = self._config
        scores = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)[:, self._classes]))
        anchor, which = np.nonzero(scores >= config.score_threshold)
        if not len(anchor):
            return np.empty((0, 6))
        corners = decode_boxes(encodings[anchor], self._anchors[anchor], config.box_scales)
        width, height = frame_size
        corners *= np.array([width, height, width, height], dtype=np.float64)
        corners[:, [0, 2]] = np.clip(corners[:, [0, 2]], 0, width)
        corners[:, [1, 3]] = np.clip(corners[:, [1, 3]], 0, height)
        picked_scores = scores[anchor, which]
        keep = batched_nms(corners, picked_scores, self._groups[which], config.nms_iou)
        keep = keep[: config.max_detections]
        classes = self._classes[which[keep]].astype(np.float64)
        return np.column_stack([corners[keep], picked_scores[keep], classes]).reshape(-1, 6)

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        """Objects in a BGR frame (height, width, 3) uint8; boxes in its pixels, best first."""
        from common.processing._boxes import to_int_box

        height, width = frame_bgr.shape[:2]
        encodings, logits = self.infer(frame_bgr)
        out = []
        for x1, y1, x2, y2, score, cls in self.postprocess(encodings, logits, (width, height)):
            corners = to_int_box(x1, y1, x2, y2)
            if corners is None:
                continue
            label = self._config.class_names[int(cls)]
            out.append(Detection(label, round(float(score), 4), *corners, time_ms, self.name))
        return out
