"""Running a coroutine from a test, whatever the main thread already runs."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")


def run_async(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """`asyncio.run(coroutine)` on a thread of its own: Playwright's sync API (the browser tests,
    earlier in the same session) leaves an event loop running on the main thread, where
    `asyncio.run` refuses to start another."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-loop") as pool:
        return pool.submit(asyncio.run, coroutine).result()
