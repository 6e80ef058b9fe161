"""Check Terraform files against the provider schemas (provider_schema.py), offline.

`problems(paths, schemas)` parses each file with python-hcl2 and returns one line per mistake:

- a resource or data source type the provider (google, or google-beta for a block with
  `provider = google-beta`) does not have at the schema's version;
- an argument or nested block (also inside `dynamic` blocks) the type does not have, and a
  required argument that is missing;
- a reference `TYPE.NAME[...].attr[0].nested` or `self.attr` to an attribute the type does not
  have (how `self.urls` of `google_cloud_run_v2_service`, new in provider 6.12.0, is caught when
  the bound allows older providers).

Types of other providers (random, time) are not in these schemas; `OTHER_PROVIDERS` lists the
ones the module may use and they are only counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)
META_ARGUMENTS = {
    "resource": {
        "count",
        "for_each",
        "depends_on",
        "provider",
        "lifecycle",
        "provisioner",
        "connection",
    },
    "data": {"count", "for_each", "depends_on", "provider", "lifecycle"},
    "ephemeral": {"count", "for_each", "depends_on", "provider", "lifecycle"},
}
OTHER_PROVIDERS = ("random_", "time_")
_BLOCK = "__is_block__"
_TYPE_REF = re.compile(r"(?<![\w.-])(data\.)?(google_[a-z0-9_]+)\.([a-z0-9_-]+)")
_SELF_REF = re.compile(r"(?<![\w.])self\.")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        result: dict[str, Any] = hcl2.load(handle, serialization_options=_OPTIONS)
    return result


def _blocks_of(value: Any) -> list[dict[str, Any]]:
    """The bodies of a nested block's occurrences (python-hcl2 marks them with __is_block__)."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict) and item.get(_BLOCK)]


def _check_body(
    body: dict[str, Any], block: dict[str, Any], where: str, meta: set[str], out: list[str]
) -> None:
    present = set()
    for key, value in body.items():
        if key == _BLOCK or key in meta:
            continue
        if key == "dynamic":
            for dynamic in value if isinstance(value, list) else [value]:
                for name, spec in dynamic.items():
                    if name == _BLOCK:
                        continue
                    if name not in block["blocks"]:
                        out.append(f"{where}: no nested block {name!r} (dynamic)")
                        continue
                    for content in _blocks_of(spec.get("content", [])):
                        _check_body(content, block["blocks"][name], f"{where}.{name}", set(), out)
            continue
        present.add(key)
        nested = _blocks_of(value)
        if key in block["blocks"] and nested:
            for item in nested:
                _check_body(item, block["blocks"][key], f"{where}.{key}", set(), out)
        elif key in block["arguments"] and not nested:
            continue
        elif key in block["blocks"]:
            out.append(f"{where}: {key!r} is a block, written as an argument")
        elif key in block["arguments"]:
            out.append(f"{where}: {key!r} is an argument, written as a block")
        else:
            out.append(f"{where}: no argument or block {key!r}")
    for name, required in block["arguments"].items():
        if required and name not in present:
            out.append(f"{where}: required argument {name!r} missing")


def _skip_index(text: str, at: int) -> int:
    """Past one `[ ... ]` (nested brackets balanced) starting at `at`, else `at`."""
    if at >= len(text) or text[at] != "[":
        return at
    depth = 0
    for position in range(at, len(text)):
        if text[position] == "[":
            depth += 1
        elif text[position] == "]":
            depth -= 1
            if depth == 0:
                return position + 1
    return len(text)


def _attribute_path(text: str, at: int) -> list[str]:
    """Attribute names after a reference: `[x].service_config[0].uri` -> [service_config, uri]."""
    names = []
    while True:
        at = _skip_index(text, at)
        if at < len(text) and text[at] == ".":
            match = _IDENT.match(text, at + 1)
            if not match:
                return names
            names.append(match.group(0))
            at = match.end()
        else:
            return names


def _resolve(block: dict[str, Any], names: list[str]) -> str | None:
    """None if `names` is an attribute path of `block`, else the first name that is not."""
    for index, name in enumerate(names):
        if name in block["blocks"]:
            block = block["blocks"][name]
            continue
        if name in block["arguments"] or name in block["attributes"]:
            return None  # a scalar, map or list attribute: what follows is its value
        return ".".join(names[: index + 1])
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _schema_for(
    body: dict[str, Any], schemas: dict[str, dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    provider = str(body.get("provider", "google"))
    name = "google-beta" if "google-beta" in provider else "google"
    return name, schemas[name]


def problems(paths: Iterable[Path], schemas: dict[str, dict[str, Any]]) -> list[str]:
    """Every schema mistake in `paths` (module docstring), as `file: address: what` lines."""
    out: list[str] = []
    parsed = {path: parse(path) for path in paths}
    declared: dict[tuple[str, str, str], str] = {}  # (kind, type, name) -> provider
    for path, document in parsed.items():
        for kind in ("resource", "data", "ephemeral"):
            for entry in document.get(kind, []):
                for type_name, named in entry.items():
                    for name, body in named.items():
                        if type_name.startswith(OTHER_PROVIDERS):
                            continue
                        where = (
                            f"{path.name}: {'data.' if kind == 'data' else ''}{type_name}.{name}"
                        )
                        provider, schema = _schema_for(body, schemas)
                        block = schema.get("data" if kind == "data" else "resource", {}).get(
                            type_name
                        )
                        if block is None:
                            out.append(f"{where}: no such type in {provider} {schema['version']}")
                            continue
                        declared[(kind, type_name, name)] = provider
                        _check_body(body, block, where, META_ARGUMENTS[kind], out)
                        for text in _strings(body):
                            for match in _SELF_REF.finditer(text):
                                missing = _resolve(block, _attribute_path(text, match.end() - 1))
                                if missing:
                                    out.append(f"{where}: self.{missing} is not an attribute")
    for path, document in parsed.items():
        for text in _strings(document):
            for match in _TYPE_REF.finditer(text):
                is_data, type_name, name = match.groups()
                kind = "data" if is_data else "resource"
                provider = declared.get((kind, type_name, name))
                if provider is None:
                    continue  # undeclared or of an unknown type: reported above or by the layout test
                block = schemas[provider][kind][type_name]
                missing = _resolve(block, _attribute_path(text, match.end()))
                if missing:
                    out.append(
                        f"{path.name}: {match.group(0)}.{missing} is not an attribute of {type_name}"
                    )
    return sorted(set(out))


def dump(schemas: dict[str, dict[str, Any]], type_name: str) -> str:
    """A type's schema as JSON, for error messages."""
    return json.dumps(schemas["google"]["resource"].get(type_name), indent=1)
