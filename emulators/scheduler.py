"""Local stand-in for Cloud Scheduler: publishes each schedule of `topology.json` to its topic
every `every_seconds` x scale, from a background thread of the stack's process.

The first tick of a schedule comes one interval after start (Cloud Scheduler fires on the cron's
times, never at creation). A tick that comes late (the process was stalled) fires once and the
next one stays on the original grid, as missed Cloud Scheduler runs are not caught up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from emulators.topology import ScheduleSpec

logger = logging.getLogger("emulators.router")

Publish = Callable[[str, bytes, Mapping[str, str]], str]
"""(topic id, data, attributes) -> message id."""


def parse_scale(raw: str | None) -> float:
    """`SCHEDULE_SCALE` as a multiplier of every interval; 0 (or `off`) turns the timer off.

    Args:
        raw: The variable's value; None or "" means 1.

    Returns:
        The scale, >= 0.

    Raises:
        ValueError: Not a number, or negative.
    """
    if raw is None or raw.strip() == "":
        return 1.0
    if raw.strip().lower() == "off":
        return 0.0
    try:
        scale = float(raw)
    except ValueError as exc:
        raise ValueError(f"SCHEDULE_SCALE={raw!r} is not a number (or 'off')") from exc
    if scale < 0 or scale != scale:  # noqa: PLR0124 - NaN check
        raise ValueError(f"SCHEDULE_SCALE={raw!r} must be >= 0")
    return scale


class Timetable:
    """When each schedule is next due, on a monotonic clock (seconds).

    Args:
        schedules: The schedules.
        scale: Multiplier of every `every_seconds` (> 0).
        start: Clock reading at start; the first tick of each is one interval later.
    """

    def __init__(self, schedules: Sequence[ScheduleSpec], scale: float, start: float) -> None:
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self._interval = {s.name: s.every_seconds * scale for s in schedules}
        self._next = {s.name: start + self._interval[s.name] for s in schedules}
        self._specs = {s.name: s for s in schedules}

    def interval_seconds(self, name: str) -> float:
        """Scaled interval of a schedule."""
        return self._interval[name]

    def pop_due(self, now: float) -> list[ScheduleSpec]:
        """Schedules due at `now` (each once, however late), moved to their next tick.

        Returns:
            The due schedules in topology order.
        """
        due = []
        for name, spec in self._specs.items():
            if self._next[name] <= now:
                due.append(spec)
                while self._next[name] <= now:
                    self._next[name] += self._interval[name]
        return due

    def seconds_until_next(self, now: float) -> float | None:
        """Seconds from `now` to the earliest next tick (>= 0), None without schedules."""
        if not self._next:
            return None
        return max(min(self._next.values()) - now, 0.0)


class Scheduler:
    """Publishes every schedule's message on its timer until stopped.

    Args:
        schedules: The schedules of the topology.
        publish: Publishes one message (see `Publish`).
        scale: Multiplier of every interval; 0 runs no timer (`tick` still works).
        clock: Monotonic clock in seconds; the first ticks are one interval after construction.
        log: Logger of ticks (default `emulators.router`).
    """

    def __init__(
        self,
        schedules: Sequence[ScheduleSpec],
        publish: Publish,
        *,
        scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        log: logging.Logger | None = None,
    ) -> None:
        self._log = log or logger
        self.schedules = {s.name: s for s in schedules}
        self.scale = scale
        self._publish = publish
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timetable = Timetable(schedules, scale, clock()) if scale > 0 and schedules else None

    @property
    def running(self) -> bool:
        """Whether the timer thread runs (scale > 0 and at least one schedule)."""
        return self._thread is not None and self._thread.is_alive()

    def describe(self) -> str:
        """One line for the services table, e.g. `reconcile every 300 s, retention every 3600 s`."""
        if not self.schedules:
            return "no schedules"
        if self.scale == 0:
            return "off (SCHEDULE_SCALE=0); " + ", ".join(self.schedules)
        return ", ".join(
            f"{s.name} every {s.every_seconds * self.scale:g} s" for s in self.schedules.values()
        )

    def tick(self, name: str) -> str:
        """Publish one schedule's message now.

        Returns:
            The message id.

        Raises:
            KeyError: No such schedule.
        """
        spec = self.schedules[name]
        message_id = self._publish(spec.topic, spec.data.encode(), spec.attributes)
        self._log.info("schedule=%s topic=%s message_id=%s", name, spec.topic, message_id)
        return message_id

    def start(self) -> None:
        """Start the timer thread (nothing when the scale is 0 or there are no schedules)."""
        if self._timetable is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def run_due(self) -> float | None:
        """Publish every schedule that is due now (the timer thread's step).

        Returns:
            Seconds until the next tick, None when there is no timer (scale 0, no schedules).
        """
        if self._timetable is None:
            return None
        for spec in self._timetable.pop_due(self._clock()):
            try:
                self.tick(spec.name)
            except Exception as exc:  # the emulator went away; the next tick tries again
                self._log.warning("schedule=%s publish failed: %s", spec.name, exc)
        return self._timetable.seconds_until_next(self._clock())

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.run_due()
            if wait is None:
                return
            self._stop.wait(wait)

    def stop(self) -> None:
        """Stop the timer thread (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
