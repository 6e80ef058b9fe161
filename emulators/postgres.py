"""Postgres for the local stack: a private, throwaway cluster under the work directory (or the
server named by `DATABASE_URL`), plus `alembic upgrade head`."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from emulators._proc import (
    ManagedProcess,
    StackError,
    as_user,
    log_tail,
    spawn,
    wait_until,
)

PG_USER = "postgres"  # the OS user running the server (it refuses to run as root)
DB_NAME = "media"
READY_TIMEOUT_SECONDS = 30.0
MIGRATION_TIMEOUT_SECONDS = 180
INSTALL_HINT = "run scripts/install_system_deps.sh (apt-get install postgresql)"


def pg_bin_dir() -> Path:
    """Directory of the Postgres server binaries: `$PG_BIN`, else the newest
    `/usr/lib/postgresql/<version>/bin` (Debian's layout).

    Raises:
        StackError: No server binaries were found.
    """
    if explicit := os.environ.get("PG_BIN"):
        return Path(explicit)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    if found := shutil.which("initdb"):
        return Path(found).parent
    raise StackError(f"Postgres server binaries (initdb) not found: {INSTALL_HINT}")


def _make_reachable(path: Path, owned_root: Path) -> bool:
    """Let the postgres user traverse every directory down to `path`.

    Directories under `owned_root` (the stack's work dir) get o+x; ancestors above it are left
    alone.

    Returns:
        False if an ancestor outside the work dir is not traversable by other users.
    """
    owned_root = owned_root.resolve()
    for directory in [path.resolve(), *path.resolve().parents]:
        mode = directory.stat().st_mode
        if mode & stat.S_IXOTH:
            continue
        if directory == owned_root or owned_root in directory.parents:
            directory.chmod(mode | stat.S_IXOTH)
        else:
            return False
    return True


def _server_user() -> str | None:
    """OS user to run the server as: `postgres` when we are root (the server refuses root),
    else None (the current user)."""
    return PG_USER if os.geteuid() == 0 else None


def _cluster_root(workdir: Path) -> Path:
    """Directory for a new cluster: `workdir/postgres`, or, when the postgres user cannot reach
    the work dir (e.g. a checkout under /root), a fresh private directory in the temp dir."""
    root = workdir / "postgres"
    if root.exists():
        if (pid := _postmaster_alive(root / "data")) is not None:
            raise StackError(
                f"a postgres server (pid {pid}) still runs on {root / 'data'}; stop it, or pick "
                "another work dir"
            )
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if _server_user() is None or _make_reachable(root, workdir):
        return root
    root.rmdir()
    return Path(tempfile.mkdtemp(prefix="media-stack-postgres-"))


def _postmaster_alive(data_dir: Path) -> int | None:
    """Pid of a running postmaster recorded in `data_dir`, else None (a recorded pid that is now
    another program's, after the kernel recycled it, is not a postmaster)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        command = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError, IndexError):
        return None
    return pid if command in ("postgres", "postmaster") else None


def _server_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "TZ": "UTC"}


def _check_sql(port: int, database: str) -> bool:
    import pg8000.native  # lazy: lazy

    conn = pg8000.native.Connection(
        PG_USER, host="127.0.0.1", port=port, database=database, timeout=3
    )
    try:
        rows: list[list[int]] = conn.run("select 1")
        return rows == [[1]]
    finally:
        conn.close()


@dataclass(frozen=True)
class Cluster:
    """A private cluster made by `init_cluster`.

    Attributes:
        root: its directory (removed at stop).
        data: the data directory.
        sockets: the unix socket directory.
        user: the OS user running the server (None: the current user).
        log_path: the server's log.
    """

    root: Path
    data: Path
    sockets: Path
    user: str | None
    log_path: Path


def init_cluster(workdir: Path) -> Cluster:
    """`initdb` a private cluster in `workdir/postgres/data` (owned by the postgres user when we
    are root, trust auth; in a private temp dir if that user cannot reach the work dir).

    Raises:
        StackError: A server still runs on an earlier cluster there, or initdb failed.
    """
    bindir = pg_bin_dir()
    root = _cluster_root(workdir)
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    user = _server_user()
    if user is not None:
        root.chmod(0o755)
        shutil.chown(root, user, user)
        shutil.chown(sockets, user, user)
    log_path = workdir / "logs" / "postgres.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.unlink(missing_ok=True)
    with log_path.open("ab") as log:
        init = subprocess.run(
            as_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    PG_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                    "--no-instructions",
                ],
                user,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_server_env(),
            check=False,
            timeout=120,
        )
    if init.returncode != 0:
        raise StackError(f"initdb failed; log {log_path}:\n{log_tail(log_path)}")
    return Cluster(root, data, sockets, user, log_path)


def serve(cluster: Cluster, port: int) -> ManagedProcess:
    """Start the server of `cluster` on 127.0.0.1:`port` and wait until it answers SQL. Used for
    the first start and for every restart after a crash, so the data and the address stay.

    fsync is off (the cluster is disposable: a machine crash may lose it), but commits are
    synchronous: a commit is acknowledged once its WAL is written to the kernel, so a postmaster
    killed with SIGKILL (the chaos test) loses no transaction a client was told about.

    Raises:
        StackError: The server exited or did not answer in time.
    """
    proc = spawn(
        "postgres",
        [
            str(pg_bin_dir() / "postgres"),
            "-D",
            str(cluster.data),
            "-p",
            str(port),
            "-k",
            str(cluster.sockets),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
        ],
        log_path=cluster.log_path,
        env=_server_env(),
        user=cluster.user,
        stop_signal=signal.SIGINT,  # fast shutdown: don't wait for clients to disconnect
        signal_group=False,
    )
    wait_until(
        proc,
        lambda: _check_sql(port, "postgres"),
        timeout_seconds=READY_TIMEOUT_SECONDS,
        what="select 1 answered",
    )
    return proc


def create_database(port: int) -> str:
    """Create database `media` on a fresh cluster.

    Returns:
        `postgresql+pg8000://postgres@127.0.0.1:PORT/media`.
    """
    import pg8000.native

    conn = pg8000.native.Connection(PG_USER, host="127.0.0.1", port=port, database="postgres")
    try:
        conn.run(f"CREATE DATABASE {DB_NAME}")
    finally:
        conn.close()
    return database_url(port)


def database_url(port: int) -> str:
    """The URL of database `media` on the local server at `port`."""
    return f"postgresql+pg8000://{PG_USER}@127.0.0.1:{port}/{DB_NAME}"


def clear_stale_locks(cluster: Cluster, port: int) -> list[Path]:
    """Remove the lock files a server that died without cleaning up left behind.

    `postmaster.pid` (data dir) and `.s.PGSQL.<port>.lock` (socket dir) name the server's pid:
    a new server refuses to start while that pid is alive, and a pid can be alive as someone
    else's process once the kernel recycled it. Call only after the old server and its children
    are gone (the stack reaped it and killed its group).

    Returns:
        The files removed.
    """
    removed = []
    for path in (cluster.data / "postmaster.pid", cluster.sockets / f".s.PGSQL.{port}.lock"):
        if path.exists():
            path.unlink(missing_ok=True)
            removed.append(path)
    socket_file = cluster.sockets / f".s.PGSQL.{port}"
    if socket_file.exists():
        socket_file.unlink(missing_ok=True)
        removed.append(socket_file)
    return removed


def check_database_url(url: str, timeout_seconds: float = 10.0) -> None:
    """Run `select 1` through SQLAlchemy on an existing `DATABASE_URL`.

    Raises:
        StackError: The database did not answer.
    """
    from sqlalchemy import create_engine, text

    connect_args = {"timeout": timeout_seconds} if url.startswith("postgresql+pg8000") else {}
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        raise StackError(f"DATABASE_URL did not answer select 1: {exc}") from exc
    finally:
        engine.dispose()


def remove_cluster(root: Path) -> None:
    """Delete a cluster directory created by `init_cluster` (after its server stopped)."""
    shutil.rmtree(root, ignore_errors=True)


def run_migrations(repo_root: Path, env: Mapping[str, str], log_path: Path) -> None:
    """Run `alembic -c <repo>/alembic.ini upgrade head` with `env` (which holds DATABASE_URL).

    Raises:
        StackError: alembic.ini is missing or the migration failed (names the log file).
    """
    ini = repo_root / "alembic.ini"
    if not ini.is_file():
        raise StackError(
            f"{ini} not found: cannot apply migrations. Add alembic.ini and migrations/, or start "
            "without migrations (--no-migrations / LocalStack(apply_migrations=False))"
        )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        result = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", "head"],
            cwd=repo_root,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=MIGRATION_TIMEOUT_SECONDS,
        )
    if result.returncode != 0:
        raise StackError(
            f"alembic upgrade head failed (exit {result.returncode}); log {log_path}:\n"
            f"{log_tail(log_path)}"
        )
