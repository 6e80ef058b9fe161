"""Webhooks: endpoints users and admins register, signed deliveries queued in the same
transaction as what they report (an outbox), sent by the `deliver_webhook` function and retried
through Pub/Sub. docs/CONTRACTS.md, "Webhooks"."""
