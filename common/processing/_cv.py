"""OpenCV, imported on first use."""

from __future__ import annotations

from typing import Any


def cv2() -> Any:
    """Return the `cv2` module, importing it on first use.

    Typed `Any` on purpose: the stubs bundled with opencv-python lack `cv2.data` and
    `HOGDescriptor_getDefaultPeopleDetector`, and type every array result as a generic
    `ndarray`, which would need a cast at each call.
    """
    import cv2 as module

    return module
