"""Which videos play as they are, and the renditions made for the others and for screens."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest
from PIL import Image

from cli.samples import camera_format_sample, sample_path
from common.core.errors import PermanentMediaError
from common.media.sniff import matches_declared, sniff_mime
from common.processing.playback import VideoFormat, plan_playback, probe_format
from common.processing.stills import display, tiles
from common.processing.storyboard import make_storyboard, tile_times_ms
from common.processing.transcode import make_playback, scaled_size


def fmt(
    mime: str,
    video: str,
    audio: str | None,
    pixels: str = "yuv420p",
    size: tuple[int, int] = (1280, 720),
) -> VideoFormat:
    return VideoFormat(mime, video, pixels, size[0], size[1], audio, 10_000)


@pytest.mark.parametrize(
    ("found", "as_is", "video", "audio"),
    [
        (fmt("video/mp4", "h264", "aac"), True, "none", "none"),
        (fmt("video/mp4", "h264", None), True, "none", "none"),
        (fmt("video/webm", "vp9", "opus"), True, "none", "none"),
        (fmt("video/mp4", "hevc", "aac"), False, "encode", "copy"),
        (fmt("video/x-msvideo", "mjpeg", "pcm_s16le", "yuvj420p"), False, "encode", "encode"),
        (fmt("video/quicktime", "h264", "pcm_s16le"), False, "copy", "encode"),
        (fmt("video/x-matroska", "h264", "aac"), False, "copy", "copy"),
        (fmt("video/mp2t", "h264", "aac"), False, "copy", "copy"),
        (fmt("video/mp4", "h264", "aac", "yuv420p10le"), False, "encode", "copy"),
        (fmt("video/x-matroska", "h264", None, size=(3840, 2160)), False, "encode", "none"),
        (fmt("video/mp4", "h264", "pcm_s16le"), False, "copy", "encode"),
    ],
)
def test_the_table_decides_as_is_remux_or_transcode(
    found: VideoFormat, as_is: bool, video: str, audio: str
) -> None:
    plan = plan_playback(found)
    assert (plan.as_is, plan.video_action, plan.audio_action) == (as_is, video, audio)
    assert plan.reason


def test_reasons_say_what_does_not_play() -> None:
    assert plan_playback(fmt("video/mp4", "hevc", None)).reason == (
        "HEVC (H.265) video does not play in every browser"
    )
    assert (
        "larger than 1080p"
        in plan_playback(fmt("video/mp2t", "h264", None, size=(3840, 2160))).reason
    )


def test_a_rendition_fits_1080p_in_its_own_orientation_with_even_sides() -> None:
    assert scaled_size(3840, 2160) == (1920, 1080)
    assert scaled_size(1080, 1920) == (1080, 1920)
    assert scaled_size(2160, 3840) == (1080, 1920)
    assert scaled_size(641, 273) == (640, 272)


def test_camera_containers_are_sniffed_from_their_bytes(tmp_path: Path) -> None:
    expected = {
        "bikes-mjpeg.avi": "video/x-msvideo",
        "bikes-h264.mkv": "video/x-matroska",
        "bikes-h264.ts": "video/mp2t",
        "bikes-hevc.mp4": "video/mp4",
    }
    for name, mime in expected.items():
        head = camera_format_sample(name, tmp_path).read_bytes()[:8192]
        assert sniff_mime(head) == mime, name
    assert sniff_mime(b"\x47" + b"\x00" * 187 + b"\x48" + b"\x00" * 600) is None
    assert matches_declared("video/webm", "video/x-matroska")
    assert not matches_declared("video/mp2t", "video/mp4")


@pytest.mark.parametrize("name", ["bikes-hevc.mp4", "bikes-mjpeg.avi", "bikes-h264.ts"])
def test_the_playback_rendition_is_h264_mp4_moov_first_from_0(tmp_path: Path, name: str) -> None:
    source = camera_format_sample(name, tmp_path)
    plan = plan_playback(probe_format(source, sniff_mime(source.read_bytes()[:8192]) or ""))
    target = tmp_path / "out.mp4"
    seen: list[float] = []

    made = make_playback(source, target, plan, on_progress=seen.append)

    data = target.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    with av.open(str(target)) as out:
        video = out.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (640, 272)
        first = next(out.demux(video))
        assert first.pts is not None and first.pts * video.time_base < 0.05  # noqa: PT018
    assert made.frames == 100
    assert 3900 <= made.duration_ms <= 4100
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_a_file_that_is_no_video_is_a_permanent_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with pytest.raises(PermanentMediaError):
        probe_format(bad, "video/mp4")


def test_the_storyboard_tiles_each_second_up_to_a_hundred() -> None:
    assert tile_times_ms(10_000) == (1000, list(range(0, 10_000, 1000)))
    interval, times = tile_times_ms(3_600_000)
    assert (interval, len(times), times[-1]) == (36_000, 100, 3_564_000)
    assert tile_times_ms(0) == (1000, [0])

    board = make_storyboard(sample_path("bikes.mp4"), 10_000)

    sprite = Image.open(io.BytesIO(board.data))
    assert sprite.size == (board.columns * 160, 68)
    assert board.index()["times_ms"] == list(range(0, 10_000, 1000))
    # the tiles differ: they are frames of different times, not one frame repeated
    cells = [sprite.crop((i * 160, 0, i * 160 + 160, 68)).tobytes() for i in (0, 9)]
    assert cells[0] != cells[1]


def test_tiles_are_4_3_at_1x_and_2x_never_enlarged_and_display_bounds_large_photos() -> None:
    big = Image.new("RGB", (4000, 3000), (10, 20, 30))
    found = {t.kind: t for t in tiles(big)}
    assert {k: (t.width, t.height, t.mime_type) for k, t in found.items()} == {
        "tile": (320, 240, "image/jpeg"),
        "tile_webp": (320, 240, "image/webp"),
        "tile_2x": (640, 480, "image/jpeg"),
        "tile_webp_2x": (640, 480, "image/webp"),
    }
    tall = {t.kind: (t.width, t.height) for t in tiles(Image.new("RGB", (14, 25)))}
    assert tall["tile"] == (14, 10)
    shown = display(big, web_format=True, size_bytes=5_000_000)
    assert shown is not None
    assert (shown.width, shown.height, shown.mime_type) == (1600, 1200, "image/webp")
    assert display(Image.new("RGB", (800, 600)), web_format=True, size_bytes=90_000) is None
    assert display(Image.new("RGB", (800, 600)), web_format=False, size_bytes=90_000) is not None
    heavy = display(Image.new("RGB", (512, 512)), web_format=True, size_bytes=790_000)
    assert heavy is not None
    assert (heavy.width, heavy.mime_type) == (512, "image/webp")
