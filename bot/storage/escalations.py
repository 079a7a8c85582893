"""Escalations under review: every handoff, open and resolved, with what needs a supervisor's look.

A handoff needs review, until a supervisor has reviewed it, when the worker rated it 1 or 2, when
it was a crisis that waited longer than the crisis claim limit for a person, or when it was
resolved without any staff reply. These flags are SQL expressions, so the list puts what needs
review first even when it is cut short, and the same definition marks the rows.

Who sees what (:class:`Viewer`): an account sees the handoffs of its units (``Scope``); a staff
member only those among them they claimed. A handoff outside that is :class:`HandoffNotFound`,
like a missing one. Each public method is one transaction; reviews and exports are audited.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from sqlalchemy import Float, and_, case, exists, func, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from bot.storage.accounts import Scope
from bot.storage.db import Database
from bot.storage.errors import HandoffNotFound, InvalidInput, InvalidTransition, StaffNotFound
from bot.storage.models import Handoff, HandoffMessage, HandoffStatus, MessageRole, Priority, StaffUser, utcnow
from bot.storage.repositories import AuditRepository, HandoffRepository, StaffRepository

logger = logging.getLogger(__name__)

LOW_RATING = 2  # a rating of at most this needs review
MAX_REVIEW_NOTE = 2000
# What a handoff was about, as the page filters it: the worker's request, the bot's fallback
# (two misunderstandings in a row), or an urgent-help category of data/knowledge/urgent.yml,
# crisis or urgent by its priority.
REASONS = ("requested", "fallback", "crisis", "urgent")
FLAGS = ("low_rating", "crisis_late", "no_reply")
RATING_FILTERS = ("low", "none", "1", "2", "3", "4", "5")
REVIEW_FILTERS = ("needed", "reviewed", "unreviewed")


class seconds_between(FunctionElement):  # noqa: N801 (SQL function style)
    """Seconds from the first datetime expression to the second (portable)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element, compiler, **kw):  # type: ignore[no-untyped-def]
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _postgresql_seconds(element, compiler, **kw):  # type: ignore[no-untyped-def]
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@dataclass(frozen=True)
class ClaimLimits:
    """How long a handoff may wait to be claimed: crisis ones, and the others."""

    crisis: timedelta
    general: timedelta

    def of(self, priority: int) -> timedelta:
        return self.crisis if priority == Priority.CRISIS else self.general


@dataclass(frozen=True)
class Viewer:
    """Whose eyes: the account's units, and for a staff member their own id (only what they claimed)."""

    scope: Scope
    own_id: int | None = None

    def conditions(self) -> list:  # type: ignore[type-arg]
        found = [c for c in (self.scope.where(Handoff.org_unit_id),) if c is not None]
        if self.own_id is not None:
            found.append(Handoff.claimed_by_id == self.own_id)
        return found


def reason_of(handoff: Handoff) -> str:
    """One of :data:`REASONS`."""
    if handoff.priority == Priority.CRISIS:
        return "crisis"
    return "urgent" if handoff.priority == Priority.URGENT else handoff.reason


def _reason_condition(reason: str) -> Any:
    if reason == "crisis":
        return Handoff.priority == int(Priority.CRISIS)
    if reason == "urgent":
        return Handoff.priority == int(Priority.URGENT)
    return and_(Handoff.reason == reason, Handoff.priority == int(Priority.NORMAL))


def _rating_condition(rating: str) -> Any:
    if rating == "low":
        return Handoff.rating <= LOW_RATING
    return Handoff.rating.is_(None) if rating == "none" else Handoff.rating == int(rating)


@dataclass(frozen=True)
class EscalationFilter:
    """What a supervisor narrows the list (and the export) to; ``None`` means any."""

    units: frozenset[int] | None = None  # the chosen unit and those below it
    unrouted: bool = False  # only handoffs routed to no unit
    status: str | None = None
    reason: str | None = None  # one of REASONS
    staff_id: int | None = None  # claimed by
    rating: str | None = None  # one of RATING_FILTERS
    review: str | None = None  # one of REVIEW_FILTERS
    created_from: datetime | None = None  # inclusive, naive UTC
    created_before: datetime | None = None  # exclusive, naive UTC

    def conditions(self, needs_review: Any) -> list:  # type: ignore[type-arg]
        found = []
        if self.units is not None:
            found.append(Handoff.org_unit_id.in_(self.units))
        if self.unrouted:
            found.append(Handoff.org_unit_id.is_(None))
        if self.status:
            found.append(Handoff.status == self.status)
        if self.reason in REASONS:
            found.append(_reason_condition(self.reason))
        if self.staff_id is not None:
            found.append(Handoff.claimed_by_id == self.staff_id)
        if self.rating in RATING_FILTERS:
            found.append(_rating_condition(self.rating))
        if self.review == "needed":
            found.append(needs_review)
        elif self.review in REVIEW_FILTERS:
            found.append(Handoff.reviewed_at.is_not(None) if self.review == "reviewed" else Handoff.reviewed_at.is_(None))
        if self.created_from is not None:
            found.append(Handoff.created_at >= self.created_from)
        if self.created_before is not None:
            found.append(Handoff.created_at < self.created_before)
        return found

    def summary(self) -> dict[str, object]:
        """The filters that were set, for the audit entry of an export."""
        values = {"units": sorted(self.units) if self.units is not None else None, "unrouted": self.unrouted,
                  "status": self.status, "reason": self.reason, "staff_id": self.staff_id, "rating": self.rating,
                  "review": self.review, "from": self.created_from.isoformat() if self.created_from else None,
                  "before": self.created_before.isoformat() if self.created_before else None}
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Escalation:
    """A handoff as the review page shows it: when staff first replied, and its review flags."""

    handoff: Handoff
    first_reply_at: datetime | None
    flags: tuple[str, ...]  # of FLAGS, whether reviewed or not

    @property
    def needs_review(self) -> bool:
        return bool(self.flags) and self.handoff.reviewed_at is None

    def seconds(self, until: datetime | None) -> float | None:
        return (until - self.handoff.created_at).total_seconds() if until else None


