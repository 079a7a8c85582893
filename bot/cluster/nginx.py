"""nginx in front of the local cluster, from Debian's ``nginx``, configured from nginx.conf.j2."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from jinja2 import Template

from bot.cluster.processes import terminate

TEMPLATE = Path(__file__).with_name("nginx.conf.j2")


def render(root: Path, public_port: int, rasa_api_port: int, actions_port: int, web_port: int,
           rasa_ports: list[int], action_ports: list[int]) -> str:
    return Template(TEMPLATE.read_text(encoding="utf-8")).render(
        root=root, public_port=public_port, rasa_api_port=rasa_api_port, actions_port=actions_port,
        web_port=web_port, rasa_ports=rasa_ports, action_ports=action_ports, as_root=os.geteuid() == 0)


class Nginx:
    def __init__(self, root: Path, config: str, port: int) -> None:
        self.root = root
        self.config = config
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"

    def start(self, timeout: float = 15) -> None:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.root / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        conf = self.root / "nginx.conf"
        conf.write_text(self.config, encoding="utf-8")
        argv = [self.binary, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / "error.log")]
        subprocess.run([*argv, "-t", "-q"], check=True)
        self.proc = subprocess.Popen([*argv, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start; see {self.root / 'error.log'}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            terminate([self.proc], timeout=10)
        self.proc = None
