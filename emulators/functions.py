"""Cloud Functions for the local stack: one `functions-framework` server per function of
`topology.json`, started the way users start them."""

from __future__ import annotations

import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from emulators._proc import ManagedProcess, StackError, spawn, tcp_open, wait_until
from emulators.topology import FunctionSpec

READY_TIMEOUT_SECONDS = 30.0


def url_env_key(function_name: str) -> str:
    """Environment key holding a function's base URL, e.g. `CREATE_MEDIA_URL`."""
    return f"{function_name.upper()}_URL"


def functions_framework_executable() -> str:
    """The `functions-framework` script next to the running interpreter (the venv's), else PATH.

    Raises:
        StackError: functions-framework is not installed.
    """
    beside = Path(sys.executable).parent / "functions-framework"
    if beside.is_file():
        return str(beside)
    if found := shutil.which("functions-framework"):
        return found
    raise StackError("functions-framework not found: pip install -e . in the venv")


def source_path(repo_root: Path, spec: FunctionSpec) -> Path:
    """`functions/<name>/main.py` of a function."""
    return repo_root / "functions" / spec.name / "main.py"


def check_sources(repo_root: Path, specs: tuple[FunctionSpec, ...]) -> None:
    """Fail fast, before anything starts, if a function's main.py is missing.

    Raises:
        StackError: Lists every missing file.
    """
    missing = [
        str(source_path(repo_root, s)) for s in specs if not source_path(repo_root, s).is_file()
    ]
    if missing:
        raise StackError(
            f"function source missing: {', '.join(missing)}; start the stack without functions "
            "(--no-functions / LocalStack(with_functions=False))"
        )


def spawn_function(
    spec: FunctionSpec, *, port: int, repo_root: Path, workdir: Path, env: Mapping[str, str]
) -> ManagedProcess:
    """Start `functions-framework` for one function on 127.0.0.1:`port` (cwd: repo root).

    The log is `workdir/logs/function-<name>.log`. Call `wait_function_ready` next.
    """
    argv = [
        functions_framework_executable(),
        "--target",
        spec.entry_point,
        "--source",
        str(source_path(repo_root, spec)),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--signature-type",
        spec.signature_type,
    ]
    log_path = workdir / "logs" / f"function-{spec.name}.log"
    return spawn(f"function {spec.name}", argv, log_path=log_path, env=env, cwd=repo_root)


def _answers_http(port: int) -> bool:
    # /robots.txt is answered (404) by functions-framework itself, without invoking the function,
    # once the worker has imported the source.
    if not tcp_open("127.0.0.1", port):
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=3):
            return True
    except urllib.error.HTTPError:
        return True


def wait_function_ready(proc: ManagedProcess, port: int) -> None:
    """Wait until the function's server answers HTTP.

    Raises:
        StackError: It exited (e.g. an import error in main.py) or timed out; names the log.
    """
    wait_until(
        proc,
        lambda: _answers_http(port),
        timeout_seconds=READY_TIMEOUT_SECONDS,
        what="GET /robots.txt answered",
    )
