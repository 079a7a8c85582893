"""Rasa's own SQL tracker store, configured by one URL (the same database server as ours).

Changes to Rasa's ``SQLTrackerStore`` (same ``events`` table, same rows):

- one URL (``TRACKER_URL``) instead of dialect, host, port, db, user and password;
- connections are checked before use (``pool_pre_ping``), so after a database restart
  the first turns do not fail on dead pooled connections; a SQLite file keeps its
  connections open and is in write-ahead-log mode;
- a turn costs less: events are read and written with SQLAlchemy Core instead of ORM
  objects, and a save no longer counts the stored events first (the tracker read at the
  start of the turn knows how many there are). The Rasa server spent a third of its time
  in the tracker store under bench/load.py's load;
- a worker's "delete my data" (``action_forget_me`` sets the slot ``forget_me``) deletes
  every stored event of that conversation instead of saving the turn;
- a ``ValueError`` inside a session (a text the database cannot take) fails the turn: Rasa's
  own ``session_scope`` reads any ``ValueError`` as "PostgreSQL schema missing" and exits the
  whole server.

Rasa wraps every tracker store in ``FailSafeTrackerStore``, which on a database error
silently starts an empty conversation in memory: the worker's form and history vanish and
the turn is never stored. :class:`StrictTrackerStore` (installed by ``bot.rasa_server``)
lets the error through instead; the channels answer ``system_busy`` (nothing was
processed, try again) and the conversation is intact when the database is back.
"""
from __future__ import annotations

import itertools
import json
import logging
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import (FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs,
                                     ensure_schema_exists)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.storage.privacy import FORGET_SLOT

logger = logging.getLogger(__name__)


# How many of a tracker's events are in the database, noted on the tracker object when it is
# read and when it is saved: a turn holds the conversation's lock from retrieve to save, so
# nothing else stores events of that conversation in between.
_STORED = "_niangjia_stored_events"


class UrlSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` built from an SQLAlchemy URL (``url:`` in endpoints.yml)."""

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, **kwargs: Any) -> None:
        if not host:
            raise ValueError("UrlSQLTrackerStore needs url: (TRACKER_URL) in endpoints.yml")
        url = make_url(host)
        super().__init__(domain=domain, dialect=url.drivername, host=url.host, port=url.port,
                         db=url.database or "", username=url.username, password=url.password,
                         event_broker=event_broker, query=dict(url.query), **kwargs)
        engine_url = self.engine.url
        self.engine.dispose()
        self.engine = _create_engine(engine_url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._events = self.SQLEvent.__table__

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            ensure_schema_exists(session)
            yield session
        finally:
            session.close()

    async def _retrieve(self, sender_id: str,
                        fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's query, read with SQLAlchemy Core (rows of text, no ORM objects)."""
        with self.engine.connect() as connection:
            rows = connection.execute(self._events_query(sender_id, fetch_events_from_all_sessions))
            events = [json.loads(data) for data in rows.scalars()]
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            setattr(tracker, _STORED, len(tracker.events))
        return tracker

    def _events_query(self, sender_id: str, all_sessions: bool) -> sa.sql.Select:
        """The events of ``sender_id`` in order, all or from the latest session start on."""
        events = self._events
        query = sa.select(events.c.data).where(events.c.sender_id == sender_id)
        if not all_sessions:
            session_start = (sa.select(sa.func.max(events.c.timestamp))
                             .where(events.c.sender_id == sender_id,
                                    events.c.type_name == SessionStarted.type_name)
                             .scalar_subquery())
            query = query.where(sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        return query.order_by(events.c.id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events in one INSERT (Rasa counts the stored ones first)."""
        if tracker.get_slot(FORGET_SLOT):
            self.delete_conversation(tracker.sender_id)
            return
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            stored = getattr(tracker, _STORED, None)
            if stored is None:
                stored = self._count_stored(connection, tracker.sender_id)
            rows = [_row(tracker.sender_id, event) for event in itertools.islice(tracker.events, stored, None)]
            if rows:
                connection.execute(sa.insert(self._events), rows)
        setattr(tracker, _STORED, len(tracker.events))

    def _count_stored(self, connection: sa.engine.Connection, sender_id: str) -> int:
        """Events of the latest session already stored (Rasa's ``_additional_events``)."""
        latest = self._events_query(sender_id, all_sessions=False).subquery()
        return connection.execute(sa.select(sa.func.count()).select_from(latest)).scalar_one()

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of ``sender_id``; the number deleted."""
        with self.engine.begin() as connection:
            deleted = connection.execute(
                sa.delete(self._events).where(self._events.c.sender_id == sender_id)).rowcount
        logger.info("conversation erased on request: %d events", deleted)
        return deleted


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """One ``events`` row, as Rasa's ``SQLTrackerStore.save`` writes it."""
    data = event.as_dict()
    return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
            "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"), "data": json.dumps(data)}


def _create_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """Rasa's engine arguments, connections checked before use; a SQLite file keeps a pool of
    connections (SQLAlchemy 1.4 opens a new one per session) in write-ahead-log mode, so a
    commit syncs one file and readers (the console) do not block the Rasa server."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
    engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2,
                              connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def _brief(error: Exception) -> str:
    """The error's class and first line (SQL parameters, which hold worker text, come later)."""
    first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}"


class StrictTrackerStore(FailSafeTrackerStore):
    """Rasa's wrapper without the silent fall-back to an empty in-memory conversation."""

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as error:
            logger.error("tracker store unavailable (retrieve): %s", _brief(error))
            raise

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await self._tracker_store.retrieve_full_tracker(sender_id)
        except Exception as error:
            logger.error("tracker store unavailable (retrieve): %s", _brief(error))
            raise

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._tracker_store.save(tracker)
        except Exception as error:
            logger.error("tracker store unavailable (save): %s", _brief(error))
            raise
