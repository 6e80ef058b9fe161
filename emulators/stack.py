"""`LocalStack`: brings up Postgres, the Storage (fake-gcs-server, or moto's S3), Pub/Sub and
Firestore emulators, the topology, the push router, the schedule timer, the functions and
(optionally) the web gallery on this machine, and tears down what it started."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

from emulators import credentials, firestore, functions, postgres, pubsub, routing, storage
from emulators._proc import (
    ManagedProcess,
    ProcessRegistry,
    StackError,
    WorkdirBusyError,
    free_port,
)
from emulators._report import ServiceInfo, services_table, write_env_files
from emulators.topology import Topology, load_topology

if TYPE_CHECKING:
    from emulators.s3 import MotoS3
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
_T = TypeVar("_T")


class LocalStack:
    """The pipeline's local stack; use as a context manager or call `start()` / `stop()`.

    Services named by `DATABASE_URL`, `PUBSUB_EMULATOR_HOST` or `FIRESTORE_EMULATOR_HOST` (in
    `extra_env` or the base environment) are used as they are; everything else is started on
    free ports of 127.0.0.1, with logs in `workdir/logs/<service>.log`.

    Args:
        workdir: Work directory (default `<repo>/.stack`): logs, Postgres cluster, secrets,
            pstest binary cache, `env.json` and `env.sh`.
        with_functions: Start the functions of `topology.json` (their main.py must exist).
        extra_env: Added to the environment of every started process and to `env`
            (e.g. `ROUTER_BACKOFF_SCALE=0.01`, `JWT_SECRET`).
        push_endpoint_overrides: Subscription id to push endpoint URL, replacing the function
            URL (or routing a subscription whose function is not started).
        apply_migrations: Run `alembic upgrade head` after Postgres is up.
        repo_root: Repository root (topology.json, alembic.ini, functions/).
        base_env: Environment the stack starts from, instead of `os.environ` (e.g. a copy
            without `DATABASE_URL` to force a private cluster).
        storage_backend: "gcs" (fake-gcs-server) or "s3" (moto's server, S3 events routed
            from SQS to the `object-events` push subscription's endpoint); None: the
            environment's `STORAGE_BACKEND`, else "gcs".
        run_schedules: Publish `topology.json`'s schedules on their timers (scaled by
            `SCHEDULE_SCALE`); False: only `publish_schedule()` publishes them.
        with_web: Serve the web gallery (web/dist, built by `make web`) on its own port, with
            the dev login; its origins are added to the functions' `CORS_ALLOWED_ORIGINS`.
            Needs the functions.

    Attributes:
        env: Everything a client needs (see README), filled by `start()`.
        web_url: The gallery's URL (`WEB_GALLERY_URL`) when `with_web`, filled by `start()`.
        services: Running services, filled by `start()`.
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
        self._registry = ProcessRegistry()
        self._functions: dict[str, tuple[ManagedProcess, int]] = {}
        self._in_process: routing.InProcessServices | None = None
        self._pg_cluster: Path | None = None
        self._storage_root: Path | None = None
        self._moto: MotoS3 | None = None
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

    def _base_env(self) -> dict[str, str]:
        return {**self._base, **self.extra_env}

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
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
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
        web_port = self._reserve_web() if self.with_web else None
        if self.with_functions:
            self._start_functions()
        self._start_in_process(pubsub_host, project, base)
        if web_port is not None:
            self._start_web(web_port)
        self._write_env_files()

    def _add_service(self, name: str, address: str, proc: ManagedProcess | None) -> None:
        self.services.append(
            ServiceInfo(name, address, proc.pid if proc else None, proc.log_path if proc else None)
        )

    # ------------------------------------------------------------------------------ services
    def _start_database(self, base: Mapping[str, str]) -> str:
        if url := base.get("DATABASE_URL"):
            postgres.check_database_url(url)
            self._add_service("postgres (DATABASE_URL)", url, None)
        else:
            proc, url, cluster = postgres.start_postgres(self.workdir)
            self._registry.add(proc)
            self._pg_cluster = cluster
            self._add_service("postgres", url, proc)
        if self.apply_migrations:
            postgres.run_migrations(
                self.repo_root,
                {**base, "DATABASE_URL": url},
                self.workdir / "logs" / "migrations.log",
            )
        return url

    def _start_messaging(
        self, base: Mapping[str, str], project: str, client: Mapping[str, str]
    ) -> tuple[str, dict[str, str]]:
        if host := base.get("PUBSUB_EMULATOR_HOST"):
            pubsub.wait_for_external(host, project)
            self._add_service("pubsub (PUBSUB_EMULATOR_HOST)", host, None)
        else:
            proc, host = pubsub.start_pstest(self.workdir, base, project)
            self._registry.add(proc)
            self._add_service("pubsub (pstest)", host, proc)
        pubsub.create_topology(host, project, self.topology)
        if self.storage_backend == "s3":
            return host, self._start_s3(base, client)
        gcs = storage.start_fake_gcs(
            self.workdir,
            base,
            project=project,
            pubsub_host=host,
            uploads_bucket=client["UPLOADS_BUCKET"],
            buckets=(client["UPLOADS_BUCKET"], client["DERIVATIVES_BUCKET"]),
        )
        self._registry.add(gcs.proc)
        self._storage_root = gcs.root
        self._add_service("storage (fake-gcs-server)", gcs.url, gcs.proc)
        return host, storage.storage_env(gcs.url)

    def _start_s3(self, base: Mapping[str, str], client: Mapping[str, str]) -> dict[str, str]:
        from emulators import s3  # lazy: boto3

        events = routing.storage_events_subscription(self.topology)
        moto = s3.start_moto(
            self.workdir,
            base,
            uploads_bucket=client["UPLOADS_BUCKET"],
            derivatives_bucket=client["DERIVATIVES_BUCKET"],
            visibility_timeout_seconds=events.ack_deadline_seconds,
        )
        self._registry.add(moto.proc)
        self._moto = moto
        self._add_service("storage (moto S3 + SQS)", moto.url, moto.proc)
        return s3.s3_env(moto)

    def _start_firestore(self, base: Mapping[str, str], project: str) -> str:
        if host := base.get("FIRESTORE_EMULATOR_HOST"):
            firestore.check_firestore(host, project, timeout_seconds=10)
            self._add_service("firestore (FIRESTORE_EMULATOR_HOST)", host, None)
            return host
        proc, host = firestore.start_firestore(self.workdir, base, project)
        self._registry.add(proc)
        self._add_service("firestore", host, proc)
        return host

    def _function_env(self) -> dict[str, str]:
        return {**self._base_env(), **self.env}

    def _start_functions(self) -> None:
        # Every function learns every function's URL (share links point at list_media).
        ports = {spec.name: free_port() for spec in self.topology.functions}
        for name, port in ports.items():
            self.env[functions.url_env_key(name)] = f"http://127.0.0.1:{port}"
        env = self._function_env()
        for spec in self.topology.functions:
            port = ports[spec.name]
            proc = self._registry.add(
                functions.spawn_function(
                    spec, port=port, repo_root=self.repo_root, workdir=self.workdir, env=env
                )
            )
            self._functions[spec.name] = (proc, port)
        for name, (proc, port) in self._functions.items():
            functions.wait_function_ready(proc, port)
            self._add_service(f"function {name}", f"http://127.0.0.1:{port}", proc)

    def _start_in_process(self, pubsub_host: str, project: str, base: Mapping[str, str]) -> None:
        function_urls = {name: self.env[functions.url_env_key(name)] for name in self._functions}
        routes = routing.push_routes(self.topology, self.push_endpoint_overrides, function_urls)
        s3_events = None
        if self._moto is not None:
            spec = routing.storage_events_subscription(self.topology)
            endpoint = next((url for sub, url in routes if sub.name == spec.name), None)
            if endpoint is not None:
                s3_events = (spec, endpoint, self._moto)
        backoff_scale = routing.float_setting(base, "ROUTER_BACKOFF_SCALE")
        schedule_scale = routing.schedule_scale(base) if self.run_schedules else 0.0
        log_path = self.workdir / "logs" / "router.log"
        self._in_process = services = routing.InProcessServices(log_path)
        services.start_router(
            pubsub_host, project, routes, backoff_scale=backoff_scale, s3_events=s3_events
        )
        summary = [f"{s.name}->{url.replace('http://127.0.0.1', '')}" for s, url in routes]
        if s3_events is not None:
            summary.append(f"s3 events->{s3_events[1].replace('http://127.0.0.1', '')}")
        pid = os.getpid()
        self.services.append(
            ServiceInfo("push router", ", ".join(summary) or "no push routes", pid, log_path)
        )
        scheduler = services.start_scheduler(
            pubsub_host, project, self.topology.schedules, schedule_scale
        )
        self.services.append(ServiceInfo("scheduler", scheduler.describe(), pid, log_path))

    def _reserve_web(self) -> int:
        """Choose the gallery's port and allow its origins through the functions' CORS."""
        from emulators.web import gallery_origins, merge_cors_origins

        port = free_port()
        current = self.env.get("CORS_ALLOWED_ORIGINS") or self._base.get("CORS_ALLOWED_ORIGINS")
        self.env["CORS_ALLOWED_ORIGINS"] = merge_cors_origins(current, gallery_origins(port))
        self.env["WEB_GALLERY_URL"] = f"http://127.0.0.1:{port}"
        # share links open the gallery's viewer page (`/s/<token>`)
        self.env["WEB_BASE_URL"] = f"http://127.0.0.1:{port}"
        return port

    def _start_web(self, port: int) -> None:
        from emulators.web import GalleryServer

        log_path = self.workdir / "logs" / "web.log"
        self._web = GalleryServer(self.repo_root, port, self._function_env(), log_path)
        self.web_url = self._web.url
        self.services.append(ServiceInfo("web gallery", self._web.url, os.getpid(), log_path))

    def _write_env_files(self) -> None:
        write_env_files(self.workdir, self.env)

    # ------------------------------------------------------------------------------ controls
    def function_url(self, name: str) -> str:
        """Base URL of a started function (e.g. `create_media`)."""
        return self.env[functions.url_env_key(name)]

    def publish_schedule(self, name: str) -> str:
        """Publish one schedule's message now, as its timer (or Cloud Scheduler) would.

        Returns:
            The Pub/Sub message id.

        Raises:
            KeyError: No schedule of that name in topology.json.
            StackError: The stack is not running.
        """
        if self._in_process is None or self._in_process.scheduler is None:
            raise StackError("the stack is not running")
        return self._in_process.scheduler.tick(name)

    def restart_function(self, name: str) -> None:
        """Stop one function and start it again on the same port (e.g. after editing main.py).

        Raises:
            KeyError: The function was not started by this stack.
            StackError: It did not come back.
        """
        proc, port = self._functions[name]
        proc.stop()
        self._registry.remove(proc)
        spec = next(s for s in self.topology.functions if s.name == name)
        new = self._registry.add(
            functions.spawn_function(
                spec,
                port=port,
                repo_root=self.repo_root,
                workdir=self.workdir,
                env=self._function_env(),
            )
        )
        self._functions[name] = (new, port)
        functions.wait_function_ready(new, port)

    def stop(self) -> None:
        """Stop the scheduler, the router and every process this stack started; remove the
        Postgres cluster and storage directory it created, the secrets and the env files.
        Idempotent."""
        if not self._started:
            return
        self._started = False
        atexit.unregister(self.stop)
        if self._web is not None:
            self._web.stop()
            self._web = None
        if self._in_process is not None:
            self._in_process.stop()
            self._in_process = None
        self._registry.stop_all()
        self._moto = None
        self._functions.clear()
        if self._pg_cluster is not None:
            postgres.remove_cluster(self._pg_cluster)
            self._pg_cluster = None
        if self._storage_root is not None:
            storage.remove_root(self._storage_root)
            self._storage_root = None
        for name in ("env.json", "env.sh", "secrets/signing-sa.json"):
            (self.workdir / name).unlink(missing_ok=True)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def table(self) -> str:
        """Human-readable table of services, addresses, pids and log files."""
        return services_table(self.services)


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
