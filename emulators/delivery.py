"""Delivery machinery shared by every route of the push router: `DeliveryQueue` (bounded
concurrent deliveries, one copy of each message held), `Source` (what feeds a queue) and
`DelayedNacks` (redelivery after a backoff, sub-second ones on a timer)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from emulators.router import PulledMessage, PushDispatcher

logger = logging.getLogger("emulators.router")

STOP_WAIT_SECONDS = 5.0


class DelayedNacks:
    """Runs `modify(handle, seconds)` to make a message visible again after a delay.

    Delays of at least one second are given to the server as whole seconds (the APIs take
    integers); a shorter one waits on a timer, the message still leased, and then sets a zero
    deadline / visibility.
    """

    def __init__(
        self, modify: Callable[[str, int], None], what: str, log: logging.Logger | None = None
    ) -> None:
        self._modify = modify
        self._what = what
        self._log = log or logger
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()

    def nack(self, handle: str, delay_seconds: float) -> None:
        """Redeliver the message of `handle` after `delay_seconds`."""
        if delay_seconds >= 1.0:
            self._modify(handle, round(delay_seconds))
            return

        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            try:
                self._modify(handle, 0)
            except Exception as exc:  # server gone during shutdown; the lease expires anyway
                self._log.warning("nack failed %s: %s", self._what, exc)

        timer = threading.Timer(max(delay_seconds, 0.0), fire)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def cancel(self) -> None:
        """Cancel pending short nacks (their messages come back when the lease runs out)."""
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()


class DeliveryQueue:
    """Messages of one route waiting for, or in, delivery, worked by `max_in_flight` threads.

    A message is held from `offer` until its delivery returns; offering a message id that is held
    again keeps one copy (a queued copy takes the newer ack id, a copy of a message in flight is
    dropped).

    Args:
        dispatcher: Delivers one message (ack / nack / dead-letter).
        max_in_flight: Concurrent deliveries.
    """

    def __init__(self, dispatcher: PushDispatcher, max_in_flight: int) -> None:
        self.dispatcher = dispatcher
        self.max_in_flight = max_in_flight
        self._cond = threading.Condition()
        self._order: deque[str] = deque()
        self._queued: dict[str, PulledMessage] = {}
        self._in_flight: set[str] = set()
        self._stopping = False
        name = dispatcher.spec.name
        self._threads = [
            threading.Thread(target=self._work, name=f"push-{name}-{i}", daemon=True)
            for i in range(max_in_flight)
        ]

    def start(self) -> None:
        """Start the delivery threads."""
        for thread in self._threads:
            thread.start()

    def offer(self, message: PulledMessage) -> bool:
        """Queue `message` unless a copy is held.

        Returns:
            True when queued, False when it was a copy of a held message.
        """
        with self._cond:
            if self._stopping:
                return False
            key = message.message_id
            if key in self._in_flight:
                return False
            if key in self._queued:
                self._queued[key] = message
                return False
            self._queued[key] = message
            self._order.append(key)
            self._cond.notify()
            return True

    def free_slots(self) -> int:
        """Deliveries that could start now without queueing (`max_in_flight` - held)."""
        with self._cond:
            return max(self.max_in_flight - len(self._in_flight) - len(self._order), 0)

    def wait_for_free_slot(self, timeout_seconds: float) -> int:
        """Wait until `free_slots()` > 0 or the queue stops; return `free_slots()`."""
        with self._cond:
            self._cond.wait_for(
                lambda: (
                    self._stopping
                    or self.max_in_flight - len(self._in_flight) - len(self._order) > 0
                ),
                timeout=timeout_seconds,
            )
        return 0 if self.stopping else self.free_slots()

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called."""
        with self._cond:
            return self._stopping

    def held(self) -> int:
        """Messages queued or in flight."""
        with self._cond:
            return len(self._order) + len(self._in_flight)

    def _take(self) -> PulledMessage | None:
        with self._cond:
            self._cond.wait_for(lambda: self._stopping or bool(self._order))
            if self._stopping:
                return None
            key = self._order.popleft()
            self._in_flight.add(key)
            return self._queued.pop(key)

    def _work(self) -> None:
        while (message := self._take()) is not None:
            try:
                self.dispatcher.deliver(message)
            except Exception as exc:
                if self.stopping:
                    self.dispatcher.log.warning(
                        "delivery abandoned at stop subscription=%s message_id=%s: %s",
                        self.dispatcher.spec.name,
                        message.message_id,
                        exc,
                    )
                else:
                    self.dispatcher.log.exception(
                        "delivery crashed subscription=%s message_id=%s (redelivered when its "
                        "lease runs out)",
                        self.dispatcher.spec.name,
                        message.message_id,
                    )
            finally:
                with self._cond:
                    self._in_flight.discard(message.message_id)
                    self._cond.notify_all()

    def stop(self, timeout_seconds: float = STOP_WAIT_SECONDS) -> None:
        """Stop taking messages; wait up to `timeout_seconds` for deliveries in flight.

        Queued messages are dropped (the server redelivers them when their lease runs out).
        """
        with self._cond:
            self._stopping = True
            self._order.clear()
            self._queued.clear()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout_seconds
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0.0))


class Source(Protocol):
    """Receives the messages of one route and offers them to its queue until stopped."""

    def start(self, queue: DeliveryQueue) -> None:
        """Start receiving in the background."""

    def stop(self) -> None:
        """Stop receiving (idempotent)."""
