"""Pydantic's validation errors as the API's 422, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.core.errors import ValidationError

if TYPE_CHECKING:
    from pydantic import ValidationError as PydanticError


def validation_error(
    exc: PydanticError, message: str = "request is invalid", *, code: str | None = None
) -> ValidationError:
    """A 422 `ValidationError` with `details: [{field, message}]` from a pydantic error.

    The input values are not repeated in the details (they may be large or sensitive).
    """
    details = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    return ValidationError(message, code=code, details=details)
