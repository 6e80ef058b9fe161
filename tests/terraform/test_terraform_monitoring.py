"""Monitoring: log-based metrics of the event names, alert policies and the dashboard."""

from __future__ import annotations

from tests.terraform.support import module_locals, module_resources


def test_log_metrics_cover_the_event_names() -> None:
    definitions = module_locals()["log_metric_definitions"]
    assert {d["event"] for d in definitions.values()} == {
        "upload.verified",
        "upload.rejected",
        "dedupe.hit",
        "quota.refused",
        "ingest.fetch_failed",
        "delivery.dead_lettered",
        "share.opened",
    }
    assert definitions["upload_bytes"]["kind"] == "distribution"
    assert definitions["upload_bytes"]["value_field"] == "size_bytes"
    assert set(definitions["upload_rejections"]["labels"]) == {"reason_code"}
    assert set(definitions["quota_refusals"]["labels"]) == {"reason_code"}
    assert set(definitions["ingest_fetch_failures"]["labels"]) == {"reason_code"}
    assert set(definitions["dead_letters"]["labels"]) == {"subscription"}
    metric = module_resources()["google_logging_metric.event"]
    assert metric["for_each"] == "${local.log_metrics}"
    assert metric["filter"] == "${each.value.filter}"


def test_alert_policies_watch_rejections_and_dead_letters() -> None:
    resources = module_resources()
    spike = resources["google_monitoring_alert_policy.upload_rejection_spike"]
    dead = resources["google_monitoring_alert_policy.dead_letter"]
    for policy in (spike, dead):
        assert policy["notification_channels"] == "${var.alert_notification_channels}"
    (condition,) = spike["conditions"]
    (threshold,) = condition["condition_threshold"]
    assert "local.log_metric_types.upload_rejections" in threshold["filter"]
    assert threshold["threshold_value"] == "${var.alert_rejection_threshold_count}"
    filters = [c["condition_threshold"][0]["filter"] for c in dead["conditions"]]
    assert any("local.log_metric_types.dead_letters" in f for f in filters)
    assert any("dead_letter_message_count" in f for f in filters)
    assert all(c["condition_threshold"][0]["threshold_value"] == 0 for c in dead["conditions"])
    dashboard = resources["google_monitoring_dashboard.pipeline"]
    assert "local.dashboard_charts" in dashboard["dashboard_json"]
    assert "local.dashboard_alert_policies" in dashboard["dashboard_json"]
    policies = module_locals()["dashboard_alert_policies"]
    for address in (
        "google_monitoring_alert_policy.dead_letter",
        "google_monitoring_alert_policy.upload_rejection_spike",
        "google_monitoring_alert_policy.function_5xx",
        "google_monitoring_alert_policy.oldest_unacked",
        "google_monitoring_alert_policy.sql",
    ):
        assert address in policies, address
