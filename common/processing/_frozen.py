"""The base of every analysis configuration class: frozen (hashable, so detectors built from a
configuration can be cached on it) and strict (an unknown field is an error, not ignored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """A frozen pydantic model that forbids unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
