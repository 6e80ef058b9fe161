"""One apply on a fresh project: service agents are generated before they are granted roles, and
what Google documents as eventually consistent is waited for (terraform/ordering.tf)."""

from __future__ import annotations

from tests.terraform.support import code_text, module_locals, module_resources


def test_service_agents_are_generated_before_any_grant_names_them() -> None:
    resources = module_resources()
    identity = resources["google_project_service_identity.agent"]
    assert identity["provider"] in {"google-beta", "${google-beta}"}
    services = module_locals()["service_agent_services"]
    assert "pubsub.googleapis.com" in services
    assert "cloudscheduler.googleapis.com" in services
    triggers = resources["time_sleep.service_agents"]["triggers"]
    assert "google_project_service_identity.agent" in triggers["pubsub"]
    assert "google_project_service_identity.agent" in triggers["cloudscheduler"]
    assert "data.google_storage_project_service_account.gcs" in triggers["storage"]
    for name in ("pubsub_agent_member", "scheduler_agent_member", "gcs_agent_member"):
        assert "time_sleep.service_agents.triggers" in module_locals()[name], name
    # no grant spells a service agent's address by hand (it may not exist yet)
    assert "gcp-sa-" not in code_text()
    assert "gs-project-accounts" not in code_text()


def test_functions_wait_for_their_build_and_secret_grants() -> None:
    resources = module_resources()
    wait = resources["time_sleep.function_grants"]
    for grant in (
        "google_project_iam_member.build_log_writer",
        "google_project_iam_member.build_gcf_sources_viewer",
        "google_artifact_registry_repository_iam_member.build_writer",
    ):
        assert grant in wait["triggers"]["build"], grant
    assert "google_secret_manager_secret_iam_member.jwt_accessor" in wait["triggers"]["secrets"]
    functions = resources["google_cloudfunctions2_function.function"]
    assert "${time_sleep.function_grants}" in functions["depends_on"]


def test_notification_waits_for_the_publisher_grant() -> None:
    resources = module_resources()
    wait = resources["time_sleep.notification_grant"]
    assert "object_events_gcs_publisher" in wait["triggers"]["publisher"]
    notification = resources["google_storage_notification.uploads_finalize"]
    assert notification["depends_on"] == ["${time_sleep.notification_grant}"]


def test_alert_policies_on_log_based_metrics_wait_for_their_descriptors() -> None:
    resources = module_resources()
    for address, body in resources.items():
        if not address.startswith("google_monitoring_alert_policy."):
            continue
        text = str(body.get("conditions"))
        if "log_metric_types" in text:
            assert "${time_sleep.log_metrics}" in body["depends_on"], address
        if "google_logging_metric.scheduler_failures" in text:
            assert "${time_sleep.scheduler_failures_metric}" in body["depends_on"], address
