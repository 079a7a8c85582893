"""A handoff as the worker waits for it: acknowledged now and then, told who claimed it, and flagged to
supervisors when nobody claims it in time (a crisis sooner). SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import AuditEntry, Priority
from bot.storage.services import HandoffRequest, HandoffService, Waiting
# Units 市总工会 → 朝阳区工会, 海淀区工会; li (staff, 朝阳), wang (supervisor, 市总); a clock moved by the test.
from tests.storage.test_escalations import Clock, clock, db  # noqa: F401 (fixtures)

EVERY = timedelta(minutes=3)


@pytest.fixture
def service(db: Database, clock: Clock) -> HandoffService:
    return HandoffService(db, clock=clock, claim_minutes=10, crisis_claim_minutes=3)


def open_one(service: HandoffService, clock: Clock, sender: str, priority: Priority = Priority.NORMAL,
             region: str | None = "朝阳"):  # type: ignore[no-untyped-def]
    handoff = service.open(HandoffRequest(sender, "socketio", "crisis" if priority == Priority.CRISIS else "requested",
                                          priority, slots={"region": region} if region else {}))
    clock.advance(1)
    return handoff


def test_a_waiting_worker_is_acknowledged_at_most_once_in_a_few_minutes(service, clock):
    assert service.acknowledge_waiting("nobody-waits", EVERY) is None
    first = open_one(service, clock, "w-first")
    waiting = open_one(service, clock, "w-waiting")
    assert service.acknowledge_waiting("w-waiting", EVERY) == Waiting(waiting.id, 2)
    clock.advance(1)
    assert service.acknowledge_waiting("w-waiting", EVERY) is None  # the worker wrote again at once
    clock.advance(2)
    assert service.acknowledge_waiting("w-waiting", EVERY) == Waiting(waiting.id, 2)  # three minutes on
    # Its own unit's queue, in the queue's order: a crisis goes ahead of both.
    crisis = open_one(service, clock, "w-crisis", Priority.CRISIS)
    elsewhere = open_one(service, clock, "w-elsewhere", region=None)
    assert service.acknowledge_waiting("w-crisis", EVERY) == Waiting(crisis.id, 1)
    assert service.acknowledge_waiting("w-elsewhere", EVERY) == Waiting(elsewhere.id, 1)
    clock.advance(3)
    service.claim(first.id, "li")
    assert service.acknowledge_waiting("w-waiting", EVERY) == Waiting(waiting.id, 2)  # claimed ones leave
    # Once someone has claimed it, staff talk to the worker: no more acknowledgements.
    clock.advance(3)
    service.claim(waiting.id, "wang")
    assert service.acknowledge_waiting("w-waiting", EVERY) is None


def test_two_processes_asking_at_once_acknowledge_once(db, service, clock):
    open_one(service, clock, "w")
    other = HandoffService(db, clock=clock)
    answers = [service.acknowledge_waiting("w", EVERY), other.acknowledge_waiting("w", EVERY)]
    assert sum(a is not None for a in answers) == 1


def test_the_worker_is_told_once_who_claimed_the_conversation(service, clock):
    handoff = open_one(service, clock, "w")
    claimed, notice = service.claim_and_tell(handoff.id, "li", lambda name: f"工会的{name}已接入")
    assert claimed.claimed_by.username == "li"
    assert (notice.text, notice.staff_name, notice.notice) == ("工会的李干事已接入", "李干事", True)
    # Kept like a staff reply: sent again until the worker's page confirms it; not a staff reply.
    assert service.unacknowledged_replies("w", "socketio") == [notice]
    assert [(m.role, m.text) for m in claimed.messages] == [("notice", "工会的李干事已接入")]
    assert service.claim_and_tell(handoff.id, "li", lambda name: f"工会的{name}已接入")[1] is None  # again: no
    assert service.acknowledge_replies("w", "socketio", [notice.message_id]) == 1
    assert service.unacknowledged_replies("w", "socketio") == []


def audited(db: Database) -> list[tuple[str, dict]]:
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "handoff.unclaimed")).all()
        return [(e.object_id, e.detail) for e in entries]


def test_an_unclaimed_crisis_is_flagged_after_the_crisis_limit_the_others_after_theirs(db, service, clock):
    normal = open_one(service, clock, "w-normal")
    crisis = open_one(service, clock, "w-crisis", Priority.CRISIS)  # opened at 9:01, the clock now 9:02
    clock.advance(1.5)
    assert service.flag_overdue() == []
    clock.advance(1)  # the crisis has waited 3.5 minutes: past its 3
    assert service.flag_overdue() == [crisis.id]
    assert service.flag_overdue() == []  # once
    assert [h.id for h in service.overdue()] == [crisis.id]
    assert service.get(crisis.id).flagged_at == clock.now
    clock.advance(6)  # the other one has waited 10.5 minutes
    assert service.flag_overdue() == [normal.id]
    assert [h.id for h in service.overdue()] == [crisis.id, normal.id]  # the crisis first
    assert audited(db) == [(str(crisis.id), {"priority": 1, "limit_minutes": 3}),
                           (str(normal.id), {"priority": 3, "limit_minutes": 10})]
    service.claim(crisis.id, "li")
    assert [h.id for h in service.overdue()] == [normal.id]  # claimed: no longer waiting


def test_a_handoff_claimed_in_time_is_never_flagged(db, service, clock):
    crisis = open_one(service, clock, "w-crisis", Priority.CRISIS)
    service.claim(crisis.id, "li")
    clock.advance(30)
    assert service.flag_overdue() == [] and service.queue()[0].flagged_at is None
    assert audited(db) == []