class EscalationDesk:
    def __init__(self, db: Database, limits: ClaimLimits, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.limits = limits
        self.clock = clock

    def search(self, viewer: Viewer, filters: EscalationFilter = EscalationFilter(),
               limit: int | None = 200) -> list[Escalation]:
        """Handoffs ``viewer`` sees that match ``filters``: needing review first, then newest first."""
        with self.db.transaction() as session:
            return self._found(session, viewer, filters, limit)

    def get(self, viewer: Viewer, handoff_id: int) -> Escalation:
        with self.db.transaction() as session:
            found = self._found(session, viewer, EscalationFilter(), None, Handoff.id == handoff_id)
            if not found:
                raise HandoffNotFound(handoff_id)
            return found[0]

    def claimers(self, viewer: Viewer) -> Sequence[StaffUser]:
        """The accounts that claimed a handoff ``viewer`` sees (the staff filter's choices)."""
        claimed = select(Handoff.claimed_by_id).where(*viewer.conditions())
        with self.db.transaction() as session:
            return session.scalars(select(StaffUser).where(StaffUser.id.in_(claimed))
                                   .order_by(StaffUser.display_name, StaffUser.id)).all()

    def review(self, viewer: Viewer, handoff_id: int, actor: str, note: str) -> Escalation:
        """Mark a resolved handoff reviewed ("已复核") with what the reviewer found; once."""
        note = (note or "").strip()
        if not note or len(note) > MAX_REVIEW_NOTE:
            raise InvalidInput(f"a review note needs 1 to {MAX_REVIEW_NOTE} characters")
        with self.db.transaction() as session:
            found = self._found(session, viewer, EscalationFilter(), None, Handoff.id == handoff_id)
            if not found:
                raise HandoffNotFound(handoff_id)
            handoff = HandoffRepository(session).get(handoff_id)
            if handoff.status != HandoffStatus.RESOLVED.value or handoff.reviewed_at is not None:
                raise InvalidTransition("handoff", "reviewed" if handoff.reviewed_at else handoff.status, "reviewed")
            reviewer = StaffRepository(session).by_username(actor)
            if reviewer is None or not reviewer.active:
                raise StaffNotFound(actor)
            handoff.reviewed_at, handoff.reviewed_by_id, handoff.review_note = self.clock(), reviewer.id, note
            AuditRepository(session).record(actor, "handoff.reviewed", "handoff", handoff_id,
                                            {"flags": list(found[0].flags)})
        logger.info("handoff reviewed id=%s", handoff_id)
        return self.get(viewer, handoff_id)

    def export(self, viewer: Viewer, filters: EscalationFilter, actor: str) -> list[Escalation]:
        """Every matching handoff, for a spreadsheet; the export is audited."""
        with self.db.transaction() as session:
            found = self._found(session, viewer, filters, None)
            AuditRepository(session).record(actor, "handoff.exported", "handoff", "*",
                                            {"filters": filters.summary(), "rows": len(found)})
        logger.info("handoffs exported rows=%d", len(found))
        return found

    def _flags(self) -> dict[str, Any]:
        """The review flags as SQL expressions (see the module's docstring)."""
        now = self.clock()
        staff_reply = exists().where(HandoffMessage.handoff_id == Handoff.id,
                                     HandoffMessage.role == MessageRole.STAFF.value)
        waited = seconds_between(Handoff.created_at, func.coalesce(Handoff.claimed_at, Handoff.resolved_at, now))
        return {
            "low_rating": Handoff.rating <= LOW_RATING,
            "crisis_late": and_(Handoff.priority == int(Priority.CRISIS),
                                waited > self.limits.crisis.total_seconds()),
            "no_reply": and_(Handoff.status == HandoffStatus.RESOLVED.value, not_(staff_reply)),
        }

    def _found(self, session: Session, viewer: Viewer, filters: EscalationFilter, limit: int | None,
               *extra: Any) -> list[Escalation]:
        flags = self._flags()
        needs_review = and_(Handoff.reviewed_at.is_(None), or_(*flags.values()))
        first_reply = (select(func.min(HandoffMessage.sent_at))
                       .where(HandoffMessage.handoff_id == Handoff.id, HandoffMessage.role == MessageRole.STAFF.value)
                       .correlate(Handoff).scalar_subquery())
        columns = [case((condition, 1), else_=0).label(name) for name, condition in flags.items()]
        query = (select(Handoff, first_reply.label("first_reply"), *columns)
                 .where(*viewer.conditions(), *filters.conditions(needs_review), *extra)
                 .order_by(case((needs_review, 0), else_=1), Handoff.created_at.desc(), Handoff.id.desc()))
        if limit is not None:
            query = query.limit(limit)
        return [Escalation(row[0], row.first_reply, tuple(name for name in flags if getattr(row, name)))
                for row in session.execute(query)]
