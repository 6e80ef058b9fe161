"""Fixed ports per work directory: a stack restarted on the same work dir gets the same
addresses, and two work dirs (two checkouts, the test suites' stacks) never share one.

Each work dir owns a block of `BLOCK` ports below the kernel's ephemeral range (so no port the
kernel hands out for `bind(0)` or an outgoing connection lands in a block). The block is the one
recorded for the work dir in a machine-wide registry (`$TMPDIR/media-pipeline-stack-ports.json`,
under a file lock), else the first block, starting from one picked by a hash of the work dir's
path, that no other work dir holds and whose ports are all free now. `STACK_PORT_BASE` pins the
base instead. Entries of work dirs that no longer exist are dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from emulators._proc import StackError

BLOCK = 32
FIRST_PORT = 20000
LAST_PORT = 32000  # exclusive; Linux's default ephemeral range starts at 32768
REGISTRY_NAME = "media-pipeline-stack-ports.json"
OFFSETS = {
    "postgres": 0,
    "pubsub": 1,
    "storage": 2,
    "firestore": 3,
    "gateway": 4,
    "streams": 5,
    "web": 6,
}
FUNCTIONS_OFFSET = 8
"""Functions take `base + 8 + i` for the i-th function of topology.json (up to 24 of them)."""


@dataclass(frozen=True)
class PortPlan:
    """The ports of one work dir's stack.

    Attributes:
        base: the first port of its block.
    """

    base: int

    def of(self, service: str) -> int:
        """The port of a service named in `OFFSETS`."""
        return self.base + OFFSETS[service]

    def function(self, index: int) -> int:
        """The port of the `index`-th function of topology.json.

        Raises:
            StackError: more functions than the block holds.
        """
        port = self.base + FUNCTIONS_OFFSET + index
        if port >= self.base + BLOCK:
            raise StackError(f"a port block holds {BLOCK - FUNCTIONS_OFFSET} functions at most")
        return port

    def all_ports(self) -> range:
        """Every port of the block."""
        return range(self.base, self.base + BLOCK)


def port_free(port: int) -> bool:
    """Whether 127.0.0.1:`port` can be bound now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _registry_path() -> Path:
    return Path(tempfile.gettempdir()) / REGISTRY_NAME


@contextlib.contextmanager
def _locked_registry(path: Path) -> Iterator[dict[str, int]]:
    lock_path = path.with_suffix(".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            entries = json.loads(path.read_text())
        except (OSError, ValueError):
            entries = {}
        if not isinstance(entries, dict):
            entries = {}
        clean = {k: v for k, v in entries.items() if isinstance(v, int) and Path(k).exists()}
        yield clean
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(clean, indent=1, sort_keys=True))
        partial.replace(path)


def plan_for(
    workdir: Path, env: Mapping[str, str] | None = None, registry: Path | None = None
) -> PortPlan:
    """The port block of `workdir` (see the module docstring).

    Args:
        workdir: the stack's work dir (it must exist: the registry forgets missing ones).
        env: where `STACK_PORT_BASE` is read (default `os.environ`).
        registry: the registry file (tests use their own).

    Raises:
        StackError: `STACK_PORT_BASE` is not a port, or no block is free.
    """
    env = os.environ if env is None else env
    if pinned := env.get("STACK_PORT_BASE"):
        if not pinned.isdigit() or not 1024 <= int(pinned) <= 65535 - BLOCK:
            raise StackError(f"STACK_PORT_BASE={pinned!r} is not a port between 1024 and 65503")
        return PortPlan(int(pinned))
    key = str(workdir.resolve())
    blocks = (LAST_PORT - FIRST_PORT) // BLOCK
    with _locked_registry(registry or _registry_path()) as entries:
        if key in entries:
            return PortPlan(entries[key])
        taken = set(entries.values())
        start = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % blocks
        for step in range(blocks):
            base = FIRST_PORT + ((start + step) % blocks) * BLOCK
            if base in taken or not all(port_free(p) for p in range(base, base + BLOCK)):
                continue
            entries[key] = base
            return PortPlan(base)
    raise StackError(f"no free block of {BLOCK} ports between {FIRST_PORT} and {LAST_PORT}")


def require_free(port: int, service: str) -> None:
    """Fail clearly when a planned port is taken by something else.

    Raises:
        StackError: the port is in use.
    """
    if not port_free(port):
        raise StackError(
            f"port {port} ({service}) of this work dir's block is in use by another program: "
            "stop it, or pin another block with STACK_PORT_BASE"
        )
