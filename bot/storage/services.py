"""Use cases over our tables. Each public method is one transaction (one unit of work)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from bot.complaints import ComplaintDraft, complaint_priority, new_ticket
from bot.storage.db import Database
from bot.storage.accounts import EVERYTHING, Scope, route_in, route_worker, scope_of
from bot.storage.escalations import LOW_RATING, ClaimLimits
from bot.storage.errors import (HandoffNotFound, InvalidTransition, NotHandoffOwner, StaffNotFound,
                                TicketNotFound, UnitNotFound)
from bot.storage.models import (Complaint, ComplaintStatus, Handoff, HandoffMessage,
                                HandoffStatus, MessageRole, OrgUnit, Priority, Role, StaffUser, utcnow)
from bot.storage.privacy import erased_text
from bot.storage.repositories import (AuditRepository, ComplaintRepository, HandoffRepository,
                                      StaffRepository)

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

COMPLAINT_FLOW: dict[str, set[str]] = {
    ComplaintStatus.NEW.value: {ComplaintStatus.ACCEPTED.value, ComplaintStatus.REJECTED.value},
    ComplaintStatus.ACCEPTED.value: {ComplaintStatus.IN_PROGRESS.value, ComplaintStatus.RESOLVED.value,
                                     ComplaintStatus.REJECTED.value},
    ComplaintStatus.IN_PROGRESS.value: {ComplaintStatus.RESOLVED.value, ComplaintStatus.REJECTED.value},
    ComplaintStatus.RESOLVED.value: set(),
    ComplaintStatus.REJECTED.value: set(),
}


@dataclass(frozen=True)
class StaffReply:
    """A staff member's reply (or a notice about the handoff) as the worker's page shows it."""

    message_id: int
    text: str
    staff_name: str
    notice: bool = False  # "工会的李干事已接入…": shown as a notice, not as the staff member's words


@dataclass(frozen=True)
class Waiting:
    """A worker's handoff that no one has claimed yet, and its place among its unit's (1: next)."""

    handoff_id: int
    place: int


@dataclass(frozen=True)
class SubmitResult:
    complaint: Complaint
    created: bool  # False: the same complaint was already stored (double tap, retry)


class ComplaintService:
    def __init__(self, db: Database, clock: Clock = utcnow,
                 ticket_factory: Callable[[datetime], str] = lambda now: new_ticket(now.date())) -> None:
        self.db = db
        self.clock = clock
        self.ticket_factory = ticket_factory

    def submit(self, draft: ComplaintDraft, attempts: int = 3) -> SubmitResult:
        """Store the complaint once; the same content from the same worker returns the first ticket."""
        key = draft.dedupe_key()
        for _ in range(attempts):
            try:
                return self._insert(draft, key)
            except IntegrityError:
                # A concurrent identical submission won the race, or the ticket collided.
                with self.db.transaction() as session:
                    existing = ComplaintRepository(session).by_dedupe_key(key)
                if existing is not None:
                    return SubmitResult(existing, created=False)
        raise RuntimeError("could not allocate a unique ticket number")

    def _insert(self, draft: ComplaintDraft, key: str) -> SubmitResult:
        now = self.clock()
        with self.db.transaction() as session:
            repo = ComplaintRepository(session)
            existing = repo.by_dedupe_key(key)
            if existing is not None:
                return SubmitResult(existing, created=False)
            complaint = repo.add(Complaint(
                ticket=self.ticket_factory(now), sender_id=draft.sender_id, channel=draft.channel,
                employer=draft.employer, topic=draft.topic, description=draft.description,
                since_text=draft.since_text, workers_affected=draft.workers_affected,
                phone=draft.phone, consent_to_contact=draft.consent_to_contact, region=draft.region,
                priority=int(complaint_priority(draft.topic, draft.workers_affected, now.date())),
                status=ComplaintStatus.NEW.value, dedupe_key=key, created_at=now, updated_at=now,
                org_unit_id=route_in(session, draft.employer, draft.region)))
            AuditRepository(session).record("worker", "complaint.filed", "complaint", complaint.ticket,
                                            {"priority": complaint.priority, "topic": draft.topic})
        logger.info("complaint filed ticket=%s priority=%s", complaint.ticket, complaint.priority)
        return SubmitResult(complaint, created=True)

    def for_sender(self, ticket: str, sender_id: str) -> Complaint:
        """A worker's own complaint; another worker's ticket looks exactly like a missing one."""
        with self.db.transaction() as session:
            complaint = ComplaintRepository(session).by_ticket(ticket)
        if complaint is None or complaint.sender_id != sender_id:
            raise TicketNotFound(ticket)
        return complaint

    def recent_for_sender(self, sender_id: str, limit: int = 3) -> Sequence[Complaint]:
        with self.db.transaction() as session:
            return ComplaintRepository(session).for_sender(sender_id, limit)

    def listing(self, status: str | None = None, limit: int = 100) -> Sequence[Complaint]:
        with self.db.transaction() as session:
            return ComplaintRepository(session).listing(status, limit)

    def change_status(self, ticket: str, status: str, actor: str, reason: str | None = None) -> Complaint:
        if status == ComplaintStatus.REJECTED.value and not (reason or "").strip():
            raise InvalidTransition("complaint", "?", "rejected without a reason")
        with self.db.transaction() as session:
            complaint = ComplaintRepository(session).by_ticket(ticket)
            if complaint is None:
                raise TicketNotFound(ticket)
            if status not in COMPLAINT_FLOW.get(complaint.status, set()):
                raise InvalidTransition("complaint", complaint.status, status)
            old = complaint.status
            complaint.status, complaint.status_reason = status, reason
            complaint.updated_at = self.clock()
            AuditRepository(session).record(actor, "complaint.status", "complaint", ticket,
                                            {"from": old, "to": status, "reason": reason})
        return complaint


@dataclass(frozen=True)
class HandoffRequest:
    sender_id: str
    channel: str | None
    reason: str  # requested | fallback | crisis
    priority: Priority = Priority.NORMAL
    urgency: str | None = None
    slots: dict = field(default_factory=dict)
    # (role, text, tracker event timestamp) of the conversation so far.
    transcript: Sequence[tuple[str, str, float]] = ()


def may_hand_on(handoff: Handoff, staff_id: int, role: Role) -> bool:
    """Transfer: a claimed handoff is its claimer's, or a supervisor's or admin's call."""
    return (handoff.status != HandoffStatus.CLAIMED.value or handoff.claimed_by_id in (None, staff_id)
            or role.rank >= Role.SUPERVISOR.rank)


