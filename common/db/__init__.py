"""Postgres access: models, the per-process engine and session scope."""
