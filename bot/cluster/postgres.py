"""A PostgreSQL server on loopback from Debian's packages: the tests' throw-away one and the
local cluster's (``make cluster``), which keeps its data under ``var/cluster/``.

Trust authentication on 127.0.0.1 only; as root, the server runs as the ``postgres`` system
user (initdb refuses root).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg2


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (the Makefile installs Debian's postgresql)")
    return Path(candidates[-1]).parent


class PostgresServer:
    """``root`` None: a temporary directory, deleted by :meth:`stop`; else data kept there."""

    def __init__(self, port: int, root: Path | None = None, durable: bool = False) -> None:
        self.port = port
        self.bin = _bin_dir()
        self.keep = root is not None
        self.root = root or Path(tempfile.mkdtemp(prefix="niangjia-pg-"))
        self.data = self.root / "data"
        self.user = "niangjia"
        # Tests trade durability for speed; a cluster keeps PostgreSQL's defaults.
        self.durability = "" if durable else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # initdb refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user,
                      "-E", "UTF8", "--locale", "C.UTF-8")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   f"{self.durability}-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def restart(self) -> None:
        """Fast shutdown (open connections are cut, as in a real restart) and start again."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.start()

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            if not self.keep:
                shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new database (``name``, or a random one); an existing ``name`` is kept."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE DATABASE {name}")
        connection.close()
        return self.url(name)
