"""Importing common.processing must not pull in OpenCV, PyAV, Pillow, numpy or onnxruntime.

What an import loads is asserted here; how long it takes is measured by `bench/bench_imports.py`
(a wall-clock budget fails on a loaded machine, so it is not a test).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("cv2", "av", "PIL", "numpy", "onnxruntime", "onnx", "pydantic")

_PROBE = """
import json, sys
import common.processing
after_package = sorted(m for m in {heavy!r} if m in sys.modules)
from common.processing import analyze_image, analyze_video, detect, Detection, Track
after_api = sorted(m for m in {heavy!r} if m in sys.modules)
import common.processing.image, common.processing.video  # submodules must not shadow the API
from common.processing import detect as detect_again
functions = [type(f).__name__ for f in (analyze_image, analyze_video, detect, detect_again)]
from common.processing import AnalysisConfig
after_config = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"package": after_package, "api": after_api, "f": functions,
                  "config": after_config}}))
"""


def test_import_loads_no_heavy_module() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY)],
        check=True,
        capture_output=True,
        text=True,
    )
    run = json.loads(out.stdout)

    assert run["package"] == [], "heavy modules imported by `import common.processing`"
    # The analysis functions need pydantic for their config, never the media libraries.
    assert [m for m in run["api"] if m != "pydantic"] == [], "heavy modules with the functions"
    assert run["f"] == ["function"] * 4
    assert run["config"] == ["pydantic"], "the config object needs pydantic and nothing heavier"
