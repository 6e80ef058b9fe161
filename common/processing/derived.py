"""People inferred from faces: a confident face is a person even where HOG sees none.

HOG's pedestrian model (Dalal & Triggs, CVPR 2005) finds upright, whole, mostly unoccluded
bodies of at least 64 x 128 pixels; it misses the people cameras see most often up close: seated,
cut off by the frame, or turned. A face MTCNN is sure of is a person too. For each face that
passed the filters and scores at least `AnalysisConfig.people_from_faces_min_score` (0.98: real
faces of the evaluation set score 0.986-0.9999, cartoon faces up to 0.961 and a fractal 0.869, so
the bound is set on that set and optimistic there) whose centre no "person" box of the frame
already holds, `people_from_faces` adds a "person" box of the same score, estimated from the face
by the figure
drawing canon of about 7.5 head heights to a standing adult and shoulders about three faces
wide (the box is four faces wide to hold the arms), clipped to the frame: half a face above the
face's top, down to 7.5 face heights below it or the frame's edge. The box then goes through the
person filters and the tracker like any other, under the model name `DERIVED_MODEL`
(`kept_with_derived`, which analysis and the evaluation bench both call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.processing.filters import filter_detections
from common.processing.types import Detection

if TYPE_CHECKING:
    from common.processing.config import AnalysisConfig

DERIVED_MODEL = "person-from-face"
"""`Detection.model` of an inferred person."""

BODY_WIDTH_FACES = 4.0
BODY_HEIGHT_FACES = 7.5
ABOVE_FACE_FRACTION = 0.5


def people_from_faces(
    found: list[Detection], width: int, height: int, config: AnalysisConfig
) -> list[Detection]:
    """The "person" boxes inferred from `found`'s confident faces (see the module docstring).

    Args:
        found: one frame's boxes, in pixels of a `width` x `height` frame.
        width: frame width in pixels.
        height: frame height in pixels.
        config: `people_from_faces_min_score` is what a face must score.

    Returns:
        The new boxes (none when the frame has no such face), best score first.
    """
    threshold = config.people_from_faces_min_score
    people = [d for d in found if d.label == "person"]
    derived = []
    for face in found:
        if face.label != "face" or face.score < threshold:
            continue
        cx, cy = face.x + face.w / 2, face.y + face.h / 2
        if any(p.x <= cx <= p.x + p.w and p.y <= cy <= p.y + p.h for p in people):
            continue
        half = BODY_WIDTH_FACES * face.w / 2
        x1, x2 = max(0, round(cx - half)), min(width, round(cx + half))
        y1 = max(0, round(face.y - ABOVE_FACE_FRACTION * face.h))
        y2 = min(height, round(face.y + BODY_HEIGHT_FACES * face.h))
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        derived.append(
            Detection(
                label="person",
                score=face.score,
                x=x1,
                y=y1,
                w=x2 - x1,
                h=y2 - y1,
                time_ms=face.time_ms,
                model=DERIVED_MODEL,
            )
        )
    derived.sort(key=lambda d: -d.score)
    return derived


def derives_people(config: AnalysisConfig) -> bool:
    """Whether analysis under `config` infers people from faces: `people_from_faces` is on and
    a "faces" detector and a detector of people ("people" or "objects") run."""
    kinds = {d.kind for d in config.detectors}
    return config.people_from_faces and "faces" in kinds and bool(kinds & {"people", "objects"})


def kept_with_derived(
    found: list[Detection], config: AnalysisConfig, width: int, height: int
) -> list[Detection]:
    """One frame's boxes that pass `config`'s filters, plus the people inferred from the faces
    among them that pass the person filters too (when `derives_people(config)`)."""
    kept = filter_detections(found, config, width, height)
    if not derives_people(config):
        return kept
    derived = people_from_faces(kept, width, height, config)
    return kept + filter_detections(derived, config, width, height) if derived else kept
