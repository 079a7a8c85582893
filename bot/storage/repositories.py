"""Queries over our tables. Repositories add and read; they never commit (services do)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.storage.models import (AuditEntry, Complaint, Handoff, HandoffMessage, HandoffStatus,
                                MessageRole, StaffUser)


class ComplaintRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, complaint: Complaint) -> Complaint:
        self.session.add(complaint)
        self.session.flush()
        return complaint

    def by_ticket(self, ticket: str) -> Complaint | None:
        return self.session.scalars(select(Complaint).where(Complaint.ticket == ticket)).first()

    def by_dedupe_key(self, key: str) -> Complaint | None:
        return self.session.scalars(select(Complaint).where(Complaint.dedupe_key == key)).first()

    def for_sender(self, sender_id: str, limit: int = 5) -> Sequence[Complaint]:
        query = (select(Complaint).where(Complaint.sender_id == sender_id)
                 .order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit))
        return self.session.scalars(query).all()

    def listing(self, status: str | None = None, limit: int = 100) -> Sequence[Complaint]:
        query = select(Complaint).order_by(Complaint.priority, Complaint.created_at.desc()).limit(limit)
        if status:
            query = query.where(Complaint.status == status)
        return self.session.scalars(query).all()


class HandoffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, handoff: Handoff) -> Handoff:
        self.session.add(handoff)
        self.session.flush()
        return handoff

    def get(self, handoff_id: int) -> Handoff | None:
        return self.session.get(Handoff, handoff_id)

    def open_for_sender(self, sender_id: str) -> Handoff | None:
        query = select(Handoff).where(Handoff.sender_id == sender_id,
                                      Handoff.status != HandoffStatus.RESOLVED.value)
        return self.session.scalars(query).first()

    def last_resolved_for_sender(self, sender_id: str) -> Handoff | None:
        query = (select(Handoff)
                 .where(Handoff.sender_id == sender_id, Handoff.status == HandoffStatus.RESOLVED.value)
                 .order_by(Handoff.resolved_at.desc()).limit(1))
        return self.session.scalars(query).first()

    def queue(self, condition: Any = None) -> Sequence[Handoff]:
        """Unresolved handoffs (within ``condition``): most serious first, then oldest first."""
        query = (select(Handoff).where(Handoff.status != HandoffStatus.RESOLVED.value)
                 .order_by(Handoff.priority, Handoff.created_at, Handoff.id))
        if condition is not None:
            query = query.where(condition)
        return self.session.scalars(query).all()

    def unflagged_since(self, cutoff: datetime) -> Sequence[Any]:
        """(id, priority, created_at) of unclaimed, unflagged handoffs opened at ``cutoff`` or before."""
        query = select(Handoff.id, Handoff.priority, Handoff.created_at).where(
            Handoff.status == HandoffStatus.OPEN.value, Handoff.created_at <= cutoff, Handoff.flagged_at.is_(None))
        return self.session.execute(query).all()

    def flag(self, handoff_id: int, now: datetime) -> bool:
        """Flag an unclaimed handoff; False if it was flagged or claimed meanwhile (another process)."""
        result = self.session.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.flagged_at.is_(None),
                                  Handoff.status == HandoffStatus.OPEN.value)
            .values(flagged_at=now).execution_options(synchronize_session=False))
        return result.rowcount == 1

    def waiting_for_sender(self, sender_id: str) -> Any:
        """(id, priority, created_at, org_unit_id, acknowledged_at) of the worker's unclaimed handoff, or None."""
        query = select(Handoff.id, Handoff.priority, Handoff.created_at, Handoff.org_unit_id,
                       Handoff.acknowledged_at).where(Handoff.sender_id == sender_id,
                                                      Handoff.status == HandoffStatus.OPEN.value)
        return self.session.execute(query).first()

    def acknowledge(self, handoff_id: int, now: datetime, due: datetime) -> bool:
        """Mark a waiting handoff acknowledged now if it was not acknowledged after ``due``; False when
        it was (another process was first) or when it no longer waits."""
        result = self.session.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.OPEN.value,
                                  or_(Handoff.acknowledged_at.is_(None), Handoff.acknowledged_at <= due))
            .values(acknowledged_at=now).execution_options(synchronize_session=False))
        return result.rowcount == 1

    def place_in_queue(self, waiting: Any) -> int:
        """Where a waiting handoff stands among its unit's unclaimed ones (1: next), in the queue's order."""
        ahead = or_(Handoff.priority < waiting.priority,
                    and_(Handoff.priority == waiting.priority,
                         or_(Handoff.created_at < waiting.created_at,
                             and_(Handoff.created_at == waiting.created_at, Handoff.id < waiting.id))))
        unit = (Handoff.org_unit_id.is_(None) if waiting.org_unit_id is None
                else Handoff.org_unit_id == waiting.org_unit_id)
        query = select(func.count()).select_from(Handoff).where(Handoff.status == HandoffStatus.OPEN.value,
                                                                unit, ahead)
        return int(self.session.scalar(query) or 0) + 1

    def add_message(self, message: HandoffMessage) -> HandoffMessage:
        self.session.add(message)
        self.session.flush()
        return message

    def message(self, message_id: int) -> HandoffMessage | None:
        return self.session.get(HandoffMessage, message_id)

    def staff_replies_for(self, sender_id: str, channel: str, acknowledged: bool | None = None,
                          ids: Sequence[int] | None = None) -> Sequence[HandoffMessage]:
        """Staff messages and notices in ``sender_id``'s handoffs on ``channel``, in the order they were written."""
        query = (select(HandoffMessage).join(Handoff)
                 .where(Handoff.sender_id == sender_id, Handoff.channel == channel,
                        HandoffMessage.role.in_([MessageRole.STAFF.value, MessageRole.NOTICE.value]))
                 .order_by(HandoffMessage.id))
        if acknowledged is False:
            query = query.where(or_(HandoffMessage.delivered.is_(None), HandoffMessage.delivered.is_(False)))
        if ids is not None:
            query = query.where(HandoffMessage.id.in_(list(ids)))
        return self.session.scalars(query).all()

    def event_stamps(self, handoff_id: int) -> set[float]:
        query = select(HandoffMessage.event_ts).where(HandoffMessage.handoff_id == handoff_id,
                                                      HandoffMessage.event_ts.is_not(None))
        return set(self.session.scalars(query).all())


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: StaffUser) -> StaffUser:
        self.session.add(user)
        self.session.flush()
        return user

    def by_username(self, username: str) -> StaffUser | None:
        return self.session.scalars(select(StaffUser).where(StaffUser.username == username)).first()


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, actor: str, action: str, object_type: str, object_id: object,
               detail: dict | None = None) -> None:
        self.session.add(AuditEntry(actor=actor, action=action, object_type=object_type,
                                    object_id=str(object_id), detail=detail or {}))
