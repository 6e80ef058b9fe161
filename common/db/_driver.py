"""pg8000 tuned: one round trip per statement, prepared once per connection, no per-call SQL
rescan, timestamps parsed without `strptime`.

`tune_connection` is applied by `common.db.engine` to every new DBAPI connection (local URL or
Cloud SQL connector alike). Five changes, all measured by `bench/bench_http.py`:

- pg8000 1.31 runs a statement with parameters as three round trips (Parse + Sync, then
  Describe + Sync, then Bind + Execute + Sync). The extended-query protocol lets a client send
  Parse, Describe, Bind, Execute and one Sync together and read the answers in order
  (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-PIPELINING), as
  psycopg and asyncpg do; `_pipelined_execute_unnamed` sends exactly pg8000's messages that way.
  A failing statement answers ErrorResponse and the server skips to the Sync, so errors surface
  as before (after ReadyForQuery, from `handle_messages`). COPY (`stream`) keeps pg8000's path.
- pg8000 sends every statement as an unnamed one, so the server parses and plans it on every
  execution (about half of Postgres's CPU time for a gallery page). A statement with parameters
  is prepared under a name the first time a connection runs it (Parse and Describe go with its
  first Bind and Execute: still one round trip) and later runs send only Bind + Execute with the
  row description kept from the first (`PreparedStatements`, `PREPARED_STATEMENTS_PER_CONNECTION`
  per connection, least recently used closed first). Postgres may then reuse a generic plan
  after five runs (`plan_cache_mode` auto). What it costs: a statement's plan is no longer made
  for each value (a generic plan for a skewed filter can be worse); a schema change under a
  prepared statement fails it once with SQLSTATE 0A000, after which the connection prepares
  afresh; a transaction-pooling proxy (pgbouncer) between would break named statements (Cloud
  SQL's connector connects directly).
- pg8000 opens each transaction with its own round trip (`begin transaction`, a simple query,
  before the first statement). `_deferred_execute_simple` writes that query without sending it,
  so it leaves with the first statement's messages, and `_handle_messages_in_order` reads its
  answer (CommandComplete, ReadyForQuery) before the statement's: answers come in the order the
  messages were sent, whatever path of pg8000 sends the next one. A failed BEGIN is raised from
  the statement that carried it.
- `timestamptz` values (OID 1184) are parsed by `datetime.fromisoformat` (about 0.2 µs instead
  of pg8000's `strptime`, about 9 µs per value); what it cannot read (infinity, BC dates, years
  past 9999) goes to pg8000's own converter, so results are unchanged.
- pg8000's cursors turn SQLAlchemy's `%s` placeholders into `$1, $2...` by scanning the SQL
  text character by character on every execute (about 0.8 ms for a 45-column select). For the
  positional styles the result depends on the text alone, so `_cached_convert_paramstyle`
  keeps it (an LRU of `PARAMSTYLE_CACHE_ENTRIES` texts; SQLAlchemy's compiled cache means a
  process runs few distinct texts) and returns the arguments unchanged, exactly as pg8000 does.
  It replaces the module-level function the cursors of `pg8000.legacy` and `pg8000.dbapi` call.

Only pg8000 versions whose internals this was checked against are tuned (`TUNED_VERSIONS`);
other versions run untouched.
"""

from __future__ import annotations

import threading
import types
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from itertools import count
from typing import Any

TUNED_VERSIONS = ("1.31.",)
"""pg8000 release series whose `CoreConnection` internals `_pipelined_execute_unnamed` uses."""
TIMESTAMPTZ_OID = 1184
PARAMSTYLE_CACHE_ENTRIES = 2048
PREPARED_STATEMENTS_PER_CONNECTION = 256
_POSITIONAL_STYLES = frozenset({"format", "qmark", "numeric"})
_install_lock = threading.Lock()
_installed: list[Callable[..., Any]] = []


def _is_tunable(connection: Any) -> bool:
    from pg8000 import core

    needed = ("send_PARSE", "send_DESCRIBE_STATEMENT", "send_BIND", "send_EXECUTE", "send_QUERY")
    return str(getattr(core, "ver", "")).startswith(TUNED_VERSIONS) and all(
        hasattr(connection, name)
        for name in (*needed, "execute_simple", "handle_messages", "message_types", "_sock")
    )


class PreparedStatements:
    """Server-side prepared statements of one connection: statement text -> (name, row
    description), least recently used closed first beyond `max_entries`."""

    def __init__(self, max_entries: int = PREPARED_STATEMENTS_PER_CONNECTION) -> None:
        self._max = max_entries
        self._entries: OrderedDict[tuple[str, tuple[int, ...]], tuple[bytes, Any, Any]] = (
            OrderedDict()
        )
        self._serial = count(1)
        self.to_close: list[bytes] = []
        """Names evicted, to be closed with the next statement's messages."""

    def get(self, key: tuple[str, tuple[int, ...]]) -> tuple[bytes, Any, Any] | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def new_name(self) -> bytes:
        """A statement name no earlier statement of this connection had (NUL-terminated)."""
        return f"media_ps_{next(self._serial)}".encode("ascii") + b"\x00"

    def add(self, key: tuple[str, tuple[int, ...]], name: bytes, columns: Any, funcs: Any) -> None:
        self._entries[key] = (name, columns, funcs)
        while len(self._entries) > self._max:
            self.to_close.append(self._entries.popitem(last=False)[1][0])

    def forget(self) -> None:
        """Stop using every statement (they stay on the server until the connection closes)."""
        self._entries.clear()


