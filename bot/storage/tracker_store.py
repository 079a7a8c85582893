"""Rasa's own SQL tracker store, configured by one URL (the same database server as ours)."""
from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url


class UrlSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` built from an SQLAlchemy URL (``url:`` in endpoints.yml).

    Rasa's store takes dialect, host, port, db, user and password separately; one URL
    (``TRACKER_URL``) keeps the deployment's configuration to a single value.
    """

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, **kwargs: Any) -> None:
        if not host:
            raise ValueError("UrlSQLTrackerStore needs url: (TRACKER_URL) in endpoints.yml")
        url = make_url(host)
        super().__init__(domain=domain, dialect=url.drivername, host=url.host, port=url.port,
                         db=url.database or "", username=url.username, password=url.password,
                         event_broker=event_broker, query=dict(url.query), **kwargs)
