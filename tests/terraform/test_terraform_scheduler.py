"""Cloud Scheduler: the housekeeping ticks of topology.json, published by the scheduler alone."""

from __future__ import annotations

from tests.terraform.support import module_grants, module_locals, module_resources, topology_json

EXPECTED_SCHEDULES = {
    "reconcile": {
        "topic": "housekeeping",
        "cron": "*/5 * * * *",
        "every_seconds": 300,
        "attributes": {"task": "reconcile"},
    },
    "retention": {
        "topic": "housekeeping",
        "cron": "17 * * * *",
        "every_seconds": 3600,
        "attributes": {"task": "retention"},
    },
}


def _cron_period_seconds(cron: str) -> int:
    """Period of the simple crons topology.json uses: `*/N * * * *` or `M * * * *`."""
    minute, *rest = cron.split()
    assert rest == ["*", "*", "*", "*"], f"unsupported cron {cron!r}"
    if minute.startswith("*/"):
        step = int(minute[2:])
        assert 60 % step == 0, f"{cron!r} does not divide the hour evenly"
        return step * 60
    assert 0 <= int(minute) <= 59
    return 3600


def test_topology_schedules_are_the_housekeeping_ticks() -> None:
    schedules = topology_json()["schedules"]
    without_prose = {
        key: {f: v for f, v in schedule.items() if f != "description"}
        for key, schedule in schedules.items()
    }
    assert without_prose == EXPECTED_SCHEDULES
    pushed = {
        s["topic"]: s["push_function"]
        for s in topology_json()["subscriptions"].values()
        if "push_function" in s
    }
    for key, schedule in schedules.items():
        assert _cron_period_seconds(schedule["cron"]) == schedule["every_seconds"], key
        assert pushed.get(schedule["topic"]) == "housekeeping", key
        assert schedule["attributes"]["task"] == key


def test_scheduler_jobs_publish_the_topology_schedules() -> None:
    job = module_resources()["google_cloud_scheduler_job.schedule"]
    assert job["for_each"] == "${local.schedules}"
    assert job["schedule"] == "${each.value.cron}"
    assert job["time_zone"] == "Etc/UTC"
    (target,) = job["pubsub_target"]
    assert target["topic_name"] == "${google_pubsub_topic.topic[each.value.topic].id}"
    assert target["attributes"] == "${each.value.attributes}"
    assert "google_pubsub_topic_iam_member.scheduler_publisher" in " ".join(job["depends_on"])
    assert module_locals()["schedules"] == "${try(local.topology.schedules, {})}"


def test_scheduler_may_publish_to_the_schedule_topics_only() -> None:
    grant = module_grants()["google_pubsub_topic_iam_member.scheduler_publisher"]
    assert grant["for_each"] == "${local.schedule_topics}"
    assert grant["topic"] == "${google_pubsub_topic.topic[each.key].name}"
    assert grant["role"] == "roles/pubsub.publisher"
    # The Cloud Scheduler service agent, generated before it is granted (apis.tf, ordering.tf).
    assert grant["member"] == "${local.scheduler_agent_member}"
    for address, body in module_grants().items():
        if "scheduler_agent_member" in body.get("member", ""):
            assert address == "google_pubsub_topic_iam_member.scheduler_publisher", address


def test_apis_for_scheduler_and_monitoring_are_enabled() -> None:
    services = module_locals()["required_services"]
    for api in (
        "cloudscheduler.googleapis.com",
        "monitoring.googleapis.com",
        "logging.googleapis.com",
    ):
        assert api in services, api