def _may_hand_on(handoff: Handoff, staff: StaffUser) -> None:
    if not may_hand_on(handoff, staff.id, Role(staff.role)):
        claimer = handoff.claimed_by
        raise NotHandoffOwner(handoff.id, claimer.username, claimer.display_name)


def may_resolve(handoff: Handoff, staff_id: int, role: Role, scope: Scope) -> bool:
    """Resolve: only a claimed handoff (someone answered for it), by its claimer or by a supervisor or
    admin whose units (``scope``) cover it."""
    return handoff.status == HandoffStatus.CLAIMED.value and (
        handoff.claimed_by_id == staff_id or (role.rank >= Role.SUPERVISOR.rank and scope.contains(handoff.org_unit_id)))


def _may_resolve(session, handoff: Handoff, staff: StaffUser) -> None:  # type: ignore[no-untyped-def]
    if handoff.status != HandoffStatus.CLAIMED.value:
        raise InvalidTransition("handoff", handoff.status, HandoffStatus.RESOLVED.value)
    scope = scope_of(session.scalars(select(OrgUnit)).all(), staff.org_unit_id)
    if not may_resolve(handoff, staff.id, Role(staff.role), scope):
        claimer = handoff.claimed_by
        raise NotHandoffOwner(handoff.id, claimer.username, claimer.display_name)


