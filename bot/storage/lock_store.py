"""Rasa's lock store chosen by one URL: Redis in a cluster, process memory on one machine.

Rasa serialises the turns of one conversation with a ticket lock. With several Rasa
servers the lock must be shared, or two servers could answer the same worker at once from
the same tracker; ``REDIS_URL`` (``url:`` in endpoints.yml) names that Redis. Empty keeps
Rasa's in-memory store, which is right for a single server.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

# Seconds a lock store call may wait for Redis before the turn fails (and the worker is told).
REDIS_TIMEOUT_SECONDS = 2.0


def redis_lock_store(url: str) -> RedisLockStore:
    """Rasa's RedisLockStore for a ``redis://[user:password@]host[:port][/db]`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("REDIS_URL must look like redis://host:6379/0")
    db = parts.path.strip("/") or "0"
    return RedisLockStore(host=parts.hostname, port=parts.port or 6379, db=int(db),
                          username=unquote(parts.username) if parts.username else None,
                          password=unquote(parts.password) if parts.password else None,
                          use_ssl=parts.scheme == "rediss", key_prefix="niangjia",
                          socket_timeout=REDIS_TIMEOUT_SECONDS)


class UrlLockStore(LockStore):
    """Delegates to Redis when ``url`` is set, else to memory (the three primitives Rasa uses)."""

    def __init__(self, endpoint_config: Any = None) -> None:
        url = (getattr(endpoint_config, "url", None) or "").strip()
        self.store: LockStore = redis_lock_store(url) if url else InMemoryLockStore()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.store.save_lock(lock)
