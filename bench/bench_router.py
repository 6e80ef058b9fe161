"""Push-router latency per hop against the emulator's own publish -> pull, in the same run.

    python bench/bench_router.py [--messages 40] [--rounds 3] [--workdir .stack/bench-router]

Starts its own pstest (built once into the work dir's `bin/`), a push endpoint on 127.0.0.1 and
the stack's `PushRouter` on one push subscription, then, one message at a time, with a random pause
of 0-60 ms before each (so a polling loop is met at every phase):

- baseline: `Publish` to a topic, then unary `Pull(return_immediately)` on its pull subscription
  until the message is there: the least an emulator hop can cost (two RPCs, no waiting);
- direct POST: `HttpTransport.post` of a push envelope to the endpoint (what one push costs);
- router: `Publish` -> the endpoint receives the router's push (the `ms` the stack pays per hop).

Prints, for each, the median of each round's latencies as min / median over the rounds, and the
router's overhead (router - baseline) and ratio (router / baseline), also min / median over the
rounds. Goal: overhead <= 20 ms per hop. Never asserts.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulators.pubsub import clients, start_pstest
from emulators.pull_loop import PushRouter
from emulators.router import HttpTransport
from emulators.topology import SubscriptionSpec

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "bench-project"
MAX_PAUSE_SECONDS = 0.06
RECEIVE_TIMEOUT_SECONDS = 10.0


class Endpoint:
    """Push endpoint recording when each message id arrived (perf_counter seconds)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.cond = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.perf_counter()
                message_id = json.loads(body)["message"]["messageId"]
                with endpoint.cond:
                    endpoint.arrived.setdefault(message_id, now)
                    endpoint.cond.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, message_id: str) -> float:
        deadline = time.monotonic() + RECEIVE_TIMEOUT_SECONDS
        with self.cond:
            while message_id not in self.arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"message {message_id} never pushed")
                self.cond.wait(left)
            return self.arrived[message_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def emulator(workdir: Path) -> Iterator[str]:
    import os

    from emulators.ports import plan_for

    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    port = plan_for(workdir).of("pubsub")
    proc = start_pstest(workdir, dict(os.environ), PROJECT, port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.stop()


def make_topology(host: str) -> None:
    publisher, subscriber, close = clients(host)
    try:
        for name in ("hop", "base"):
            topic = f"projects/{PROJECT}/topics/{name}"
            publisher.create_topic(request={"name": topic})
            subscriber.create_subscription(
                request={
                    "name": f"projects/{PROJECT}/subscriptions/{name}",
                    "topic": topic,
                    "ack_deadline_seconds": 60,
                }
            )
    finally:
        close()


def measure_router(host: str, endpoint: Endpoint, count: int, rng: random.Random) -> list[float]:
    spec = SubscriptionSpec(name="hop", topic="hop", ack_deadline_seconds=60, push_function="x")
    router = PushRouter(host, PROJECT, [(spec, endpoint.url)])
    router.start()
    publisher, _, close = clients(host)
    latencies = []
    try:
        publish(publisher, "hop", b"warm-up")
        time.sleep(0.5)
        for index in range(count):
            time.sleep(rng.uniform(0, MAX_PAUSE_SECONDS))
            started = time.perf_counter()
            message_id = publish(publisher, "hop", f"m{index}".encode())
            latencies.append((endpoint.wait(message_id) - started) * 1000)
    finally:
        router.stop()
        close()
    return latencies


def measure_baseline(host: str, count: int, rng: random.Random) -> list[float]:
    from google.pubsub_v1.types import PullRequest

    publisher, subscriber, close = clients(host)
    path = f"projects/{PROJECT}/subscriptions/base"
    pull: Any = subscriber.transport.pull
    latencies = []
    try:
        for index in range(count):
            time.sleep(rng.uniform(0, MAX_PAUSE_SECONDS))
            started = time.perf_counter()
            message_id = publish(publisher, "base", f"b{index}".encode())
            while True:
                response = pull(
                    PullRequest(subscription=path, max_messages=1, return_immediately=True),
                    timeout=5,
                )
                got = [r for r in response.received_messages if r.message.message_id == message_id]
                if got:
                    break
            latencies.append((time.perf_counter() - started) * 1000)
            subscriber.acknowledge(request={"subscription": path, "ack_ids": [got[0].ack_id]})
    finally:
        close()
    return latencies


def measure_direct_post(endpoint: Endpoint, count: int) -> list[float]:
    transport = HttpTransport()
    latencies = []
    prefix = uuid.uuid4().hex
    for index in range(count):
        message_id = f"direct-{prefix}-{index}"
        body = {"message": {"data": "", "attributes": {}, "messageId": message_id}}
        started = time.perf_counter()
        transport.post(endpoint.url, body, 10.0)
        latencies.append((endpoint.wait(message_id) - started) * 1000)
    return latencies


def publish(publisher: Any, topic: str, data: bytes) -> str:
    response = publisher.publish(
        request={"topic": f"projects/{PROJECT}/topics/{topic}", "messages": [{"data": data}]},
        timeout=10,
    )
    return str(response.message_ids[0])


def summary(values: list[float]) -> str:
    return f"min {min(values):7.2f}  median {statistics.median(values):7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=40, help="messages per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".stack" / "bench-router")
    args = parser.parse_args()
    rng = random.Random(13)
    rows: dict[str, list[float]] = {"baseline": [], "direct": [], "router": [], "p95": []}
    overhead: list[float] = []
    ratio: list[float] = []
    endpoint = Endpoint()
    try:
        with emulator(args.workdir.resolve()) as host:
            make_topology(host)
            for _ in range(args.rounds):
                runs: dict[str, Callable[[], list[float]]] = {
                    "baseline": lambda: measure_baseline(host, args.messages, rng),
                    "direct": lambda: measure_direct_post(endpoint, args.messages),
                    "router": lambda: measure_router(host, endpoint, args.messages, rng),
                }
                medians = {}
                for name, run in runs.items():
                    values = run()
                    medians[name] = statistics.median(values)
                    rows[name].append(medians[name])
                    if name == "router":
                        rows["p95"].append(statistics.quantiles(values, n=20)[-1])
                overhead.append(medians["router"] - medians["baseline"])
                ratio.append(medians["router"] / medians["baseline"])
    finally:
        endpoint.close()
    print(
        f"latency per hop in ms, median of {args.messages} messages per round, {args.rounds} rounds:"
    )
    labels = {
        "baseline": "baseline: publish -> pull (same emulator)",
        "direct": "direct POST of a push envelope",
        "router": "router: publish -> push endpoint received",
        "p95": "router p95",
    }
    for name, label in labels.items():
        print(f"  {label:<44} {summary(rows[name])}")
    print(f"  {'router overhead (router - baseline)':<44} {summary(overhead)}  (goal <= 20 ms)")
    print(f"  {'ratio router / baseline':<44} {summary(ratio)}")


if __name__ == "__main__":
    main()
