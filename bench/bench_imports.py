"""Cold-start import time of each function entry module, against baselines in the same run.

    python bench/bench_imports.py [--runs 7]

Each measurement is a fresh interpreter that loads `functions/<name>/main.py` the way
functions-framework does (by file path) and reports the wall time of that import alone. Baselines:
`import functions_framework` (the framework's own cost, paid by every function) and an empty import.
Prints the best of N in ms, the part attributable to our code (module minus framework), and the ratio
module / framework. Goals: <= 150 ms for the HTTP functions, <= 400 ms for process_media.

Heavy libraries (pydantic-settings, PyJWT, SQLAlchemy, google-cloud clients, OpenCV, PyAV) load on
first use, so the import is not the whole cold start: the `first use` column adds what the first
request pays before any network call (settings, JWT, SQLAlchemy ORM; for process_media also OpenCV
and PyAV).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS_MS = {"create_media": 150, "list_media": 150, "finalize_upload": 150, "process_media": 400}

_PROBE = """
import sys, time, importlib.util
sys.path.insert(0, {root!r})
start = time.perf_counter()
{body}
print((time.perf_counter() - start) * 1000)
"""

_LOAD_MAIN = (
    "spec = importlib.util.spec_from_file_location('main', {path!r})\n"
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)"
)


_FIRST_USE = (
    "\nfrom common.core.settings import get_settings; get_settings()\n"
    "import jwt, sqlalchemy.orm, common.db.models"
)
_FIRST_USE_MEDIA = _FIRST_USE + "\nimport cv2, av, PIL.Image"


def measure(body: str, runs: int) -> float:
    """Best wall time (ms) of executing `body` in `runs` fresh interpreters."""
    samples = []
    for _ in range(runs):
        code = _PROBE.format(root=str(ROOT), body=body)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return min(samples)


PROCESSING_BUDGET_MS = 30.0
"""`import common.processing` (the library's entry; the heavy modules load on first use). This was
a wall-clock unit test; tests now assert *what* it imports (tests/unit/processing/test_import_cost.py)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    empty = measure("pass", args.runs)
    processing = measure("import common.processing", args.runs)
    verdict = "ok" if processing <= PROCESSING_BUDGET_MS else "OVER"
    print(
        f"import common.processing {processing:7.1f} ms (empty {empty:.1f} ms, "
        f"budget {PROCESSING_BUDGET_MS:.0f} ms) {verdict}"
    )
    framework = measure("import functions_framework", args.runs)
    print(f"baseline: import functions_framework  {framework:7.1f} ms")
    header = f"{'function':<18}{'import ms':>10}{'ours ms':>9}{'x framework':>13}{'goal ms':>9}"
    print(f"{header}  verdict  {'first use ms':>12}")
    for name, goal in GOALS_MS.items():
        load = _LOAD_MAIN.format(path=str(ROOT / "functions" / name / "main.py"))
        total = measure(load, args.runs)
        extra = _FIRST_USE_MEDIA if name == "process_media" else _FIRST_USE
        first_use = measure(load + extra, args.runs)
        verdict = "ok  " if total <= goal else "OVER"
        print(
            f"{name:<18}{total:>10.1f}{total - framework:>9.1f}{total / framework:>12.2f}x"
            f"{goal:>9}  {verdict}     {first_use:>12.1f}"
        )


if __name__ == "__main__":
    main()
