"""What `make demo` counts as a problem in the stack's logs."""

from __future__ import annotations

import json
from pathlib import Path

from cli.demo import log_problems


def _request_line(status: int, severity: str = "INFO") -> str:
    return json.dumps(
        {
            "severity": severity,
            "message": f"GET /v1/media {status}",
            "httpRequest": {"requestMethod": "GET", "status": status, "latency": "0.01s"},
        },
        separators=(",", ":"),
    )


def test_5xx_answers_are_counted_from_the_router_and_from_function_request_lines(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "router.log").write_text(
        "delivery subscription=s message_id=1 attempt=1 status=204 ms=3 outcome=ack\n"
        "delivery subscription=s message_id=2 attempt=1 status=503 ms=3 outcome=nack\n"
    )
    (logs / "function-list_media.log").write_text(
        "\n".join(
            [
                _request_line(200),
                _request_line(404),
                _request_line(500, "ERROR"),
                _request_line(502),
                # a 5 in another field is not a 5xx answer
                json.dumps(
                    {
                        "severity": "INFO",
                        "message": "x",
                        "httpRequest": {"status": 201, "responseSize": "500"},
                    },
                    separators=(",", ":"),
                ),
            ]
        )
    )
    (logs / "storage.log").write_text("ERROR something broke\nfine\n")

    errors, answers_5xx = log_problems(logs)

    assert answers_5xx == 3
    assert errors == 2
