"""The ONNX object detector against graphs built here whose outputs are known exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto
from onnx_models import constant_output_model, identity_model, yolo_candidates
from PIL import Image

from common.processing import AnalysisConfig, ObjectModel, analyze_image, get_detectors
from common.processing.detectors.onnx import (
    ModelChecksumError,
    OnnxDetector,
    load_onnx_detector,
    verify_model_file,
)
from common.processing.labels import COCO80_NAMES

PERSON, CAR, TV = COCO80_NAMES.index("person"), COCO80_NAMES.index("car"), COCO80_NAMES.index("tv")


def _detector(path: Path, sha: str, **options: object) -> OnnxDetector:
    return OnnxDetector(ObjectModel(path=path, sha256=sha, **options))  # type: ignore[arg-type]


def _frame(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _boxes(found: list) -> list[tuple[str, float, int, int, int, int]]:  # type: ignore[type-arg]
    return [(d.label, d.score, d.x, d.y, d.w, d.h) for d in found]


def test_checksum_is_checked_before_loading(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    sha = constant_output_model(path, yolo_candidates([]))
    verify_model_file(path, sha.upper())  # hex case does not matter

    with pytest.raises(ModelChecksumError) as caught:
        _detector(path, "0" * 64)
    assert caught.value.actual == sha
    assert "expected " + "0" * 64 in str(caught.value)
    with pytest.raises(FileNotFoundError):
        verify_model_file(tmp_path / "missing.onnx", sha)


def test_a_changed_file_is_refused_even_with_a_valid_graph(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    sha = constant_output_model(path, yolo_candidates([(10, 10, 4, 4, PERSON, 0.9)]))
    constant_output_model(path, yolo_candidates([(10, 10, 4, 4, CAR, 0.9)]))  # swapped later

    with pytest.raises(ModelChecksumError):
        load_onnx_detector(ObjectModel(path=path, sha256=sha))


def test_letterbox_pads_a_wide_frame_above_and_below(tmp_path: Path) -> None:
    # GIVEN a 1280x720 frame and a 640x640 input: scale 0.5, 140 rows of padding on each side
    path = tmp_path / "identity.onnx"
    detector = _detector(path, identity_model(path))
    frame = _frame(1280, 720)

    tensor, box = detector.preprocess(frame)
    seen = detector.infer(tensor)

    assert (box.scale_x, box.scale_y, box.pad_x, box.pad_y) == (0.5, 0.5, 0, 140)
    assert seen.shape == (1, 3, 640, 640)
    assert seen.dtype == np.float32
    pad = np.float32(114 / 255)
    assert np.all(seen[:, :, :140] == pad)
    assert np.all(seen[:, :, 500:] == pad)
    # The picture rows are the frame, halved, RGB, in 0..1.
    import cv2

    expected = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
    np.testing.assert_allclose(seen[0, :, 140:500].transpose(1, 2, 0), expected / 255.0, atol=1e-6)


def test_yolo_boxes_come_back_in_source_pixels_of_a_non_square_frame(tmp_path: Path) -> None:
    # GIVEN candidates in input pixels of a 640x640 letterbox holding a 1280x720 frame
    path = tmp_path / "yolo.onnx"
    rows = [
        (320, 320, 100, 50, PERSON, 0.9),  # -> x 270..370, y 295..345 in the input
        (20, 150, 40, 20, CAR, 0.6),  # -> x 0..40, y 140..160
    ]
    detector = _detector(path, constant_output_model(path, yolo_candidates(rows)))

    found = detector.detect(_frame(1280, 720), time_ms=40)

    # THEN (x - 0) / 0.5 and (y - 140) / 0.5, as integer boxes, best first
    assert _boxes(found) == [
        ("person", 0.9, 540, 310, 200, 100),
        ("car", 0.6, 0, 0, 80, 40),
    ]
    assert all(d.time_ms == 40 and d.model.startswith("onnx:yolo:") for d in found)


def test_tall_frame_is_padded_left_and_right(tmp_path: Path) -> None:
    # 360x720 into 640x640: scale 640/720, width 320, 160 columns of padding on each side.
    path = tmp_path / "yolo.onnx"
    detector = _detector(
        path, constant_output_model(path, yolo_candidates([(320, 320, 64, 64, PERSON, 0.8)]))
    )

    (person,) = detector.detect(_frame(360, 720))

    # input x 288..352 -> (288 - 160) / (320 / 360) = 144 .. 216; y 288..352 -> 324 .. 396
    assert (person.x, person.y, person.w, person.h) == (144, 324, 72, 72)


def test_threshold_subset_and_class_wise_nms(tmp_path: Path) -> None:
    path = tmp_path / "yolo.onnx"
    rows = [
        (100, 100, 100, 100, PERSON, 0.9),
        (105, 100, 100, 100, PERSON, 0.8),  # IoU 0.9 with the first person: suppressed
        (105, 100, 100, 100, CAR, 0.7),  # same place, other class: kept
        (400, 400, 50, 50, PERSON, 0.2),  # under the 0.25 confidence threshold
        (500, 500, 50, 50, TV, 0.95),  # not in the reported subset
    ]
    detector = _detector(path, constant_output_model(path, yolo_candidates(rows)))

    found = detector.detect(_frame(640, 640))

    assert [(d.label, d.score) for d in found] == [("person", 0.9), ("car", 0.7)]


def test_transposed_yolo_output_and_detection_cap(tmp_path: Path) -> None:
    path = tmp_path / "yolo.onnx"
    rows = [(50 + 60 * i, 50, 40, 40, PERSON, 0.5 + i / 100) for i in range(10)]
    output = yolo_candidates(rows).transpose(0, 2, 1).copy()  # [1, N, 84]
    detector = _detector(path, constant_output_model(path, output), max_detections=3)

    found = detector.detect(_frame(640, 640))

    assert [d.score for d in found] == [0.59, 0.58, 0.57]
    assert found[0].x == 50 + 60 * 9 - 20


def test_yolov5_objectness_multiplies_the_class_score(tmp_path: Path) -> None:
    path = tmp_path / "yolov5.onnx"
    output = np.zeros((1, 2, 85), dtype=np.float32)
    output[0, 0, :5] = (100, 100, 20, 20, 0.5)
    output[0, 0, 5 + CAR] = 0.9
    output[0, 1, :5] = (300, 300, 20, 20, 0.2)  # 0.2 x 0.9 is under the threshold
    output[0, 1, 5 + CAR] = 0.9
    detector = _detector(path, constant_output_model(path, output))

    assert [(d.label, d.score) for d in detector.detect(_frame(640, 640))] == [("car", 0.45)]


def test_ssd_rows_with_stretching_uint8_nhwc_input_and_a_label_offset(tmp_path: Path) -> None:
    # GIVEN an SSD-style [1, 1, N, 7] output with class ids where 0 is the background
    path = tmp_path / "ssd.onnx"
    rows = np.array(
        [
            [[[0, 1 + PERSON, 0.8, 0.25, 0.5, 0.5, 1.0], [0, 1 + CAR, 0.1, 0, 0, 1, 1]]],
        ],
        dtype=np.float32,
    )
    sha = constant_output_model(
        path, rows, input_shape=(1, 300, 300, 3), input_type=TensorProto.UINT8
    )
    detector = _detector(path, sha, letterbox=False, ssd_label_offset=1)
    frame = _frame(800, 400)

    tensor, _ = detector.preprocess(frame)
    found = detector.detect(frame)

    assert tensor.shape == (1, 300, 300, 3)
    assert tensor.dtype == np.uint8
    assert detector.output_format == "auto"
    # THEN corners in 0..1 of the stretched input map to the frame's own axes
    assert _boxes(found) == [("person", 0.8, 200, 200, 200, 200)]


def test_output_of_the_wrong_shape_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "odd.onnx"
    detector = _detector(path, constant_output_model(path, np.zeros((1, 10, 5), np.float32)))

    with pytest.raises(ValueError, match="80 class names"):
        detector.detect(_frame(64, 64))


def test_objects_detector_in_an_analysis(tmp_path: Path) -> None:
    # GIVEN a config that runs only the ONNX model, whose fixed output is one car
    model_path = tmp_path / "cars.onnx"
    sha = constant_output_model(model_path, yolo_candidates([(320, 320, 200, 100, CAR, 0.88)]))
    config = AnalysisConfig(detectors=(ObjectModel(path=model_path, sha256=sha),))
    photo = tmp_path / "street.jpg"
    Image.fromarray(_frame(640, 480)).save(photo)

    result = analyze_image(photo, config)

    # THEN the analysis says which detector ran and reports one tracked car with a snapshot
    (name,) = result.detectors
    assert name == f"onnx:cars:{sha[:12]}"
    assert result.counts == {"car": 1}
    assert result.summary == "1 car"
    (car,) = result.tracks
    assert car.box == (220, 190, 200, 100)  # 80 rows of padding: y 270..370 -> 190..290
    assert car.snapshot is not None
    assert car.snapshot.kind == "snapshot"
    assert get_detectors(config)[0] is get_detectors(config)[0]  # built once per process


def test_an_onnx_detector_without_a_model_file_is_refused() -> None:
    with pytest.raises(ValueError, match="path"):
        AnalysisConfig(detectors=("faces", "onnx"))
