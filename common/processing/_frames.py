"""Decoded video frames to upright numpy arrays, scaled by FFmpeg's swscale on the way.

PyAV's `VideoFrame.rotation` is the display matrix's counter-clockwise angle in degrees, the
rotation FFmpeg's own `autorotate` applies; mirroring flags are ignored. Scaling happens in the
same swscale pass as the pixel-format conversion (area filter), so a frame that only feeds
detectors working at 1024 pixels, or the 320-pixel greyscale copy of motion gating, never
exists as a full-resolution RGB array.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def quarter_turns_ccw(frame: Any) -> int:
    """Counter-clockwise quarter turns that make the frame upright (0..3)."""
    return round((getattr(frame, "rotation", 0) or 0) / 90) % 4


def upright_size(frame: Any) -> tuple[int, int]:
    """(width, height) of the frame once upright, in full-resolution pixels."""
    width, height = int(frame.width), int(frame.height)
    return (height, width) if quarter_turns_ccw(frame) % 2 else (width, height)


def upright(
    frame: Any, pixel_format: str, bound_px: int | None, *, interpolation: str = "AREA"
) -> NDArray[np.uint8]:
    """The frame as an upright array in `pixel_format`, shrunk to fit `bound_px`.

    Args:
        frame: an `av.VideoFrame`.
        pixel_format: "rgb24" or "bgr24" (height, width, 3), or "gray" (height, width;
            full-range luma).
        bound_px: for colour a bound on the upright longest side, for "gray" on the upright
            width (the motion copy); None keeps full resolution. Never enlarges.
    """
    import numpy as np

    turns = quarter_turns_ccw(frame)
    width, height = int(frame.width), int(frame.height)
    upright_w, upright_h = (height, width) if turns % 2 else (width, height)
    bound = upright_w if pixel_format == "gray" else max(upright_w, upright_h)
    scale = 1.0 if bound_px is None else min(1.0, bound_px / bound)
    if scale < 1.0:
        out: NDArray[np.uint8] = frame.to_ndarray(
            format=pixel_format,
            width=max(1, round(width * scale)),
            height=max(1, round(height * scale)),
            interpolation=interpolation,
        )
    else:
        out = frame.to_ndarray(format=pixel_format)
    if turns:
        out = np.ascontiguousarray(np.rot90(out, turns))
    return out


def upright_rgb(frame: Any) -> tuple[NDArray[np.uint8], int]:
    """The frame as full-resolution upright RGB, and the clockwise rotation applied (0, 90, 180
    or 270)."""
    return upright(frame, "rgb24", None), (-90 * quarter_turns_ccw(frame)) % 360
