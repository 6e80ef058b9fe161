"""`common/` is layered: each package imports only from packages below it (lazy imports too).

core                                  errors, settings, ids, status, reasons, json, hashing
db  storage  events  fetch  observe   each on core only (never on each other)
processing                            a pure library: core's errors only
webhooks                              endpoints, signed deliveries (on observe and below)
media                                 on everything above
jobs                                  on media and below
api  housekeeping                     on jobs and below (never on each other)
streams                               the stream service: on api and below
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMMON = Path(__file__).resolve().parents[2] / "common"
LEVEL = {
    "core": 0,
    "db": 1,
    "storage": 1,
    "events": 1,
    "fetch": 1,
    "processing": 1,
    "observe": 2,
    "webhooks": 3,
    "media": 4,
    "jobs": 5,
    "admin": 6,
    "api": 7,
    "housekeeping": 7,
    "streams": 8,
}
ALLOWED_SIDEWAYS: dict[str, set[str]] = {"processing": set()}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "common" or name.startswith("common.")}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


MODULES = sorted(p for p in COMMON.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in COMMON.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages <= set(LEVEL), packages - set(LEVEL)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(COMMON)))
def test_imports_only_go_down(path: Path) -> None:
    own = path.relative_to(COMMON).parts[0]
    if own not in LEVEL:
        return
    wrong = []
    for module in _imports(path):
        target = _package(module)
        if target is None or target == own:
            continue
        if target not in LEVEL:
            wrong.append(module)
        elif own == "processing":
            if module != "common.core.errors":
                wrong.append(module)
        elif LEVEL[target] >= LEVEL[own]:
            wrong.append(module)
    assert wrong == [], f"{path.relative_to(COMMON)} imports upward or sideways: {wrong}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(COMMON)))
def test_no_module_imports_private_names_of_another(path: Path) -> None:
    """`_name` is internal to its module: another module that needs it gets a public home for it
    (a private *module* of a package, such as `processing/_cv.py`, is imported whole)."""
    tree = ast.parse(path.read_text())
    wrong = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
            continue
        if not node.module.startswith("common."):
            continue
        source = COMMON.parent / (node.module.replace(".", "/") + ".py")
        if not source.is_file():  # a package: its private submodules may be imported
            continue
        wrong += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert wrong == [], f"{path.relative_to(COMMON)} imports private names: {wrong}"
