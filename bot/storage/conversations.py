"""Rasa's stored conversations (its ``events`` table) for retention and erasure from the CLI.

The running Rasa server erases a conversation itself when the worker asks the bot
(``UrlSQLTrackerStore``); this module serves ``niangjia purge`` and ``niangjia forget``,
which run beside it without loading Rasa.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, inspect, select

from bot.storage.db import Database

_metadata = MetaData()
# The columns of Rasa 3.6's SQLTrackerStore table that we read.
EVENTS = Table("events", _metadata, Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
               Column("type_name", String(255)), Column("timestamp", Float), Column("data", Text))


class Conversations:
    def __init__(self, tracker_url: str) -> None:
        self.db = Database(tracker_url)

    def _exists(self) -> bool:
        return inspect(self.db.engine).has_table("events")

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
            for start in range(0, len(senders), 500):
                chunk = senders[start:start + 500]
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
