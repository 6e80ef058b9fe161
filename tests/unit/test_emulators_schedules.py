"""Schedules of topology.json: validation (so Terraform's cron and the local timer agree), the
local timetable, and what a tick publishes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from emulators.cron import cron_period_seconds, parse_cron
from emulators.scheduler import Scheduler, Timetable, parse_scale
from emulators.topology import ScheduleSpec, load_topology, parse_topology

ROOT = Path(__file__).parents[2]
BASE: dict[str, Any] = {
    "topics": {"housekeeping": {}, "other": {}},
    "subscriptions": {},
    "functions": {},
    "schedules": {
        "reconcile": {
            "topic": "housekeeping",
            "cron": "*/5 * * * *",
            "every_seconds": 300,
            "attributes": {"task": "reconcile"},
        }
    },
}


def with_schedule(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    schedule = raw["schedules"]["reconcile"]
    for key, value in changes.items():
        if value is None:
            schedule.pop(key, None)
        else:
            schedule[key] = value
    return raw


def test_the_repository_topology_declares_its_schedules_on_the_housekeeping_topic() -> None:
    topology = load_topology(ROOT / "topology.json")
    by_name = {s.name: s for s in topology.schedules}
    assert {"reconcile", "retention"} <= set(by_name)
    assert by_name["reconcile"].every_seconds == 300
    assert by_name["reconcile"].attributes == {"task": "reconcile"}
    assert by_name["retention"].cron == "17 * * * *"
    assert by_name["retention"].every_seconds == 3600
    assert "housekeeping" in topology.topics
    raw = json.loads((ROOT / "topology.json").read_text())
    assert raw["topics"]["housekeeping"]["message_retention_seconds"] >= 600  # Pub/Sub minimum


@pytest.mark.parametrize(
    ("cron", "period"),
    [
        ("*/5 * * * *", 300),
        ("17 * * * *", 3600),
        ("0 3 * * *", 86400),
        ("0 */6 * * *", 21600),
        ("0,30 * * * *", 1800),
        ("* * * * *", 60),
        ("0,10 * * * *", None),  # gaps of 10 and 50 minutes
        ("0 3 * * mon", None),  # depends on the date
        ("0 3 1 jan *", None),
    ],
)
def test_the_period_of_a_cron_is_known_when_it_fires_evenly_every_day(
    cron: str, period: int | None
) -> None:
    assert cron_period_seconds(cron) == period


@pytest.mark.parametrize(
    "cron", ["*/5 * * *", "60 * * * *", "*/0 * * * *", "5-1 * * * *", "x * * * *", "0 24 * * *"]
)
def test_malformed_crons_are_refused(cron: str) -> None:
    with pytest.raises(ValueError, match="cron"):
        parse_cron(cron)


def test_cron_names_and_ranges_expand() -> None:
    minutes, hours, days, months, weekdays = parse_cron("0-10/5 9-17 * jan,JUL mon-fri")
    assert minutes == {0, 5, 10}
    assert hours == set(range(9, 18))
    assert len(days) == 31
    assert months == {1, 7}
    assert weekdays == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"every_seconds": 200},
            "every_seconds is 200 but cron '\\*/5 \\* \\* \\* \\*' fires every 300 s",
        ),
        ({"topic": "missing"}, "unknown topic 'missing'"),
        ({"cron": "*/5 * *"}, "expected 5 fields"),
        ({"every_seconds": 0}, "positive integer"),
        ({"every_seconds": True}, "positive integer"),
        ({"every_seconds": None}, "positive integer"),
        ({"attributes": {"task": 5}}, "attributes must map strings"),
        ({"attributes": None}, "needs data or attributes"),
        ({"cron_expression": "x"}, "unknown keys"),
        ({"data": 7}, "data must be a string"),
    ],
)
def test_a_malformed_schedule_is_refused_with_its_name(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"schedule reconcile: .*{message}"):
        parse_topology(with_schedule(**changes))


def test_a_schedule_whose_cron_has_no_fixed_period_keeps_its_own_interval() -> None:
    topology = parse_topology(with_schedule(cron="0 3 * * mon", every_seconds=604800, data="go"))
    [schedule] = topology.schedules
    assert (schedule.every_seconds, schedule.data, schedule.time_zone) == (604800, "go", "Etc/UTC")


def spec(name: str, every_seconds: int) -> ScheduleSpec:
    return ScheduleSpec(
        name=name,
        topic="housekeeping",
        cron="* * * * *",
        every_seconds=every_seconds,
        attributes={"task": name},
    )


def test_the_first_tick_comes_one_scaled_interval_after_start() -> None:
    table = Timetable([spec("fast", 300), spec("slow", 3600)], scale=0.01, start=100.0)
    assert table.pop_due(102.9) == []
    assert table.seconds_until_next(102.9) == pytest.approx(0.1)
    assert [s.name for s in table.pop_due(103.0)] == ["fast"]
    assert [s.name for s in table.pop_due(136.0)] == ["fast", "slow"]


def test_a_late_tick_fires_once_and_the_next_stays_on_the_grid() -> None:
    table = Timetable([spec("fast", 10)], scale=1.0, start=0.0)
    # WHEN the process was stalled across three due times
    assert [s.name for s in table.pop_due(35.0)] == ["fast"]
    # THEN nothing is caught up, and the next tick is at 40 s, not 45 s
    assert table.pop_due(39.9) == []
    assert table.seconds_until_next(35.0) == pytest.approx(5.0)


def test_a_tick_publishes_the_schedules_topic_data_and_attributes() -> None:
    published: list[tuple[str, bytes, dict[str, str]]] = []

    def publish(topic: str, data: bytes, attributes: Any) -> str:
        published.append((topic, data, dict(attributes)))
        return str(len(published))

    scheduler = Scheduler([spec("reconcile", 300)], publish, scale=0)
    scheduler.start()  # scale 0: no timer thread
    assert not scheduler.running
    assert scheduler.tick("reconcile") == "1"
    assert published == [("housekeeping", b"", {"task": "reconcile"})]
    assert scheduler.describe().startswith("off")
    with pytest.raises(KeyError):
        scheduler.tick("nope")


def test_run_due_publishes_what_the_clock_says_is_due_and_survives_a_failed_publish() -> None:
    now = [0.0]
    calls: list[str] = []

    def publish(topic: str, data: bytes, attributes: Any) -> str:
        calls.append(attributes["task"])
        if len(calls) == 1:
            raise ConnectionError("emulator restarting")
        return "id"

    scheduler = Scheduler([spec("a", 60)], publish, scale=1.0, clock=lambda: now[0])
    assert scheduler.run_due() == pytest.approx(60.0)
    assert calls == []
    now[0] = 60.0
    assert scheduler.run_due() == pytest.approx(60.0)  # the failed publish is logged, not raised
    now[0] = 120.0
    assert scheduler.run_due() == pytest.approx(60.0)
    assert calls == ["a", "a"]
    assert Scheduler([spec("a", 60)], publish, scale=0).run_due() is None


@pytest.mark.parametrize(
    ("raw", "scale"), [(None, 1.0), ("", 1.0), ("0.01", 0.01), ("0", 0.0), ("off", 0.0)]
)
def test_schedule_scale_parses(raw: str | None, scale: float) -> None:
    assert parse_scale(raw) == scale


@pytest.mark.parametrize("raw", ["-1", "fast", "nan"])
def test_schedule_scale_refuses_nonsense(raw: str) -> None:
    with pytest.raises(ValueError, match="SCHEDULE_SCALE"):
        parse_scale(raw)
