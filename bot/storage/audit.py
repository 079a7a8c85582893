"""Which audit entries an account may read: those about objects in its scope.

An entry is about one object (``object_type``, ``object_id``). Complaints, handoffs, accounts,
org units and untaught messages belong to an org unit, so their entries follow the object's
unit as the account's :class:`Scope` sees work; an object of no unit (unrouted, deleted, or of
a kind without a unit such as an erased conversation) counts as unrouted work. The bot's FAQs
and publish jobs are the whole organisation's, as every console account already sees them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, cast, func, literal, not_, or_, select, true, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from bot.storage.accounts import Scope
from bot.storage.models import AuditEntry, Complaint, Handoff, OrgUnit, StaffUser
from bot.storage.models_teaching import UnrecognisedMessage

LOGIN = "staff.login"

# object_type -> (the column object_id holds, the object's org-unit column).
OWNED = {
    "complaint": (Complaint.ticket, Complaint.org_unit_id),
    "handoff": (cast(Handoff.id, String), Handoff.org_unit_id),
    "staff_user": (StaffUser.username, StaffUser.org_unit_id),
    "org_unit": (cast(OrgUnit.id, String), OrgUnit.id),
    "unrecognised_message": (cast(UnrecognisedMessage.id, String), UnrecognisedMessage.org_unit_id),
}
SHARED = ("faq", "publish_job")


def _about(object_type: str, condition: Any) -> Any:
    """Entries about an object of ``object_type`` whose row meets ``condition``."""
    key, unit = OWNED[object_type]
    return and_(AuditEntry.object_type == object_type,
                AuditEntry.object_id.in_(select(key).where(condition(unit))))


def audit_condition(scope: Scope) -> Any:
    """A SQL condition on ``audit_log``: the entries an account of ``scope`` may read (None: all)."""
    if scope.unit_ids is None:
        return None
    visible = [AuditEntry.object_type.in_(SHARED)]
    visible += [_about(kind, scope.where) for kind in OWNED]
    if scope.unrouted:
        visible.append(and_(AuditEntry.object_type.not_in(SHARED),
                            not_(or_(*(_about(kind, lambda unit: true()) for kind in OWNED)))))
    return or_(*visible)


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page is asked for (None: any); ``since``/``until``: naive UTC, until exclusive."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry  # for logins: the day's last one
    count: int  # logins it stands for (an account's logins of one day are one row); 1 for the rest


class local_day(FunctionElement):  # noqa: N801 (SQL function style)
    """The calendar day of a stored (naive UTC) time shifted by whole ``hours`` (portable date bucketing)."""

    type = String()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _sqlite_local_day(element, compiler, **kw):  # type: ignore[no-untyped-def]
    column, hours = element.clauses
    return "date(%s, '%+d hours')" % (compiler.process(column, **kw), int(hours.value))


@compiles(local_day, "postgresql")
def _postgresql_local_day(element, compiler, **kw):  # type: ignore[no-untyped-def]
    column, hours = element.clauses
    return "to_char(%s + interval '%d hours', 'YYYY-MM-DD')" % (compiler.process(column, **kw), int(hours.value))


def audit_page(session: Session, filters: AuditFilter, condition: Any, offset: int, limit: int,
               day_offset: timedelta = timedelta(0)) -> tuple[list[AuditRow], int]:
    """The newest entries meeting ``filters`` and ``condition`` (see :func:`audit_condition`) from
    ``offset``, and how many there are; an account's logins of one day (``day_offset`` from UTC) count
    as one entry."""
    c = AuditEntry
    where = [w for w in (
        condition, c.actor == filters.actor if filters.actor else None,
        c.action == filters.action if filters.action else None,
        c.object_type == filters.object_type if filters.object_type else None,
        c.at >= filters.since if filters.since else None, c.at < filters.until if filters.until else None)
        if w is not None]
    hours = literal(int(day_offset.total_seconds() // 3600), Integer)
    others = select(c.id, c.at, literal(1, Integer).label("n")).where(*where, c.action != LOGIN)
    logins = (select(func.max(c.id).label("id"), func.max(c.at).label("at"), func.count().label("n"))
              .where(*where, c.action == LOGIN).group_by(c.actor, local_day(c.at, hours)))
    rows = union_all(others, logins).subquery()
    total = session.scalar(select(func.count()).select_from(rows)) or 0
    page = session.execute(select(rows.c.id, rows.c.n).order_by(rows.c.at.desc(), rows.c.id.desc())
                           .offset(offset).limit(limit)).all()
    entries = {e.id: e for e in session.scalars(select(AuditEntry).where(AuditEntry.id.in_([r.id for r in page])))}
    return [AuditRow(entries[r.id], r.n) for r in page], total
