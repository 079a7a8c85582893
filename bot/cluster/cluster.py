"""The whole assistant as a cluster on loopback: what ``make cluster`` runs and the fault tests use.

    PostgreSQL ── our tables + Rasa's tracker store
    Redis      ── Rasa's lock store, socket.io queue between Rasa servers, rate limits
    nginx :public   → web app (chat page, console) · /webhooks/, /socket.io/ → Rasa servers
    nginx :rasa_api → Rasa servers (HTTP API for the web app)
    nginx :actions  → action servers (Rasa's action endpoint)

Every process is ``niangjia run rasa|actions|web`` with the environment a production server
gets (deploy/niangjia.env.example): nothing here is special to the local machine but ports.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.cluster.nginx import Nginx, render
from bot.cluster.postgres import PostgresServer
from bot.cluster.processes import free_port, kill, terminate, wait_for
from bot.cluster.redis import RedisServer
from bot.config import PROJECT_ROOT, load_settings

logger = logging.getLogger(__name__)
BIN = Path(sys.executable).parent



@dataclass(frozen=True)
class Layout:
    """Ports of the cluster; the defaults are `make cluster`'s."""

    public_port: int = 8000
    rasa_api_port: int = 5005
    actions_port: int = 5055
    web_port: int = 8001
    postgres_port: int = 5433
    redis_port: int = 6380
    rasa_ports: tuple[int, ...] = (5015, 5016)
    action_ports: tuple[int, ...] = (5065, 5066)

    @classmethod
    def free(cls, rasa: int = 2, actions: int = 2) -> "Layout":
        """Free ports everywhere (tests, benchmarks beside a running `make run`)."""
        return cls(free_port(), free_port(), free_port(), free_port(), free_port(), free_port(),
                   tuple(free_port() for _ in range(rasa)), tuple(free_port() for _ in range(actions)))


@dataclass
class Cluster:
    root: Path
    layout: Layout = field(default_factory=Layout)
    token: str = ""  # default: the API token created once under root/var, as on one machine
    extra_env: dict[str, str] = field(default_factory=dict)
    durable: bool = True

    def __post_init__(self) -> None:
        self.logs = self.root / "logs"
        local = load_settings({"NIANGJIA_VAR_DIR": str(self.root / "var")})
        self.token = self.token or local.rasa_token
        self.rest_token = local.rest_token  # the REST channel's bearer token, shared by every server
        self.postgres = PostgresServer(self.layout.postgres_port, self.root / "pg", durable=self.durable)
        self.redis = RedisServer(self.layout.redis_port, self.root / "redis")
        config = render(self.root / "nginx", self.layout.public_port, self.layout.rasa_api_port,
                        self.layout.actions_port, self.layout.web_port, list(self.layout.rasa_ports),
                        list(self.layout.action_ports))
        self.nginx = Nginx(self.root / "nginx", config, self.layout.public_port)
        self.procs: dict[str, subprocess.Popen] = {}
        self.database_url = self.postgres.url("niangjia")

    # --- addresses --------------------------------------------------------------------
    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.public_port}"

    @property
    def rest_auth(self) -> dict[str, str]:
        """The header a REST integration sends."""
        return {"Authorization": f"Bearer {self.rest_token}"}

    @property
    def rasa_api_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.rasa_api_port}"

    def names(self) -> list[str]:
        return ([f"actions-{i + 1}" for i in range(len(self.layout.action_ports))]
                + [f"rasa-{i + 1}" for i in range(len(self.layout.rasa_ports))] + ["web"])

    def _kind_port(self, name: str) -> tuple[str, int]:
        if name == "web":
            return "web", self.layout.web_port
        kind, index = name.rsplit("-", 1)
        ports = self.layout.rasa_ports if kind == "rasa" else self.layout.action_ports
        return kind, ports[int(index) - 1]

    def health_url(self, name: str) -> str:
        kind, port = self._kind_port(name)
        return {"rasa": f"http://127.0.0.1:{port}/status?token={self.token}",
                "actions": f"http://127.0.0.1:{port}/health",
                "web": f"http://127.0.0.1:{port}/healthz"}[kind]

    def env(self, name: str) -> dict[str, str]:
        """The environment of one process: what deploy/niangjia.env.example documents."""
        kind, port = self._kind_port(name)
        rasa_servers = ",".join(f"http://127.0.0.1:{p}" for p in self.layout.rasa_ports)
        env = dict(os.environ)
        env.pop("TRACKER_URL", None)
        env.update(
            NIANGJIA_VAR_DIR=str(self.root / "var"), DATABASE_URL=self.database_url, REDIS_URL=self.redis.url,
            RASA_TOKEN=self.token, REST_TOKEN=self.rest_token, RASA_SERVERS=rasa_servers, TICKET_LOCK_LIFETIME="20",
            RASA_PUBLIC_URL=f"http://localhost:{self.layout.public_port}",
            # Rasa servers call the actions through nginx; the web app calls Rasa through nginx.
            RASA_PORT=str(port if kind == "rasa" else self.layout.rasa_api_port),
            ACTIONS_PORT=str(port if kind == "actions" else self.layout.actions_port),
            WEB_PORT=str(self.layout.web_port), CALLBACK_URL=env.get("CALLBACK_URL", ""),
            WEB_TRUSTED_PROXIES="1",  # nginx
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        )
        env.update(self.extra_env)
        return env

    # --- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres.start()
        self.postgres.create_database("niangjia")
        self.redis.start()
        subprocess.run([str(BIN / "niangjia"), "migrate"], cwd=PROJECT_ROOT, env=self.env("web"), check=True,
                       stdout=subprocess.DEVNULL)
        self.nginx.start()
        for name in self.names():
            self.start_process(name, wait=False)
        for name in self.names():
            self.wait_healthy(name)

    def start_process(self, name: str, wait: bool = True) -> None:
        kind, _ = self._kind_port(name)
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen([str(BIN / "niangjia"), "run", kind], cwd=PROJECT_ROOT,
                                            env=self.env(name), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            self.wait_healthy(name)

    def wait_healthy(self, name: str, timeout: float = 300) -> None:
        try:
            wait_for(self.health_url(name), timeout, self.procs[name])
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{name} did not start ({exc}); see {self.logs / (name + '.log')}") from exc

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to finish what it is doing."""
        kill(self.procs.pop(name))

    def stop(self) -> None:
        terminate(self.procs.values())
        self.procs.clear()
        self.nginx.stop()
        self.redis.stop()
        self.postgres.stop()
