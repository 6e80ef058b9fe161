"""Runtime of the push router: each route has a source that receives messages (a streaming pull
from the Pub/Sub emulator, or an SQS long poll for S3 events) and a `DeliveryQueue` that hands them
to its `PushDispatcher` on at most `max_in_flight` threads.

A streaming pull gets a message as soon as the emulator delivers it: pstest hands new and
redelivered messages to open streams every 10 ms, so a hop waits at most that long, where the
former `Pull(return_immediately)` loop waited up to a 50 ms idle poll. pstest applies no flow
control to streams, so messages beyond `max_in_flight` wait in the route's queue, leased. A lease
that runs out while the router still holds the message makes pstest send it again (same ack id);
the queue drops such a copy, so a message is never pushed twice at once and the re-send only
renews its lease.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulators.delivery import STOP_WAIT_SECONDS, DelayedNacks, DeliveryQueue, Source
from emulators.pubsub import clients
from emulators.router import Backend, HttpTransport, PulledMessage, PushDispatcher
from emulators.topology import SubscriptionSpec

if TYPE_CHECKING:
    from google.pubsub_v1.services.publisher import PublisherClient
    from google.pubsub_v1.services.subscriber import SubscriberClient

logger = logging.getLogger("emulators.router")

DEFAULT_MAX_IN_FLIGHT = 4
STREAM_LEASE_SECONDS = 10
"""The lease the router takes on each message it receives (pstest's and Pub/Sub's minimum ack
deadline), whatever the subscription's ack deadline: pstest sends a message it still holds
again when the lease runs out (the queue drops that copy, renewing the lease), so a router that
died gives its messages back within this many seconds, not after the push ack deadline (up to
600 s). The push request's timeout stays the subscription's ack deadline."""
RPC_TIMEOUT_SECONDS = 10.0
ERROR_PAUSE_SECONDS = 1.0


class GrpcBackend:
    """`Backend` on the emulator's gRPC API; nacks modify the ack deadline (see `DelayedNacks`)."""

    def __init__(
        self,
        publisher: PublisherClient,
        subscriber: SubscriberClient,
        log: logging.Logger | None = None,
    ) -> None:
        self._publisher = publisher
        self._subscriber = subscriber
        self._log = log or logger
        self._nacks: dict[str, DelayedNacks] = {}
        self._lock = threading.Lock()

    def acknowledge(self, subscription: str, ack_id: str) -> None:
        """Acknowledge one delivery."""
        self._subscriber.acknowledge(
            request={"subscription": subscription, "ack_ids": [ack_id]},
            timeout=RPC_TIMEOUT_SECONDS,
        )

    def nack(self, subscription: str, ack_id: str, delay_seconds: float) -> None:
        """Redeliver after `delay_seconds`."""
        with self._lock:
            nacks = self._nacks.get(subscription)
            if nacks is None:
                nacks = self._nacks[subscription] = DelayedNacks(
                    lambda handle, seconds: self._modify(subscription, handle, seconds),
                    f"subscription={subscription}",
                    self._log,
                )
        nacks.nack(ack_id, delay_seconds)

    def _modify(self, subscription: str, ack_id: str, seconds: int) -> None:
        self._subscriber.modify_ack_deadline(
            request={
                "subscription": subscription,
                "ack_ids": [ack_id],
                "ack_deadline_seconds": seconds,
            },
            timeout=RPC_TIMEOUT_SECONDS,
        )

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> None:
        """Publish one message."""
        self._publisher.publish(
            request={"topic": topic, "messages": [{"data": data, "attributes": dict(attributes)}]},
            timeout=RPC_TIMEOUT_SECONDS,
        )

    def cancel_timers(self) -> None:
        """Cancel pending short nacks of every subscription."""
        with self._lock:
            nacks = list(self._nacks.values())
        for item in nacks:
            item.cancel()


def pulled_message(received: Any) -> PulledMessage:
    """`PulledMessage` of one `ReceivedMessage` of a pull or streaming-pull response."""
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


