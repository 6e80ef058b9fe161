"""From a subscriber's versions to the text of an event stream: heartbeats, an end after
`max_seconds`, after a terminal event, or when the client fell too far behind.

The loop takes its clock and its wait as arguments, so tests drive it without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from common.api.sse import comment
from common.streams.hub import Subscriber, Version

Render = Callable[[Version], tuple[str | None, bool]]
"""What a stream sends for one version (None: nothing) and whether the stream is over."""
Wait = Callable[[Subscriber, float], Awaitable[Version | None]]
"""The next version of the subscriber within `timeout` seconds, or None."""


async def next_version(subscriber: Subscriber, timeout_seconds: float) -> Version | None:
    """The subscriber's next version, or None after `timeout_seconds`."""
    try:
        return await asyncio.wait_for(subscriber.queue.get(), max(timeout_seconds, 0.0))
    except TimeoutError:
        return None


async def pump(
    subscriber: Subscriber,
    render: Render,
    *,
    heartbeat_seconds: float,
    max_seconds: float,
    clock: Callable[[], float],
    wait: Wait = next_version,
) -> AsyncIterator[str]:
    """Yield the stream's text until `render` says it is over, `max_seconds` pass, or the
    subscriber overflowed (the client resumes from its last event id).

    Args:
        subscriber: where the versions arrive.
        render: the event text of one version.
        heartbeat_seconds: a `: heartbeat` comment goes out this often.
        max_seconds: the stream's lifetime.
        clock: monotonic seconds (the event loop's `time`).
        wait: how to wait for the next version (`next_version`).
    """
    now = clock()
    deadline = now + max_seconds
    next_heartbeat = now + heartbeat_seconds
    while not subscriber.overflowed:
        now = clock()
        if now >= deadline:
            return
        if now >= next_heartbeat:
            yield comment("heartbeat")
            next_heartbeat += heartbeat_seconds
            if next_heartbeat <= now:  # the loop was held up: no burst of heartbeats
                next_heartbeat = now + heartbeat_seconds
            continue
        version = await wait(subscriber, min(next_heartbeat, deadline) - now)
        if version is None:
            continue
        text, done = render(version)
        if text is not None:
            yield text
        if done:
            return
