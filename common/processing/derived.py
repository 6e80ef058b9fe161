"""People confirmed or inferred from faces: a confident face makes a person of what holds it.

The object detector scores some people low: close-ups and people packed in group photos
(0.1-0.3 on the evaluation set, under the person filter), where MTCNN is sure of their faces. For
each face that passed the filters and scores at least `AnalysisConfig.people_from_faces_min_score`
(0.98; MTCNN also scores some animal faces that high, which is why a face alone is not enough
when an object detector runs) whose centre no reported "person" box already holds:

- with an object detector of people (`objects`): the best of the object detector's weak person
  boxes (score >= `WEAK_PERSON_SCORE`, below the person filter) that holds the face in its upper
  half, and is at least as wide as the face and 1.5 faces tall, becomes a person with the face's
  score (`CONFIRMED_MODEL`): the box is the object detector's, the confidence the face's; unless
  the object detector sees an animal there (a dog or cat box holding the face that scores more
  than the person box: a monkey's face is a face to MTCNN);
- with HOG alone (`people`): a box estimated from the face by the figure drawing canon of about
  7.5 head heights to a standing adult and shoulders about three faces wide (the box is four
  faces wide to hold the arms), half a face above the face's top down to 7.5 face heights below
  it or the frame's edge (`DERIVED_MODEL`), since HOG's boxes (upright whole bodies) are rarely
  there to confirm.

The new box then goes through the person filters and the tracker like any other
(`kept_with_derived`, which analysis and the evaluation bench both call). What it adds in recall,
and costs in false people, is `bench/bench_eval.py`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.processing.filters import filter_detections
from common.processing.types import Detection

if TYPE_CHECKING:
    from common.processing.config import AnalysisConfig

DERIVED_MODEL = "person-from-face"
"""`Detection.model` of a person estimated from a face (HOG configurations)."""
CONFIRMED_MODEL = "person-confirmed-by-face"
"""`Detection.model` of a weak object-detector person box confirmed by a face in it."""

ANIMALS = frozenset({"dog", "cat", "cow"})
"""Labels whose box holding a face vetoes its confirmation."""
WEAK_PERSON_SCORE = 0.1
"""The lowest object-detector person score a face may confirm."""
BODY_WIDTH_FACES = 4.0
BODY_HEIGHT_FACES = 7.5
ABOVE_FACE_FRACTION = 0.5


def people_from_faces(
    found: list[Detection],
    width: int,
    height: int,
    config: AnalysisConfig,
    candidates: list[Detection] | None = None,
) -> list[Detection]:
    """The "person" boxes confirmed or inferred from `found`'s confident faces (module docstring).

    Args:
        found: one frame's boxes that passed the filters, in pixels of a `width` x `height`
            frame.
        width: frame width in pixels.
        height: frame height in pixels.
        config: `people_from_faces_min_score` is what a face must score; whether an object
            detector runs decides between confirming and estimating.
        candidates: every box the detectors returned for the frame, before the filters (the
            weak person boxes a face may confirm).

    Returns:
        The new boxes (none when the frame has no such face), best score first.
    """
    threshold = config.people_from_faces_min_score
    people = [d for d in found if d.label == "person"]
    confirm = config.detector("objects") is not None
    weak = [
        c
        for c in candidates or ()
        if c.label == "person" and c.score >= WEAK_PERSON_SCORE and c not in people
    ]
    animals = [c for c in candidates or () if c.label in ANIMALS]
    made: list[Detection] = []
    for face in found:
        if face.label != "face" or face.score < threshold:
            continue
        cx, cy = face.x + face.w / 2, face.y + face.h / 2
        if any(p.x <= cx <= p.x + p.w and p.y <= cy <= p.y + p.h for p in people + made):
            continue
        box = _confirmed(face, weak, animals) if confirm else _estimated(face, width, height)
        if box is not None:
            made.append(box)
    made.sort(key=lambda d: -d.score)
    return made


def _confirmed(
    face: Detection, weak: list[Detection], animals: list[Detection]
) -> Detection | None:
    cx, cy = face.x + face.w / 2, face.y + face.h / 2
    holders = [
        c
        for c in weak
        if c.x <= cx <= c.x + c.w
        and c.y <= cy <= c.y + c.h / 2
        and c.w >= face.w
        and c.h >= 1.5 * face.h
    ]
    if not holders:
        return None
    best = max(holders, key=lambda c: c.score)
    if any(a.score > best.score and _holds(a, cx, cy) for a in animals):
        return None
    return Detection(
        "person", face.score, best.x, best.y, best.w, best.h, face.time_ms, CONFIRMED_MODEL
    )


def _holds(box: Detection, x: float, y: float) -> bool:
    return box.x <= x <= box.x + box.w and box.y <= y <= box.y + box.h


def _estimated(face: Detection, width: int, height: int) -> Detection | None:
    cx = face.x + face.w / 2
    half = BODY_WIDTH_FACES * face.w / 2
    x1, x2 = max(0, round(cx - half)), min(width, round(cx + half))
    y1 = max(0, round(face.y - ABOVE_FACE_FRACTION * face.h))
    y2 = min(height, round(face.y + BODY_HEIGHT_FACES * face.h))
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return Detection("person", face.score, x1, y1, x2 - x1, y2 - y1, face.time_ms, DERIVED_MODEL)


def derives_people(config: AnalysisConfig) -> bool:
    """Whether analysis under `config` confirms or infers people from faces:
    `people_from_faces` is on and a "faces" detector and a detector of people ("people" or
    "objects") run."""
    kinds = {d.kind for d in config.detectors}
    return config.people_from_faces and "faces" in kinds and bool(kinds & {"people", "objects"})


def kept_with_derived(
    found: list[Detection], config: AnalysisConfig, width: int, height: int
) -> list[Detection]:
    """One frame's boxes that pass `config`'s filters, plus the people confirmed or inferred
    from the faces among them that pass the person filters too (when `derives_people(config)`).

    Args:
        found: every box the detectors returned for the frame, before the filters.
    """
    kept = filter_detections(found, config, width, height)
    if not derives_people(config):
        return kept
    derived = people_from_faces(kept, width, height, config, found)
    return kept + filter_detections(derived, config, width, height) if derived else kept
