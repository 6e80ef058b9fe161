"""Real Terraform on the inputs: defaults from topology.json, validations, the example tfvars."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.terraform.support import REPO_ROOT, TERRAFORM_DIR, Evaluate

EXAMPLE_TFVARS = TERRAFORM_DIR / "examples" / "dev" / "terraform.tfvars"


def test_terraform_evaluates_defaults_from_topology(evaluate: Evaluate) -> None:
    code, out, error = evaluate({})
    assert code == 0, error
    topology = json.loads((REPO_ROOT / "topology.json").read_text(encoding="utf-8"))
    assert set(out["function_sizing"]) == set(topology["functions"])
    assert sorted(out["http_functions"]) == ["create_media", "list_media", "manage_media"]
    assert sorted(out["pushed_functions"]) == [
        "deliver_webhook",
        "finalize_upload",
        "housekeeping",
        "process_media",
    ]
    assert sorted(out["dead_letter_subscriptions"]) == [
        "dead-letter-handler",
        "deliver-webhook",
        "finalize-upload",
        "housekeeping",
        "media-jobs",
        "process-media",
        "webhook-dead-letter-handler",
    ]
    assert out["dead_letter_topics"] == [
        "dead-letter",
        "dead-letter-unhandled",
        "webhook-dead-letter",
    ]
    assert out["function_service_names"]["create_media"] == "media-create-media"
    assert all(out["timeouts_fit_ack_deadlines"].values())
    assert out["function_sizing"]["process_media"]["available_memory"] == "2Gi"
    # One pooled connection per thread: 10 x 4 + 10 x 8 + 3 x 2 + 10 + 2 + 5 + 3 x 2.
    assert out["sql_connection_budget"] == 149
    assert (
        out["sql_connection_budget"] + out["sql_reserved_connections"] <= out["sql_max_connections"]
    )
    assert out["function_sizing_problems"] == []


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
        ({"web_gallery_extra_config": {"apiBaseUrl": "x"}}, "web_gallery_extra_config keys"),
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
