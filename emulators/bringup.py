"""How `LocalStack` brings each service up: the infrastructure (Postgres, Pub/Sub, storage,
Firestore), the API (the functions, the stream service, the gateway), the push router, the
schedule timer and the gallery, each a supervised component on its work dir's port
(`emulators.services`). A mixin of `LocalStack` (`emulators.stack`), kept apart so each file
stays readable; the attributes it uses are `LocalStack`'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from emulators import firestore, functions, postgres, pubsub, routing, services, storage
from emulators._report import ServiceInfo
from emulators.ports import PortPlan, require_free
from emulators.supervisor import Component, Supervisor
from emulators.topology import Topology

if TYPE_CHECKING:
    from emulators.web import GalleryServer


class Bringup:
    """Starts the stack's services (see the module docstring)."""

    workdir: Path
    repo_root: Path
    topology: Topology
    ports: PortPlan
    supervisor: Supervisor
    supervisor_log: logging.Logger
    services: list[ServiceInfo]
    env: dict[str, str]
    extra_env: dict[str, str]
    storage_backend: str
    with_functions: bool
    with_web: bool
    run_schedules: bool
    apply_migrations: bool
    push_endpoint_overrides: dict[str, str]
    web_url: str | None
    _base: dict[str, str]
    _web: GalleryServer | None
    _scheduler: routing.InProcessServices | None
    _pg_cluster: Path | None
    _storage_root: Path | None

    def _base_env(self) -> dict[str, str]:
        return {**self._base, **self.extra_env}

    def function_url(self, name: str) -> str:
        """Base URL of a started function (e.g. `create_media`)."""
        return self.env[functions.url_env_key(name)]

    def _check_ports(self, base: Mapping[str, str]) -> None:
        wanted = {"storage": self.ports.of("storage")}
        if not base.get("DATABASE_URL"):
            wanted["postgres"] = self.ports.of("postgres")
        if not base.get("PUBSUB_EMULATOR_HOST"):
            wanted["pubsub"] = self.ports.of("pubsub")
        if not base.get("FIRESTORE_EMULATOR_HOST"):
            wanted["firestore"] = self.ports.of("firestore")
        if self.with_functions:
            wanted |= {"gateway": self.ports.of("gateway"), "streams": self.ports.of("streams")}
            for index, spec in enumerate(self.topology.functions):
                wanted[f"function {spec.name}"] = self.ports.function(index)
        if self.with_web:
            wanted["web gallery"] = self.ports.of("web")
        for service, port in wanted.items():
            require_free(port, service)

    def _launch(self, component: Component, log_name: str) -> Component:
        self.supervisor.launch(component)
        proc = component.proc
        log_path = self.workdir / "logs" / f"{log_name}.log"
        self.services.append(
            ServiceInfo(component.name, component.address, proc.pid if proc else None, log_path)
        )
        return component

    # ------------------------------------------------------------------------------ services
    def _start_database(self, base: Mapping[str, str]) -> str:
        if url := base.get("DATABASE_URL"):
            postgres.check_database_url(url)
            self.services.append(ServiceInfo("postgres (DATABASE_URL)", url, None, None))
        else:
            cluster = postgres.init_cluster(self.workdir)
            self._pg_cluster = cluster.root
            port = self.ports.of("postgres")
            self._launch(services.postgres_component(cluster, port), "postgres")
            url = postgres.create_database(port)
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
            self.services.append(ServiceInfo("pubsub (PUBSUB_EMULATOR_HOST)", host, None, None))
        else:
            port = self.ports.of("pubsub")
            component = services.pubsub_component(self.workdir, base, project, port, self.topology)
            self._launch(component, "pubsub")
            host = component.address
        pubsub.create_topology(host, project, self.topology)
        buckets = (client["UPLOADS_BUCKET"], client["DERIVATIVES_BUCKET"])
        port = self.ports.of("storage")
        if self.storage_backend == "s3":
            from emulators import s3

            events = routing.storage_events_subscription(self.topology)
            self._launch(
                services.moto_component(
                    self.workdir,
                    base,
                    buckets=buckets,
                    visibility_timeout_seconds=events.ack_deadline_seconds,
                    port=port,
                ),
                "s3",
            )
            return host, s3.s3_env_at(port)
        self._launch(
            services.fake_gcs_component(
                self.workdir, base, project=project, pubsub_host=host, buckets=buckets, port=port
            ),
            "storage",
        )
        if (base.get("FAKE_GCS_BACKEND") or storage.DEFAULT_BACKEND) == "filesystem":
            self._storage_root = self.workdir / storage.ROOT_DIRNAME
        return host, storage.storage_env(f"http://127.0.0.1:{port}")

    def _start_firestore(self, base: Mapping[str, str], project: str) -> str:
        if host := base.get("FIRESTORE_EMULATOR_HOST"):
            firestore.check_firestore(host, project, timeout_seconds=10)
            self.services.append(
                ServiceInfo("firestore (FIRESTORE_EMULATOR_HOST)", host, None, None)
            )
            return host
        port = self.ports.of("firestore")
        return self._launch(
            services.firestore_component(self.workdir, base, project, port), "firestore"
        ).address

    def _plan_api(self) -> None:
        for index, spec in enumerate(self.topology.functions):
            self.env[functions.url_env_key(spec.name)] = (
                f"http://127.0.0.1:{self.ports.function(index)}"
            )
        api_url = f"http://127.0.0.1:{self.ports.of('gateway')}"
        self.env["STREAMS_URL"] = f"http://127.0.0.1:{self.ports.of('streams')}"
        # The emulator's listeners miss changes under concurrent commits (README, Firestore): a
        # renewed listener's first snapshot brings every document's newest version again.
        self.env.setdefault(
            "STREAM_RECYCLE_SECONDS", self._base_env().get("STREAM_RECYCLE_SECONDS") or "60"
        )
        self.env["MEDIA_API_URL"] = api_url
        self.env.setdefault("PUBLIC_BASE_URL", api_url)  # share links open on the API's origin

    def _plan_web(self) -> None:
        from emulators.web import gallery_origins, merge_cors_origins

        port = self.ports.of("web")
        current = self.env.get("CORS_ALLOWED_ORIGINS") or self._base.get("CORS_ALLOWED_ORIGINS")
        self.env["CORS_ALLOWED_ORIGINS"] = merge_cors_origins(current, gallery_origins(port))
        self.env["WEB_GALLERY_URL"] = f"http://127.0.0.1:{port}"
        # share links open the gallery's viewer page (`/s/<token>`)
        self.env["WEB_BASE_URL"] = f"http://127.0.0.1:{port}"

    def _service_env(self) -> dict[str, str]:
        return {**self._base_env(), **self.env}

    def _start_api(self) -> None:
        env = self._service_env()
        specs = list(enumerate(self.topology.functions))
        with ThreadPoolExecutor(max_workers=len(specs) + 1) as pool:
            futures = [
                pool.submit(
                    self._launch,
                    services.function_component(
                        spec, self.ports.function(index), self.repo_root, self.workdir, env
                    ),
                    f"function-{spec.name}",
                )
                for index, spec in specs
            ]
            futures.append(
                pool.submit(
                    self._launch,
                    services.streams_component(
                        self.ports.of("streams"), self.repo_root, self.workdir, env
                    ),
                    "streams",
                )
            )
            for future in futures:
                future.result()
        backends = {spec.name: self.function_url(spec.name) for spec in self.topology.functions}
        backends["streams"] = self.env["STREAMS_URL"]
        self._launch(
            services.gateway_component(
                self.ports.of("gateway"),
                backends,
                repo_root=self.repo_root,
                workdir=self.workdir,
                env=env,
            ),
            "gateway",
        )

    def _start_router(self, pubsub_host: str, project: str, base: Mapping[str, str]) -> None:
        function_urls = {
            spec.name: self.env[functions.url_env_key(spec.name)]
            for spec in self.topology.functions
            if functions.url_env_key(spec.name) in self.env
        }
        routes = routing.push_routes(self.topology, self.push_endpoint_overrides, function_urls)
        s3_events = None
        if self.storage_backend == "s3":
            from emulators import s3

            spec = routing.storage_events_subscription(self.topology)
            endpoint = next((url for sub, url in routes if sub.name == spec.name), None)
            if endpoint is not None:
                s3_events = s3.events_route(spec.name, endpoint, self.ports.of("storage"))
        component = services.router_component(
            self.workdir,
            self._service_env(),
            repo_root=self.repo_root,
            pubsub_host=pubsub_host,
            project=project,
            routes=routes,
            backoff_scale=routing.float_setting(base, "ROUTER_BACKOFF_SCALE"),
            s3_events=s3_events,
        )
        self._launch(component, "router")

    def _start_scheduler(self, pubsub_host: str, project: str, base: Mapping[str, str]) -> None:
        log_path = self.workdir / "logs" / "scheduler.log"
        scale = routing.schedule_scale(base) if self.run_schedules else 0.0
        self._scheduler = routing.InProcessServices(log_path)
        scheduler = self._scheduler.start_scheduler(
            pubsub_host, project, self.topology.schedules, scale
        )
        self.services.append(ServiceInfo("scheduler", scheduler.describe(), os.getpid(), log_path))

    def _start_web(self) -> None:
        from emulators.web import GalleryServer

        log_path = self.workdir / "logs" / "web.log"
        port = self.ports.of("web")
        self._web = GalleryServer(self.repo_root, port, self._service_env(), log_path)
        self.web_url = self._web.url
        self.services.append(ServiceInfo("web gallery", self._web.url, os.getpid(), log_path))
