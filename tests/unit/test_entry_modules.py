"""Entry modules must not import heavy libraries: they load on first use (cold start)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "google.cloud.storage", "google.cloud.firestore", "google.cloud.pubsub_v1",
         "cv2", "av", "PIL", "numpy", "jwt", "pydantic", "pydantic_settings",
         "onnxruntime", "boto3")  # fmt: skip

PROBE = """
import importlib.util, json, sys
sys.path.insert(0, {root!r})
spec = importlib.util.spec_from_file_location("main", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize(
    "function",
    [
        "create_media",
        "list_media",
        "manage_media",
        "finalize_upload",
        "process_media",
        "housekeeping",
    ],
)
def test_entry_module_defers_heavy_imports(function: str) -> None:
    path = ROOT / "functions" / function / "main.py"
    code = PROBE.format(root=str(ROOT), path=str(path), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
