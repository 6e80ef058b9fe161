"""Build one deployable source archive per Cloud Function.

For every function named in `topology.json` ("functions"), writes `<out>/<name>.zip` holding:

* the files of `functions/<name>/` (at least `main.py`) at the archive root,
* the shared `common/` package (without `__pycache__` or compiled files),
* a `requirements.txt` that pins `[project].dependencies` of `pyproject.toml` to the versions
  installed in the running environment (`importlib.metadata`), plus the extras listed in
  `EXTRAS_BY_FUNCTION` (the heavy `media` stack only for `process_media`).

Archives are deterministic: entries are sorted, timestamps fixed to 1980-01-01, permissions fixed
and the compression level fixed, so the same inputs give byte-identical zips. Terraform puts the
archive's MD5 into the source object's name, so a new upload (and a redeploy) happens exactly when
the content changes.

Usage:
    python scripts/package_functions.py [--repo-root .] [--out dist/functions] [--function NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

EXTRAS_BY_FUNCTION: Mapping[str, tuple[str, ...]] = {"process_media": ("media",)}
"""Optional-dependency groups of pyproject.toml added to a function's requirements."""

SHARED_PACKAGE = "common"
FIXED_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # regular file, rw-r--r--
_COMPRESS_LEVEL = 9
_EXCLUDED_DIR_NAMES = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")
_REQUIREMENT_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?P<extras>\[[^\]]*\])?"
)


class PackagingError(Exception):
    """The repository layout or the environment cannot produce a correct archive."""


@dataclass(frozen=True)
class BuiltArchive:
    """One written archive.

    Attributes:
        function: function name as in topology.json, e.g. "process_media".
        path: the zip file written.
        size_bytes: size of the zip file.
        md5_hex: hex MD5 of the zip file (what Terraform's `filemd5()` returns).
        requirements: the pinned requirement lines written to requirements.txt.
    """

    function: str
    path: Path
    size_bytes: int
    md5_hex: str
    requirements: tuple[str, ...]


