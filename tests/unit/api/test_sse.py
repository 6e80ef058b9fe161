"""Server-Sent Events: wire format, event choice, resume, closing, and the client reader (the
stream loop's heartbeats and lifetime: tests/unit/streams/test_pump.py)."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from cli.client import SseEvent, parse_sse, sse_lines
from common.api.app import Api, Call, Route
from common.api.sse import (
    JOB_TERMINAL,
    MEDIA_TERMINAL,
    EventState,
    comment,
    format_event,
    parse_last_event_id,
)


def test_event_has_id_type_and_one_data_line_per_line() -> None:
    assert format_event('{"a":1}', event="status", event_id=7) == (
        'id: 7\nevent: status\ndata: {"a":1}\n\n'
    )
    assert format_event("one\r\ntwo\rthree\nfour") == (
        "data: one\ndata: two\ndata: three\ndata: four\n\n"
    )
    assert comment("heartbeat") == ": heartbeat\n\n"
    with pytest.raises(ValueError, match="one line"):
        format_event("x", event_id="1\n2")


@pytest.mark.parametrize(
    ("header", "expected"), [(None, None), ("12", 12), (" 3 ", 3), ("abc", None), ("-1", None)]
)
def test_last_event_id_header(header: str | None, expected: int | None) -> None:
    assert parse_last_event_id(header) == expected


def doc(seq: int, status: str, progress: float = 0.0) -> dict[str, Any]:
    return {"seq": seq, "status": status, "progress": progress}


def kinds(state: EventState, docs: list[dict[str, Any] | None]) -> list[tuple[str | None, bool]]:
    out = []
    for document in docs:
        text, done = state.on_document(document)
        out.append((text.split("\n")[1] if text else None, done))
    return out


def test_status_on_change_progress_otherwise_and_done_at_a_terminal_status() -> None:
    state = EventState(JOB_TERMINAL, None)
    assert kinds(
        state,
        [doc(1, "queued"), doc(2, "running"), doc(3, "running", 0.5), None, doc(4, "completed", 1)],
    ) == [
        ("event: status", False),
        ("event: status", False),
        ("event: progress", False),
        (None, False),  # no document (yet): nothing to send
        ("event: status", True),
    ]


def test_versions_at_or_below_the_last_event_id_are_not_sent_again() -> None:
    state = EventState(MEDIA_TERMINAL, last_event_id=5)
    assert kinds(state, [doc(5, "processing", 0.4), doc(6, "processing", 0.6)]) == [
        (None, False),
        ("event: status", False),  # the first event after a resume carries the status
    ]
    # a listener may coalesce versions, and never goes back: old or repeated ones are dropped
    assert kinds(state, [doc(6, "processing", 0.6), doc(4, "processing"), doc(9, "processed")]) == [
        (None, False),
        (None, False),
        ("event: status", True),
    ]


def test_resuming_after_the_terminal_event_closes_without_sending() -> None:
    state = EventState(JOB_TERMINAL, last_event_id=9)
    assert state.on_document(doc(9, "failed")) == (None, True)


def test_event_ids_are_the_document_sequence_numbers() -> None:
    state = EventState(JOB_TERMINAL, None)
    text, _ = state.on_document({**doc(3, "running", 0.25), "error": None})
    assert text is not None
    assert text.startswith("id: 3\n")
    [event] = parse_sse(sse_lines([text]))
    assert event.event == "status"
    assert '"progress":0.25' in event.data


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 11])
def test_client_reader_recovers_events_split_anywhere(cut: int) -> None:
    text = (
        "retry: 3000\r\n\r\n"
        + format_event('{"a":1}', event="status", event_id=1).replace("\n", "\r\n")
        + ": heartbeat\n\n"
        + format_event("two\nlines", event_id=2)
        + "data: unterminated"
    )
    chunks = [text[i : i + cut] for i in range(0, len(text), cut)]
    assert list(parse_sse(sse_lines(chunks))) == [
        SseEvent("status", '{"a":1}', "1"),
        SseEvent("message", "two\nlines", "2"),
    ]


def test_a_handler_may_return_a_ready_stream() -> None:
    def stream(_: Call) -> Response:
        return Response(iter(["data: x\n\n"]), mimetype="text/event-stream")

    api = Api([Route("GET", "/v1/stream", stream, "stream", "stream", public=True)])
    result = api(Request(EnvironBuilder(path="/v1/stream").get_environ()))
    assert result.mimetype == "text/event-stream"
    assert b"".join(result.iter_encoded()) == b"data: x\n\n"


def test_a_stream_opens_with_the_row_state_once() -> None:
    state = EventState(JOB_TERMINAL, None, initial={"status": "queued", "progress": 0.0})
    first, done = state.opening()
    assert first is not None
    assert first.startswith("id: 0\nevent: status\n")
    assert not done
    assert state.opening() == (None, False)
    assert state.on_document(None) == (None, False)  # no document (yet): nothing more
    text, _ = state.on_document(doc(1, "running"))
    assert text is not None
    assert text.startswith("id: 1\nevent: status")


def test_a_row_already_terminal_ends_the_stream_at_once() -> None:
    state = EventState(MEDIA_TERMINAL, None, initial={"status": "deleted"})
    text, done = state.opening()
    assert text is not None
    assert done


def test_a_resumed_stream_does_not_repeat_the_row_state() -> None:
    state = EventState(JOB_TERMINAL, 3, initial={"status": "queued"})
    assert state.opening() == (None, False)
    # a resume of a job that has ended meanwhile ends at once, whatever the mirror holds
    assert EventState(JOB_TERMINAL, 3, initial={"status": "failed"}).opening() == (None, True)


def test_a_media_document_that_disappears_ends_the_stream_as_deleted() -> None:
    state = EventState(MEDIA_TERMINAL, None, gone_status="deleted")
    first, _ = state.on_document(doc(3, "processed"))
    assert first is not None
    state = EventState(MEDIA_TERMINAL, None, gone_status="deleted")
    state.on_document(doc(3, "processing"))
    text, done = state.on_document(None)
    assert text is not None
    assert '"status":"deleted"' in text
    assert done
