"""Which tracks become events, and when a recording continues the previous one's event."""

from __future__ import annotations

from common.media.events.continuity import Beginning, Ending, continuations, iou
from common.media.events.settings import EventSettings


def test_default_labels_and_vehicles_are_cars() -> None:
    settings = EventSettings()
    assert [settings.event_label(x) for x in ("person", "dog", "cat", "car")] == [
        "person",
        "dog",
        "cat",
        "car",
    ]
    # Open Images' generic vehicle (buses, trucks, vans) is a "car" event by default.
    assert settings.event_label("vehicle") == "car"
    assert settings.event_label("bicycle") is None
    assert settings.event_label("face") is None


def test_a_camera_listing_vehicle_alone_hears_only_of_those() -> None:
    settings = EventSettings(labels=("vehicle",))
    assert settings.event_label("vehicle") == "vehicle"
    assert settings.event_label("car") is None


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0  # touching edges do not overlap
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9


def _ending(
    event_id: str = "evt_a", last_ms: int | None = 9_500, box=(100, 100, 50, 100)
) -> Ending:
    return Ending(event_id, "person", last_ms, box)


def _beginning(track_id: int = 1, first_ms: int | None = 200, box=(110, 105, 50, 100)) -> Beginning:
    return Beginning(track_id, "person", first_ms, box)


def test_an_object_there_at_the_boundary_continues_its_event() -> None:
    links = continuations([_ending()], [_beginning()], previous_duration_ms=10_000, edge_ms=3_000)
    assert links == {1: "evt_a"}


def test_an_object_that_left_before_the_end_starts_a_new_event() -> None:
    early = _ending(last_ms=4_000)  # gone 6 s before the previous recording ended
    assert continuations([early], [_beginning()], previous_duration_ms=10_000, edge_ms=3_000) == {}


def test_an_object_that_arrives_later_starts_a_new_event() -> None:
    late = _beginning(first_ms=5_000)
    assert continuations([_ending()], [late], previous_duration_ms=10_000, edge_ms=3_000) == {}


def test_another_place_or_label_starts_a_new_event() -> None:
    elsewhere = _beginning(box=(400, 100, 50, 100))
    assert continuations([_ending()], [elsewhere], previous_duration_ms=10_000, edge_ms=3_000) == {}
    dog = Beginning(1, "dog", 200, (110, 105, 50, 100))
    assert continuations([_ending()], [dog], previous_duration_ms=10_000, edge_ms=3_000) == {}


def test_each_event_is_continued_once_by_the_track_overlapping_most() -> None:
    near = _beginning(track_id=1, box=(100, 100, 50, 100))
    farther = _beginning(track_id=2, box=(130, 100, 50, 100))
    links = continuations([_ending()], [farther, near], previous_duration_ms=10_000, edge_ms=3_000)
    assert links == {1: "evt_a"}


def test_stills_continue_when_the_object_overlaps() -> None:
    links = continuations(
        [_ending(last_ms=None)],
        [_beginning(first_ms=None)],
        previous_duration_ms=None,
        edge_ms=3_000,
    )
    assert links == {1: "evt_a"}
