"""scripts/package_functions.py builds the archives Terraform uploads: right content, reproducible."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "package_functions.py"
FUNCTIONS = (
    "create_media",
    "deliver_webhook",
    "finalize_upload",
    "housekeeping",
    "list_media",
    "manage_media",
    "process_media",
)
HTTP_FUNCTIONS = ("create_media", "list_media", "manage_media")
MEDIA_DISTRIBUTIONS = ("opencv-python-headless", "av", "pillow", "numpy")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_functions", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


package_functions = _load_script()


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """A repository layout with the real pyproject/topology and stand-in function code."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO_ROOT / "topology.json", root / "topology.json")
    common = root / "common"
    common.mkdir()
    (common / "__init__.py").write_text('"""Shared code."""\n')
    (common / "settings.py").write_text("X = 1\n")
    (common / "__pycache__").mkdir()
    (common / "__pycache__" / "settings.cpython-311.pyc").write_bytes(b"\x00compiled")
    for name in FUNCTIONS:
        function_dir = root / "functions" / name
        function_dir.mkdir(parents=True)
        (function_dir / "main.py").write_text(f"def {name}(request):\n    return 'ok'\n")
    return root


def _requirement_names(archive: zipfile.ZipFile) -> set[str]:
    lines = archive.read("requirements.txt").decode().splitlines()
    return {line.split("==", 1)[0].split("[", 1)[0].lower() for line in lines if line}


def test_every_function_gets_an_archive_with_code_shared_package_and_pins(
    fake_repo: Path, tmp_path: Path
) -> None:
    # WHEN the archives are built through the command line
    out = tmp_path / "dist"
    status = package_functions.main(["--repo-root", str(fake_repo), "--out", str(out)])

    # THEN each function has a zip with main.py at the root, common/ without bytecode, and
    # every requirement pinned to an exact version
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.zip" for name in FUNCTIONS]
    for name in FUNCTIONS:
        with zipfile.ZipFile(out / f"{name}.zip") as archive:
            names = archive.namelist()
            assert "main.py" in names
            assert "common/__init__.py" in names
            assert "common/settings.py" in names
            assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
            assert names == sorted(names)
            lines = archive.read("requirements.txt").decode().splitlines()
            assert lines
            assert all("==" in line for line in lines)
            assert "functions-framework" in _requirement_names(archive)


def test_only_process_media_carries_the_media_stack(fake_repo: Path, tmp_path: Path) -> None:
    archives = {a.function: a for a in package_functions.build(fake_repo, tmp_path / "dist")}

    with zipfile.ZipFile(archives["process_media"].path) as archive:
        assert set(MEDIA_DISTRIBUTIONS) <= _requirement_names(archive)
    for name in (*HTTP_FUNCTIONS, "finalize_upload"):
        with zipfile.ZipFile(archives[name].path) as archive:
            assert not set(MEDIA_DISTRIBUTIONS) & _requirement_names(archive), name


def test_pins_are_the_installed_versions(fake_repo: Path, tmp_path: Path) -> None:
    from importlib import metadata

    (archive,) = package_functions.build(fake_repo, tmp_path / "dist", ["process_media"])
    pins = dict(line.split("==", 1) for line in archive.requirements)
    assert pins["opencv-python-headless"] == metadata.version("opencv-python-headless")
    assert pins["av"] == metadata.version("av")
    assert pins["cloud-sql-python-connector[pg8000]"] == metadata.version(
        "cloud-sql-python-connector"
    )


def test_two_builds_are_byte_identical(fake_repo: Path, tmp_path: Path) -> None:
    first = package_functions.build(fake_repo, tmp_path / "one")
    # GIVEN source files whose modification times changed in between
    for path in (fake_repo / "common").rglob("*.py"):
        path.touch()
    second = package_functions.build(fake_repo, tmp_path / "two")

    for a, b in zip(first, second, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes(), a.function
        assert a.md5_hex == b.md5_hex


def test_content_change_changes_the_hash(fake_repo: Path, tmp_path: Path) -> None:
    (before,) = package_functions.build(fake_repo, tmp_path / "one", ["create_media"])
    (fake_repo / "common" / "settings.py").write_text("X = 2\n")
    (after,) = package_functions.build(fake_repo, tmp_path / "two", ["create_media"])
    assert before.md5_hex != after.md5_hex


def test_missing_function_code_is_a_clear_error(
    fake_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fake_repo / "functions" / "list_media" / "main.py").unlink()

    status = package_functions.main(["--repo-root", str(fake_repo), "--out", str(tmp_path / "d")])

    assert status == 1
    assert "functions/list_media/main.py not found" in capsys.readouterr().err
