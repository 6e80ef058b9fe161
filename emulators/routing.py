"""What the stack's push router is given (its routes: `push_routes`, the S3 events' subscription)
and the schedule timer, which runs in the stack's own process (`logs/scheduler.log`); the router
itself runs as a process of its own (`emulators.router_process`)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from emulators._proc import StackError
from emulators.scheduler import Scheduler, parse_scale
from emulators.storage import NOTIFICATION_TOPIC
from emulators.topology import ScheduleSpec, SubscriptionSpec, Topology

_stack_numbers = itertools.count(1)


def push_routes(
    topology: Topology, overrides: Mapping[str, str], function_urls: Mapping[str, str]
) -> list[tuple[SubscriptionSpec, str]]:
    """(subscription, push endpoint) of every push subscription that has an endpoint: its
    override, else the URL of its function when that function runs."""
    routes = []
    for sub in topology.push_subscriptions():
        endpoint = overrides.get(sub.name)
        if endpoint is None and sub.push_function is not None:
            endpoint = function_urls.get(sub.push_function)
        if endpoint is not None:
            routes.append((sub, endpoint))
    return routes


def storage_events_subscription(topology: Topology) -> SubscriptionSpec:
    """The push subscription of the storage notification topic (`object-events`), whose
    endpoint and retry policy S3 events get too.

    Raises:
        StackError: The topology has none, or more than one (one SQS queue has one consumer).
    """
    subs = [s for s in topology.push_subscriptions() if s.topic == NOTIFICATION_TOPIC]
    if len(subs) != 1:
        raise StackError(
            f"the S3 backend needs exactly one push subscription on {NOTIFICATION_TOPIC}, "
            f"topology.json has {[s.name for s in subs]}"
        )
    return subs[0]


def float_setting(env: Mapping[str, str], key: str, default: str = "1") -> float:
    """A numeric setting of the environment.

    Raises:
        StackError: It is not a number.
    """
    raw = env.get(key) or default
    try:
        return float(raw)
    except ValueError as exc:
        raise StackError(f"{key}={raw!r} is not a number") from exc


def schedule_scale(env: Mapping[str, str]) -> float:
    """`SCHEDULE_SCALE` of `env` (see `scheduler.parse_scale`).

    Raises:
        StackError: It is not a non-negative number or `off`.
    """
    try:
        return parse_scale(env.get("SCHEDULE_SCALE"))
    except ValueError as exc:
        raise StackError(str(exc)) from exc


class InProcessServices:
    """The schedule timer of one stack; `stop()` undoes whatever was started.

    Args:
        log_path: `logs/scheduler.log`, written from the start (mode "w"). It gets the lines of
            a logger of this stack's own (`emulators.scheduler.stack<N>`), so two stacks, or unit
            tests, in one process do not write into each other's log.
    """

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.log = logging.getLogger(f"emulators.scheduler.stack{next(_stack_numbers)}")
        self.scheduler: Scheduler | None = None
        self._handler = logging.FileHandler(log_path, mode="w")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.log.addHandler(self._handler)
        self.log.setLevel(logging.INFO)
        self._close_publisher: list[Callable[[], None]] = []

    def start_scheduler(
        self, pubsub_host: str, project: str, schedules: Sequence[ScheduleSpec], scale: float
    ) -> Scheduler:
        """Start publishing `schedules` on their timers (`scale` 0: only on `tick`)."""
        from emulators.pubsub import clients

        publisher, _, close = clients(pubsub_host)
        self._close_publisher.append(close)

        def publish(topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
            response = publisher.publish(
                request={
                    "topic": f"projects/{project}/topics/{topic}",
                    "messages": [{"data": data, "attributes": dict(attributes)}],
                },
                timeout=10,
            )
            return str(response.message_ids[0])

        self.scheduler = Scheduler(schedules, publish, scale=scale, log=self.log)
        self.scheduler.start()
        return self.scheduler

    def stop(self) -> None:
        """Stop the scheduler, close its channel, detach the log. Idempotent."""
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        for close in self._close_publisher:
            close()
        self._close_publisher.clear()
        self.log.removeHandler(self._handler)
        self._handler.close()
