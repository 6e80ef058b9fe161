"""The google and google-beta provider schemas, read offline from the CDKTF provider bindings.

`terraform init` cannot reach the Terraform registry here, so the provider's own schema
(`terraform providers schema -json`) is out of reach. The prebuilt CDKTF bindings on PyPI
(`cdktf-cdktf-provider-google`, `cdktf-cdktf-provider-google-beta`) are generated from that schema
for one provider version each (their README names it) and ship it as a jsii assembly
(`_jsii/provider-google@<version>.jsii.tgz`, file `package/.jsii`): every resource and data
source class, its `...Config` struct (one property per argument and nested block, the Terraform
name in the documentation link `...#force_destroy StorageBucket#force_destroy`), and
`...OutputReference` classes whose getters are a nested block's attributes, computed ones included.

`make install` installs the bindings of the provider versions the module's lower bound names into
`.venv/tools/provider-schema/` (Makefile, `PROVIDER_SCHEMA`); `load()` turns an assembly into a
compact schema, cached beside it as JSON:

    {"provider": "google", "version": "6.23.0",
     "resource": {"google_storage_bucket": BLOCK, ...}, "data": {...}}
    BLOCK = {"arguments": {"name": true (required) | false}, "attributes": [names],
             "blocks": {"versioning": BLOCK, ...}}
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

TOOLS_DIR = Path(sys.prefix) / "tools" / "provider-schema"
"""Where the Makefile installs the bindings: `<venv>/tools/provider-schema/<package>-<version>/`."""

_LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/(google(?:-beta)?)/([0-9.]+)/docs/"
    r"(resources|data-sources)/[a-z0-9_]+ ([a-z0-9_]+)\}"
)
_ANCHOR = re.compile(r"/docs/(?:resources|data-sources)/[a-z0-9_]+#([a-z0-9_]+) ")
_SKIPPED_GETTERS = {"internalValue", "creationStack", "fqn"}


def snake(name: str) -> str:
    """camelCase -> snake_case, the inverse of the bindings' naming (`ipv4Enabled` -> `ipv4_enabled`)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _struct_of(type_ref: dict[str, Any], types: dict[str, Any]) -> str | None:
    """The struct fqn a property's type holds (directly, in a list, or in a union), if any."""
    if "fqn" in type_ref:
        target = types.get(type_ref["fqn"])
        if target and target.get("kind") == "interface" and target.get("datatype"):
            return str(type_ref["fqn"])
        return None
    if "collection" in type_ref:
        return _struct_of(type_ref["collection"]["elementtype"], types)
    if "union" in type_ref:
        for member in type_ref["union"]["types"]:
            found = _struct_of(member, types)
            if found:
                return found
    return None


def _getters(fqn: str, types: dict[str, Any]) -> list[str]:
    cls = types.get(fqn) or {}
    return sorted(
        {
            snake(p["name"])
            for p in cls.get("properties", [])
            if not p.get("static")
            and not p["name"].endswith("Input")
            and p["name"] not in _SKIPPED_GETTERS
        }
    )


def _block(struct_fqn: str, types: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    struct = types[struct_fqn]
    arguments: dict[str, bool] = {}
    blocks: dict[str, Any] = {}
    for prop in struct.get("properties", []):
        anchor = _ANCHOR.search(prop.get("docs", {}).get("remarks", ""))
        name = anchor.group(1) if anchor else snake(prop["name"])
        nested = _struct_of(prop["type"], types)
        if nested and depth < 12:
            blocks[name] = _block(nested, types, depth + 1)
        else:
            arguments[name] = not prop.get("optional", False)
    return {
        "arguments": arguments,
        "attributes": _getters(f"{struct_fqn}OutputReference", types),
        "blocks": blocks,
    }


def compact(assembly: dict[str, Any]) -> dict[str, Any]:
    """The compact schema (module docstring) of one provider's jsii assembly."""
    types: dict[str, Any] = assembly["types"]
    schema: dict[str, Any] = {"resource": {}, "data": {}}
    for cls in types.values():
        if cls.get("kind") != "class" or not any(
            p["name"] == "tfResourceType" for p in cls.get("properties", [])
        ):
            continue
        link = _LINK.search(cls.get("docs", {}).get("summary", ""))
        if link is None:
            continue
        provider, version, kind, type_name = link.groups()
        schema["provider"], schema["version"] = provider, version
        (_scope, _id, config) = cls["initializer"]["parameters"]
        block = _block(config["type"]["fqn"], types)
        block["attributes"] = _getters(cls["fqn"], types)
        schema["resource" if kind == "resources" else "data"][type_name] = block
    return schema


def _assembly_file(package_dir: Path) -> Path:
    (archive,) = package_dir.glob("cdktf_cdktf_provider_*/_jsii/*.jsii.tgz")
    return archive


@cache
def load(package_dir: Path) -> dict[str, Any]:
    """The compact schema of the bindings installed in `package_dir` (cached as schema.json)."""
    cached = package_dir / "schema.json"
    if cached.is_file():
        result: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        return result
    with tarfile.open(_assembly_file(package_dir)) as archive:
        member = archive.extractfile("package/.jsii")
        assert member is not None
        schema = compact(json.load(member))
    cached.write_text(json.dumps(schema), encoding="utf-8")
    return schema


def installed() -> dict[str, Path]:
    """Provider name (google, google-beta) -> the directory of its installed bindings."""
    found: dict[str, Path] = {}
    for directory in sorted(TOOLS_DIR.glob("*")) if TOOLS_DIR.is_dir() else []:
        match = re.fullmatch(r"(google(?:-beta)?)-([0-9.]+)", directory.name)
        if match and directory.is_dir():
            found[match.group(1)] = directory
    return found
