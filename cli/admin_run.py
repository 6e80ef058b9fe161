"""`mediactl admin run reconcile|retention`: a housekeeping tick now.

Publishes the schedule's message (topology.json `schedules`: topic and attributes) to its topic,
as Cloud Scheduler does on the cron, so the housekeeping function runs that task now, through
the same push subscription. Locally the Pub/Sub emulator is `PUBSUB_EMULATOR_HOST`
(`source .stack/env.sh`); against a deployment, the operator's own credentials and `--prefix`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.admin_common import console

TOPOLOGY = Path(__file__).resolve().parents[1] / "topology.json"

run_app = typer.Typer(help="Run a housekeeping task now.", no_args_is_help=True)


class Task(StrEnum):
    """The housekeeping tasks (topology.json schedules)."""

    RECONCILE = "reconcile"
    RETENTION = "retention"


def publish_tick(task: Task, project: str, prefix: str = "") -> str:
    """Publish the schedule `task`'s message; its message id."""
    from google.cloud import pubsub_v1

    schedule = json.loads(TOPOLOGY.read_text())["schedules"][task.value]
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(project, f"{prefix}{schedule['topic']}")
    data = str(schedule.get("data", "")).encode()
    return str(publisher.publish(topic, data, **schedule["attributes"]).result(30))


@run_app.callback(invoke_without_command=True)
def run(
    task: Annotated[Task, typer.Argument(help="reconcile or retention")],
    project: Annotated[str | None, typer.Option(envvar="GOOGLE_CLOUD_PROJECT")] = None,
    prefix: Annotated[str, typer.Option(help="Name prefix of the topics.")] = "",
) -> None:
    """Trigger the `reconcile` or `retention` tick now (what its schedule does on the cron)."""
    message_id = publish_tick(task, project or "local-project", prefix)
    console.print(f"{task.value}: tick published (message {message_id})")
