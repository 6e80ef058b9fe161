"""Device token revocations as `common.api.auth` checks them: the state of each device
(`common.media.device_tokens.TokenState`) read at most every `REVOCATION_CHECK_SECONDS` per
instance, so the check costs one cached lookup per request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from common.core.errors import Unauthenticated

if TYPE_CHECKING:
    from common.api.auth import Principal
    from common.media.device_tokens import TokenState

MAX_DEVICES = 10_000
"""Devices whose state an instance remembers at most (the oldest read goes first)."""

REVOCATION_CHECK_SECONDS = 5.0
"""How long an instance reuses what it read of a device's revocations
(`common.media.device_tokens`): a revocation is refused at once on the instance that made it and
within this many seconds on every other."""


class Revocations:
    """The revocation state of devices, read through `load` at most every `ttl_seconds` per
    device (thread-safe).

    Args:
        load: device id -> its `TokenState` (default: read from Postgres).
        ttl_seconds: how long a state is reused.
        clock: monotonic seconds (tests).
    """

    def __init__(
        self,
        load: Callable[[str], TokenState] | None = None,
        ttl_seconds: float = REVOCATION_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.load = load or _load_token_state
        self._ttl = ttl_seconds
        self._clock = clock
        self._states: dict[str, tuple[TokenState, float]] = {}
        self._lock = threading.Lock()

    def check(self, principal: Principal) -> None:
        """Refuse a device principal whose token or device is revoked.

        Raises:
            Unauthenticated: `token_revoked` or `device_deleted` (401).
            TransientError: the database is unavailable.
        """
        if principal.kind != "device":
            return
        state = self._state(principal.subject)
        code = state.refusal(principal.token_id, principal.issued_at)
        if code is not None:
            message = "this device was deleted" if code == "device_deleted" else "token revoked"
            raise Unauthenticated(message, code=code)

    def _state(self, device_id: str) -> TokenState:
        now = self._clock()
        with self._lock:
            cached = self._states.get(device_id)
            if cached is not None and now - cached[1] < self._ttl:
                return cached[0]
        state = self.load(device_id)
        with self._lock:
            self._states[device_id] = (state, now)
            if len(self._states) > MAX_DEVICES:
                self._states.pop(next(iter(self._states)))
        return state

    def forget(self, device_id: str) -> None:
        """Read the device's state afresh on its next request (after a revocation here)."""
        with self._lock:
            self._states.pop(device_id, None)


def _load_token_state(device_id: str) -> TokenState:
    from common.db.engine import read_scope
    from common.media.device_tokens import token_state

    with read_scope() as session:
        return token_state(session, device_id)


REVOCATIONS = Revocations()
"""The process's view of device token revocations (`authenticate`)."""