class StreamingPullSource:
    """One `StreamingPull` of a subscription, reopened after errors.

    Acks and nacks go through unary RPCs (`GrpcBackend`); the stream only receives. Its request
    iterator blocks until the call ends, because a half-closed stream ends the pull on pstest.

    Args:
        stream: The `StreamingPull` stub: called with an iterator of requests, returns an
            iterator of responses with `cancel()`.
        subscription_path: `projects/P/subscriptions/S`.
        ack_deadline_seconds: Lease of every message sent on the stream (10..600).
        error_pause_seconds: Wait before reopening a failed stream.
        log: Logger (default `emulators.router`).
    """

    def __init__(
        self,
        stream: Callable[..., Any],
        subscription_path: str,
        ack_deadline_seconds: int,
        *,
        error_pause_seconds: float = ERROR_PAUSE_SECONDS,
        log: logging.Logger | None = None,
    ) -> None:
        self._log = log or logger
        self._stream = stream
        self._path = subscription_path
        self._ack_deadline_seconds = ack_deadline_seconds
        self._pause = error_pause_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._call: Any = None
        self._thread: threading.Thread | None = None
        self.streams_opened = 0
        self.description = f"streaming pull of {subscription_path}"

    def start(self, queue: DeliveryQueue) -> None:
        """Open the stream on a background thread that offers every message to `queue`."""
        self._thread = threading.Thread(
            target=self._run, args=(queue,), name=f"stream-{self._path.rsplit('/', 1)[-1]}"
        )
        self._thread.daemon = True
        self._thread.start()

    def _requests(self, call_ended: threading.Event) -> Iterator[Any]:
        from google.pubsub_v1.types import StreamingPullRequest

        yield StreamingPullRequest(
            subscription=self._path, stream_ack_deadline_seconds=self._ack_deadline_seconds
        )
        call_ended.wait()

    def _run(self, queue: DeliveryQueue) -> None:
        while not self._stop.is_set():
            call_ended = threading.Event()
            try:
                call = self._stream(self._requests(call_ended))
                with self._lock:
                    self._call = call
                    self.streams_opened += 1
                if self._stop.is_set():
                    call.cancel()
                for response in call:
                    for item in response.received_messages:
                        queue.offer(pulled_message(item))
            except Exception as exc:
                if not self._stop.is_set():
                    self._log.warning("streaming pull failed subscription=%s: %s", self._path, exc)
                    self._stop.wait(self._pause)
            finally:
                call_ended.set()
                with self._lock:
                    self._call = None

    def stop(self) -> None:
        """Cancel the stream and wait briefly for the receiving thread."""
        self._stop.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()
        if self._thread is not None:
            self._thread.join(timeout=STOP_WAIT_SECONDS)


class PushRouter:
    """Routes every configured push subscription to its endpoint until stopped.

    Args:
        pubsub_host: Emulator `host:port`.
        project: Project id.
        routes: (subscription, push endpoint URL) pairs, each fed by a streaming pull.
        backoff_scale: Multiplier for every retry policy's backoff bounds.
        max_in_flight: Concurrent deliveries per route.
        log: Logger of this router's routes (default `emulators.router`; a stack passes its own
            so that its `router.log` holds only its own lines).
    """

    def __init__(
        self,
        pubsub_host: str,
        project: str,
        routes: Sequence[tuple[SubscriptionSpec, str]],
        *,
        backoff_scale: float = 1.0,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        log: logging.Logger | None = None,
    ) -> None:
        publisher, subscriber, self._close_channel = clients(pubsub_host)
        self.log = log or logger
        self.project = project
        self.backoff_scale = backoff_scale
        self.max_in_flight = max_in_flight
        self.pubsub_backend = GrpcBackend(publisher, subscriber, self.log)
        self._transport = HttpTransport()
        self._routes: list[tuple[DeliveryQueue, Source]] = []
        self._other_backends: list[Backend] = []
        self._started = False
        stream: Any = subscriber.transport.streaming_pull
        for spec, endpoint in routes:
            dispatcher = self._dispatcher(spec, endpoint, self.pubsub_backend)
            source = StreamingPullSource(
                stream,
                dispatcher.subscription_path,
                min(spec.ack_deadline_seconds, STREAM_LEASE_SECONDS),
                log=self.log,
            )
            self._routes.append((DeliveryQueue(dispatcher, max_in_flight), source))

    def _dispatcher(
        self, spec: SubscriptionSpec, endpoint: str, backend: Backend
    ) -> PushDispatcher:
        return PushDispatcher(
            spec,
            project=self.project,
            endpoint=endpoint,
            backend=backend,
            transport=self._transport,
            backoff_scale=self.backoff_scale,
            log=self.log,
        )

    def add_route(
        self, spec: SubscriptionSpec, endpoint: str, source: Source, backend: Backend
    ) -> None:
        """Add a route fed by another source (e.g. S3 events from SQS), before `start()`.

        Args:
            spec: Retry, dead-letter and ack-deadline policy, and the subscription id the push
                envelopes name.
            endpoint: Push endpoint URL.
            source: Receives the messages.
            backend: Acks and nacks them; dead-letter publishes (use `pubsub_backend` for
                Pub/Sub dead-letter topics).
        """
        if self._started:
            raise RuntimeError("add_route after start()")
        queue = DeliveryQueue(self._dispatcher(spec, endpoint, backend), self.max_in_flight)
        self._routes.append((queue, source))
        if backend is not self.pubsub_backend:
            self._other_backends.append(backend)

    @property
    def routes(self) -> list[tuple[str, str]]:
        """(subscription id, push endpoint URL) of every route, in start order."""
        return [(q.dispatcher.spec.name, q.dispatcher.endpoint) for q, _ in self._routes]

    def start(self) -> None:
        """Start every route's delivery threads and source."""
        self._started = True
        for queue, source in self._routes:
            queue.start()
            source.start(queue)
            self.log.info(
                "routing subscription=%s from %s to %s",
                queue.dispatcher.spec.name,
                getattr(source, "description", type(source).__name__),
                queue.dispatcher.endpoint,
            )

    def stop(self) -> None:
        """Stop receiving, let deliveries in flight finish (up to a few seconds), close."""
        started = time.monotonic()
        for _, source in self._routes:
            source.stop()
        for queue, _ in self._routes:
            queue.stop(max(STOP_WAIT_SECONDS - (time.monotonic() - started), 0.0))
        for backend in (self.pubsub_backend, *self._other_backends):
            cancel = getattr(backend, "cancel_timers", None)
            if callable(cancel):
                cancel()
        self._close_channel()
        self.log.info("router stopped in %.1f s", time.monotonic() - started)
