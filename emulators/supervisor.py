"""Keeps the stack's processes running: a component that dies is restarted on its own address.

Each `Component` knows how to start its process (on the port its work dir owns, waiting until
it answers), what to clean up after a death (a dead Postgres' lock files) and what to set up
again after a restart (the Pub/Sub topology of a restarted emulator). `Supervisor` polls every
process (which also reaps it: no zombies), and on a death kills what is left of the process's
group (orphaned children hold ports and shared memory), cleans up, and starts it again, with a
growing pause between failed attempts. Every death and restart is a line in
`logs/supervisor.log`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from emulators._proc import ManagedProcess, ProcessRegistry, StackError

POLL_SECONDS = 0.2
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)


def _nothing() -> None:
    return None


@dataclass
class Component:
    """One supervised service.

    Attributes:
        name: service name (the table's, e.g. `postgres`, `function process_media`).
        address: where it answers (unchanged by restarts).
        start: starts the process and waits until it answers (raises StackError).
        cleanup: run after a death, before the restart (e.g. stale lock files).
        restore: run after a restart (e.g. topics and subscriptions again).
        proc: the running process.
        restarts: restarts so far.
    """

    name: str
    address: str
    start: Callable[[], ManagedProcess]
    cleanup: Callable[[], None] = _nothing
    restore: Callable[[], None] = _nothing
    proc: ManagedProcess | None = None
    restarts: int = 0
    _failures: int = field(default=0, repr=False)
    _next_attempt: float = field(default=0.0, repr=False)


class Supervisor:
    """Restarts dead components (see the module docstring).

    Args:
        registry: the stack's processes (restarted ones replace the dead ones there).
        log: where deaths and restarts are written.
        poll_seconds: how often every process is checked.
    """

    def __init__(
        self, registry: ProcessRegistry, log: logging.Logger, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._registry = registry
        self._log = log
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._components: dict[str, Component] = {}
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def launch(self, component: Component) -> Component:
        """Start `component` for the first time and supervise it.

        Raises:
            StackError: it did not start.
        """
        component.proc = self._registry.add(component.start())
        with self._lock:
            self._components[component.name] = component
        return component

    def component(self, name: str) -> Component:
        """The supervised component `name` (KeyError if none)."""
        with self._lock:
            return self._components[name]

    def components(self) -> list[Component]:
        """Every supervised component."""
        with self._lock:
            return list(self._components.values())

    def start(self) -> None:
        """Start watching."""
        self._thread = threading.Thread(target=self._run, name="stack-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before the stack stops the processes). Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def wait_for_restart(self, name: str, restarts: int, timeout_seconds: float) -> bool:
        """Wait until `name` has been restarted at least `restarts` times and runs."""
        deadline = time.monotonic() + timeout_seconds
        with self._changed:
            while True:
                component = self._components[name]
                if component.restarts >= restarts and component.proc and component.proc.running():
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)

    def replace(self, name: str) -> None:
        """Stop `name` on purpose and start it again now (same address)."""
        component = self.component(name)
        with self._lock:
            old, component.proc = component.proc, None
        if old is not None:
            old.stop()
            self._registry.remove(old)
        component.cleanup()
        component.proc = self._registry.add(component.start())
        component.restore()

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            for component in self.components():
                proc = component.proc
                if proc is None or proc.running() or self._stop.is_set():
                    continue
                if time.monotonic() < component._next_attempt:
                    continue
                self._restart(component, proc)

    def _restart(self, component: Component, dead: ManagedProcess) -> None:
        code = dead.popen.returncode
        self._log.warning(
            "%s (pid %d) exited with %s; restarting it on %s",
            component.name,
            dead.pid,
            code,
            component.address,
        )
        dead.stop()  # what is left of its group: orphaned children
        self._registry.remove(dead)
        try:
            component.cleanup()
            proc = component.start()
        except StackError as exc:
            component._failures += 1
            pause = BACKOFF_SECONDS[min(component._failures, len(BACKOFF_SECONDS)) - 1]
            component._next_attempt = time.monotonic() + pause
            self._log.error(
                "%s did not come back (retry in %.1f s): %s", component.name, pause, exc
            )
            return
        self._registry.add(proc)
        try:
            component.restore()
        except Exception as exc:  # set up again on the next death at the latest; say so
            self._log.error("%s: restoring its state failed: %s", component.name, exc)
        with self._changed:
            component.proc = proc
            component.restarts += 1
            component._failures = 0
            self._changed.notify_all()
        self._log.warning("%s is back (pid %d) on %s", component.name, proc.pid, component.address)
