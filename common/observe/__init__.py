"""Observability: structured logs in Cloud Logging's format, events for log-based metrics, the
audit log."""
