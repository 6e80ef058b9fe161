"""Run every benchmark in `bench/` in turn (`make bench`); each prints its own ratios (see
bench/README.md for what each measures and the recorded figures)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name}", flush=True)
        started = time.monotonic()
        failures += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
        print(f"=== {script.name}: {time.monotonic() - started:.0f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
