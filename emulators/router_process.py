"""The push router in a process of its own: `python -m emulators.router_process CONFIG`.

The stack writes CONFIG (`<workdir>/router.json`) and supervises this process like the
emulators: if it dies the stack starts it again with the same configuration, and the messages it
held come back from the emulator when their lease runs out (the router leases for
`pull_loop.STREAM_LEASE_SECONDS`, not the push ack deadline). Its log lines go to stdout (the
stack's `logs/router.log`).

CONFIG: `{"topology": path, "pubsub_host": "127.0.0.1:P", "project": id, "backoff_scale": x,
"routes": [{"subscription": id, "endpoint": url}], "s3_events": null | {"subscription": id,
"endpoint": url, "moto_url": url, "queue_name": name, "region": name}}`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from emulators.pull_loop import PushRouter
from emulators.topology import SubscriptionSpec, load_topology

READY_LINE = "ROUTER_READY pid="


def build_router(config: dict[str, Any], log: logging.Logger) -> PushRouter:
    """The router CONFIG describes (not started yet).

    Raises:
        KeyError: a subscription of CONFIG is not in the topology.
    """
    topology = load_topology(Path(config["topology"]))
    specs: dict[str, SubscriptionSpec] = {s.name: s for s in topology.subscriptions}
    routes = [(specs[r["subscription"]], r["endpoint"]) for r in config["routes"]]
    router = PushRouter(
        config["pubsub_host"],
        config["project"],
        routes,
        backoff_scale=float(config["backoff_scale"]),
        log=log,
    )
    if (events := config.get("s3_events")) is not None:
        from emulators import s3
        from emulators.sqs_source import SqsBackend, SqsSource

        sqs = s3.client("sqs", events["moto_url"], events["region"])
        queue_url = sqs.get_queue_url(QueueName=events["queue_name"])["QueueUrl"]
        backend = SqsBackend(sqs, queue_url, router.pubsub_backend, log)
        source = SqsSource(sqs, queue_url, log=log)
        router.add_route(specs[events["subscription"]], events["endpoint"], source, backend)
    return router


def main(argv: list[str] | None = None) -> int:
    """Run the router until SIGINT or SIGTERM."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m emulators.router_process CONFIG.json", file=sys.stderr)
        return 2
    config = json.loads(Path(args[0]).read_text())
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s"
    )
    log = logging.getLogger("emulators.router")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    router = build_router(config, log)
    router.start()
    print(f"{READY_LINE}{os.getpid()}", flush=True)
    stop.wait()
    router.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
