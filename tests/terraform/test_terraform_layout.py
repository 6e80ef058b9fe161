"""Layout: the .tf files parse, versions are bounded, references resolve, README lists all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform.support import (
    TERRAFORM_DIR,
    code_text,
    declared,
    module_blocks,
    module_files,
    module_locals,
    parsed,
)

_VAR_REF = re.compile(r"(?<![\w.])var\.([A-Za-z_][\w-]*)")
_LOCAL_REF = re.compile(r"(?<![\w.])local\.([A-Za-z_][\w-]*)")
_RESOURCE_REF = re.compile(r"(?<![\w.])(data\.)?((?:google|random)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")


# ---------------------------------------------------------------------------------------------
# Parsing and layout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", module_files(), ids=lambda p: p.name)
def test_module_file_parses(path: Path) -> None:
    assert isinstance(parsed(path), dict)


def test_module_has_the_standard_files() -> None:
    names = {p.name for p in module_files()}
    assert {"versions.tf", "variables.tf", "outputs.tf"} <= names
    assert (TERRAFORM_DIR / "README.md").is_file()
    assert (TERRAFORM_DIR / "examples" / "dev" / "main.tf").is_file()
    assert (TERRAFORM_DIR / "examples" / "dev" / "terraform.tfvars").is_file()


def test_versions_are_bounded() -> None:
    (terraform,) = parsed(TERRAFORM_DIR / "versions.tf")["terraform"]
    # write-only secret_data_wo: Terraform 1.11, provider 6.23 (test_terraform_provider_schema.py
    # checks every argument against the provider at the lower bound)
    assert terraform["required_version"] == ">= 1.11"
    (providers,) = terraform["required_providers"]
    assert providers["google"]["version"] == ">= 6.23, < 7.0"
    assert providers["google-beta"]["version"] == ">= 6.23, < 7.0"


def test_every_variable_is_typed_and_described() -> None:
    for path in module_files():
        for entry in parsed(path).get("variable", []):
            for name, body in entry.items():
                assert body.get("type"), f"variable {name} has no type"
                assert body.get("description"), f"variable {name} has no description"


# ---------------------------------------------------------------------------------------------
# References resolve
# ---------------------------------------------------------------------------------------------


def test_every_var_reference_is_declared() -> None:
    referenced = set(_VAR_REF.findall(code_text()))
    missing = referenced - declared("variable")
    assert not missing, f"undeclared variables: {sorted(missing)}"


def test_every_local_reference_is_declared() -> None:
    referenced = set(_LOCAL_REF.findall(code_text()))
    missing = referenced - set(module_locals())
    assert not missing, f"undeclared locals: {sorted(missing)}"


def test_every_resource_and_data_reference_resolves() -> None:
    resources = {(t, n) for t, n, _ in module_blocks("resource")}
    data = {(t, n) for t, n, _ in module_blocks("data")}
    unresolved = set()
    for is_data, block_type, name in _RESOURCE_REF.findall(code_text()):
        if (block_type, name) not in (data if is_data else resources):
            unresolved.add(f"{is_data}{block_type}.{name}")
    assert not unresolved, f"references to undeclared blocks: {sorted(unresolved)}"


def test_readme_tables_list_every_variable_and_output() -> None:
    readme = (TERRAFORM_DIR / "README.md").read_text(encoding="utf-8")
    inputs = readme.split("## Inputs", 1)[1].split("\n## ", 1)[0]
    outputs = readme.split("## Outputs", 1)[1].split("\n## ", 1)[0]
    listed_inputs = set(re.findall(r"^\| `([a-z0-9_]+)` \|", inputs, re.MULTILINE))
    listed_outputs = set(re.findall(r"^\| `([a-z0-9_]+)` \|", outputs, re.MULTILINE))
    assert listed_inputs == declared("variable")
    assert listed_outputs == declared("output")
