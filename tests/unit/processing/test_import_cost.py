"""Importing common.processing must not pull in OpenCV, PyAV, Pillow or numpy (cold start)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("cv2", "av", "PIL", "numpy", "onnxruntime")
BUDGET_MS = 30.0

_PROBE = """
import json, sys, time
start = time.perf_counter()
import common.processing
package_ms = (time.perf_counter() - start) * 1000
after_package = sorted(m for m in {heavy!r} if m in sys.modules)
from common.processing import analyze_image, analyze_video, detect, Detection
after_api = sorted(m for m in {heavy!r} if m in sys.modules)
import common.processing.image, common.processing.video  # submodules must not shadow the API
from common.processing import detect as detect_again
functions = [type(f).__name__ for f in (analyze_image, analyze_video, detect, detect_again)]
print(json.dumps({{"ms": package_ms, "package": after_package, "api": after_api, "f": functions}}))
"""


def _probe() -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_import_loads_no_heavy_module_and_stays_within_budget() -> None:
    runs = [_probe() for _ in range(3)]

    for run in runs:
        assert run["package"] == [], "heavy modules imported by `import common.processing`"
        assert run["api"] == [], "heavy modules imported with the public functions"
        assert run["f"] == ["function"] * 4
    fastest = min(float(run["ms"]) for run in runs)  # type: ignore[arg-type]
    assert fastest < BUDGET_MS, f"import common.processing took {fastest:.1f} ms"
