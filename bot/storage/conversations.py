"""Rasa's stored conversations (its ``events`` table) for retention and erasure from the CLI,
what the bot knows of a worker (their slots) for routing their untaught messages, and their
latest messages for the staff queue.

The running Rasa server erases a conversation itself when the worker asks the bot
(``UrlSQLTrackerStore``); this module serves ``niangjia purge`` and ``niangjia forget``,
which run beside it without loading Rasa.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, inspect, select
from sqlalchemy.engine import Engine

from bot.storage.db import Database

_metadata = MetaData()
# The columns of Rasa 3.6's SQLTrackerStore table that we read.
EVENTS = Table("events", _metadata, Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
               Column("type_name", String(255)), Column("timestamp", Float), Column("data", Text))


SLOT_EVENT = "slot"
MESSAGE_EVENTS = ("user", "bot")
# Senders per IN (...) list: well below SQLite's limit on bound parameters.
_BATCH = 500


class Conversations:
    def __init__(self, tracker_url: str, engine: Engine | None = None) -> None:
        self.db = Database(tracker_url, engine)

    def _exists(self) -> bool:
        with self.db.transaction() as session:  # an unreachable database is StorageUnavailable
            return inspect(session.connection()).has_table("events")

    def latest_slots(self, senders: Iterable[str], names: Collection[str]) -> dict[str, dict[str, Any]]:
        """The last value the bot set for each slot of ``names``, per sender (a slot never set is absent)."""
        wanted = sorted(set(senders))
        found: dict[str, dict[str, Any]] = {}
        if not wanted or not self._exists():
            return found
        with self.db.transaction() as session:
            for start in range(0, len(wanted), _BATCH):
                query = (select(EVENTS.c.sender_id, EVENTS.c.data)
                         .where(EVENTS.c.type_name == SLOT_EVENT, EVENTS.c.sender_id.in_(wanted[start:start + _BATCH]))
                         .order_by(EVENTS.c.id))
                for sender, data in session.execute(query):
                    event = json.loads(data or "{}")
                    if event.get("name") in names:
                        found.setdefault(sender, {})[event["name"]] = event.get("value")
        return found

    def messages_since(self, since: Mapping[str, float]) -> dict[str, list[dict[str, Any]]]:
        """What each sender and the bot said from ``since[sender]`` (an event timestamp) on, oldest first:
        Rasa's user and bot events as it stores them (the staff queue shows the worker's latest words)."""
        found: dict[str, list[dict[str, Any]]] = {}
        wanted = sorted(since)
        if not wanted or not self._exists():
            return found
        with self.db.transaction() as session:
            for start in range(0, len(wanted), _BATCH):
                chunk = wanted[start:start + _BATCH]
                query = (select(EVENTS.c.sender_id, EVENTS.c.timestamp, EVENTS.c.data)
                         .where(EVENTS.c.type_name.in_(MESSAGE_EVENTS), EVENTS.c.sender_id.in_(chunk),
                                EVENTS.c.timestamp >= min(since[s] for s in chunk))
                         .order_by(EVENTS.c.id))
                for sender, timestamp, data in session.execute(query):
                    if timestamp >= since[sender]:
                        found.setdefault(sender, []).append(json.loads(data or "{}"))
        return found

    def purge(self, before: datetime) -> tuple[int, int]:
        """Delete conversations whose last event is older than ``before``: (conversations, events)."""
        if not self._exists():
            return 0, 0
        cutoff = before.replace(tzinfo=timezone.utc).timestamp() if before.tzinfo is None else before.timestamp()
        stale = (select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id)
                 .having(func.max(EVENTS.c.timestamp) < cutoff))
        with self.db.transaction() as session:
            senders = list(session.scalars(stale))
            events = 0
            for start in range(0, len(senders), _BATCH):
                chunk = senders[start:start + _BATCH]
                events += session.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(chunk))).rowcount
        return len(senders), events

    def forget(self, sender_id: str) -> int:
        """Delete every event of ``sender_id``; how many."""
        if not self._exists():
            return 0
        with self.db.transaction() as session:
            return session.execute(delete(EVENTS).where(EVENTS.c.sender_id == sender_id)).rowcount

    def dispose(self) -> None:
        self.db.dispose()
