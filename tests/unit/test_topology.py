"""topology.json (read by the local router and by Terraform): nothing is delivered forever.

Every push subscription has a dead-letter topic and a bound on delivery attempts, the dead-letter
handler's own included; following dead-letter topics from any push subscription ends on a topic
nothing pushes from (people read it), so a message the handler cannot handle stops there.
"""

from __future__ import annotations

from pathlib import Path

from emulators.topology import Topology
from emulators.topology import load_topology as _load

TOPOLOGY = Path(__file__).resolve().parents[2] / "topology.json"


def load_topology() -> Topology:
    return _load(TOPOLOGY)


def test_every_push_subscription_has_a_bound_and_a_dead_letter_topic() -> None:
    topology = load_topology()
    for sub in topology.push_subscriptions():
        assert sub.dead_letter_topic is not None, sub.name
        assert 1 <= sub.max_delivery_attempts <= 10, sub.name


def test_dead_letter_chains_end_on_a_topic_nothing_pushes_from() -> None:
    topology = load_topology()
    pushed_from = {s.topic for s in topology.push_subscriptions()}
    by_topic: dict[str, list[str]] = {}
    for sub in topology.push_subscriptions():
        assert sub.dead_letter_topic is not None
        by_topic.setdefault(sub.topic, []).append(sub.dead_letter_topic)
    for sub in topology.push_subscriptions():
        seen = [sub.topic]
        topic = sub.dead_letter_topic
        while topic in pushed_from:
            assert topic not in seen, f"{sub.name}: dead letters loop through {[*seen, topic]}"
            seen.append(topic)
            (topic,) = set(by_topic[topic])
        assert topic is not None


def test_every_topic_is_kept_by_a_subscription() -> None:
    topology = load_topology()
    subscribed = {s.topic for s in topology.subscriptions}
    assert set(topology.topics) <= subscribed