def function_names(repo_root: Path) -> list[str]:
    """Return the function names declared in `<repo_root>/topology.json`, sorted.

    Args:
        repo_root: repository root holding topology.json.

    Returns:
        Sorted function names, e.g. ["create_media", "finalize_upload", ...].

    Raises:
        PackagingError: topology.json is missing or has no "functions" object.
    """
    topology_path = repo_root / "topology.json"
    try:
        topology = json.loads(topology_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PackagingError(f"{topology_path} not found") from exc
    functions = topology.get("functions")
    if not isinstance(functions, dict) or not functions:
        raise PackagingError(f"{topology_path} has no 'functions' object")
    return sorted(functions)


def pinned_requirements(pyproject: Mapping[str, object], extras: Sequence[str] = ()) -> list[str]:
    """Pin a project's dependencies to the versions installed in this environment.

    Args:
        pyproject: parsed pyproject.toml.
        extras: names of `[project.optional-dependencies]` groups to add.

    Returns:
        Requirement lines `name[extras]==version` (environment markers kept), in pyproject order,
        without duplicates.

    Raises:
        PackagingError: a group is missing, a requirement cannot be parsed, or a distribution is
            not installed (build from the environment the tests ran in).
    """
    project = pyproject.get("project")
    if not isinstance(project, dict):
        raise PackagingError("pyproject.toml has no [project] table")
    requirements: list[str] = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise PackagingError(f"pyproject.toml has no optional-dependencies group {extra!r}")
        requirements.extend(optional[extra])

    pinned: list[str] = []
    for requirement in requirements:
        line = _pin(requirement)
        if line not in pinned:
            pinned.append(line)
    return pinned


def _pin(requirement: str) -> str:
    spec, _, marker = requirement.partition(";")
    match = _REQUIREMENT_RE.match(spec)
    if match is None:
        raise PackagingError(f"cannot parse requirement {requirement!r}")
    name = match.group("name")
    extras = match.group("extras") or ""
    if extras:
        names = sorted(part.strip() for part in extras[1:-1].split(",") if part.strip())
        extras = f"[{','.join(names)}]"
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError as exc:
        raise PackagingError(
            f"{name} is not installed; install the project (pip install -e '.[media]') first"
        ) from exc
    line = f"{name}{extras}=={version}"
    return f"{line}; {marker.strip()}" if marker.strip() else line


def _files_under(directory: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [
            d for d in dirnames if d not in _EXCLUDED_DIR_NAMES and not d.startswith(".")
        ]
        for filename in filenames:
            if filename.startswith(".") or filename.endswith(_EXCLUDED_SUFFIXES):
                continue
            yield Path(dirpath) / filename


def archive_entries(
    repo_root: Path, function: str, requirements: Iterable[str]
) -> dict[str, bytes]:
    """Collect the archive content of one function.

    Args:
        repo_root: repository root.
        function: function name; its code lives in `functions/<function>/`.
        requirements: pinned requirement lines for requirements.txt.

    Returns:
        Mapping of archive path (POSIX, relative to the archive root) to file content.

    Raises:
        PackagingError: `functions/<function>/main.py` or `common/__init__.py` is missing, the
            function directory carries its own requirements.txt, or a function file would shadow
            the shared package.
    """
    function_dir = repo_root / "functions" / function
    if not (function_dir / "main.py").is_file():
        raise PackagingError(f"{function_dir / 'main.py'} not found")
    shared_dir = repo_root / SHARED_PACKAGE
    if not (shared_dir / "__init__.py").is_file():
        raise PackagingError(f"{shared_dir / '__init__.py'} not found")
    if (function_dir / "requirements.txt").exists():
        raise PackagingError(
            f"{function_dir / 'requirements.txt'} exists; requirements are generated from "
            "pyproject.toml, delete it"
        )

    entries: dict[str, bytes] = {}
    for path in _files_under(function_dir):
        name = path.relative_to(function_dir).as_posix()
        if name.split("/", 1)[0] == SHARED_PACKAGE:
            raise PackagingError(f"{path} would shadow the shared package {SHARED_PACKAGE}/")
        entries[name] = path.read_bytes()
    for path in _files_under(shared_dir):
        entries[path.relative_to(repo_root).as_posix()] = path.read_bytes()
    entries["requirements.txt"] = ("\n".join(requirements) + "\n").encode("utf-8")
    return entries


def write_zip(entries: Mapping[str, bytes], destination: Path) -> None:
    """Write entries to a deterministic zip (sorted names, fixed times and modes).

    Args:
        entries: archive path to content.
        destination: zip path; written through a temporary file and renamed into place.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so external_attr carries POSIX permissions
            info.external_attr = _FILE_MODE << 16
            archive.writestr(info, entries[name], compresslevel=_COMPRESS_LEVEL)
    os.replace(temporary, destination)


def build(
    repo_root: Path, out_dir: Path, functions: Sequence[str] | None = None
) -> list[BuiltArchive]:
    """Build `<out_dir>/<function>.zip` for each function.

    Args:
        repo_root: repository root (holds pyproject.toml, topology.json, common/, functions/).
        out_dir: output directory, e.g. `dist/functions`.
        functions: subset of function names; default all functions in topology.json.

    Returns:
        One `BuiltArchive` per function, in name order.

    Raises:
        PackagingError: see `function_names`, `pinned_requirements`, `archive_entries`.
    """
    declared = function_names(repo_root)
    selected = sorted(functions) if functions else declared
    unknown = sorted(set(selected) - set(declared))
    if unknown:
        raise PackagingError(f"not in topology.json functions: {', '.join(unknown)}")
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))

    built: list[BuiltArchive] = []
    for function in selected:
        requirements = pinned_requirements(pyproject, EXTRAS_BY_FUNCTION.get(function, ()))
        destination = out_dir / f"{function}.zip"
        write_zip(archive_entries(repo_root, function, requirements), destination)
        content = destination.read_bytes()
        built.append(
            BuiltArchive(
                function=function,
                path=destination,
                size_bytes=len(content),
                md5_hex=hashlib.md5(content, usedforsecurity=False).hexdigest(),
                requirements=tuple(requirements),
            )
        )
    return built


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: arguments without the program name; default `sys.argv[1:]`.

    Returns:
        Process exit status: 0 on success, 1 when packaging failed.
    """
    default_root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repo-root", type=Path, default=default_root)
    parser.add_argument(
        "--out", type=Path, default=None, help="default: <repo-root>/dist/functions"
    )
    parser.add_argument("--function", action="append", dest="functions", default=None)
    args = parser.parse_args(argv)
    repo_root: Path = args.repo_root.resolve()
    out_dir: Path = args.out if args.out is not None else repo_root / "dist" / "functions"
    try:
        archives = build(repo_root, out_dir, args.functions)
    except PackagingError as exc:
        print(f"package_functions: {exc}", file=sys.stderr)
        return 1
    for archive in archives:
        print(f"{archive.path}\t{archive.size_bytes} bytes\tmd5={archive.md5_hex}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
