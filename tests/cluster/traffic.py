"""Workers talking to the cluster through nginx while a fault happens, and the count check.

Every message is recorded with its HTTP status and the bot's replies. Afterwards:
- every message answered 200 and not with "system busy" is in the tracker store exactly once;
- every ticket confirmed to a worker is in the complaints table exactly once.
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests
from sqlalchemy import create_engine, text

from bot.channels.common import replies
from bot.cluster.cluster import Cluster
from tests.conftest import rest_id

TICKET = re.compile(r"NJ-\d{8}-[2-9A-HJKMNP-Z]{5}")
FAQ = ["加班费怎么算", "公司拖欠工资怎么办", "年假有几天", "试用期最长多久", "工伤怎么认定"]


def complaint(n: int) -> list[str]:
    """One complaint's answers; each differs (the same complaint twice is stored once). The city in
    the employer's name is taken as the worker's region, so the form does not ask for it."""
    return ["我要投诉", f"苏州第{n}号测试电子厂", "/wage_arrears", f"拖欠工资{1000 + n}元，已经两个月", "上个月", "2",
            "匿名", "确认提交"]


@dataclass
class Sent:
    sender: str
    text: str
    status: int  # 0: no HTTP answer (connection error, timeout)
    replies: list[str]
    at: float

    @property
    def busy(self) -> bool:
        return any(replies()["system_busy"] in r for r in self.replies)


@dataclass
class Traffic:
    """``workers`` threads, each filing complaints and asking questions until stopped."""

    cluster: Cluster
    workers: int = 4
    think: float = 0.2
    sent: list[Sent] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._worker, args=(i,), daemon=True)
                         for i in range(self.workers)]

    def say(self, sender: str, message: str, session: requests.Session | None = None) -> Sent:
        try:
            response = (session or requests).post(f"{self.cluster.public_url}/webhooks/rest/webhook",
                                                  headers=self.cluster.rest_auth, json={"sender": sender, "message": message}, timeout=90)
            texts = [m.get("text") or "" for m in response.json()] if response.status_code == 200 else []
            sent = Sent(sender, message, response.status_code, texts, time.time())
        except (requests.RequestException, ValueError):
            sent = Sent(sender, message, 0, [], time.time())
        with self._lock:
            self.sent.append(sent)
            ticket = TICKET.search(" ".join(sent.replies)) if message == "确认提交" else None
            if ticket:
                self.tickets.append(ticket.group())
        return sent

    def _worker(self, index: int) -> None:
        session, n = requests.Session(), 0
        while not self._stop.is_set():
            sender, n = uuid.uuid4().hex, n + 1
            script = complaint(index * 1000 + n) if n % 2 else [FAQ[(index + n) % len(FAQ)], FAQ[n % len(FAQ)]]
            for message in script:
                if self._stop.is_set():
                    break
                self.say(sender, message, session)
                time.sleep(self.think)

    def __enter__(self) -> "Traffic":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    # --- what happened ----------------------------------------------------------------
    def failed(self, after: float = 0.0, before: float = float("inf")) -> list[Sent]:
        return [s for s in self.sent if after <= s.at < before and (s.status != 200 or s.busy)]

    def ok(self, after: float = 0.0) -> list[Sent]:
        return [s for s in self.sent if s.at >= after and s.status == 200 and not s.busy]


def count_check(cluster: Cluster, traffic: Traffic) -> dict[str, list]:
    """Lost or duplicated messages and tickets (all lists empty = nothing lost, nothing twice)."""
    engine = create_engine(cluster.database_url)
    senders = sorted({rest_id(s.sender) for s in traffic.sent})
    stored: Counter = Counter()
    with engine.connect() as conn:
        for start in range(0, len(senders), 200):
            chunk = senders[start:start + 200]
            rows = conn.execute(text("SELECT sender_id, data FROM events WHERE type_name = 'user' "
                                     "AND sender_id = ANY(:senders)"), {"senders": chunk})
            for sender, data in rows:
                stored[(sender.removeprefix("rest:"), json.loads(data).get("text"))] += 1
        tickets = Counter(t for (t,) in conn.execute(
            text("SELECT ticket FROM complaints WHERE ticket = ANY(:t)"), {"t": traffic.tickets}))
    engine.dispose()
    answered = Counter((s.sender, s.text) for s in traffic.ok())
    return {
        "messages_lost": [k for k, n in answered.items() if stored[k] < n],
        "messages_duplicated": [k for k, n in answered.items() if stored[k] > n],
        "tickets_lost": [t for t in traffic.tickets if tickets[t] == 0],
        "tickets_duplicated": [t for t, n in tickets.items() if n > 1],
    }
