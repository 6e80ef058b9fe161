"""The baseline of bench_http.py and bench_coldstart.py: a bare functions-framework hello."""

from __future__ import annotations

from typing import Any

import functions_framework


@functions_framework.http
def hello(request: Any) -> str:
    """Answer 200 `hello`."""
    return "hello"
