"""``niangjia cluster``: the local cluster in the foreground until Ctrl-C (``make cluster``)."""
from __future__ import annotations

import signal
import threading

from bot.cluster.cluster import Cluster, Layout
from bot.config import Settings
from bot.training import ensure_model


def run(settings: Settings, rasa_servers: int, action_servers: int) -> int:
    ensure_model(settings)  # once, before several Rasa servers would each try
    default = Layout()
    layout = Layout(rasa_ports=tuple(default.rasa_ports[0] + i for i in range(rasa_servers)),
                    action_ports=tuple(default.action_ports[0] + i for i in range(action_servers)))
    cluster = Cluster(settings.var_dir / "cluster", layout)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"starting PostgreSQL :{layout.postgres_port}, Redis :{layout.redis_port}, nginx, "
          f"{rasa_servers} Rasa and {action_servers} action servers, the web app (logs in {cluster.logs})")
    try:
        cluster.start()
        print(f"工人聊天页面 (web chat):   http://localhost:{layout.public_port}/")
        print(f"工作人员后台 (console):    http://localhost:{layout.public_port}/console/")
        print(f"Rasa HTTP API (internal): {cluster.rasa_api_url}  (token in {cluster.root / 'var' / 'rasa_token'})")
        print(f"PostgreSQL: {cluster.database_url}   Redis: {cluster.redis.url}")
        print("Press Ctrl-C to stop.")
        stop.wait()
    finally:
        print("stopping the cluster")
        cluster.stop()
    return 0
