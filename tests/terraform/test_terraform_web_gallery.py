"""The web gallery on Cloud Run: optional, private by default, no role, on both CORS lists."""

from __future__ import annotations

import json

from tests.terraform.support import (
    TERRAFORM_DIR,
    module_grants,
    module_locals,
    module_resources,
    parsed,
)


def test_web_gallery_is_optional_private_by_default_and_holds_no_role() -> None:
    resources = module_resources()
    service = resources["google_cloud_run_v2_service.web"]
    account = resources["google_service_account.web"]
    assert service["count"] == account["count"] == "${local.web_gallery_enabled ? 1 : 0}"
    assert service["ingress"] == "${local.cloud_run_ingress}"
    (template,) = service["template"]
    assert template["service_account"] == "${google_service_account.web[0].email}"
    (container,) = template["containers"]
    assert container["image"] == "${var.web_gallery_image}"
    assert {e["name"] for e in container["env"]} == {
        "WEB_CONFIG_JSON",
        "WEB_CONTENT_SECURITY_POLICY",
    }
    # The gallery's identity is granted nothing.
    for address, body in module_grants().items():
        assert "google_service_account.web" not in json.dumps(body), address
    invokers = module_grants()["google_cloud_run_v2_service_iam_member.web_invoker_members"]
    assert "var.http_invoker_members" in invokers["for_each"]
    variables = {
        k: v for e in parsed(TERRAFORM_DIR / "variables.tf")["variable"] for k, v in e.items()
    }
    assert variables["web_gallery_image"]["default"] is None


def test_web_gallery_origin_reaches_both_cors_lists() -> None:
    local = module_locals()
    assert "local.web_gallery_origin" in local["cors_allowed_origins"]
    assert "var.cors_allowed_origins" in local["cors_allowed_origins"]
    assert "local.web_gallery_origin" in local["upload_cors_origins"]
    assert "var.upload_cors_origins" in local["upload_cors_origins"]
    assert "local.cors_allowed_origins" in local["function_environment"]
    uploads = module_resources()["google_storage_bucket.uploads"]
    (cors,) = [d["cors"] for d in uploads["dynamic"] if "cors" in d]
    assert "local.upload_cors_origins" in cors["for_each"]
    web = TERRAFORM_DIR / "web"
    for name in ("Dockerfile", "server.py", "cloudbuild.yaml", "Dockerfile.dockerignore"):
        assert (web / name).is_file(), name
