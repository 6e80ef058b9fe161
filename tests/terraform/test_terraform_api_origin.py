"""The API's one origin (lb.tf, lb_routes.tf) and the stream service (streams.tf): the load
balancer's route rules are the route binding, evaluated with real Terraform; the stream service
is private to the load balancer and holds only what it reads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from common.api import routes
from common.api.urlmap import path_template
from tests.terraform.support import TERRAFORM_DIR, Evaluate, module_grants, module_resources, parsed

BOUND = {
    (route.method, path_template(route.path), service)
    for service, served in routes.BINDING.items()
    for route in served
}


def rules_of(outputs: dict[str, Any]) -> set[tuple[str, str, str]]:
    found = set()
    for rule in outputs["lb_route_rules"]:
        methods = re.fullmatch(r"\^\((.*)\)\$", rule["cors_regex"])
        assert methods is not None, rule
        for method in methods.group(1).split("|"):
            found.add((method, rule["path_template"], rule["service"]))
    return found


def test_the_route_rules_are_the_binding_without_the_admin_routes(evaluate: Evaluate) -> None:
    code, outputs, error = evaluate({})
    assert code == 0, error
    public = {b for b in BOUND if not b[1].startswith("/v1/admin/")}
    assert rules_of(outputs) == public
    priorities = [r["priority"] for r in outputs["lb_route_rules"]]
    assert len(set(priorities)) == len(priorities)
    assert min(priorities) > 1  # priority 1 is the admin block's
    assert set(outputs["api_services"]) == set(routes.BINDING)
    for rule in outputs["lb_route_rules"]:
        if "GET" in rule["cors_regex"]:
            assert "HEAD" in rule["method_regex"], rule


def test_with_admin_routes_the_rules_are_the_whole_binding(evaluate: Evaluate) -> None:
    code, outputs, error = evaluate({"lb_admin_routes": True})
    assert code == 0, error
    assert rules_of(outputs) == BOUND


@pytest.mark.parametrize("domains", [["API.example.com"], ["api_example.com"], ["https://a.b"]])
def test_api_domains_must_be_dns_names(evaluate: Evaluate, domains: list[str]) -> None:
    code, _, error = evaluate({"api_domains": domains})
    assert code != 0
    assert "api_domains must be lowercase DNS names" in error


def test_the_url_map_is_made_from_the_rules_with_method_and_preflight_matches() -> None:
    url_map = module_resources()["google_compute_url_map.api"]
    text = json.dumps(url_map)
    assert "local.lb_rules" in text
    assert '":method"' in text.replace("\\", "")
    assert "access-control-request-method" in text
    assert "path_template_match" in text
    assert "local.url_map.default_service" in text
    backend = module_resources()["google_compute_backend_service.api"]
    assert backend["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    neg = module_resources()["google_compute_region_network_endpoint_group.api"]
    assert neg["network_endpoint_type"] == "SERVERLESS"
    proxy = module_resources()["google_compute_target_https_proxy.api"]
    assert "google_compute_ssl_policy.api" in proxy["ssl_policy"]
    redirect = module_resources()["google_compute_url_map.api_redirect"]
    (action,) = redirect["default_url_redirect"]
    assert action["https_redirect"] is True


def test_the_stream_service_is_private_to_the_load_balancer_and_reads_only() -> None:
    service = module_resources()["google_cloud_run_v2_service.streams"]
    assert service["ingress"] == "${local.streams_ingress}"
    (template,) = service["template"]
    assert template["max_instance_request_concurrency"] == "${var.streams_max_request_concurrency}"
    (container,) = template["containers"]
    (probe,) = container["startup_probe"]
    assert probe["http_get"][0]["path"] == "/ready"
    local_text = (TERRAFORM_DIR / "streams.tf").read_text()
    assert "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" in local_text
    roles = sorted(
        body["role"]
        for address, body in module_grants().items()
        if "google_service_account.streams" in json.dumps(body)
    )
    assert roles == [
        "roles/cloudsql.client",
        "roles/cloudsql.instanceUser",
        "roles/datastore.viewer",
        "roles/secretmanager.secretAccessor",
    ]
    variables = {
        k: v for e in parsed(TERRAFORM_DIR / "variables.tf")["variable"] for k, v in e.items()
    }
    assert variables["streams_image"]["default"] is None
    assert variables["api_domains"]["default"] == []


def test_the_gallery_is_told_the_one_base_url() -> None:
    web = (TERRAFORM_DIR / "web.tf").read_text()
    assert "apiBaseUrl = local.api_base_url" in web
    assert "createMediaUrl" not in web
    for name in ("Dockerfile", "Dockerfile.dockerignore", "cloudbuild.yaml"):
        assert (TERRAFORM_DIR / "streams" / name).is_file(), name
