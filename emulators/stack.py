"""`LocalStack`: brings up Postgres, the Storage (fake-gcs-server, or moto's S3), Pub/Sub and
Firestore emulators, the topology, the push router, the functions, the stream service, the
gateway (the API's one base URL), the schedule timer and (optionally) the web gallery on this
machine, keeps them running, and tears down what it started."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

from emulators import (
    credentials,
    functions,
    postgres,
    routing,
    storage,
)
from emulators._proc import ProcessRegistry, StackError, WorkdirBusyError, stop_leftovers
from emulators._report import ServiceInfo, services_table, write_env_files
from emulators.bringup import Bringup
from emulators.ports import PortPlan, plan_for
from emulators.supervisor import Supervisor
from emulators.topology import Topology, load_topology

if TYPE_CHECKING:
    from emulators.web import GalleryServer

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROJECT = "local-project"
CLIENT_DEFAULTS = {
    "UPLOADS_BUCKET": "media-uploads",
    "DERIVATIVES_BUCKET": "media-derivatives",
    "MEDIA_VERIFIED_TOPIC": "media-verified",
    "MEDIA_JOBS_TOPIC": "media-jobs",
}
STORAGE_BACKENDS = ("gcs", "s3")
PID_FILE = "pids.json"
_T = TypeVar("_T")


class LocalStack(Bringup):
    """The pipeline's local stack; use as a context manager or call `start()` / `stop()`.

    Services named by `DATABASE_URL`, `PUBSUB_EMULATOR_HOST` or `FIRESTORE_EMULATOR_HOST` (in
    `extra_env` or the base environment) are used as they are; everything else is started on the
    ports of the work dir's block (`emulators.ports`: the same on every start), supervised
    (`emulators.supervisor`: a component that dies is started again on its address), with logs
    in `workdir/logs/<service>.log`.

    Args:
        workdir: Work directory (default `<repo>/.stack`): logs, Postgres cluster, secrets,
            pstest binary cache, `env.json`, `env.sh`, `services.json`.
        with_functions: Start the API: the functions of `topology.json` (their main.py must
            exist), the stream service and the gateway.
        extra_env: Added to the environment of every started process and to `env`
            (e.g. `ROUTER_BACKOFF_SCALE=0.01`, `JWT_SECRET`).
        push_endpoint_overrides: Subscription id to push endpoint URL, replacing the function
            URL (or routing a subscription whose function is not started).
        apply_migrations: Run `alembic upgrade head` after Postgres is up.
        repo_root: Repository root (topology.json, alembic.ini, functions/).
        base_env: Environment the stack starts from, instead of `os.environ`.
        storage_backend: "gcs" (fake-gcs-server) or "s3" (moto's server); None: the
            environment's `STORAGE_BACKEND`, else "gcs".
        run_schedules: Publish `topology.json`'s schedules on their timers (scaled by
            `SCHEDULE_SCALE`); False: only `publish_schedule()` publishes them.
        with_web: Serve the web gallery (web/dist, built by `make web`) on its own port, with
            the dev login; its origins are added to `CORS_ALLOWED_ORIGINS`. Needs the API.

    Attributes:
        env: Everything a client needs (see README), filled by `start()`.
        web_url: The gallery's URL (`WEB_GALLERY_URL`) when `with_web`, filled by `start()`.
        ports: The work dir's ports.
        services: Running services, filled by `start()`.
        supervisor: Watches and restarts the started processes.
        startup_seconds: Wall time `start()` took.
    """

    def __init__(
        self,
        workdir: Path | str | None = None,
        *,
        with_functions: bool = True,
        extra_env: Mapping[str, str] | None = None,
        push_endpoint_overrides: Mapping[str, str] | None = None,
        apply_migrations: bool = True,
        repo_root: Path | None = None,
        base_env: Mapping[str, str] | None = None,
        storage_backend: str | None = None,
        run_schedules: bool = True,
        with_web: bool = False,
    ) -> None:
        self.repo_root = (repo_root or REPO_ROOT).resolve()
        self.workdir = Path(workdir or self.repo_root / ".stack").resolve()
        self.with_functions = with_functions
        self.extra_env = dict(extra_env or {})
        self.apply_migrations = apply_migrations
        self._base = dict(os.environ if base_env is None else base_env)
        backend = storage_backend or self._base_env().get("STORAGE_BACKEND") or "gcs"
        if backend not in STORAGE_BACKENDS:
            raise ValueError(f"storage backend {backend!r}: expected one of {STORAGE_BACKENDS}")
        self.storage_backend = backend
        self.run_schedules = run_schedules
        if with_web and not with_functions:
            raise ValueError("with_web needs the functions (with_functions=True)")
        self.with_web = with_web
        self.web_url: str | None = None
        self._web: GalleryServer | None = None
        self.topology: Topology = load_topology(self.repo_root / "topology.json")
        known = {s.name for s in self.topology.push_subscriptions()}
        unknown = set(push_endpoint_overrides or {}) - known
        if unknown:
            raise ValueError(f"push_endpoint_overrides: not push subscriptions: {sorted(unknown)}")
        self.push_endpoint_overrides = dict(push_endpoint_overrides or {})
        self.env: dict[str, str] = {}
        self.services: list[ServiceInfo] = []
        self.startup_seconds = 0.0
        self.ports = PortPlan(0)
        self._registry = ProcessRegistry()
        self.supervisor = Supervisor(self._registry, logging.getLogger("emulators.supervisor"))
        self.supervisor_log = logging.getLogger("emulators.supervisor")
        self._log_handler: logging.Handler | None = None
        self._scheduler: routing.InProcessServices | None = None
        self._pg_cluster: Path | None = None
        self._storage_root: Path | None = None
        self._lock_file: IO[str] | None = None
        self._started = False

    # ----------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        """Start every service, wait until each answers a real call, write `env.json`/`env.sh`.

        Returns:
            self.

        Raises:
            WorkdirBusyError: Another stack runs in `workdir`; nothing was started.
            StackError: A service could not start; everything started so far is stopped.
        """
        if self._started:
            return self
        began = time.monotonic()
        self._take_lock()
        self._started = True
        atexit.register(self.stop)
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _take_lock(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        lock_file = (self.workdir / "stack.lock").open("w")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock_file.close()
            raise WorkdirBusyError(f"another local stack is running in {self.workdir}") from exc
        self._lock_file = lock_file

    def _start_all(self) -> None:
        base = self._base_env()
        project = base.get("GOOGLE_CLOUD_PROJECT") or DEFAULT_PROJECT
        client = {key: base.get(key) or default for key, default in CLIENT_DEFAULTS.items()}
        if self.with_functions:
            functions.check_sources(self.repo_root, self.topology.functions)
        if self.with_web:
            from emulators.web import check_built

            check_built(self.repo_root)
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self._watch_log(logs / "supervisor.log")
        left = stop_leftovers(self.workdir / PID_FILE)
        if left:
            self.supervisor_log.warning("stopped what an earlier stack left running: %s", left)
        self._registry = ProcessRegistry(self.workdir / PID_FILE)
        self.supervisor = Supervisor(self._registry, self.supervisor_log)
        self.ports = plan_for(self.workdir, base)
        self._check_ports(base)
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="stack-start") as pool:
            db_future = pool.submit(self._start_database, base)
            messaging_future = pool.submit(self._start_messaging, base, project, client)
            firestore_future = pool.submit(self._start_firestore, base, project)
            signing_file = credentials.write_signing_credentials(self.workdir, project)
            database_url = _result(db_future, messaging_future, firestore_future)
            pubsub_host, storage_env = _result(messaging_future, firestore_future)
            firestore_host = _result(firestore_future)
        self.env = {
            **self.extra_env,
            "GOOGLE_CLOUD_PROJECT": project,
            "DATABASE_URL": database_url,
            **storage_env,
            "PUBSUB_EMULATOR_HOST": pubsub_host,
            "FIRESTORE_EMULATOR_HOST": firestore_host,
            **client,
            "SIGNING_CREDENTIALS_FILE": str(signing_file),
            "JWT_SECRET": credentials.jwt_secret(base.get("JWT_SECRET")),
        }
        if self.with_functions:
            from emulators.models import publish_models

            self.env.update(publish_models(self.repo_root, self.env))
            # a storage emulator that comes back empty (moto, fake-gcs in memory) gets them again
            store = next(c for c in self.supervisor.components() if c.name.startswith("storage"))
            store.restore = lambda: self.env.update(publish_models(self.repo_root, self.env))
        if self.with_functions:
            self._plan_api()
        if self.with_web:
            self._plan_web()
        if self.with_functions:
            self._start_api()
        self._start_router(pubsub_host, project, base)
        self._start_scheduler(pubsub_host, project, base)
        if self.with_web:
            self._start_web()
        self.supervisor.start()
        self._write_reports()

    def _watch_log(self, path: Path) -> None:
        self.supervisor_log = logging.getLogger(f"emulators.supervisor.{id(self)}")
        self.supervisor_log.propagate = False
        self.supervisor_log.setLevel(logging.INFO)
        handler = logging.FileHandler(path, mode="a")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.supervisor_log.addHandler(handler)
        self._log_handler = handler

    def _write_reports(self) -> None:
        write_env_files(self.workdir, self.env)
        rows = [
            {"name": s.name, "address": s.address, "pid": s.pid, "log": str(s.log_path or "")}
            for s in self.services
        ]
        (self.workdir / "services.json").write_text(json.dumps(rows, indent=2))

    # ------------------------------------------------------------------------------ controls
    @property
    def api_url(self) -> str:
        """The API's one base URL (the gateway)."""
        return self.env["MEDIA_API_URL"]

    def pid_of(self, name: str) -> int:
        """The current pid of a supervised service (e.g. `postgres`, `function process_media`,
        `push router`, `storage (fake-gcs-server)`).

        Raises:
            KeyError: no such service.
        """
        proc = self.supervisor.component(name).proc
        if proc is None:
            raise KeyError(name)
        return proc.pid

    def publish_schedule(self, name: str) -> str:
        """Publish one schedule's message now, as its timer (or Cloud Scheduler) would.

        Returns:
            The Pub/Sub message id.

        Raises:
            KeyError: No schedule of that name in topology.json.
            StackError: The stack is not running.
        """
        if self._scheduler is None or self._scheduler.scheduler is None:
            raise StackError("the stack is not running")
        return self._scheduler.scheduler.tick(name)

    def restart_function(self, name: str) -> None:
        """Stop one function and start it again on the same port (e.g. after editing main.py).

        Raises:
            KeyError: The function was not started by this stack.
            StackError: It did not come back.
        """
        self.supervisor.replace(f"function {name}")

    def stop(self) -> None:
        """Stop the supervisor, the scheduler, the gallery and every process this stack started
        (with whatever their process groups still hold, children of a crashed server included);
        remove the Postgres cluster and storage directory it created, the secrets and the env
        files. Idempotent."""
        if not self._started:
            return
        self._started = False
        atexit.unregister(self.stop)
        self.supervisor.stop()
        if self._web is not None:
            self._web.stop()
            self._web = None
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        self._registry.stop_all()
        if self._pg_cluster is not None:
            postgres.remove_cluster(self._pg_cluster)
            self._pg_cluster = None
        if self._storage_root is not None:
            storage.remove_root(self._storage_root)
            self._storage_root = None
        for name in ("env.json", "env.sh", "services.json", "secrets/signing-sa.json"):
            (self.workdir / name).unlink(missing_ok=True)
        if self._log_handler is not None:
            self.supervisor_log.removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def table(self) -> str:
        """Human-readable table of services, addresses, pids and log files."""
        rows = []
        for info in self.services:
            pid = info.pid
            with contextlib.suppress(KeyError):
                pid = self.pid_of(info.name)  # a restarted service has a new pid
            rows.append(ServiceInfo(info.name, info.address, pid, info.log_path))
        return services_table(rows)


def _result(future: Future[_T], *others: Future[Any]) -> _T:
    """Result of `future`; on failure, wait for `others` so their processes are registered
    before the caller's cleanup stops them."""
    try:
        return future.result()
    except BaseException:
        for other in others:
            with contextlib.suppress(BaseException):
                other.result()
        raise
