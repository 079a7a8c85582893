"""Rasa's own SQL tracker store, configured by one URL (the same database server as ours).

Three changes to Rasa's ``SQLTrackerStore``:

- one URL (``TRACKER_URL``) instead of dialect, host, port, db, user and password;
- connections are checked before use (``pool_pre_ping``), so after a database restart
  the first turns do not fail on dead pooled connections;
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

import logging
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import (FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs,
                                     ensure_schema_exists)
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.storage.privacy import FORGET_SLOT

logger = logging.getLogger(__name__)


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
        self.engine = sa.create_engine(engine_url, pool_pre_ping=True, **create_engine_kwargs(engine_url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            ensure_schema_exists(session)
            yield session
        finally:
            session.close()

    async def save(self, tracker: DialogueStateTracker) -> None:
        if tracker.get_slot(FORGET_SLOT):
            self.delete_conversation(tracker.sender_id)
            return
        await super().save(tracker)

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of ``sender_id``; the number deleted."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        logger.info("conversation erased on request: %d events", deleted)
        return deleted


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
