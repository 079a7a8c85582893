"""Read-only queries behind the dashboard, on our tables and on Rasa's tracker store.

Rasa's ``SQLTrackerStore`` keeps every conversation event in its own ``events`` table
(``SQLTrackerStore.SQLEvent`` in rasa/core/tracker_store.py); :data:`EVENTS` maps just the
columns read here, so nothing that shows the dashboard imports Rasa.

Periods are half-open (``since <= t < until``) in naive UTC, like our tables; tracker
timestamps are float epoch seconds. Tracker figures cover every conversation: events carry
no org unit. Complaint and handoff figures take ``unit_ids``: None (every unit), unit ids,
or an account's :class:`~bot.storage.accounts.Scope` (which may also cover unrouted work).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Collection

from sqlalchemy import (Column, Float, Integer, MetaData, String, Table, Text, create_engine, distinct, func,
                        inspect, literal_column, select)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from bot.analytics.figures import (BOT_EVENT, FALLBACK_INTENT, LOOP_EVENT, USER_EVENT,
                                   ClarifyFigures, Count, DailyActivity, EmployerWarning, HandoffFigures, Ratio,
                                   UnrecognisedScan, ask_backs, average, clarify_figures, epoch, event_data,
                                   fill_days, group_employers, is_button, median_seconds, normalise_employer,
                                   ranked, ratio, topic_of, unrecognised, untaught)
from bot.storage.accounts import Scope
from bot.storage.db import Database
from bot.storage.errors import StorageUnavailable
from bot.storage.models import Complaint, ComplaintStatus, Handoff, utcnow

Units = Collection[int] | Scope | None

EVENTS = Table(
    "events", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

# Senders per IN (...) list: well below SQLite's limit on bound parameters.
_IN_BATCH = 500
# A bot message tagged as an ask-back ({"clarify": [...]}, bot/clarify.py); the tag is checked again
# when the JSON is read (figures.clarify_options).
_ASK_BACK = (EVENTS.c.type_name == BOT_EVENT) & EVENTS.c.data.contains('"clarify"')
_ASK_BACK_EVENTS = (EVENTS.c.type_name == USER_EVENT) | _ASK_BACK
# What the inbox scan reads: user messages, ask-backs, and forms starting and ending.
_SCANNED = _ASK_BACK_EVENTS | (EVENTS.c.type_name == LOOP_EVENT)


class epoch_day(FunctionElement):  # noqa: N801 (SQL function style)
    """The calendar day, 'YYYY-MM-DD', of an epoch-seconds expression (portable date bucketing)."""

    type = String()
    inherit_cache = True


@compiles(epoch_day, "sqlite")
def _sqlite_epoch_day(element, compiler, **kw):  # type: ignore[no-untyped-def]
    return "date(%s, 'unixepoch')" % compiler.process(element.clauses, **kw)


@compiles(epoch_day, "postgresql")
def _postgresql_epoch_day(element, compiler, **kw):  # type: ignore[no-untyped-def]
    return "to_char(to_timestamp(%s) AT TIME ZONE 'UTC', 'YYYY-MM-DD')" % compiler.process(element.clauses, **kw)


def _scoped(stmt, column, unit_ids: Units):  # type: ignore[no-untyped-def]
    """Limit ``stmt`` to rows whose ``org_unit_id`` ``column`` is in ``unit_ids`` (None: no limit)."""
    if unit_ids is None:
        return stmt
    if isinstance(unit_ids, Scope):
        condition = unit_ids.where(column)
        return stmt if condition is None else stmt.where(condition)
    return stmt.where(column.in_(list(unit_ids)))


class Analytics:
    """Read-only queries behind the analytics page and the unrecognised-messages inbox.

    ``tracker`` is Rasa's tracker store (an engine, or ``Settings.tracker_url``);
    ``day_offset`` shifts day boundaries from UTC (China Standard Time: 8 hours).
    """

    def __init__(self, db: Database, tracker: Engine | str, day_offset: timedelta = timedelta(0)) -> None:
        self.db = db
        if isinstance(tracker, str):
            tracker = db.engine if tracker == db.url else create_engine(tracker, future=True, pool_pre_ping=True)
        self.tracker = tracker
        self.day_offset = day_offset
        self._events_exist = False

    def dispose(self) -> None:
        if self.tracker is not self.db.engine:
            self.tracker.dispose()

    def _events(self, stmt) -> list[Any]:  # type: ignore[no-untyped-def]
        """Rows of a tracker query; none before Rasa has created its table."""
        try:
            self._events_exist = self._events_exist or inspect(self.tracker).has_table(EVENTS.name)
            if not self._events_exist:
                return []
            with self.tracker.connect() as connection:
                return list(connection.execute(stmt))
        except OperationalError as exc:
            raise StorageUnavailable(f"tracker store: {type(exc.orig).__name__}") from exc

    def _ours(self, stmt) -> list[Any]:  # type: ignore[no-untyped-def]
        with self.db.transaction() as session:
            return list(session.execute(stmt))

    @staticmethod
    def _user_events(since: datetime, until: datetime):  # type: ignore[no-untyped-def]
        c = EVENTS.c
        return (c.type_name == USER_EVENT, c.timestamp >= epoch(since), c.timestamp < epoch(until))

    def daily_activity(self, since: datetime, until: datetime) -> list[DailyActivity]:
        offset = literal_column(str(int(self.day_offset.total_seconds())))
        day = epoch_day(EVENTS.c.timestamp + offset).label("day")
        stmt = (select(day, func.count(distinct(EVENTS.c.sender_id)), func.count())
                .where(*self._user_events(since, until)).group_by(day))
        counts = {date.fromisoformat(d): (people, messages) for d, people, messages in self._events(stmt)}
        last = until - timedelta(microseconds=1)
        return fill_days(counts, (since + self.day_offset).date(), (last + self.day_offset).date())

    def conversations(self, since: datetime, until: datetime, among: Collection[str] | None = None) -> int:
        """Distinct senders with at least one user message in the period (only those ``among``, if given)."""
        count = select(func.count(distinct(EVENTS.c.sender_id))).where(*self._user_events(since, until))
        if among is None:
            return next((n for n, in self._events(count)), 0)
        senders = sorted(set(among))
        batches = (senders[i:i + _IN_BATCH] for i in range(0, len(senders), _IN_BATCH))
        return sum(next((n for n, in self._events(count.where(EVENTS.c.sender_id.in_(b)))), 0) for b in batches)

    def top_topics(self, since: datetime, until: datetime, topics: Collection[str], limit: int = 10) -> list[Count]:
        """The period's messages per topic, most first: only intents in ``topics`` (a staff FAQ's
        ``faq/<question>`` counts as ``faq``); greetings, answers, yes and no are no topic."""
        intent = EVENTS.c.intent_name
        stmt = (select(intent, func.count()).where(*self._user_events(since, until), intent.is_not(None))
                .group_by(intent))
        counts: Counter[str] = Counter()
        for name, count in self._events(stmt):
            if topic_of(name) in topics:
                counts[topic_of(name)] += count
        return ranked(counts.items(), limit)

    def fallback_rate(self, since: datetime, until: datetime) -> Ratio:
        fallbacks = func.count().filter(EVENTS.c.intent_name == FALLBACK_INTENT)
        stmt = select(fallbacks, func.count()).where(*self._user_events(since, until))
        part, whole = next(iter(self._events(stmt)), (0, 0))
        return ratio(part, whole)

    def handoff_rate(self, since: datetime, until: datetime) -> Ratio:
        """Of the period's conversations, those in which a handoff was opened (every unit's: events have none).

        A worker handed over twice counts once, and a handoff of a worker who wrote nothing in the
        period (or whose messages were erased) not at all: the part is always within the whole.
        """
        stmt = select(distinct(Handoff.sender_id)).where(Handoff.created_at >= since, Handoff.created_at < until)
        handed_over = [sender for sender, in self._ours(stmt)]
        return ratio(self.conversations(since, until, among=handed_over), self.conversations(since, until))

    def handoffs(self, since: datetime, until: datetime,
                 unit_ids: Units = None) -> HandoffFigures:
        """Figures of the handoffs opened in the period (medians in seconds from opening)."""
        stmt = select(Handoff.created_at, Handoff.claimed_at, Handoff.resolved_at, Handoff.rating).where(
            Handoff.created_at >= since, Handoff.created_at < until)
        rows = self._ours(_scoped(stmt, Handoff.org_unit_id, unit_ids))
        claimed = median_seconds((row.created_at, row.claimed_at) for row in rows)
        resolved = median_seconds((row.created_at, row.resolved_at) for row in rows)
        return HandoffFigures(len(rows), *claimed, *resolved, *average(row.rating for row in rows))

    def _complaint_counts(self, column, since: datetime, until: datetime,  # type: ignore[no-untyped-def]
                          unit_ids: Units) -> list[tuple[str, int]]:
        stmt = (select(column, func.count()).where(Complaint.created_at >= since, Complaint.created_at < until,
                                                   column.is_not(None)).group_by(column))
        return [(key, n) for key, n in self._ours(_scoped(stmt, Complaint.org_unit_id, unit_ids)) if key.strip()]

    def complaints_by_topic(self, since: datetime, until: datetime,
                            unit_ids: Units = None) -> list[Count]:
        return ranked(self._complaint_counts(Complaint.topic, since, until, unit_ids))

    def complaints_by_employer(self, since: datetime, until: datetime, limit: int = 10,
                               unit_ids: Units = None) -> list[Count]:
        return ranked(group_employers(self._complaint_counts(Complaint.employer, since, until, unit_ids)), limit)

    def complaints_by_region(self, since: datetime, until: datetime,
                             unit_ids: Units = None) -> list[Count]:
        return ranked(self._complaint_counts(Complaint.region, since, until, unit_ids))

    def early_warnings(self, now: datetime | None = None, window: timedelta = timedelta(days=7),
                       threshold: int = 3, unit_ids: Units = None) -> list[EmployerWarning]:
        """Employers with at least ``threshold`` complaints in the ``window`` before ``now``.

        Rejected complaints do not count: staff found nothing to act on.
        """
        now = now or utcnow()
        stmt = (select(Complaint.employer, Complaint.ticket, Complaint.created_at)
                .where(Complaint.created_at >= now - window, Complaint.created_at <= now,
                       Complaint.status != ComplaintStatus.REJECTED.value)
                .order_by(Complaint.created_at, Complaint.id))
        by_employer: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
        for employer, ticket, created_at in self._ours(_scoped(stmt, Complaint.org_unit_id, unit_ids)):
            by_employer[normalise_employer(employer)].append((employer, ticket, created_at))
        warnings = [
            EmployerWarning(group_employers((e, 1) for e, _, _ in rows)[0][0], len(rows), rows[-1][2],
                            [t for _, t, _ in rows])
            for rows in by_employer.values() if len(rows) >= threshold
        ]
        return sorted(warnings, key=lambda w: (w.count, w.latest_at), reverse=True)

    def unrecognised_messages(self, since_event_id: int = 0, low_confidence: float = 0.5,
                              max_events: int = 5000) -> UnrecognisedScan:
        """User messages after ``since_event_id`` that fell back or scored below ``low_confidence``
        (not answers to a form's questions), and the ask-backs asked or answered since.

        Examines at most ``max_events`` events, oldest first; call again from ``last_event_id``
        until it stops moving.
        """
        c = EVENTS.c
        stmt = (select(c.id, c.sender_id, c.type_name, c.timestamp, c.data)
                .where(_SCANNED, c.id > since_event_id).order_by(c.id).limit(max_events))
        rows = self._events(stmt)
        candidates = {row[1] for row in rows if row[2] == USER_EVENT
                      and unrecognised(row[0], row[1], row[3], row[4], low_confidence) is not None}
        in_form = {s for s in candidates if self._in_form(s, since_event_id)}
        # A button pressed now may answer an ask-back of an earlier scan: read it again.
        first: dict[str, Any] = {}
        for row in rows:
            first.setdefault(row[1], row)
        before = [r for s, row in first.items() if row[2] == USER_EVENT and is_button(row[4])
                  for r in self._before(s, since_event_id)]
        return UnrecognisedScan(untaught(rows, low_confidence, in_form), rows[-1][0] if rows else since_event_id,
                                ask_backs(sorted(before) + rows))

    def _in_form(self, sender_id: str, until_event_id: int) -> bool:
        """Whether a form of ``sender_id`` was active after event ``until_event_id``."""
        c = EVENTS.c
        stmt = (select(c.data).where(c.sender_id == sender_id, c.type_name == LOOP_EVENT, c.id <= until_event_id)
                .order_by(c.id.desc()).limit(1))
        return any(bool(event_data(raw).get("name")) for raw, in self._events(stmt))

    def _before(self, sender_id: str, until_event_id: int, n: int = 2) -> list[Any]:
        """The last ``n`` user messages and ask-backs of ``sender_id`` up to event ``until_event_id``."""
        c = EVENTS.c
        stmt = (select(c.id, c.sender_id, c.type_name, c.timestamp, c.data)
                .where(_ASK_BACK_EVENTS, c.sender_id == sender_id, c.id <= until_event_id)
                .order_by(c.id.desc()).limit(n))
        return [tuple(row) for row in self._events(stmt)]

    def clarify(self, since: datetime, until: datetime, reply_within: timedelta = timedelta(days=1)) -> ClarifyFigures:
        """The period's ask-backs: answered with a topic, "none of these" or abandoned, per topic offered.

        A reply is the worker's next message, read up to ``reply_within`` after the period.
        """
        c = EVENTS.c
        asked = select(distinct(c.sender_id)).where(_ASK_BACK, c.timestamp >= epoch(since), c.timestamp < epoch(until))
        senders = sorted(sender for sender, in self._events(asked))
        stmt = (select(c.id, c.sender_id, c.type_name, c.timestamp, c.data)
                .where(_ASK_BACK_EVENTS, c.timestamp >= epoch(since), c.timestamp < epoch(until + reply_within))
                .order_by(c.id))
        rows = [tuple(row) for i in range(0, len(senders), _IN_BATCH)
                for row in self._events(stmt.where(c.sender_id.in_(senders[i:i + _IN_BATCH])))]
        found = [a for a in ask_backs(sorted(rows)) if epoch(since) <= a.at < epoch(until)]
        return clarify_figures(found)
