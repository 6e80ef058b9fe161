"""Every resource type, argument, nested block and attribute reference of terraform/**/*.tf exists
in the google / google-beta provider at the module's lower version bound (schema_check.py).

The schemas come from the CDKTF bindings of exactly that provider version, installed by
`make install` (Makefile, PROVIDER_SCHEMA_*); a missing install fails the tests.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.terraform import provider_schema, schema_check
from tests.terraform.support import TERRAFORM_DIR, parsed

_LOWER = re.compile(r">=\s*([0-9.]+)")
_UPPER = re.compile(r"<\s*([0-9.]+)")


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    installed = provider_schema.installed()
    if set(installed) != {"google", "google-beta"}:
        pytest.fail(
            f"provider schemas not installed in {provider_schema.TOOLS_DIR} (found "
            f"{sorted(installed)}): run `make install`"
        )
    return {name: provider_schema.load(path) for name, path in installed.items()}


def _bounds(provider: str) -> tuple[str, str]:
    (terraform,) = parsed(TERRAFORM_DIR / "versions.tf")["terraform"]
    (providers,) = terraform["required_providers"]
    constraint = providers[provider]["version"]
    lower, upper = _LOWER.search(constraint), _UPPER.search(constraint)
    assert lower, f"{provider}: {constraint!r} has no lower bound"
    assert upper, f"{provider}: {constraint!r} has no upper bound"
    return lower.group(1), upper.group(1)


def _all_tf_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)


@pytest.mark.parametrize("provider", ["google", "google-beta"])
def test_schema_is_the_lower_bound_of_the_provider(
    provider: str, schemas: dict[str, dict[str, Any]]
) -> None:
    lower, upper = _bounds(provider)
    # GIVEN the schema installed for the provider
    # THEN it is the provider version the module's lower bound allows, so nothing newer passes
    assert schemas[provider]["version"].split(".")[:2] == lower.split(".")[:2]
    assert int(upper.split(".")[0]) == int(lower.split(".")[0]) + 1, (
        "the schema check covers one major version; the upper bound must stay below the next"
    )
    assert all(part == "0" for part in upper.split(".")[1:]), upper


def test_examples_bound_the_providers_as_the_module_does() -> None:
    (module,) = parsed(TERRAFORM_DIR / "versions.tf")["terraform"]
    for example in sorted((TERRAFORM_DIR / "examples").glob("*/main.tf")):
        (terraform,) = parsed(example)["terraform"]
        assert terraform["required_version"] == module["required_version"], example
        (providers,) = terraform["required_providers"]
        (expected,) = module["required_providers"]
        for name in ("google", "google-beta"):
            assert providers[name]["version"] == expected[name]["version"], f"{example}: {name}"


def test_every_block_and_reference_matches_the_provider_schema(
    schemas: dict[str, dict[str, Any]],
) -> None:
    found = schema_check.problems(_all_tf_files(TERRAFORM_DIR), schemas)
    assert found == [], "\n".join(found)


def test_beta_only_types_name_the_beta_provider(schemas: dict[str, dict[str, Any]]) -> None:
    beta_only = set(schemas["google-beta"]["resource"]) - set(schemas["google"]["resource"])
    for path in _all_tf_files(TERRAFORM_DIR):
        for entry in schema_check.parse(path).get("resource", []):
            for type_name, named in entry.items():
                for name, body in named.items():
                    if type_name in beta_only:
                        assert "google-beta" in str(body.get("provider")), f"{type_name}.{name}"


@pytest.mark.parametrize(
    ("file", "old", "new", "reported"),
    [
        # an argument typo
        (
            "storage.tf",
            "force_destroy   ",
            "force_destory   ",
            "no argument or block 'force_destory'",
        ),
        # a nested block typo
        ("storage.tf", "soft_delete_policy {", "soft_delete_polcy {", "'soft_delete_polcy'"),
        # an argument of a nested block
        ("sql.tf", "ssl_mode = ", "sslmode = ", "no argument or block 'sslmode'"),
        # a resource type that does not exist
        (
            "pubsub.tf",
            '"google_pubsub_topic" "topic"',
            '"google_pubsub_topics" "topic"',
            "no such type",
        ),
        # a computed attribute that does not exist (as `self.urls` before provider 6.12.0)
        ("web.tf", "self.urls", "self.url_list", "self.url_list is not an attribute"),
        # a reference to a nested attribute that does not exist
        ("pubsub.tf", "service_config[0].uri", "service_config[0].url", "service_config.url"),
    ],
)
def test_a_planted_typo_fails(
    tmp_path: Path,
    schemas: dict[str, dict[str, Any]],
    file: str,
    old: str,
    new: str,
    reported: str,
) -> None:
    # GIVEN a scratch copy of the module with one mistake planted
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, copy, ignore=shutil.ignore_patterns(".terraform*"))
    text = (copy / file).read_text(encoding="utf-8")
    assert old in text, f"{file} no longer contains {old!r}: update the planted typo"
    (copy / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    # WHEN it is checked
    found = schema_check.problems(_all_tf_files(copy), schemas)
    # THEN the mistake is reported, and nothing else
    assert len(found) == 1, found
    assert reported in found[0], found


def test_an_attribute_newer_than_the_bound_fails(schemas: dict[str, dict[str, Any]]) -> None:
    # GIVEN the schema of a provider before `urls` of google_cloud_run_v2_service (6.12.0)
    older = {name: dict(schema) for name, schema in schemas.items()}
    service = dict(older["google"]["resource"]["google_cloud_run_v2_service"])
    service["attributes"] = [a for a in service["attributes"] if a != "urls"]
    older["google"] = {**older["google"], "resource": {**older["google"]["resource"]}}
    older["google"]["resource"]["google_cloud_run_v2_service"] = service
    # WHEN the module is checked against it
    found = schema_check.problems(_all_tf_files(TERRAFORM_DIR), older)
    # THEN web.tf's postcondition is reported
    assert found == ["web.tf: google_cloud_run_v2_service.web: self.urls is not an attribute"]
