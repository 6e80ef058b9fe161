"""The stream service: an aiohttp application serving the routes of `common.api.routes.STREAMS`.

One process, one event loop: an open stream is a coroutine waiting on its `Subscriber`'s queue,
so thousands of them cost memory, not threads, and never a request slot of the API functions.
The blocking work of a stream's start (verifying a token with a JWKS fetch, reading Postgres)
runs on a small pool of threads (`DB_POOL_SIZE`); the Firestore listeners are the hub's
(`common.streams.hub`), one per collection. Errors before a stream starts are the API's JSON
errors and CORS is that of the functions (`common.streams.adapters`).

`GET /ready` answers 200 once every feed has its first snapshot (the local stack and Cloud Run's
startup probe wait for it), 503 before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from common.api.routes import STREAMS
from common.api.routes.events import EventsQuery, EventsStreamQuery
from common.api.sse import HEADERS, JOB_TERMINAL, MEDIA_TERMINAL, EventState, parse_last_event_id
from common.core.errors import (
    Conflict,
    MediaError,
)
from common.core.settings import Settings, get_settings
from common.media.mirror import JOBS_COLLECTION, MEDIA_COLLECTION
from common.streams import adapters, lookups
from common.streams.hub import Feed, Listen, Subscriber, Version, firestore_listen, micros
from common.streams.pump import pump
from common.streams.user import (
    RESET_INVALID,
    RESET_WINDOW,
    USER_FEEDS,
    UserStream,
    decode_cursor,
    merge_since,
    ready_event,
    reset_event,
)

if TYPE_CHECKING:
    from common.api.auth import Principal

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 60.0
FEEDS_KEY = web.AppKey("feeds", dict[str, Feed])
POOL_KEY = web.AppKey("pool", ThreadPoolExecutor)
RECYCLER_KEY = web.AppKey("recycler", asyncio.Task[None])


class StreamService:
    """The handlers; `create_app` wires them.

    Args:
        feeds: collection -> its shared listener.
        pool: threads for blocking work (token verification, Postgres).
        settings: the process's settings.
    """

    def __init__(self, feeds: Mapping[str, Feed], pool: ThreadPoolExecutor, settings: Settings):
        self.feeds = feeds
        self.pool = pool
        self.settings = settings

    async def _blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)

    async def _read(self, lookup: Callable[..., Any], *args: Any) -> Any:
        """`lookup(session, *args)` in a read-only session of its own (this adapter owns it)."""

        def run() -> Any:
            from common.db.engine import read_scope

            with read_scope() as session:
                return lookup(session, *args)

        return await self._blocking(run)

    async def _principal(self, request: web.Request, ticket: str | None) -> Principal:
        from common.api.auth import authenticate, verify_stream_ticket

        if ticket is not None:
            return verify_stream_ticket(ticket, request.path)
        principal: Principal = await self._blocking(
            authenticate, request.headers.get("Authorization")
        )
        return principal

    def _check_enabled(self) -> None:
        if not self.settings.status_mirror_enabled:
            raise Conflict(
                "realtime status is disabled on this deployment", code="realtime_disabled"
            )

    async def _serve(
        self, request: web.Request, start: Callable[[], AsyncGenerator[str, None]]
    ) -> web.StreamResponse:
        """Run `start` (an async generator factory of text chunks after its checks): errors
        before the first chunk are JSON answers, after it the stream just ends."""
        cors = adapters.cors(request, self.settings)
        began = time.perf_counter()
        chunks: AsyncGenerator[str, None] = start()
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            first = ""
        except MediaError as exc:
            if exc.http_status >= 500:
                log.warning("%s %s: %s", request.method, request.path, exc.message)
            return adapters.error(exc, cors)
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return adapters.error(MediaError("internal error"), cors)
        response = web.StreamResponse(status=200, headers={**HEADERS, **cors})
        await response.prepare(request)
        sent = 0
        try:
            if request.method != "HEAD":
                await response.write(first.encode())
                async for chunk in chunks:
                    await response.write(chunk.encode())
                    sent += 1
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client went away
        finally:
            await chunks.aclose()
            log.info(
                "%s %s 200 stream of %d chunks",
                request.method,
                request.path,
                sent,
                extra={"stream_seconds": round(time.perf_counter() - began, 3)},
            )
        return response

    # ------------------------------------------------------------------ streams of one document
    async def media_events(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1/media/{media_id}/events`."""
        return await self._serve(
            request,
            lambda: self._document_stream(
                request,
                MEDIA_COLLECTION,
                request.match_info["media_id"],
                lookups.media_opening,
                MEDIA_TERMINAL,
                "deleted",
            ),
        )

    async def job_events(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1/jobs/{job_id}/events`."""
        return await self._serve(
            request,
            lambda: self._document_stream(
                request,
                JOBS_COLLECTION,
                request.match_info["job_id"],
                lookups.job_opening,
                JOB_TERMINAL,
                None,
            ),
        )

    async def _document_stream(
        self,
        request: web.Request,
        collection: str,
        doc_id: str,
        opening: Callable[[Any, Principal, str], dict[str, Any]],
        terminal: frozenset[str],
        gone_status: str | None,
    ) -> AsyncGenerator[str, None]:
        query = adapters.query(request, EventsQuery)
        principal = await self._principal(request, query.ticket)
        self._check_enabled()
        feed = self.feeds[collection]
        subscriber = Subscriber(asyncio.get_running_loop(), self.settings.stream_queue_size)
        feed.follow(subscriber, doc_ids=[doc_id])
        try:
            initial = await self._read(opening, principal, doc_id)
            last_seq = parse_last_event_id(request.headers.get("Last-Event-ID"))
            state = EventState(terminal, last_seq, initial, gone_status)
            held = feed.latest(doc_id)
            if held is not None:
                subscriber.offer(held)  # where the document stands now, progress included
            yield self._retry()
            text, done = state.opening()
            if text is not None:
                yield text
            newer_held = last_seq is not None and held is not None and held.seq > last_seq
            if done and not newer_held:  # a resume still gets the (terminal) version it missed
                return

            def render(version: Version) -> tuple[str | None, bool]:
                return state.on_document(None if version.deleted else version.data)

            async for chunk in self._pump(subscriber, render):
                yield chunk
        finally:
            feed.unfollow(subscriber)

    # ------------------------------------------------------------------------ per-user stream
    async def events_stream(self, request: web.Request) -> web.StreamResponse:
        """`GET /v1/events/stream`."""
        return await self._serve(request, lambda: self._user_stream(request))

    async def _user_stream(self, request: web.Request) -> AsyncGenerator[str, None]:
        query = adapters.query(request, EventsStreamQuery)
        principal = await self._principal(request, query.ticket)
        self._check_enabled()
        devices: list[str] = await self._read(lookups.stream_devices, principal, query.device_id)
        feeds = [self.feeds[feed.collection] for feed in USER_FEEDS]
        subscriber = Subscriber(asyncio.get_running_loop(), self.settings.stream_queue_size)
        for feed in feeds:
            feed.follow(subscriber, device_ids=devices)
        try:
            stream = UserStream(query.camera_id)
            # Live from here: what the feeds delivered up to now is history (the resume's, or
            # none); read before the resume, so nothing falls between the two.
            marks = [mark for feed in feeds if (mark := feed.high_water()) is not None]
            subscriber.since = min(marks, default=(micros(datetime.now(UTC)), "", 0))
            yield self._retry()
            last = request.headers.get("Last-Event-ID") or query.last_event_id
            if last is not None:
                for chunk in self._resume(last, feeds, devices, subscriber, stream):
                    yield chunk
            yield ready_event(subscriber.since, devices, query.camera_id)
            async for chunk in self._pump(subscriber, stream.render):
                yield chunk
        finally:
            for feed in feeds:
                feed.unfollow(subscriber)

    @staticmethod
    def _resume(
        last: str, feeds: list[Feed], devices: list[str], subscriber: Subscriber, stream: UserStream
    ) -> list[str]:
        cursor = decode_cursor(last)
        if cursor is None:
            return [reset_event(RESET_INVALID)]
        versions, complete = merge_since([feed.changed_since(cursor, devices) for feed in feeds])
        if not complete:
            return [reset_event(RESET_WINDOW)]
        chunks = []
        for version in versions:
            subscriber.seen(version.doc_id, version.seq)
            text, _ = stream.render(version)
            if text is not None:
                chunks.append(text)
        return chunks

    # ---------------------------------------------------------------------------------- shared
    def _retry(self) -> str:
        return f"retry: {self.settings.sse_retry_ms}\n\n"

    def _pump(
        self, subscriber: Subscriber, render: Callable[[Version], tuple[str | None, bool]]
    ) -> AsyncIterator[str]:
        return pump(
            subscriber,
            render,
            heartbeat_seconds=self.settings.sse_heartbeat_seconds,
            max_seconds=self.settings.sse_max_seconds,
            clock=asyncio.get_running_loop().time,
        )

    async def options(self, request: web.Request) -> web.Response:
        """`OPTIONS` on a stream route: `Allow`, or a CORS preflight."""
        return adapters.options(request, self.settings)

    async def ready(self, _request: web.Request) -> web.Response:
        """`GET /ready`: 200 once every feed has its first snapshot."""
        waiting = sorted(name for name, feed in self.feeds.items() if not feed.ready.is_set())
        if waiting:
            return web.json_response({"ready": False, "waiting_for": waiting}, status=503)
        return web.json_response({"ready": True, "feeds": sorted(self.feeds)})


def create_app(
    *,
    listen: Listen = firestore_listen,
    settings: Settings | None = None,
) -> web.Application:
    """The stream service's application.

    Args:
        listen: how feeds listen to Firestore (a fake in tests).
        settings: defaults to the process's settings.

    Returns:
        The application; its startup starts the feeds and waits for their first snapshots.
    """
    settings = settings or get_settings()
    collections = {MEDIA_COLLECTION, JOBS_COLLECTION, *(f.collection for f in USER_FEEDS)}
    feeds = {
        name: Feed(
            name,
            listen,
            window_seconds=settings.stream_resume_window_seconds,
            recycle_seconds=settings.stream_recycle_seconds,
        )
        for name in sorted(collections)
    }
    pool = ThreadPoolExecutor(max_workers=settings.db_pool_size, thread_name_prefix="stream-db")
    service = StreamService(feeds, pool, settings)
    handlers = {
        "mediaEvents": service.media_events,
        "jobEvents": service.job_events,
        "eventsStream": service.events_stream,
    }
    app = web.Application(middlewares=[adapters.json_errors])
    app[FEEDS_KEY] = feeds
    app[POOL_KEY] = pool
    for route in STREAMS:
        path = adapters.aiohttp_path(route.path)
        app.router.add_route(route.method, path, handlers[route.operation_id])
        if route.method == "GET":
            app.router.add_route("HEAD", path, handlers[route.operation_id])
        app.router.add_route("OPTIONS", path, service.options)
    app.router.add_get("/ready", service.ready, allow_head=False)
    app.on_startup.append(_start_feeds)
    app.on_cleanup.append(_stop_feeds)
    return app


async def _start_feeds(app: web.Application) -> None:
    feeds = app[FEEDS_KEY]
    for feed in feeds.values():
        feed.start()
    loop = asyncio.get_running_loop()
    for feed in feeds.values():
        await loop.run_in_executor(None, feed.ready.wait, READY_TIMEOUT_SECONDS)
    app[RECYCLER_KEY] = asyncio.create_task(_recycle(feeds))


async def _recycle(feeds: Mapping[str, Feed]) -> None:
    loop = asyncio.get_running_loop()
    every = min(feed.recycle_seconds for feed in feeds.values())
    while True:
        await asyncio.sleep(every)
        for feed in feeds.values():
            await loop.run_in_executor(None, feed.recycle)


async def _stop_feeds(app: web.Application) -> None:
    if (recycler := app.get(RECYCLER_KEY)) is not None:
        recycler.cancel()
    for feed in app[FEEDS_KEY].values():
        feed.stop()
    app[POOL_KEY].shutdown(wait=False, cancel_futures=True)
