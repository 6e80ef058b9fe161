"""housekeeping (Pub/Sub push): scheduled ticks (reconcile, retention) and dead-lettered messages.

Push endpoint of the `housekeeping` subscription (Cloud Scheduler ticks) and of the
`dead-letter-handler` subscription. See common/housekeeping/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework

from common.api import warm
from common.core.warmup import WarmUp
from common.events.envelope import handle_push
from common.observe.logging import configure

if TYPE_CHECKING:
    from flask import Request

configure()

WARM_UP = WarmUp(
    warm.modules("common.housekeeping.ticks"),
    warm.database,
    warm.storage,
    name="warm-up of housekeeping",
)
"""What the first push needs, prepared after the fork (`common.core.warmup`)."""


@functions_framework.http
def housekeeping(request: Request) -> tuple[str, int]:
    """Push endpoint of the `housekeeping` and `dead-letter-handler` subscriptions."""
    WARM_UP.wait()
    from common.housekeeping.ticks import handle_housekeeping

    status, outcome = handle_push(request.get_data(), handle_housekeeping)
    return outcome, status
