"""Runtime of the push router: pulls each push subscription from the Pub/Sub emulator and hands
the messages to a `PushDispatcher` on a small thread pool per subscription."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulators.pubsub import clients
from emulators.router import HttpTransport, PulledMessage, PushDispatcher
from emulators.topology import SubscriptionSpec

if TYPE_CHECKING:
    from google.pubsub_v1.services.publisher import PublisherClient
    from google.pubsub_v1.services.subscriber import SubscriberClient

logger = logging.getLogger("emulators.router")

DEFAULT_MAX_IN_FLIGHT = 4
PULL_TIMEOUT_SECONDS = 5.0
IDLE_POLL_SECONDS = 0.05
RPC_TIMEOUT_SECONDS = 10.0
ERROR_PAUSE_SECONDS = 1.0


class GrpcBackend:
    """`Backend` on the emulator's gRPC API.

    A nack of at least one second extends the message's ack deadline to that many seconds (the
    emulator redelivers it when the deadline passes); a shorter one waits on a timer, the message
    still leased, and then nacks with a zero deadline. Ack deadlines are whole seconds in the API.
    """

    def __init__(self, publisher: PublisherClient, subscriber: SubscriberClient) -> None:
        self._publisher = publisher
        self._subscriber = subscriber
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()

    def acknowledge(self, subscription: str, ack_id: str) -> None:
        """Acknowledge one delivery."""
        self._subscriber.acknowledge(
            request={"subscription": subscription, "ack_ids": [ack_id]},
            timeout=RPC_TIMEOUT_SECONDS,
        )

    def _modify(self, subscription: str, ack_id: str, seconds: int) -> None:
        self._subscriber.modify_ack_deadline(
            request={
                "subscription": subscription,
                "ack_ids": [ack_id],
                "ack_deadline_seconds": seconds,
            },
            timeout=RPC_TIMEOUT_SECONDS,
        )

    def nack(self, subscription: str, ack_id: str, delay_seconds: float) -> None:
        """Redeliver after `delay_seconds` (see the class docstring)."""
        if delay_seconds >= 1.0:
            self._modify(subscription, ack_id, round(delay_seconds))
            return

        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            try:
                self._modify(subscription, ack_id, 0)
            except Exception as exc:  # emulator gone during shutdown; the deadline expires anyway
                logger.warning("nack failed subscription=%s: %s", subscription, exc)

        timer = threading.Timer(max(delay_seconds, 0.0), fire)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        """Publish one message."""
        self._publisher.publish(
            request={"topic": topic, "messages": [{"data": data, "attributes": dict(attributes)}]},
            timeout=RPC_TIMEOUT_SECONDS,
        )

    def cancel_timers(self) -> None:
        """Cancel pending short nacks (their messages come back when the ack deadline passes)."""
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()


def _pulled(received: Any) -> PulledMessage:
    message = received.message
    publish_time = message.publish_time
    if not isinstance(publish_time, datetime):
        publish_time = datetime.now(UTC)
    return PulledMessage(
        ack_id=received.ack_id,
        message_id=message.message_id,
        data=bytes(message.data),
        attributes=dict(message.attributes),
        publish_time=publish_time,
    )


class _SubscriptionWorker:
    """Pull loop of one subscription with at most `max_in_flight` deliveries at a time."""

    def __init__(
        self, dispatcher: PushDispatcher, subscriber: SubscriberClient, max_in_flight: int
    ) -> None:
        self.dispatcher = dispatcher
        self._subscriber = subscriber
        self._max_in_flight = max_in_flight
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=max_in_flight, thread_name_prefix=f"push-{dispatcher.spec.name}"
        )
        self._thread = threading.Thread(
            target=self._run, name=f"pull-{dispatcher.spec.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=PULL_TIMEOUT_SECONDS + 2)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _acquire_slots(self) -> int:
        if not self._slots.acquire(timeout=0.5):
            return 0
        count = 1
        while count < self._max_in_flight and self._slots.acquire(blocking=False):
            count += 1
        return count

    def _deliver(self, message: PulledMessage) -> None:
        try:
            self.dispatcher.deliver(message)
        except Exception:
            logger.exception(
                "delivery crashed subscription=%s message_id=%s (redelivered after the deadline)",
                self.dispatcher.spec.name,
                message.message_id,
            )
        finally:
            self._slots.release()

    def _run(self) -> None:
        path = self.dispatcher.subscription_path
        while not self._stop.is_set():
            slots = self._acquire_slots()
            if slots == 0:
                continue
            try:
                received = self._pull(path, slots)
            except Exception as exc:
                received = []
                if not self._stop.is_set():
                    logger.warning("pull failed subscription=%s: %s", path, exc)
                    self._stop.wait(ERROR_PAUSE_SECONDS)
            for _ in range(slots - len(received)):
                self._slots.release()
            for item in received:
                self._pool.submit(self._deliver, _pulled(item))
            if not received:
                self._stop.wait(IDLE_POLL_SECONDS)

    def _pull(self, path: str, max_messages: int) -> list[Any]:
        # pstest holds a pull that finds nothing for 500 ms before looking again, which would
        # add up to 500 ms to every hop and every short backoff. Polling with
        # return_immediately keeps redelivery within IDLE_POLL_SECONDS. The flag is deprecated
        # for the real service (the GAPIC method warns), so the transport's stub is called.
        from google.pubsub_v1.types import PullRequest

        stub: Any = self._subscriber.transport.pull
        request = PullRequest(subscription=path, max_messages=max_messages, return_immediately=True)
        response = stub(request, timeout=PULL_TIMEOUT_SECONDS)
        return list(response.received_messages)


class PushRouter:
    """Routes every configured push subscription to its endpoint until stopped.

    Args:
        pubsub_host: Emulator `host:port`.
        project: Project id.
        routes: (subscription, push endpoint URL) pairs.
        backoff_scale: Multiplier for every retry policy's backoff bounds.
        max_in_flight: Concurrent deliveries per subscription.
    """

    def __init__(
        self,
        pubsub_host: str,
        project: str,
        routes: Sequence[tuple[SubscriptionSpec, str]],
        *,
        backoff_scale: float = 1.0,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        publisher, subscriber, self._close_channel = clients(pubsub_host)
        self._backend = GrpcBackend(publisher, subscriber)
        transport = HttpTransport()
        self._workers = [
            _SubscriptionWorker(
                PushDispatcher(
                    spec,
                    project=project,
                    endpoint=endpoint,
                    backend=self._backend,
                    transport=transport,
                    backoff_scale=backoff_scale,
                ),
                subscriber,
                max_in_flight,
            )
            for spec, endpoint in routes
        ]

    @property
    def routes(self) -> dict[str, str]:
        """Subscription id to push endpoint URL."""
        return {w.dispatcher.spec.name: w.dispatcher.endpoint for w in self._workers}

    def start(self) -> None:
        """Start one pull loop per route."""
        for worker in self._workers:
            worker.start()
            logger.info(
                "routing subscription=%s to %s",
                worker.dispatcher.spec.name,
                worker.dispatcher.endpoint,
            )

    def stop(self) -> None:
        """Stop pulling; deliveries in flight finish in the background or are abandoned."""
        started = time.monotonic()
        for worker in self._workers:
            worker.stop()
        self._backend.cancel_timers()
        self._close_channel()
        logger.info("router stopped in %.1f s", time.monotonic() - started)