class HandoffService:
    def __init__(self, db: Database, clock: Clock = utcnow, claim_minutes: float = 10,
                 crisis_claim_minutes: float = 3) -> None:
        self.db = db
        self.clock = clock
        self.limits = ClaimLimits(crisis=timedelta(minutes=crisis_claim_minutes),
                                  general=timedelta(minutes=claim_minutes))

    def open(self, request: HandoffRequest) -> Handoff:
        """Open a handoff, or join the worker's open one (raising its priority if need be)."""
        try:
            return self._open(request)
        except IntegrityError:
            return self._open(request)  # a concurrent request opened it first: join it

    def _open(self, request: HandoffRequest) -> Handoff:
        with self.db.transaction() as session:
            repo = HandoffRepository(session)
            handoff = repo.open_for_sender(request.sender_id)
            if handoff is None:
                handoff = repo.add(Handoff(
                    sender_id=request.sender_id, channel=request.channel, reason=request.reason,
                    urgency=request.urgency, priority=int(request.priority), slots=request.slots,
                    status=HandoffStatus.OPEN.value, created_at=self.clock(),
                    org_unit_id=route_worker(session, request.slots)))
                action = "handoff.opened"
            else:
                if request.priority < handoff.priority:
                    handoff.priority, handoff.urgency = int(request.priority), request.urgency
                    handoff.reason = request.reason
                handoff.slots = {**(handoff.slots or {}), **request.slots}
                action = "handoff.joined"
            self._add_events(repo, handoff.id, request.transcript)
            AuditRepository(session).record("worker", action, "handoff", handoff.id,
                                            {"reason": request.reason, "priority": handoff.priority})
            handoff_id = handoff.id
        logger.info("%s id=%s reason=%s", action, handoff_id, request.reason)
        return self.get(handoff_id)

    @staticmethod
    def _add_events(repo: HandoffRepository, handoff_id: int,
                    events: Sequence[tuple[str, str, float]]) -> int:
        seen = repo.event_stamps(handoff_id)
        added = 0
        for role, text, ts in events:
            if ts in seen or not text:
                continue
            seen.add(ts)
            repo.add_message(HandoffMessage(handoff_id=handoff_id, role=role, text=text, event_ts=ts,
                                            sent_at=datetime.utcfromtimestamp(ts)))
            added += 1
        return added

    def get(self, handoff_id: int) -> Handoff:
        with self.db.transaction() as session:
            handoff = HandoffRepository(session).get(handoff_id)
            if handoff is None:
                raise HandoffNotFound(handoff_id)
            return handoff

    def queue(self, scope: Scope = EVERYTHING) -> Sequence[Handoff]:
        """Unresolved handoffs, most serious and oldest first; flags the ones left unclaimed too long."""
        with self.db.transaction() as session:
            self._flag_overdue(session)
            return HandoffRepository(session).queue(scope.where(Handoff.org_unit_id))

    def flag_overdue(self) -> list[int]:
        """Flag every handoff left unclaimed past the claim limit of its priority (a crisis after
        ``crisis_claim_minutes``, the others after ``claim_minutes``), once: its unit's supervisors
        are alerted (bot.console.alerts). The console's timer calls this, so it happens on time
        whether or not anyone has a page open. The ids flagged now."""
        with self.db.transaction() as session:
            flagged = self._flag_overdue(session)
        if flagged:
            logger.info("handoffs left unclaimed too long: %s", flagged)
        return flagged

    def _flag_overdue(self, session) -> list[int]:  # type: ignore[no-untyped-def]
        now = self.clock()
        repo, flagged = HandoffRepository(session), []
        shortest = min(self.limits.crisis, self.limits.general)
        for handoff_id, priority, created_at in repo.unflagged_since(now - shortest):
            limit = self.limits.of(priority)
            if created_at <= now - limit and repo.flag(handoff_id, now):  # once, whichever process is first
                minutes = limit.total_seconds() / 60
                AuditRepository(session).record("system", "handoff.unclaimed", "handoff", handoff_id, {
                    "priority": priority, "limit_minutes": int(minutes) if minutes.is_integer() else round(minutes, 2)})
                flagged.append(handoff_id)
        return flagged

    def overdue(self, scope: Scope = EVERYTHING) -> Sequence[Handoff]:
        """Flagged handoffs still unclaimed (within ``scope``), most serious and oldest first."""
        waiting = and_(Handoff.status == HandoffStatus.OPEN.value, Handoff.flagged_at.is_not(None))
        within = scope.where(Handoff.org_unit_id)
        with self.db.transaction() as session:
            return HandoffRepository(session).queue(waiting if within is None else and_(waiting, within))

    def acknowledge_waiting(self, sender_id: str, every: timedelta) -> Waiting | None:
        """The worker's handoff if nobody has claimed it yet and the worker was not told so within
        ``every``: it counts as acknowledged now (once, whichever process asks first)."""
        now = self.clock()
        with self.db.transaction() as session:
            repo = HandoffRepository(session)
            waiting = repo.waiting_for_sender(sender_id)
            if waiting is None or (waiting.acknowledged_at is not None and waiting.acknowledged_at > now - every):
                return None
            if not repo.acknowledge(waiting.id, now, now - every):
                return None
            return Waiting(waiting.id, repo.place_in_queue(waiting))

    def add_note(self, handoff_id: int, username: str, text: str) -> None:
        """An internal note for colleagues; never sent to the worker."""
        with self.db.transaction() as session:
            _, staff = self._load(session, handoff_id, username)
            HandoffRepository(session).add_message(HandoffMessage(
                handoff_id=handoff_id, role=MessageRole.NOTE.value, text=text, staff_id=staff.id,
                sent_at=self.clock()))
            AuditRepository(session).record(username, "handoff.noted", "handoff", handoff_id)

    def transfer(self, handoff_id: int, username: str, to_staff: str | None = None,
                 to_unit_id: int | None = None) -> Handoff:
        """Give the conversation to a colleague (claimed by them) or to a unit's queue (open)."""
        return self.transfer_and_tell(handoff_id, username, to_staff=to_staff, to_unit_id=to_unit_id)[0]

    def transfer_and_tell(self, handoff_id: int, username: str, to_staff: str | None = None,
                          to_unit_id: int | None = None, notice: Callable[[str, bool], str] | None = None,
                          ) -> tuple[Handoff, StaffReply | None]:
        """Transfer; ``notice(name, to_a_person)`` (the colleague's display name or the unit's name)
        is kept as the notice the worker is sent ("你的咨询已转给…"), returned to be sent."""
        with self.db.transaction() as session:
            handoff, staff = self._load(session, handoff_id, username)
            if handoff.status == HandoffStatus.RESOLVED.value:
                raise InvalidTransition("handoff", handoff.status, "transfer")
            _may_hand_on(handoff, staff)
            if to_staff:
                colleague = StaffRepository(session).by_username(to_staff)
                if colleague is None or not colleague.active:
                    raise StaffNotFound(to_staff)
                units = session.scalars(select(OrgUnit)).all()
                if not scope_of(units, colleague.org_unit_id).contains(handoff.org_unit_id):
                    # they would be named to the worker but could neither see nor answer it
                    raise InvalidTransition("handoff", handoff.status, "transfer outside the colleague's units")
                handoff.status, handoff.claimed_by_id = HandoffStatus.CLAIMED.value, colleague.id
                handoff.claimed_at = handoff.claimed_at or self.clock()
                detail: dict = {"to_staff": to_staff}
                name, to_a_person = colleague.display_name, True
            elif to_unit_id is not None:
                unit = session.get(OrgUnit, to_unit_id)
                if unit is None:
                    raise UnitNotFound(str(to_unit_id))
                handoff.org_unit_id, handoff.status, handoff.claimed_by_id = to_unit_id, HandoffStatus.OPEN.value, None
                detail = {"to_unit": to_unit_id}
                name, to_a_person = unit.name, False
            else:
                raise InvalidTransition("handoff", handoff.status, "transfer to nobody")
            told = None
            if notice is not None:
                text = notice(name, to_a_person)
                message = HandoffRepository(session).add_message(HandoffMessage(
                    handoff_id=handoff_id, role=MessageRole.NOTICE.value, text=text, staff_id=staff.id,
                    sent_at=self.clock()))
                told = StaffReply(message.id, text, staff.display_name, notice=True)
            AuditRepository(session).record(username, "handoff.transferred", "handoff", handoff_id, detail)
        return self.get(handoff_id), told

    def add_worker_messages(self, handoff_id: int, messages: Sequence[tuple[str, float]]) -> int:
        """Messages the worker wrote while staff held the conversation (synced from the tracker)."""
        with self.db.transaction() as session:
            repo = HandoffRepository(session)
            if repo.get(handoff_id) is None:
                raise HandoffNotFound(handoff_id)
            events = [(MessageRole.WORKER.value, text, ts) for text, ts in messages]
            return self._add_events(repo, handoff_id, events)

    def claim(self, handoff_id: int, username: str) -> Handoff:
        return self.claim_and_tell(handoff_id, username)[0]

    def claim_and_tell(self, handoff_id: int, username: str,
                       notice: Callable[[str], str] | None = None) -> tuple[Handoff, StaffReply | None]:
        """Claim; when the conversation was not already this staff member's, ``notice(display name)``
        is kept as the notice the worker is sent ("工会的李干事已接入…"), returned to be sent."""
        with self.db.transaction() as session:
            handoff, staff = self._load(session, handoff_id, username)
            if handoff.status == HandoffStatus.RESOLVED.value or (
                    handoff.status == HandoffStatus.CLAIMED.value and handoff.claimed_by_id != staff.id):
                raise InvalidTransition("handoff", handoff.status, HandoffStatus.CLAIMED.value)
            told = None
            if notice is not None and handoff.status == HandoffStatus.OPEN.value:
                text = notice(staff.display_name)
                message = HandoffRepository(session).add_message(HandoffMessage(
                    handoff_id=handoff_id, role=MessageRole.NOTICE.value, text=text, staff_id=staff.id,
                    sent_at=self.clock()))
                told = StaffReply(message.id, text, staff.display_name, notice=True)
            handoff.status, handoff.claimed_by_id = HandoffStatus.CLAIMED.value, staff.id
            handoff.claimed_at = handoff.claimed_at or self.clock()
            AuditRepository(session).record(username, "handoff.claimed", "handoff", handoff_id)
        return self.get(handoff_id), told

    def record_staff_reply(self, handoff_id: int, username: str, text: str) -> int:
        """Keep the reply before it is sent, so a failed delivery never loses it."""
        with self.db.transaction() as session:
            handoff, staff = self._load(session, handoff_id, username)
            if handoff.status != HandoffStatus.CLAIMED.value or handoff.claimed_by_id != staff.id:
                raise InvalidTransition("handoff", handoff.status, "reply")
            message = HandoffRepository(session).add_message(HandoffMessage(
                handoff_id=handoff_id, role=MessageRole.STAFF.value, text=text, staff_id=staff.id,
                sent_at=self.clock()))
            AuditRepository(session).record(username, "handoff.replied", "handoff", handoff_id,
                                            {"message_id": message.id})
            return message.id

    def mark_delivery(self, message_id: int, delivered: bool | None, error: str | None = None) -> None:
        """``delivered`` None: sent, not yet confirmed by the worker's page."""
        with self.db.transaction() as session:
            message = HandoffRepository(session).message(message_id)
            if message is not None:
                message.delivered, message.delivery_error = delivered, (error or None)

    def unacknowledged_replies(self, sender_id: str, channel: str) -> list[StaffReply]:
        """Staff replies and notices to ``sender_id`` on ``channel`` that their page has not confirmed,
        oldest first."""
        with self.db.transaction() as session:
            messages = HandoffRepository(session).staff_replies_for(sender_id, channel, acknowledged=False)
            # A reply erased by retention is not sent as its placeholder.
            return [StaffReply(m.id, m.text, m.staff.display_name if m.staff else "",
                               notice=m.role == MessageRole.NOTICE.value) for m in messages
                    if m.text != erased_text()]

    def acknowledge_replies(self, sender_id: str, channel: str, message_ids: Sequence[int]) -> int:
        """The worker's page confirmed these replies: only replies to that worker count."""
        with self.db.transaction() as session:
            messages = HandoffRepository(session).staff_replies_for(sender_id, channel, ids=message_ids)
            for message in messages:
                message.delivered, message.delivery_error = True, None
            return len(messages)

    def resolve(self, handoff_id: int, username: str) -> Handoff:
        with self.db.transaction() as session:
            handoff, staff = self._load(session, handoff_id, username)
            _may_resolve(session, handoff, staff)
            handoff.status, handoff.resolved_at = HandoffStatus.RESOLVED.value, self.clock()
            AuditRepository(session).record(username, "handoff.resolved", "handoff", handoff_id)
        return self.get(handoff_id)

    def check_may_resolve(self, handoff_id: int, username: str) -> Handoff:
        """The handoff, if ``username`` may resolve it (checked before Rasa is asked to resume the bot)."""
        with self.db.transaction() as session:
            handoff, staff = self._load(session, handoff_id, username)
            _may_resolve(session, handoff, staff)
            return handoff

    def rate(self, sender_id: str, rating: int, within: timedelta = timedelta(days=1)) -> Handoff | None:
        """Store the worker's rating on their most recently resolved handoff, if any is waiting for one."""
        now = self.clock()
        with self.db.transaction() as session:
            handoff = HandoffRepository(session).last_resolved_for_sender(sender_id)
            if handoff is None or handoff.rating is not None or handoff.resolved_at < now - within:
                return None
            handoff.rating, handoff.rated_at = rating, now
            AuditRepository(session).record("worker", "handoff.rated", "handoff", handoff.id,
                                            {"rating": rating})
            return handoff

    def comment_rating(self, sender_id: str, comment: str, within: timedelta = timedelta(days=1)) -> Handoff | None:
        """Store what the worker wrote about the poor rating (1–2) they just gave, once."""
        now = self.clock()
        with self.db.transaction() as session:
            handoff = HandoffRepository(session).last_resolved_for_sender(sender_id)
            if (handoff is None or handoff.rating is None or handoff.rating > LOW_RATING
                    or handoff.rating_comment is not None or handoff.rated_at < now - within):
                return None
            handoff.rating_comment = comment
            AuditRepository(session).record("worker", "handoff.rating_commented", "handoff", handoff.id)
            return handoff

    @staticmethod
    def _load(session, handoff_id: int, username: str) -> tuple[Handoff, StaffUser]:  # type: ignore[no-untyped-def]
        handoff = HandoffRepository(session).get(handoff_id)
        if handoff is None:
            raise HandoffNotFound(handoff_id)
        staff = StaffRepository(session).by_username(username)
        if staff is None or not staff.active:
            raise StaffNotFound(username)
        return handoff, staff

