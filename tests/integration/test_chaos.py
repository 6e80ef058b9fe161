"""The local stack survives what it is for: uploads keep flowing while a function, the push
router, the storage emulator and Postgres are each killed once (SIGKILL, by pid), and every
media ends terminal with nothing lost; and `kill -INT` of a stack whose parts died leaves
nothing behind.

The stack of this module is its own (work dir `.stack/pytest-chaos`), with the pipeline's own
recovery paths made quick: push backoff x0.3 (3 s .. 180 s; a restarted function is back before
the fifth attempt would dead-letter), reconcile ticks every 6 s re-driving rows untouched for
20 s, verification and processing claims of 20 s (so the reconciler's redrive is not refused by
a claim its crashed holder will never release), upload URLs of 180 s (a declaration whose
verification died with Postgres is verified by the reconciler once its URL expired).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import requests

from cli.client import MediaApi, describe_file
from common.api.auth import mint_token
from emulators._proc import group_members, start_ticks, stop_leftovers
from emulators.ports import port_free
from emulators.stack import LocalStack
from tests.integration.conftest import ROOT, clear_cached_clients, start_stack
from tests.integration.support import db_rows, declaration, wait_for

pytestmark = pytest.mark.integration

UPLOADS = 60
VICTIMS = ("function process_media", "push router", "storage (fake-gcs-server)", "postgres")
TERMINAL = ("processed", "rejected", "failed")
STEP_SECONDS = 180.0
_T = TypeVar("_T")


@pytest.fixture(scope="module")
def chaos_stack() -> Iterator[LocalStack]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
    }
    stack = start_stack(
        ROOT / ".stack" / "pytest-chaos",
        storage_backend="gcs",
        base_env=base,
        extra_env={
            "ROUTER_BACKOFF_SCALE": "0.3",
            "SCHEDULE_SCALE": "0.02",
            "STUCK_AFTER_SECONDS": "20",
            "PROCESS_CLAIM_TTL_SECONDS": "20",
            "VERIFY_CLAIM_TTL_SECONDS": "20",
            # a verification cut off by Postgres' death leaves its row `pending_upload` with the
            # bytes stored: the reconciler verifies it once the upload URL has expired
            "UPLOAD_URL_TTL_SECONDS": "180",
            "PENDING_UPLOAD_GRACE_SECONDS": "0",
        },
    )
    saved = dict(os.environ)
    try:
        os.environ.update(stack.env)
        clear_cached_clients()
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        clear_cached_clients()


def persist(step: Callable[[], _T], what: str) -> _T:
    """Do `step` again while the stack answers 5xx or not at all, as a camera would."""
    deadline = time.monotonic() + STEP_SECONDS
    while True:
        try:
            return step()
        except (requests.RequestException, RetryableAnswer) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{what}: still failing after {STEP_SECONDS} s: {exc}"
                ) from exc
            time.sleep(0.5)


class RetryableAnswer(Exception):
    """A 5xx (or 429) answer: the camera tries again."""


def answered(response: requests.Response, *ok: int) -> requests.Response:
    if response.status_code >= 500 or response.status_code == 429:
        raise RetryableAnswer(f"{response.status_code} {response.text[:200]}")
    assert response.status_code in ok, response.text
    return response


def picture(index: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (96, 64), (index * 4 % 256, 80, 255 - index * 4 % 256))
    image.putpixel((index, index % 64), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def upload_like_a_camera(api: MediaApi, path: Path, message_id: str, at: datetime) -> str:
    facts = describe_file(path)
    body = declaration(facts, message_id=message_id, captured_at=at.isoformat())
    created = persist(
        lambda: answered(
            api.session.post(f"{api.base_url}/v1/media", json=body, timeout=30), 200, 201
        ).json(),
        f"declare {message_id}",
    )
    if created["status"] == "pending_upload":
        upload = created["upload"]

        def put() -> None:
            answered(
                requests.put(
                    upload["url"], data=path.read_bytes(), headers=upload["headers"], timeout=30
                ),
                200,
                201,
            )

        persist(put, f"PUT {message_id}")
        persist(
            lambda: answered(
                api.session.post(f"{api.base_url}/v1/media/{created['id']}/complete", timeout=60),
                200,
                202,
                409,
            ),
            f"complete {message_id}",
        )
    media_id: str = created["id"]
    return media_id


def test_every_upload_ends_terminal_while_parts_of_the_stack_are_killed(
    chaos_stack: LocalStack, tmp_path: Path
) -> None:
    device = f"chaos-{uuid.uuid4().hex[:8]}"
    api = MediaApi(mint_token(device, "device"))
    start = datetime.now(UTC) - timedelta(hours=1)
    files = []
    for index in range(UPLOADS):
        path = tmp_path / f"frame-{index:02d}.png"
        path.write_bytes(picture(index))
        files.append(path)
    done = threading.Semaphore(0)
    killed: dict[str, int] = {}

    def killer() -> None:
        # one victim after every tenth upload, while the others are in flight
        for victim in VICTIMS:
            for _ in range(UPLOADS // (len(VICTIMS) + 2)):
                done.acquire()
            pid = chaos_stack.pid_of(victim)
            os.kill(pid, signal.SIGKILL)
            killed[victim] = pid

    def one(index: int) -> str:
        media_id = upload_like_a_camera(
            api, files[index], f"chaos-{index}", start + timedelta(seconds=index)
        )
        done.release()
        return media_id

    chaos = threading.Thread(target=killer, daemon=True)
    chaos.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        media_ids = list(pool.map(one, range(UPLOADS)))
    chaos.join(timeout=60)
    assert sorted(killed) == sorted(VICTIMS)

    # THEN every media ends terminal, each capture exactly once, and all of them processed
    def settled() -> bool:
        rows = db_rows("select status from media_objects where device_id = :d", d=device)
        return len(rows) == UPLOADS and all(r["status"] in TERMINAL for r in rows)

    wait_for(lambda: persist(settled, "read the media"), 600, "every media terminal")
    rows = db_rows(
        "select id, message_id, status, status_reason_code from media_objects where device_id = :d",
        d=device,
    )
    assert sorted(r["id"] for r in rows) == sorted(set(media_ids))
    assert sorted(r["message_id"] for r in rows) == sorted(f"chaos-{i}" for i in range(UPLOADS))
    assert [r for r in rows if r["status"] != "processed"] == []
    # AND each victim was restarted once, on its own address, by the stack itself
    restarts = {v: chaos_stack.supervisor.component(v).restarts for v in VICTIMS}
    assert restarts == dict.fromkeys(VICTIMS, 1), (
        chaos_stack.workdir / "logs" / "supervisor.log"
    ).read_text()
    for victim in VICTIMS:
        assert chaos_stack.pid_of(victim) != killed[victim]


def test_kill_int_stops_everything_whatever_died(tmp_path: Path) -> None:
    # GIVEN a stack started from the command line, as people start it
    workdir = ROOT / ".stack" / f"pytest-sigint-{os.getpid()}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST")
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "emulators", "up", "--workdir", str(workdir), "--no-web"],
        cwd=ROOT,
        env={**env, "SCHEDULE_SCALE": "off"},
        stdout=(tmp_path / "up.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        services = workdir / "services.json"
        wait_for(lambda: services.exists() or up.poll() is not None, 300, "the stack up")
        assert up.poll() is None, (tmp_path / "up.log").read_text()
        rows = json.loads(services.read_text())
        started = {r["name"]: r["pid"] for r in rows if r["pid"] and r["pid"] != up.pid}
        ticks = {pid: start_ticks(pid) or 0 for pid in started.values()}
        ports = json.loads((workdir / "env.json").read_text())
        # WHEN Postgres and the router die (Postgres' backends live on as orphans) and, right
        # after, the stack gets Ctrl-C
        os.kill(started["postgres"], signal.SIGKILL)
        os.kill(started["push router"], signal.SIGKILL)
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0, (tmp_path / "up.log").read_text()
        # THEN nothing it started runs any more, its ports are free, its cluster is gone
        left = {pid: group_members(pid, ticks[pid]) for pid in ticks if ticks[pid]}
        assert {pid: members for pid, members in left.items() if members} == {}
        assert not (workdir / "postgres").exists()
        assert not (workdir / "env.json").exists()
        gateway_port = int(ports["MEDIA_API_URL"].rsplit(":", 1)[1])
        assert port_free(gateway_port)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        stop_leftovers(workdir / "pids.json")  # only if the test failed half-way
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_restarted_stack_keeps_its_addresses(chaos_stack: LocalStack) -> None:
    from emulators.ports import plan_for

    # the work dir's block is recorded: a restart (here: asking again) gets the same ports
    again = plan_for(chaos_stack.workdir)
    assert again == chaos_stack.ports
    assert chaos_stack.env["MEDIA_API_URL"] == f"http://127.0.0.1:{again.of('gateway')}"
    other = plan_for(ROOT / ".stack")
    assert other.base != again.base
