"""The SSD object detector: anchors and box decoding by hand, the pinned model on real photos."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from processing_boxes import corners, iou

from common.processing.config import SsdConfig
from common.processing.detectors.ssd import (
    DEFAULT_MODEL_SHA256,
    OIDV4_CLASS_NAMES,
    SsdAnchors,
    decode_boxes,
    ssd_anchors,
)

ROOT = Path(__file__).resolve().parents[3]


def test_the_anchor_layout_of_the_open_images_model() -> None:
    anchors = ssd_anchors(SsdAnchors(), (300, 300))

    # 19x19x3 + 10x10x6 + 5x5x6 + 3x3x6 + 2x2x6 + 1x1x6
    assert anchors.shape == (1917, 4)
    # Worked by hand: the lowest layer (stride 16 -> a 19x19 map) starts with the reduced boxes:
    # scale 0.1 at ratio 1, then scale 0.2 at ratio 2 (h = 0.2 / sqrt 2, w = 0.2 * sqrt 2).
    centre = 0.5 / 19
    assert anchors[0] == pytest.approx([centre, centre, 0.1, 0.1])
    assert anchors[1] == pytest.approx([centre, centre, 0.2 / math.sqrt(2), 0.2 * math.sqrt(2)])
    # The first box of the second layer (index 19 * 19 * 3): a 10x10 map, scale
    # 0.2 + 0.75 * 1 / 5 = 0.35; its sixth box is the interpolated scale sqrt(0.35 * 0.5).
    second = 19 * 19 * 3
    assert anchors[second] == pytest.approx([0.05, 0.05, 0.35, 0.35])
    assert anchors[second + 5] == pytest.approx([0.05, 0.05, math.sqrt(0.175), math.sqrt(0.175)])
    # The last anchor: the 1x1 map, interpolated between scale 0.95 and 1.0.
    last = math.sqrt(0.95)
    assert anchors[-1] == pytest.approx([0.5, 0.5, last, last])


def test_box_encodings_decode_with_the_box_coder_scales() -> None:
    anchor = np.array([[0.5, 0.4, 0.2, 0.1]])  # centre y 0.5, x 0.4; h 0.2, w 0.1
    zero = decode_boxes(np.zeros((1, 4)), anchor, (10.0, 10.0, 5.0, 5.0))
    # ty = 10 moves the centre one anchor height down; th = 5 * ln 2 doubles the height
    moved = decode_boxes(
        np.array([[10.0, -10.0, 5 * math.log(2), 0.0]]), anchor, (10.0, 10.0, 5.0, 5.0)
    )

    assert zero[0] == pytest.approx([0.35, 0.4, 0.45, 0.6])  # x1, y1, x2, y2
    assert moved[0] == pytest.approx([0.25, 0.5, 0.35, 0.9])


def test_the_pinned_checksum_is_the_one_make_models_builds() -> None:
    pins = json.loads((ROOT / "models" / "models.json").read_text())
    spec = pins["ssd_mobilenetv2_oidv4"]

    assert spec["output_sha256"] == DEFAULT_MODEL_SHA256 == SsdConfig().sha256
    assert len(spec["labelmap"]) == len(OIDV4_CLASS_NAMES) == 24


@pytest.mark.parametrize(
    ("name", "label", "box"),
    [
        ("astronaut.png", "person", (20, 15, 370, 512)),  # labelled by eye
        ("chelsea.png", "cat", (0, 0, 451, 300)),
    ],
)
def test_the_model_finds_a_person_and_a_cat(
    skimage_data: Path, name: str, label: str, box: tuple[int, int, int, int]
) -> None:
    detector = SsdConfig().build()
    rgb = np.asarray(Image.open(skimage_data / name).convert("RGB"))

    found = detector.detect(np.ascontiguousarray(rgb[:, :, ::-1]))

    best = next(d for d in found if d.label == label)
    assert best.score >= 0.5
    assert iou(corners(best), box) >= 0.7
    assert best.model == f"ssd_mobilenetv2_oidv4:{DEFAULT_MODEL_SHA256[:12]}"
    assert {d.label for d in found} <= set(SsdConfig().labels)


def test_a_model_that_is_not_the_pinned_file_is_refused(tmp_path: Path) -> None:
    from common.processing.detectors.onnx import ModelChecksumError

    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")

    with pytest.raises(ModelChecksumError):
        SsdConfig(path=fake).build()
    with pytest.raises(FileNotFoundError, match="make models"):
        SsdConfig(path=tmp_path / "missing.onnx").build()
