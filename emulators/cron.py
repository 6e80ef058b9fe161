"""Checks of unix-cron expressions (the format Cloud Scheduler takes), so that a schedule's `cron`
(used in the cloud) and its `every_seconds` (used by the local stack) cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field(
        "month",
        1,
        12,
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ),
    _Field("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)


def _value(text: str, field: _Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.low + field.names.index(lowered)
    if not text.isdigit():
        raise ValueError(f"{field.name}: {text!r} is not a number")
    value = int(text)
    if not field.low <= value <= field.high:
        raise ValueError(f"{field.name}: {value} outside {field.low}..{field.high}")
    return value


def _expand(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"{field.name}: bad step in {part!r}")
        step = int(step_text) if slash else 1
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, field), _value(last, field)
            if low > high:
                raise ValueError(f"{field.name}: empty range {base!r}")
        else:
            low = _value(base, field)
            high = field.high if slash else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


def parse_cron(expression: str) -> tuple[frozenset[int], ...]:
    """Parse a five-field unix-cron expression.

    Supports `*`, numbers, `a-b` ranges, `/step`, comma lists and three-letter month and weekday
    names, as Cloud Scheduler's unix-cron format does
    (https://cloud.google.com/scheduler/docs/configuring/cron-job-schedules).

    Args:
        expression: e.g. `"*/5 * * * *"`.

    Returns:
        The sets of minutes, hours, days of month, months and days of week it matches.

    Raises:
        ValueError: Not five fields, or a field is malformed or out of range.
    """
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"cron {expression!r}: expected 5 fields, got {len(fields)}")
    try:
        return tuple(_expand(text, field) for text, field in zip(fields, _FIELDS, strict=True))
    except ValueError as exc:
        raise ValueError(f"cron {expression!r}: {exc}") from exc


def cron_period_seconds(expression: str) -> int | None:
    """The constant interval between firings of `expression`, when it has one.

    Only schedules whose day-of-month, month and day-of-week fields are `*` are considered; they
    fire at the same minutes every day, and have a period when those minutes are evenly spaced
    around the day (`*/5 * * * *` -> 300, `17 * * * *` -> 3600, `0 3 * * *` -> 86400).

    Args:
        expression: A unix-cron expression.

    Returns:
        Seconds between firings, or None when the gaps differ or the schedule depends on the date.

    Raises:
        ValueError: The expression is malformed (see `parse_cron`).
    """
    minutes, hours, *_ = parse_cron(expression)
    if expression.split()[2:] != ["*", "*", "*"]:
        return None
    firings = sorted(hour * 60 + minute for hour in hours for minute in minutes)
    gaps = {
        (firings[(i + 1) % len(firings)] - firing) % MINUTES_PER_DAY or MINUTES_PER_DAY
        for i, firing in enumerate(firings)
    }
    return gaps.pop() * 60 if len(gaps) == 1 else None