def _pipelined_execute_unnamed(
    self: Any, statement: str, vals: Any = (), oids: Any = (), stream: Any = None
) -> Any:
    """pg8000's `CoreConnection.execute_unnamed` in one round trip, through a named prepared
    statement when it has parameters (see the module docstring)."""
    from pg8000 import core
    from pg8000.converters import make_params

    if stream is not None:
        return type(self).execute_unnamed(self, statement, vals, oids, stream)
    params = make_params(self.py_types, vals)  # before anything is written: may raise
    prepared: PreparedStatements | None = getattr(self, "_prepared", None) if vals else None
    key = (statement, tuple(oids))
    known = prepared.get(key) if prepared is not None else None
    if prepared is not None:
        for name in prepared.to_close:
            self._send_message(core.CLOSE, core.STATEMENT + name)
        prepared.to_close.clear()
    if known is not None:
        name, columns, funcs = known
        context = core.Context(statement, columns=columns, input_funcs=funcs)
    else:
        name = prepared.new_name() if prepared is not None else core.NULL_BYTE
        context = core.Context(statement)
        self.send_PARSE(name, statement, oids)
        self.send_DESCRIBE_STATEMENT(name)
    self.send_BIND(name, params)
    self.send_EXECUTE()
    core._write(self._sock, core.SYNC_MSG)
    try:
        core._flush(self._sock)
    except AttributeError as exc:
        if self._sock is None:
            raise core.InterfaceError("connection is closed") from exc
        raise
    try:
        self.handle_messages(context)
    except core.DatabaseError as exc:
        details = exc.args[0] if exc.args else None
        if prepared is not None and isinstance(details, dict) and details.get("C") == "0A000":
            prepared.forget()  # "cached plan must not change result type": the schema changed
        raise
    finally:
        if prepared is not None and known is None and getattr(context, "parsed", False):
            prepared.add(key, name, context.columns, context.input_funcs)
    return context


def _parse_complete(data: bytes, context: Any) -> None:
    context.parsed = True


BEGIN = "begin transaction"
"""The statement pg8000's cursors open a transaction with."""


def _deferred_execute_simple(self: Any, statement: str) -> Any:
    """pg8000's `execute_simple`, except that BEGIN waits for the next flush (module docstring)."""
    from pg8000 import core

    if statement != BEGIN:
        return type(self).execute_simple(self, statement)
    pending = getattr(self, "_deferred_begin", None)
    if pending is None:
        pending = core.Context(statement)
        self.send_QUERY(statement)
        self._deferred_begin = pending
    return pending


def _handle_messages_in_order(self: Any, context: Any) -> None:
    """pg8000's `handle_messages`, reading a deferred BEGIN's answer first."""
    pending = getattr(self, "_deferred_begin", None)
    if pending is not None:
        self._deferred_begin = None
        try:
            type(self).handle_messages(self, pending)
        except Exception:
            type(self).handle_messages(self, context)  # the statement's answer follows anyway
            raise
    type(self).handle_messages(self, context)


def timestamptz_in(text: str, fallback: Any) -> datetime | Any:
    """A `timestamptz` in PostgreSQL's ISO output (`2024-05-01 12:00:00.5+00`) as an aware
    datetime; anything else through `fallback` (pg8000's converter)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return fallback(text)


def _install_paramstyle_cache() -> None:
    """Put `_cached_convert_paramstyle` in place of pg8000's `convert_paramstyle` (once)."""
    from pg8000 import dbapi, legacy

    with _install_lock:
        if _installed:
            return
        original: Callable[..., Any] = dbapi.convert_paramstyle

        @lru_cache(maxsize=PARAMSTYLE_CACHE_ENTRIES)
        def converted(style: str, query: str) -> str:
            text: str = original(style, query, ())[0]
            return text

        def _cached_convert_paramstyle(style: str, query: str, args: Any) -> tuple[str, Any]:
            if style in _POSITIONAL_STYLES:
                return converted(style, query), args
            result: tuple[str, Any] = original(style, query, args)
            return result

        legacy.convert_paramstyle = _cached_convert_paramstyle
        dbapi.convert_paramstyle = _cached_convert_paramstyle
        _installed.append(original)


def tune_connection(connection: Any) -> bool:
    """Apply the module's changes to one pg8000 connection; False when its version is not one
    they were checked against (it is then left as it is)."""
    if not _is_tunable(connection):
        return False
    from pg8000 import core
    from pg8000.converters import timestamptz_in as pg8000_timestamptz_in

    _install_paramstyle_cache()

    connection.execute_unnamed = types.MethodType(_pipelined_execute_unnamed, connection)
    connection.execute_simple = types.MethodType(_deferred_execute_simple, connection)
    connection.handle_messages = types.MethodType(_handle_messages_in_order, connection)
    connection._deferred_begin = None
    connection._prepared = PreparedStatements()
    connection.message_types[core.PARSE_COMPLETE] = _parse_complete
    connection.register_in_adapter(
        TIMESTAMPTZ_OID, lambda text: timestamptz_in(text, pg8000_timestamptz_in)
    )
    return True
