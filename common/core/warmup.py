"""Preparing a server process before its first request, off the request path.

A function's `main.py` stays cheap to import (functions-framework imports it before the server
starts). What its requests need (route modules, SQLAlchemy, the database pool's first connection,
clients) is prepared by a `WarmUp`: a daemon thread started in each server process right after
gunicorn forks its worker (so no half-done import or client crosses a fork), which the first
request waits for only if it is not done. Cloud Functions gen2 (Cloud Run) has no startup probe
that could hold traffic until then, and no CPU boost: `min_instance_count` is the only platform
lever against cold starts, at the price of instances billed while idle (bench/README.md).

While it runs, the cyclic garbage collector is paused (imports allocate many long-lived objects
and would trigger full collections: about a third of the import time here); at the end the
objects it created are frozen (`gc.freeze`) so later collections skip them, and collection
resumes.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

WAIT_SECONDS = 30.0
"""How long a request waits for an unfinished warm-up before it goes ahead on its own."""


class WarmUp:
    """Run `steps` in order on a daemon thread in each forked server process.

    A step that raises is logged and skipped (the request that needs it meets the same error and
    answers it as usual). Without fork support nothing starts, and `wait` returns at once.

    Args:
        steps: callables taking no arguments.
        name: the thread's name, in logs.
    """

    def __init__(self, *steps: Callable[[], object], name: str = "warm-up") -> None:
        self._steps = steps
        self._name = name
        self._done = threading.Event()
        self._started = False
        self.timings_ms: list[tuple[str, float]] = []
        """How long each step took, in order (filled as they finish)."""
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.start)

    def start(self) -> None:
        """Start the steps on a daemon thread (once per process)."""
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._run, name=self._name, daemon=True).start()

    def _run(self) -> None:
        collecting = gc.isenabled()
        gc.disable()
        began = time.perf_counter()
        try:
            for step in self._steps:
                name = getattr(step, "__name__", repr(step))
                step_began = time.perf_counter()
                try:
                    step()
                except Exception:
                    log.exception("%s: %s failed", self._name, name)
                self.timings_ms.append((name, (time.perf_counter() - step_began) * 1000))
        finally:
            gc.freeze()  # what it built lives as long as the process: later collections skip it
            if collecting:
                gc.enable()
            self._done.set()
        steps = ", ".join(f"{name} {ms:.0f}" for name, ms in self.timings_ms)
        log.info(
            "%s: done in %.0f ms (%s)", self._name, (time.perf_counter() - began) * 1000, steps
        )

    def wait(self, timeout_seconds: float = WAIT_SECONDS) -> bool:
        """Block until the warm-up has finished, if one started in this process.

        Returns:
            False when it was still running after `timeout_seconds`.
        """
        return not self._started or self._done.wait(timeout_seconds)
