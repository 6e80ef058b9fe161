"""The stream service: Server-Sent Events for every open client, apart from the API functions.

An open event stream costs the service a coroutine and a queue, never a request thread of the
API: `hub` keeps one Firestore listener per collection per process and fans each document
version out to the streams that follow it; `pump` turns a stream's versions into `text/event-
stream`; `service` is the aiohttp application (`services/streams/main.py` runs it). The wire
format and the per-document rules are `common.api.sse`; the routes are bound in
`common.api.routes` (`STREAMS`); docs/CONTRACTS.md, "Live status", is the contract.
"""
