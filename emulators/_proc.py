"""Process, port and readiness helpers shared by the emulator modules."""

from __future__ import annotations

import contextlib
import json
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


def _stat(pid: int) -> tuple[int, int] | None:
    """(process group id, start time in clock ticks since boot) of a live process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[2]), int(fields[19])
    except (IndexError, ValueError):
        return None


def start_ticks(pid: int) -> int | None:
    """When a live process started (clock ticks since boot), or None when it is gone."""
    found = _stat(pid)
    return found[1] if found else None


def group_members(pgid: int, started_from: int = 0) -> dict[int, int]:
    """Processes of process group `pgid` started at or after `started_from` (clock ticks since
    boot): pid -> start time. Read from /proc (Linux)."""
    members: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        found = _stat(int(entry.name))
        if found is not None and found[0] == pgid and found[1] >= started_from:
            members[int(entry.name)] = found[1]
    return members


def signal_members(pgid: int, members: Mapping[int, int], signum: int) -> None:
    """Send `signum` to each of `members` (pid -> start time) still in group `pgid` with the same
    start time, so a pid the kernel gave to another process since is never hit."""
    for pid, started in members.items():
        if _stat(pid) == (pgid, started):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


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
        start_ticks: The leader's start time (clock ticks since boot): members of its group
            started before it are not ours.
    """

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    signal_group: bool = True
    start_ticks: int = 0
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        """The process id (and process group id) of the started process."""
        return self.popen.pid

    def running(self) -> bool:
        """Whether the started process has not exited yet (reaps it when it has)."""
        return self.popen.poll() is None

    def group(self) -> dict[int, int]:
        """The processes of its group now (the leader and whatever it started): pid -> start."""
        return group_members(self.pid, self.start_ticks)

    def kill_group(self, signum: int = signal.SIGKILL) -> None:
        """Signal every process of its group, leader or not, alive or orphaned."""
        signal_members(self.pid, self.group(), signum)

    def stop(self, timeout_seconds: float = 10.0) -> None:
        """Stop the process and everything of its group: `stop_signal`, then SIGKILL to what is
        left after `timeout_seconds` (children orphaned by a leader that died included).

        Only processes of its own group that started after it are signalled, each checked by
        pid and start time, so a recycled pid is never hit.
        """
        if self._stopped:
            return
        self._stopped = True
        if self.running():
            if self.signal_group:
                self.kill_group(self.stop_signal)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, self.stop_signal)
            try:
                self.popen.wait(timeout=timeout_seconds)
            except subprocess.TimeoutExpired:
                self.kill_group(signal.SIGKILL)
                self.popen.wait(timeout=5)
        left = self.group()
        if left:
            signal_members(self.pid, left, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while self.group() and time.monotonic() < deadline:
                time.sleep(0.05)


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
    """Thread-safe list of the processes a stack started, stopped in reverse start order.

    With `pid_file`, the list is also kept on disk (name, pid, start time), so a stack started
    again on the same work dir after its process was killed outright can stop what the earlier one
    left running (`stop_leftovers`).
    """

    def __init__(self, pid_file: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._procs: list[ManagedProcess] = []
        self._pid_file = pid_file

    def _save(self) -> None:
        if self._pid_file is None:
            return
        rows = [{"name": p.name, "pid": p.pid, "start_ticks": p.start_ticks} for p in self._procs]
        self._pid_file.write_text(json.dumps(rows))

    def add(self, proc: ManagedProcess) -> ManagedProcess:
        """Record `proc` and return it."""
        with self._lock:
            self._procs.append(proc)
            self._save()
        return proc

    def remove(self, proc: ManagedProcess) -> None:
        """Forget `proc` (after it was stopped on purpose)."""
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)
                self._save()

    def stop_all(self) -> None:
        """Stop every recorded process, newest first."""
        with self._lock:
            procs = list(reversed(self._procs))
            self._procs.clear()
        for proc in procs:
            proc.stop()
        if self._pid_file is not None:
            self._pid_file.unlink(missing_ok=True)


def stop_leftovers(pid_file: Path) -> list[str]:
    """Kill the process groups an earlier stack of this work dir recorded and left running
    (its own process was killed outright): only groups whose leader, or members started after
    it, are still there with the recorded start time.

    Returns:
        The names of the services that were still running.
    """
    try:
        rows = json.loads(pid_file.read_text())
    except (OSError, ValueError):
        return []
    stopped = []
    for row in rows if isinstance(rows, list) else []:
        try:
            pid, started, name = int(row["pid"]), int(row["start_ticks"]), str(row["name"])
        except (KeyError, TypeError, ValueError):
            continue
        members = group_members(pid, started) if started else {}
        if members:
            signal_members(pid, members, signal.SIGKILL)
            stopped.append(name)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        group_members(int(r["pid"]), int(r["start_ticks"])) for r in rows if r.get("start_ticks")
    ):
        time.sleep(0.05)
    pid_file.unlink(missing_ok=True)
    return stopped
