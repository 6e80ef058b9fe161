"""Ctrl-C ends `mediactl` with one line and exit status 130, never a traceback, whether it lands
while the CLI starts (importing its modules) or while it waits for the API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def stalled_api() -> Iterator[tuple[str, threading.Event]]:
    """An API that accepts requests and never answers; the event is set at the first one."""
    asked = threading.Event()
    release = threading.Event()

    class Stall(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.set()
            release.wait(30)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stall)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        release.set()
        server.shutdown()
        server.server_close()


# What a terminal gives a program (Ctrl-C raises KeyboardInterrupt), even where this test runs
# with SIGINT ignored.
PROLOGUE = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from cli.entry import main; main()"
)


def _mediactl(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CREATE_MEDIA_URL": url,
        "LIST_MEDIA_URL": url,
        "MEDIA_TOKEN": "not-checked",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-c", PROLOGUE, "list"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_ctrl_c_while_waiting_for_the_api_ends_quietly(
    stalled_api: tuple[str, threading.Event],
) -> None:
    url, asked = stalled_api
    child = _mediactl(url)
    assert asked.wait(60), "mediactl never called the API"
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode()
    assert child.returncode == 130


def test_ctrl_c_while_the_cli_is_still_importing_ends_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C landing while `cli.mediactl` and what it imports load (half a second or more)."""
    import types

    from cli.entry import main

    class Loading(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "cli.mediactl", Loading("cli.mediactl"))
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 130
    assert capsys.readouterr().err == "\ninterrupted\n"
