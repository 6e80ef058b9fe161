"""What a started stack reports: the services table and the private env files."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceInfo:
    """One running service, for the startup table.

    Attributes:
        name: Service name.
        address: host:port or URL clients use.
        pid: Process id, or None for a service given through the environment.
        log_path: Log file, or None for an external service.
    """

    name: str
    address: str
    pid: int | None
    log_path: Path | None


def services_table(services: Sequence[ServiceInfo]) -> str:
    """Human-readable table of services, addresses, pids and log files."""
    rows = [("SERVICE", "ADDRESS", "PID", "LOG")]
    rows += [(s.name, s.address, str(s.pid or "-"), str(s.log_path or "-")) for s in services]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row))
        for row in rows
    )


def write_env_files(workdir: Path, env: Mapping[str, str]) -> None:
    """Write `env.json` and `env.sh` (export lines) into `workdir`, mode 0600."""
    lines = [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items())]
    _write_private(workdir / "env.json", json.dumps(dict(env), indent=2, sort_keys=True))
    _write_private(workdir / "env.sh", "\n".join(lines))


def _write_private(path: Path, text: str) -> None:
    """Write `text` plus a newline to `path` with mode 0600 (it holds JWT_SECRET)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
