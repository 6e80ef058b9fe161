"""Process, port and readiness helpers shared by the emulator modules."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOG_TAIL_LINES = 25


class StackError(RuntimeError):
    """A local-stack service could not be prepared, started or checked."""


class WorkdirBusyError(StackError):
    """Another local stack holds the work directory's lock."""


def as_user(argv: Sequence[str], user: str | None) -> list[str]:
    """`argv` run as `user` (uid, gid and no supplementary groups) through util-linux `setpriv`.

    `subprocess.Popen(user=...)` would have to fork() instead of vfork(), and a fork while gRPC
    threads are busy (the router's streaming pulls) runs gRPC's at-fork handlers in the child,
    which can crash it before exec. `setpriv` switches user after a plain vfork + exec.

    Args:
        argv: Program and arguments.
        user: OS user name, or None to run as the current user.

    Returns:
        The command line to run.
    """
    if user is None:
        return list(argv)
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *argv]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, then release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last `lines` lines of a log file ("" if it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A child process the stack started, in its own process group, logging to `log_path`.

    Attributes:
        name: Service name used in messages and the startup table.
        popen: The started process; its pid is the process group id.
        log_path: File receiving the process's stdout and stderr.
        stop_signal: Signal asking the process to shut down (SIGINT for Postgres' fast shutdown).
        signal_group: Send `stop_signal` to the whole group (True) or to the leader only (False,
            for servers such as Postgres that stop their own children).
    """

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    signal_group: bool = True
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        """The process id (and process group id) of the started process."""
        return self.popen.pid

    def running(self) -> bool:
        """Whether the started process has not exited yet."""
        return self.popen.poll() is None

    def stop(self, timeout_seconds: float = 10.0) -> None:
        """Stop the process: `stop_signal`, then SIGKILL to its group after `timeout_seconds`.

        Only this process and its own process group are signalled, and only while the leader has
        not been reaped, so a recycled pid is never hit.
        """
        if self._stopped:
            return
        self._stopped = True
        if not self.running():
            return
        with contextlib.suppress(ProcessLookupError):
            if self.signal_group:
                os.killpg(self.pid, self.stop_signal)
            else:
                os.kill(self.pid, self.stop_signal)
        try:
            self.popen.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
    signal_group: bool = True,
) -> ManagedProcess:
    """Start `argv` in a new session (own process group) with output appended to `log_path`.

    Args:
        name: Service name for messages.
        argv: Program and arguments.
        log_path: Log file; created with its parent directory.
        env: Complete environment of the child.
        cwd: Working directory.
        user: Run as this OS user (e.g. "postgres"), with that user's primary group (see
            `as_user`).
        stop_signal: See `ManagedProcess`.
        signal_group: See `ManagedProcess`.

    Returns:
        The managed process.

    Raises:
        StackError: The program could not be executed.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {' '.join(argv)}\n".encode())
        log.flush()
        try:
            popen = subprocess.Popen(
                as_user(argv, user),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"{name}: cannot run {argv[0]}: {exc}") from exc
    return ManagedProcess(name, popen, log_path, stop_signal, signal_group)


def wait_until(
    proc: ManagedProcess,
    check: Callable[[], bool],
    *,
    timeout_seconds: float,
    what: str,
    interval_seconds: float = 0.1,
) -> None:
    """Poll `check()` until it returns True; fail early if the process exits.

    Exceptions raised by `check` count as "not ready yet"; the last one is reported on timeout.

    Raises:
        StackError: The process exited or the deadline passed; names the log file and quotes its
            tail.
    """
    deadline = time.monotonic() + timeout_seconds
    last_error: BaseException | None = None
    while True:
        if not proc.running():
            raise StackError(
                f"{proc.name} exited with code {proc.popen.returncode} before {what}; "
                f"log {proc.log_path}:\n{log_tail(proc.log_path)}"
            )
        try:
            if check():
                return
        except Exception as exc:  # any failure of a probe means "not ready yet"
            last_error = exc
        if time.monotonic() >= deadline:
            reason = f" (last error: {last_error!r})" if last_error else ""
            raise StackError(
                f"{proc.name} not ready within {timeout_seconds:.0f} s: {what}{reason}; "
                f"log {proc.log_path}:\n{log_tail(proc.log_path)}"
            )
        time.sleep(interval_seconds)


def tcp_open(host: str, port: int, timeout_seconds: float = 0.5) -> bool:
    """Whether a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout_seconds):
            return True
    except OSError:
        return False


def log_line_value(path: Path, prefix: str) -> str | None:
    """Return the rest of the first line in `path` that starts with `prefix`, if any."""
    try:
        with path.open(errors="replace") as fh:
            for line in fh:
                if line.startswith(prefix):
                    return line[len(prefix) :].strip()
    except OSError:
        return None
    return None


class ProcessRegistry:
    """Thread-safe list of the processes a stack started, stopped in reverse start order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: list[ManagedProcess] = []

    def add(self, proc: ManagedProcess) -> ManagedProcess:
        """Record `proc` and return it."""
        with self._lock:
            self._procs.append(proc)
        return proc

    def remove(self, proc: ManagedProcess) -> None:
        """Forget `proc` (after it was stopped on purpose)."""
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)

    def stop_all(self) -> None:
        """Stop every recorded process, newest first."""
        with self._lock:
            procs = list(reversed(self._procs))
            self._procs.clear()
        for proc in procs:
            proc.stop()
