"""Typed view of `topology.json`: the Pub/Sub topics, subscriptions, functions and schedules shared
by the local stack and Terraform."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from emulators.cron import cron_period_seconds

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
class ScheduleSpec:
    """One schedule of `topology.json`: a message published to a topic on a timer.

    In the cloud it is a Cloud Scheduler job with a Pub/Sub target; the local stack publishes the
    same message every `every_seconds` (times `SCHEDULE_SCALE`).

    Attributes:
        name: Schedule id (unprefixed), e.g. `reconcile`.
        topic: Topic id the message goes to.
        cron: Unix-cron expression of the Cloud Scheduler job, e.g. `*/5 * * * *`.
        every_seconds: Local interval; equal to the cron's period whenever it has a constant one.
        attributes: Message attributes.
        data: Message data (UTF-8 text; empty by default).
        time_zone: Time zone of `cron` (IANA name; Cloud Scheduler's default is `Etc/UTC`).
        description: For people and the Cloud Scheduler job.
    """

    name: str
    topic: str
    cron: str
    every_seconds: int
    attributes: Mapping[str, str] = field(default_factory=dict)
    data: str = ""
    time_zone: str = "Etc/UTC"
    description: str = ""


@dataclass(frozen=True)
class Topology:
    """Topics, subscriptions, functions and schedules of the pipeline."""

    topics: tuple[str, ...]
    subscriptions: tuple[SubscriptionSpec, ...]
    functions: tuple[FunctionSpec, ...]
    schedules: tuple[ScheduleSpec, ...] = ()

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


_SCHEDULE_KEYS = frozenset(
    ("topic", "cron", "every_seconds", "attributes", "data", "time_zone", "description")
)
_SCHEDULE_TEXT_DEFAULTS = {"data": "", "time_zone": "Etc/UTC", "description": ""}


def _schedule(name: str, raw: Any, topics: tuple[str, ...]) -> ScheduleSpec:
    where = f"schedule {name}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object")
    if unknown := set(raw) - _SCHEDULE_KEYS:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    topic, cron, every = raw.get("topic"), raw.get("cron"), raw.get("every_seconds")
    if topic not in topics:
        raise ValueError(f"{where}: unknown topic {topic!r}")
    if not isinstance(cron, str):
        raise ValueError(f"{where}: cron must be a unix-cron string")
    if isinstance(every, bool) or not isinstance(every, int) or every <= 0:
        raise ValueError(f"{where}: every_seconds must be a positive integer, got {every!r}")
    try:
        period = cron_period_seconds(cron)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    if period is not None and period != every:
        raise ValueError(
            f"{where}: every_seconds is {every} but cron {cron!r} fires every {period} s"
        )
    attributes = raw.get("attributes", {})
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise ValueError(f"{where}: attributes must map strings to strings")
    texts = {key: raw.get(key, default) for key, default in _SCHEDULE_TEXT_DEFAULTS.items()}
    for key, value in texts.items():
        if not isinstance(value, str):
            raise ValueError(f"{where}: {key} must be a string")
    if not texts["data"] and not attributes:
        raise ValueError(f"{where}: a Pub/Sub target needs data or attributes")
    return ScheduleSpec(
        name=name,
        topic=topic,
        cron=cron,
        every_seconds=every,
        attributes=dict(attributes),
        data=texts["data"],
        time_zone=texts["time_zone"],
        description=texts["description"],
    )


def load_topology(path: Path) -> Topology:
    """Read and validate `topology.json`.

    Args:
        path: Path of the topology file.

    Returns:
        The parsed topology.

    Raises:
        ValueError: A subscription names an unknown topic or function, a trigger is unknown, or a
            schedule is malformed (unknown topic or key, bad cron, `every_seconds` different
            from the cron's period, attributes not strings, neither data nor attributes).
    """
    raw = json.loads(path.read_text())
    return parse_topology(raw)


def parse_topology(raw: Mapping[str, Any]) -> Topology:
    """Validate the parsed JSON of a topology file; see `load_topology`."""
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
    schedules = tuple(_schedule(n, s, topics) for n, s in raw.get("schedules", {}).items())
    return Topology(topics=topics, subscriptions=subs, functions=functions, schedules=schedules)
