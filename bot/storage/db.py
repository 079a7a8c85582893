"""Engine and unit of work.

``Database.transaction()`` is the one place where sessions begin, commit and roll back;
driver errors that mean "the database is not there" become :class:`StorageUnavailable`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event, pool
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.errors import StorageUnavailable

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a bounded wait on locks.

    A SQLite file keeps a pool of connections: SQLAlchemy 1.4 otherwise opens one per session, and
    the Rasa server asks the database on every turn (is this worker waiting for a person?), so
    opening a file and setting its pragmas was a fifth of its time under load. A connection is used
    by one thread at a time, so it may move between threads.
    """
    if url.startswith("sqlite"):
        pooled = make_url(url).database not in (None, "", ":memory:")
        engine = create_engine(url, future=True, pool_pre_ping=True,
                               connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                             **({"check_same_thread": False} if pooled else {})},
                               **({"poolclass": pool.QueuePool, "pool_size": 5, "max_overflow": 5}
                                  if pooled else {}))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class Database:
    """Owns the engine and hands out transactions."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on any error."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except OperationalError as exc:
            logger.error("database unavailable: %s", type(exc.orig).__name__)
            raise StorageUnavailable(str(type(exc.orig).__name__)) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StorageUnavailable("connection lost") from exc
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
