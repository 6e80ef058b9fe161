"""Topology: Terraform provisions exactly the topics, subscriptions, functions of topology.json."""

from __future__ import annotations

import re

from tests.terraform.support import module_locals, module_resources, topology_json


def test_pubsub_and_functions_iterate_over_topology_json() -> None:
    local = module_locals()
    assert local["topology"] == '${jsondecode(file("${path.module}/../topology.json"))}'
    assert local["topics"] == "${local.topology.topics}"
    assert local["subscriptions"] == "${local.topology.subscriptions}"
    assert local["functions"] == "${local.topology.functions}"
    resources = module_resources()
    assert resources["google_pubsub_topic.topic"]["for_each"] == "${local.topics}"
    assert (
        resources["google_pubsub_subscription.subscription"]["for_each"] == "${local.subscriptions}"
    )
    assert resources["google_cloudfunctions2_function.function"]["for_each"] == "${local.functions}"
    assert (
        resources["google_storage_bucket_object.function_source"]["for_each"]
        == "${local.functions}"
    )
    # No topic or subscription is declared outside the topology-driven resources.
    pubsub = [
        a
        for a in resources
        if a.startswith(("google_pubsub_topic.", "google_pubsub_subscription."))
    ]
    assert sorted(pubsub) == [
        "google_pubsub_subscription.subscription",
        "google_pubsub_topic.topic",
    ]


def test_topology_is_consistent() -> None:
    topology = topology_json()
    topics, functions = topology["topics"], topology["functions"]
    dead_letter_topics = {
        s["dead_letter_topic"]
        for s in topology["subscriptions"].values()
        if "dead_letter_topic" in s
    }
    for sub_id, sub in topology["subscriptions"].items():
        assert sub["topic"] in topics, sub_id
        if "push_function" in sub:
            assert sub["push_function"] in functions, sub_id
            keys = ["minimum_backoff_seconds", "maximum_backoff_seconds"]
            if sub["topic"] not in dead_letter_topics:  # dead letters are not dead-lettered again
                keys += ["max_delivery_attempts", "dead_letter_topic"]
            for key in keys:
                assert key in sub, f"push subscription {sub_id} lacks {key}"
        if "dead_letter_topic" in sub:
            assert sub["dead_letter_topic"] in topics, sub_id
    for name, function in functions.items():
        assert function["trigger"] in {"http", "pubsub"}, name


def test_topics_wired_by_name_exist_in_topology() -> None:
    local = module_locals()
    for key in ("object_events_topic", "media_verified_topic", "media_jobs_topic"):
        assert local[key] in topology_json()["topics"], key


def test_function_groups_name_topology_functions() -> None:
    local = module_locals()
    functions = set(topology_json()["functions"])
    http = {n for n, f in topology_json()["functions"].items() if f["trigger"] == "http"}
    pushed = {
        s["push_function"]
        for s in topology_json()["subscriptions"].values()
        if "push_function" in s
    }
    assert set(local["function_defaults"]) == functions
    assert set(local["function_access"]) == functions
    named = set(re.findall(r'"([a-z_]+)"', local["jwt_functions"]))
    assert named
    assert named <= functions
    signers = {n for n, access in local["function_access"].items() if access["signs_urls"]}
    # manage_media signs the rendition URLs of the detail that PATCH and pin answer
    assert signers == http
    assert pushed == {
        n for n, f in topology_json()["functions"].items() if f["trigger"] == "pubsub"
    }
