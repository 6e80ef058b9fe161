"""deliver_webhook (Pub/Sub push): send signed webhook deliveries to the endpoints users
registered, and record each attempt.

Push endpoint of the `deliver-webhook` subscription (`webhook-deliveries`: one delivery per
message) and of `webhook-dead-letter-handler` (deliveries whose retries are spent end
`dead_lettered`). A receiver that does not answer 2xx gets a 503 here, so Pub/Sub retries with
backoff. See common/webhooks/deliver.py.
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
    warm.modules("common.webhooks.deliver", "common.fetch.post"),
    warm.database,
    name="warm-up of deliver_webhook",
)
"""What the first push needs, prepared after the fork (`common.core.warmup`)."""


@functions_framework.http
def deliver_webhook(request: Request) -> tuple[str, int]:
    """Push endpoint of the `deliver-webhook` and `webhook-dead-letter-handler` subscriptions."""
    WARM_UP.wait()
    from common.webhooks.deliver import handle_message

    status, outcome = handle_push(request.get_data(), handle_message)
    return outcome, status
