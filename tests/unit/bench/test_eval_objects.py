"""The object evaluation set (bench/eval): its labels and sources are well formed, and where the
media have been fetched (`python bench/eval/media.py`) every labelled frame decodes at the size the
labels were drawn on."""

from __future__ import annotations

import io
import json
import re
import struct
import tarfile
import zlib
from collections import Counter
from pathlib import Path

import pytest

from bench.eval import dataset, media

OBJECTS = json.loads(dataset.OBJECTS.read_text())
SOURCES = json.loads(media.SOURCES.read_text())
SOURCE_PATHS = {f["path"] for p in SOURCES["packages"] for f in p["files"]}
MEDIA_KEYS = {
    "id",
    "source",
    "kind",
    "width",
    "height",
    "night_or_gray",
    "notes",
    "objects",
    "boxes",
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def test_document_describes_itself_and_keeps_the_vocabulary() -> None:
    assert set(OBJECTS) == {"about", "labellers", "vocabulary", "media"}
    assert OBJECTS["vocabulary"] == list(dataset.VOCABULARY)
    assert "difficult" in OBJECTS["about"]
    assert "time_ms" in OBJECTS["about"]
    assert "no detector" in OBJECTS["labellers"].lower()


@pytest.mark.parametrize("entry", OBJECTS["media"], ids=lambda e: e["id"])
def test_media_entry_follows_the_schema(entry: dict[str, object]) -> None:
    keys = set(entry)
    if entry["kind"] == "video_frame":
        assert keys == MEDIA_KEYS | {"time_ms"}
        assert isinstance(entry["time_ms"], int)
        assert entry["time_ms"] >= 0
    else:
        assert entry["kind"] == "image"
        assert keys == MEDIA_KEYS
    assert entry["source"] in SOURCE_PATHS
    assert isinstance(entry["night_or_gray"], bool)
    assert isinstance(entry["notes"], str)
    assert entry["notes"]


@pytest.mark.parametrize("entry", OBJECTS["media"], ids=lambda e: e["id"])
def test_boxes_lie_inside_the_frame_with_known_labels(entry: dict[str, object]) -> None:
    width, height = entry["width"], entry["height"]
    assert isinstance(width, int)
    assert isinstance(height, int)
    assert width > 0
    assert height > 0
    for box in entry["boxes"]:  # type: ignore[attr-defined]
        assert set(box) == {"label", "box", "difficult"}
        assert box["label"] in dataset.VOCABULARY
        assert isinstance(box["difficult"], bool)
        x1, y1, x2, y2 = box["box"]
        assert 0 <= x1 < x2 <= width, box
        assert 0 <= y1 < y2 <= height, box


def test_ids_are_unique_and_every_fetched_file_is_labelled() -> None:
    ids = [e["id"] for e in OBJECTS["media"]]
    assert len(ids) == len(set(ids))
    used = {e["source"] for e in OBJECTS["media"]}
    assert used == SOURCE_PATHS


def test_no_box_is_labelled_twice() -> None:
    for entry in OBJECTS["media"]:
        seen = Counter((b["label"], tuple(b["box"])) for b in entry["boxes"])
        assert max(seen.values(), default=1) == 1, entry["id"]


def test_set_has_the_size_and_variety_the_bench_needs() -> None:
    samples = dataset.load()
    counted = Counter(b.label for s in samples for b in s.boxes if not b.difficult)
    small_people = [
        b
        for s in samples
        for b in s.boxes
        if b.label == "person" and not b.difficult and b.height < 100
    ]
    assert len(samples) >= 40
    assert sum(len(s.boxes) for s in samples) >= 300
    assert len(small_people) >= 100
    assert counted["dog"] >= 3
    assert counted["cat"] >= 3
    assert sum(counted[v] for v in ("car", "bus", "truck", "motorcycle", "bicycle")) >= 40
    assert sum(not s.boxes for s in samples) >= 10
    assert sum(s.night_or_gray for s in samples) >= 5


def test_summary_counts_labels_heights_and_negatives() -> None:
    samples = dataset.load()
    text = dataset.summary(samples)
    persons = sum(1 for s in samples for b in s.boxes if b.label == "person" and not b.difficult)
    banded = [int(n) for n in re.findall(r"px (\d+)", text.split("height: ")[1].splitlines()[0])]
    assert sum(banded) == persons
    assert f"media: {len(samples)} " in text
    assert f"nothing of interest: {sum(not s.boxes for s in samples)}" in text


def test_sources_pin_each_archive_and_file() -> None:
    for package in SOURCES["packages"]:
        assert SHA256.match(package["sha256"]), package["archive"]
        pin = package.get("requirement") or package.get("spec") or package.get("version")
        assert pin is not None
        assert re.search(r"(==|@|^)\d", pin), pin
        for item in package["files"]:
            assert SHA256.match(item["sha256"]), item["path"]
            assert not Path(item["path"]).is_absolute()
            assert ".." not in Path(item["path"]).parts


def _rcc(files: dict[str, tuple[bytes, bool]]) -> bytes:
    """A version-1 Qt resource bundle with one directory `dir` holding `files` (name: bytes, zlib)."""
    names, data, nodes = b"", b"", []

    def name(text: str) -> int:
        nonlocal names
        offset = len(names)
        encoded = text.encode("utf-16-be")
        names += struct.pack(">HI", len(text), 0) + encoded
        return offset

    nodes.append(struct.pack(">IHII", 0, 2, 1, 1))  # root: one child at index 1
    nodes.append(struct.pack(">IHII", name("dir"), 2, len(files), 2))
    for file_name, (blob, compressed) in sorted(files.items()):
        stored = struct.pack(">I", len(blob)) + zlib.compress(blob) if compressed else blob
        nodes.append(
            struct.pack(">IHHHI", name(file_name), 1 if compressed else 0, 0, 0, len(data))
        )
        data += struct.pack(">I", len(stored)) + stored
    tree = b"".join(nodes)
    header = 20
    return (
        struct.pack(
            ">4sIIII", b"qres", 1, header, header + len(tree), header + len(tree) + len(data)
        )
        + tree
        + data
        + names
    )


def test_rcc_resource_reads_plain_and_zlib_files() -> None:
    bundle = _rcc({"a.webp": (b"plain bytes", False), "b.webp": (b"packed " * 20, True)})
    assert media.rcc_resource(bundle, "/dir/a.webp") == b"plain bytes"
    assert media.rcc_resource(bundle, "/dir/b.webp") == b"packed " * 20
    with pytest.raises(media.SourceError, match=r"no 'c\.webp'"):
        media.rcc_resource(bundle, "/dir/c.webp")


def test_archive_member_reads_a_debian_package(tmp_path: Path) -> None:
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:xz") as tar:
        info = tarfile.TarInfo("./usr/share/x/file.bin")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    members = [
        (b"debian-binary", b"2.0\n"),
        (b"control.tar.xz", b"x"),
        (b"data.tar.xz", payload.getvalue()),
    ]
    deb = b"!<arch>\n"
    for member, body in members:
        deb += member.ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2 + b"100644".ljust(8)
        deb += str(len(body)).encode().ljust(10) + b"`\n" + body + (b"\n" if len(body) % 2 else b"")
    path = tmp_path / "p_1.0_all.deb"
    path.write_bytes(deb)
    assert media.archive_member(path, "./usr/share/x/file.bin") == b"hello"


def _fetched() -> bool:
    return all((media.MEDIA / p).exists() for p in SOURCE_PATHS)


@pytest.mark.skipif(not _fetched(), reason="media not fetched: python bench/eval/media.py")
def test_fetched_media_match_sources_and_decode_at_the_labelled_size() -> None:
    assert all(line.startswith("ok") for line in media.ensure_media(offline=True))
    for sample in dataset.load():
        frame = dataset.frame_rgb(sample)
        assert frame.dtype.name == "uint8"
        assert frame.shape == (sample.height, sample.width, 3), sample.id
