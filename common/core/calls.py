"""A record of the cloud calls a function makes, to check them against its IAM grants.

With `SERVICE_CALLS_DIR` set (the local stack sets it), every storage, Pub/Sub and Firestore call
appends one JSON line `{"function", "service", "operation", "resource"}` to
`<dir>/<function>.jsonl`, the function being functions-framework's `FUNCTION_TARGET`.
`tests/integration/test_least_privilege.py` compares what each function did with what its
Terraform identity may do. Unset (in the cloud), `record` does nothing.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

_lock = threading.Lock()


def record(service: str, operation: str, resource: str) -> None:
    """Note one call, e.g. `record("storage", "create", "media-uploads")`."""
    directory = os.environ.get("SERVICE_CALLS_DIR")
    if not directory:
        return
    function = os.environ.get("FUNCTION_TARGET") or "unknown"
    line = json.dumps(
        {"function": function, "service": service, "operation": operation, "resource": resource}
    )
    path = Path(directory) / f"{function}.jsonl"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
