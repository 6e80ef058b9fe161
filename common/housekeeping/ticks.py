"""The housekeeping function's messages: scheduled ticks and dead letters, told apart."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from common.core.errors import BadRequest
from common.housekeeping.dead_letter import SOURCE_SUBSCRIPTION, handle_dead_letter

if TYPE_CHECKING:
    from common.events.envelope import PubSubMessage

log = logging.getLogger(__name__)


TASKS = ("reconcile", "retention")
"""The tasks of the schedules in topology.json (attribute `task`)."""


class TickOutcome(StrEnum):
    """What a tick did."""

    RECONCILED = "reconciled"
    SWEPT = "swept"


def handle_housekeeping(message: PubSubMessage) -> StrEnum:
    """Run what a housekeeping message asks: a dead letter, or a tick (`task` attribute).

    Raises:
        BadRequest: an unknown task (poison: acknowledged).
        TransientError: a dependency is unavailable (retry).
    """
    from common.db.engine import session_scope

    task = message.attributes.get("task")
    if SOURCE_SUBSCRIPTION not in message.attributes and task not in TASKS:
        raise BadRequest(f"unknown housekeeping task {task!r}")
    with session_scope() as session:
        if SOURCE_SUBSCRIPTION in message.attributes:
            return handle_dead_letter(session, message)
        if task == "reconcile":
            from common.housekeeping.reconcile import reconcile

            reconcile(session)
            return TickOutcome.RECONCILED
        from common.housekeeping.retention import sweep

        sweep(session)
        return TickOutcome.SWEPT
