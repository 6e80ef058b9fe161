"""What the terraform/ tests share: the module's paths and its .tf files parsed with python-hcl2.

The parsing helpers read every module `.tf` file (not examples/); no provider, no network. What
needs the Terraform registry (init/validate/plan) is listed in terraform/README.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
IAM_DOC = REPO_ROOT / "docs" / "IAM.md"
TOPOLOGY = REPO_ROOT / "topology.json"

# Project-level grants of resource-bindable roles, allowed only for a resource the module does not
# own and that does not exist at apply time; each must be conditioned on that resource.
PROJECT_LEVEL_EXCEPTIONS: dict[str, str] = {
    "google_project_iam_member.build_gcf_sources_viewer": "gcf-v2-sources-",
}

Evaluate = Callable[..., tuple[int, dict[str, Any], str]]
"""The `evaluate` fixture (conftest.py): variables (and a var file) -> exit code, outputs, error."""

_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
_ADDRESS = re.compile(r"`((?:google|random)_[a-z0-9_]+\.[a-z0-9_]+)`")
# A predefined role, or the address of a custom role of the module.
_ROLE = re.compile(r"`(roles/[A-Za-z0-9_.]+|google_project_iam_custom_role\.[a-z0-9_]+)`")
_CUSTOM_ROLE_ROW = re.compile(r"`(google_project_iam_custom_role\.[a-z0-9_]+)`")


def module_files() -> list[Path]:
    return sorted(TERRAFORM_DIR.glob("*.tf"))


@cache
def parsed(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        result: dict[str, Any] = hcl2.load(handle, serialization_options=_OPTIONS)
    return result


def module_blocks(kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (type, name, body) of every `resource` or `data` block of the module."""
    for path in module_files():
        for entry in parsed(path).get(kind, []):
            for block_type, named in entry.items():
                for name, body in named.items():
                    yield block_type, name, body


def module_resources() -> dict[str, dict[str, Any]]:
    return {f"{t}.{n}": body for t, n, body in module_blocks("resource")}


def declared(kind: str) -> set[str]:
    names: set[str] = set()
    for path in module_files():
        for entry in parsed(path).get(kind, []):
            names.update(entry)
    return names


def module_locals() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in module_files():
        for entry in parsed(path).get("locals", []):
            merged.update(entry)
    return merged


def code_text() -> str:
    """All module source without full-line comments (references in prose are not references)."""
    lines: list[str] = []
    for path in module_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.lstrip().startswith(("#", "//")):
                lines.append(line)
    return "\n".join(lines)


def _is_grant(address: str) -> bool:
    resource_type = address.split(".", 1)[0]
    if resource_type in {"google_project_iam_custom_role", "google_project_iam_audit_config"}:
        # a role definition and the audit log settings, not grants
        return False
    return resource_type.startswith("google_project_iam_") or bool(
        re.search(r"_iam_(member|binding|policy)$", resource_type)
    )


def custom_role_table() -> dict[str, list[str]]:
    """Custom role address -> permissions, from the custom roles table of docs/IAM.md."""
    rows: dict[str, list[str]] = {}
    for line in IAM_DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and _CUSTOM_ROLE_ROW.fullmatch(cells[0]):
            rows[cells[0].strip("`")] = sorted(re.findall(r"`(storage\.[a-z.]+)`", cells[2]))
    return rows


def module_grants() -> dict[str, dict[str, Any]]:
    return {a: body for a, body in module_resources().items() if _is_grant(a)}


def iam_table() -> dict[str, str]:
    """Terraform address -> role, from the grants table of docs/IAM.md."""
    rows: dict[str, str] = {}
    for line in IAM_DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5:
            continue
        address, role = _ADDRESS.fullmatch(cells[0]), _ROLE.fullmatch(cells[2])
        if address and role:
            assert address.group(1) not in rows, f"{address.group(1)} listed twice in IAM.md"
            rows[address.group(1)] = role.group(1)
    return rows


def topology_json() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(TOPOLOGY.read_text(encoding="utf-8"))
    return result


def literal_number(value: Any) -> int:
    assert isinstance(value, int), f"expected a literal number, got {value!r}"
    return value
