"""Typed view of `topology.json`: the Pub/Sub topics, subscriptions and functions shared by the
local stack and Terraform."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

MIN_ACK_DEADLINE_SECONDS = 10  # pstest (and real Pub/Sub) reject smaller ack deadlines


@dataclass(frozen=True)
class SubscriptionSpec:
    """One subscription of `topology.json`.

    Attributes:
        name: Subscription id (unprefixed).
        topic: Topic id it is attached to.
        ack_deadline_seconds: Ack deadline; also the push request timeout.
        push_function: Function receiving pushed messages, or None for a pull subscription.
        minimum_backoff_seconds: Retry policy lower bound.
        maximum_backoff_seconds: Retry policy upper bound.
        max_delivery_attempts: Delivery attempts before dead-lettering (when a dead-letter topic
            is set).
        dead_letter_topic: Dead-letter topic id, or None.
    """

    name: str
    topic: str
    ack_deadline_seconds: int
    push_function: str | None = None
    minimum_backoff_seconds: float = 10.0
    maximum_backoff_seconds: float = 600.0
    max_delivery_attempts: int = 5
    dead_letter_topic: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """One function of `topology.json`: `trigger` is "http" or "pubsub"."""

    name: str
    entry_point: str
    trigger: Literal["http", "pubsub"]

    @property
    def signature_type(self) -> Literal["http"]:
        """functions-framework `--signature-type`: every function is HTTP (the Pub/Sub ones are
        push endpoints that read the push envelope themselves, `deliveryAttempt` included)."""
        return "http"


@dataclass(frozen=True)
class Topology:
    """Topics, subscriptions and functions of the pipeline."""

    topics: tuple[str, ...]
    subscriptions: tuple[SubscriptionSpec, ...]
    functions: tuple[FunctionSpec, ...]

    def push_subscriptions(self) -> tuple[SubscriptionSpec, ...]:
        """Subscriptions that push to a function."""
        return tuple(s for s in self.subscriptions if s.push_function)


def _subscription(name: str, raw: dict[str, Any]) -> SubscriptionSpec:
    ack = int(raw.get("ack_deadline_seconds", MIN_ACK_DEADLINE_SECONDS))
    return SubscriptionSpec(
        name=name,
        topic=str(raw["topic"]),
        ack_deadline_seconds=max(ack, MIN_ACK_DEADLINE_SECONDS),
        push_function=raw.get("push_function"),
        minimum_backoff_seconds=float(raw.get("minimum_backoff_seconds", 10)),
        maximum_backoff_seconds=float(raw.get("maximum_backoff_seconds", 600)),
        max_delivery_attempts=int(raw.get("max_delivery_attempts", 5)),
        dead_letter_topic=raw.get("dead_letter_topic"),
    )


def _function(name: str, raw: dict[str, Any]) -> FunctionSpec:
    trigger = raw.get("trigger")
    if trigger not in ("http", "pubsub"):
        raise ValueError(f"function {name}: unknown trigger {trigger!r}")
    return FunctionSpec(name=name, entry_point=str(raw.get("entry_point", name)), trigger=trigger)


def load_topology(path: Path) -> Topology:
    """Read and validate `topology.json`.

    Args:
        path: Path of the topology file.

    Returns:
        The parsed topology.

    Raises:
        ValueError: A subscription names an unknown topic or function, or a trigger is unknown.
    """
    raw = json.loads(path.read_text())
    topics = tuple(raw.get("topics", {}))
    subs = tuple(_subscription(n, s) for n, s in raw.get("subscriptions", {}).items())
    functions = tuple(_function(n, f) for n, f in raw.get("functions", {}).items())
    names = {f.name for f in functions}
    for sub in subs:
        for topic in (sub.topic, sub.dead_letter_topic):
            if topic is not None and topic not in topics:
                raise ValueError(f"subscription {sub.name}: unknown topic {topic!r}")
        if sub.push_function is not None and sub.push_function not in names:
            raise ValueError(f"subscription {sub.name}: unknown function {sub.push_function!r}")
    return Topology(topics=topics, subscriptions=subs, functions=functions)
