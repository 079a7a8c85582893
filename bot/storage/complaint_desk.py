"""The staff side of complaints: find, read, move through the workflow, assign, note, export.

Every method takes the caller's :class:`Scope`: a complaint outside it raises
:class:`TicketNotFound`, exactly like a missing one, so another unit's tickets cannot be probed.
Each public method is one transaction and records every change in the audit log with its actor.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.complaints import mask_phone
from bot.storage.accounts import Scope, scope_of
from bot.storage.db import Database
from bot.storage.errors import InvalidInput, InvalidTransition, StaffNotFound, TicketNotFound
from bot.storage.models import AuditEntry, Complaint, ComplaintNote, ComplaintStatus, OrgUnit, StaffUser, utcnow
from bot.storage.repositories import AuditRepository, ComplaintRepository, StaffRepository
from bot.storage.services import COMPLAINT_FLOW

logger = logging.getLogger(__name__)

MAX_NOTE = 2000
MAX_REASON = 1000


@dataclass(frozen=True)
class ComplaintFilter:
    """What staff narrow the list (and the export) to; ``None`` or empty means any."""

    status: str | None = None
    topic: str | None = None
    employer: str | None = None  # substring, case-insensitive
    region: str | None = None  # substring: 朝阳 finds 北京朝阳区 (the place as the worker said it)
    created_from: datetime | None = None  # inclusive, naive UTC
    created_before: datetime | None = None  # exclusive, naive UTC

    def conditions(self) -> list:  # type: ignore[type-arg]
        found = []
        if self.status:
            found.append(Complaint.status == self.status)
        if self.topic:
            found.append(Complaint.topic == self.topic)
        if self.employer and self.employer.strip():
            found.append(_contains(Complaint.employer, self.employer))
        if self.region and self.region.strip():
            found.append(_contains(Complaint.region, self.region))
        if self.created_from is not None:
            found.append(Complaint.created_at >= self.created_from)
        if self.created_before is not None:
            found.append(Complaint.created_at < self.created_before)
        return found

    def summary(self) -> dict[str, str]:
        """The filters that were set, for the audit entry of an export."""
        values = {"status": self.status, "topic": self.topic, "employer": self.employer, "region": self.region,
                  "from": self.created_from.isoformat() if self.created_from else None,
                  "before": self.created_before.isoformat() if self.created_before else None}
        return {k: v for k, v in values.items() if v}


EXPORT_FIELDS = ("ticket", "created_at", "priority", "status", "topic", "employer", "region", "unit",
                 "workers_affected", "since_text", "description", "phone", "consent_to_contact",
                 "assigned_to", "status_reason", "updated_at")


def next_statuses(status: str) -> list[str]:
    """The statuses a complaint may move to from ``status``, in workflow order."""
    allowed = COMPLAINT_FLOW.get(status, set())
    return [s.value for s in ComplaintStatus if s.value in allowed]


class ComplaintDesk:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def search(self, scope: Scope, filters: ComplaintFilter = ComplaintFilter(),
               limit: int | None = 200) -> Sequence[Complaint]:
        """Complaints in ``scope`` matching ``filters``: most serious first, then newest first."""
        with self.db.transaction() as session:
            return session.scalars(self._query(scope, filters, limit)).all()

    def get(self, ticket: str, scope: Scope) -> Complaint:
        with self.db.transaction() as session:
            return self._visible(session, ticket, scope)

    def of_worker(self, sender_id: str, scope: Scope, limit: int = 20) -> tuple[list[Complaint], int]:
        """The worker's complaints in ``scope``, newest first, and how many more other units handle."""
        with self.db.transaction() as session:
            found = ComplaintRepository(session).for_sender(sender_id, limit=limit)
        mine = [c for c in found if scope.contains(c.org_unit_id)]
        return mine, len(found) - len(mine)

    def history(self, ticket: str, scope: Scope) -> Sequence[AuditEntry]:
        """What happened to the complaint, oldest first (from the audit log)."""
        with self.db.transaction() as session:
            self._visible(session, ticket, scope)
            query = (select(AuditEntry).where(AuditEntry.object_type == "complaint", AuditEntry.object_id == ticket)
                     .order_by(AuditEntry.at, AuditEntry.id))
            return session.scalars(query).all()

    def change_status(self, ticket: str, scope: Scope, status: str, actor: str,
                      reason: str | None = None) -> Complaint:
        """Move along the workflow; a rejection must say why (the worker is told the status)."""
        reason = (reason or "").strip() or None
        if reason and len(reason) > MAX_REASON:
            raise InvalidInput(f"reason longer than {MAX_REASON} characters")
        with self.db.transaction() as session:
            complaint = self._visible(session, ticket, scope)
            if status not in COMPLAINT_FLOW.get(complaint.status, set()):
                raise InvalidTransition("complaint", complaint.status, status)
            if status == ComplaintStatus.REJECTED.value and not reason:
                raise InvalidInput("a rejection needs a reason")
            old = complaint.status
            complaint.status, complaint.status_reason = status, reason
            complaint.updated_at = self.clock()
            AuditRepository(session).record(actor, "complaint.status", "complaint", ticket,
                                            {"from": old, "to": status, "reason": reason})
        logger.info("complaint status ticket=%s %s->%s", ticket, old, status)
        return self.get(ticket, scope)

    def assignees(self, ticket: str, scope: Scope, candidates: Sequence[StaffUser]) -> list[StaffUser]:
        """Of ``candidates`` (the user's colleagues), those whose own units let them see the complaint."""
        with self.db.transaction() as session:
            complaint = self._visible(session, ticket, scope)
            units = session.scalars(select(OrgUnit)).all()
        return [u for u in candidates if scope_of(units, u.org_unit_id).contains(complaint.org_unit_id)]

    def assign(self, ticket: str, scope: Scope, assignee: str | None, actor: str) -> Complaint:
        """Give the complaint to a colleague (``None``: to nobody); they must be in ``scope`` and see it."""
        with self.db.transaction() as session:
            complaint = self._visible(session, ticket, scope)
            staff = None
            if assignee:
                staff = StaffRepository(session).by_username(assignee)
                units = session.scalars(select(OrgUnit)).all()
                if (staff is None or not staff.active or not scope.contains(staff.org_unit_id)
                        or not scope_of(units, staff.org_unit_id).contains(complaint.org_unit_id)):
                    raise StaffNotFound(assignee)
            before = complaint.assigned_to.username if complaint.assigned_to else None
            complaint.assigned_to_id = staff.id if staff else None
            complaint.updated_at = self.clock()
            AuditRepository(session).record(actor, "complaint.assigned", "complaint", ticket,
                                            {"from": before, "to": assignee or None})
        return self.get(ticket, scope)

    def add_note(self, ticket: str, scope: Scope, actor: str, text: str) -> ComplaintNote:
        """An internal note for colleagues; never shown to the worker."""
        text = (text or "").strip()
        if not text or len(text) > MAX_NOTE:
            raise InvalidInput(f"a note needs 1 to {MAX_NOTE} characters")
        with self.db.transaction() as session:
            complaint = self._visible(session, ticket, scope)
            staff = StaffRepository(session).by_username(actor)
            if staff is None or not staff.active:
                raise StaffNotFound(actor)
            note = ComplaintNote(complaint_id=complaint.id, staff_id=staff.id, text=text, at=self.clock())
            session.add(note)
            session.flush()
            AuditRepository(session).record(actor, "complaint.noted", "complaint", ticket, {"note_id": note.id})
            return note

    def export_rows(self, scope: Scope, filters: ComplaintFilter, actor: str,
                    limit: int | None = None) -> list[dict[str, object]]:
        """Rows for a spreadsheet (phones masked), keyed by :data:`EXPORT_FIELDS`; the export is audited."""
        with self.db.transaction() as session:
            complaints = session.scalars(self._query(scope, filters, limit)).all()
            rows = [_export_row(c) for c in complaints]
            AuditRepository(session).record(actor, "complaint.exported", "complaint", "*",
                                            {"filters": filters.summary(), "rows": len(rows)})
        logger.info("complaints exported rows=%d", len(rows))
        return rows

    @staticmethod
    def _query(scope: Scope, filters: ComplaintFilter, limit: int | None):  # type: ignore[no-untyped-def]
        query = select(Complaint).order_by(Complaint.priority, Complaint.created_at.desc(), Complaint.id.desc())
        condition = scope.where(Complaint.org_unit_id)
        if condition is not None:
            query = query.where(condition)
        for extra in filters.conditions():
            query = query.where(extra)
        return query.limit(limit) if limit is not None else query

    @staticmethod
    def _visible(session: Session, ticket: str, scope: Scope) -> Complaint:
        complaint = ComplaintRepository(session).by_ticket(ticket)
        if complaint is None or not scope.contains(complaint.org_unit_id):
            raise TicketNotFound(ticket)
        return complaint


def _export_row(c: Complaint) -> dict[str, object]:
    return {"ticket": c.ticket, "created_at": c.created_at, "priority": c.priority, "status": c.status,
            "topic": c.topic, "employer": c.employer, "region": c.region or "",
            "unit": c.org_unit.name if c.org_unit else "", "workers_affected": c.workers_affected,
            "since_text": c.since_text, "description": c.description, "phone": mask_phone(c.phone),
            "consent_to_contact": c.consent_to_contact,
            "assigned_to": c.assigned_to.display_name if c.assigned_to else "",
            "status_reason": c.status_reason or "", "updated_at": c.updated_at}


def _contains(column, text: str):  # type: ignore[no-untyped-def]
    """``column`` contains ``text`` (case-insensitive; % and _ are meant literally)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
