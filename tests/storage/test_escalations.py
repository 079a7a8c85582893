"""Escalations under review on real SQLite and real PostgreSQL: flags, filters, who sees what, reviews."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.storage.accounts import EVERYTHING, AccountService
from bot.storage.db import Database
from bot.storage.errors import HandoffNotFound, InvalidInput, InvalidTransition
from bot.storage.escalations import ClaimLimits, EscalationDesk, EscalationFilter, Viewer, reason_of
from bot.storage.models import AuditEntry, Handoff, Priority
from bot.storage.privacy import PrivacyService
from bot.storage.services import HandoffRequest, HandoffService

JUNE = datetime(2026, 6, 1, 9, 0)
LIMITS = ClaimLimits(crisis=timedelta(minutes=3), general=timedelta(minutes=10))
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = JUNE

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    accounts = AccountService(database)
    accounts.add_unit("市总工会")
    accounts.add_unit("朝阳区工会", parent="市总工会", regions=["朝阳"])
    accounts.add_unit("海淀区工会", parent="市总工会", regions=["海淀"])
    accounts.add("li", "李干事", "staff", "朝阳区工会", password=PASSWORD)
    accounts.add("zhang", "张干事", "staff", "朝阳区工会", password=PASSWORD)
    accounts.add("sun", "孙干事", "staff", "海淀区工会", password=PASSWORD)
    accounts.add("wang", "王主任", "supervisor", "市总工会", password=PASSWORD)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(db, clock) -> EscalationDesk:  # type: ignore[no-untyped-def]
    return EscalationDesk(db, LIMITS, clock=clock)


def handled(db: Database, clock: Clock, sender: str, *, reason: str = "requested",
            priority: Priority = Priority.NORMAL, region: str | None = "朝阳", by: str = "li",
            claim_after: float | None = 1, reply: bool = True, resolve_after: float | None = 5,
            rating: int | None = None) -> Handoff:
    """A handoff as it went: opened, claimed ``claim_after`` minutes later, replied to, resolved, rated."""
    service = HandoffService(db, clock=clock)
    handoff = service.open(HandoffRequest(sender, "socketio", reason, priority,
                                          slots={"region": region} if region else {}))
    start = clock.now
    if claim_after is not None:
        clock.advance(claim_after)
        service.claim(handoff.id, by)
        if reply:
            clock.advance(1)
            service.record_staff_reply(handoff.id, by, "您好，我是工会的工作人员")
    if resolve_after is not None:
        clock.now = start + timedelta(minutes=resolve_after)
        service.resolve(handoff.id, by)
        if rating is not None:
            service.rate(sender, rating)
    clock.now = start + timedelta(minutes=30)  # the next handoff starts later
    return service.get(handoff.id)


def ids(found) -> list[int]:  # type: ignore[no-untyped-def]
    return [e.handoff.id for e in found]


def test_what_needs_review_comes_first_with_its_reasons(db, clock, desk):
    fine = handled(db, clock, "w-fine", rating=5)
    low = handled(db, clock, "w-low", rating=2)
    late = handled(db, clock, "w-late", reason="crisis", priority=Priority.CRISIS, claim_after=4, rating=4)
    quick = handled(db, clock, "w-quick", reason="crisis", priority=Priority.CRISIS, claim_after=2)
    silent = handled(db, clock, "w-silent", reply=False)
    waiting = handled(db, clock, "w-waiting", reason="crisis", priority=Priority.CRISIS, claim_after=None,
                      resolve_after=None)
    clock.now = waiting.created_at + timedelta(minutes=2)
    found = desk.search(Viewer(EVERYTHING))
    assert {e.handoff.id: e.flags for e in found} == {
        fine.id: (), low.id: ("low_rating",), late.id: ("crisis_late",), quick.id: (), silent.id: ("no_reply",),
        waiting.id: ()}
    clock.advance(2)  # the unclaimed crisis has now waited 4 minutes: past its 3
    found = desk.search(Viewer(EVERYTHING))
    # Needing review first, newest first within each group.
    assert ids(found) == [waiting.id, silent.id, late.id, low.id, quick.id, fine.id]
    assert [e.needs_review for e in found] == [True, True, True, True, False, False]
    assert [e.first_reply_at for e in found][-2:] == [quick.claimed_at + timedelta(minutes=1),
                                                      fine.claimed_at + timedelta(minutes=1)]
    assert found[1].first_reply_at is None


def test_a_reviewed_handoff_keeps_its_flags_but_no_longer_needs_review(db, clock, desk):
    low = handled(db, clock, "w-low", rating=1)
    other = handled(db, clock, "w-ok", rating=4)
    reviewed = desk.review(Viewer(EVERYTHING), low.id, "wang", "  已电话回访，职工对答复不满意，已补充说明  ")
    assert reviewed.flags == ("low_rating",) and not reviewed.needs_review
    assert (reviewed.handoff.reviewed_by.display_name, reviewed.handoff.review_note,
            reviewed.handoff.reviewed_at) == ("王主任", "已电话回访，职工对答复不满意，已补充说明", clock.now)
    assert ids(desk.search(Viewer(EVERYTHING))) == [other.id, low.id]  # newest first again
    assert ids(desk.search(Viewer(EVERYTHING), EscalationFilter(review="reviewed"))) == [low.id]
    assert ids(desk.search(Viewer(EVERYTHING), EscalationFilter(review="unreviewed"))) == [other.id]
    assert desk.search(Viewer(EVERYTHING), EscalationFilter(review="needed")) == []
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "handoff.reviewed")).one()
    assert (entry.actor, entry.object_type, entry.object_id, entry.detail) == (
        "wang", "handoff", str(low.id), {"flags": ["low_rating"]})


def test_a_review_needs_a_resolved_handoff_a_note_and_happens_once(db, clock, desk):
    open_one = handled(db, clock, "w-open", resolve_after=None)
    done = handled(db, clock, "w-done")
    with pytest.raises(InvalidTransition):
        desk.review(Viewer(EVERYTHING), open_one.id, "wang", "还在处理")
    for note in ("", "   ", "长" * 2001):
        with pytest.raises(InvalidInput):
            desk.review(Viewer(EVERYTHING), done.id, "wang", note)
    desk.review(Viewer(EVERYTHING), done.id, "wang", "处理得当")
    with pytest.raises(InvalidTransition):
        desk.review(Viewer(EVERYTHING), done.id, "wang", "再复核一次")
    assert desk.get(Viewer(EVERYTHING), done.id).handoff.review_note == "处理得当"


def viewer(db: Database, username: str, own: bool) -> Viewer:
    accounts = AccountService(db)
    user = accounts.get(username)
    return Viewer(accounts.scope(user.org_unit_id), user.id if own else None)


def test_supervisors_see_their_units_and_staff_only_what_they_claimed(db, clock, desk):
    li = handled(db, clock, "w-li", by="li")
    zhang = handled(db, clock, "w-zhang", by="zhang")
    sun = handled(db, clock, "w-sun", region="海淀", by="sun")
    unrouted = handled(db, clock, "w-nowhere", region=None, by="wang")
    unclaimed = handled(db, clock, "w-waiting", claim_after=None, resolve_after=None)
    AccountService(db).add("zhou", "周主任", "supervisor", "海淀区工会", password=PASSWORD)
    assert set(ids(desk.search(viewer(db, "wang", own=False)))) == {li.id, zhang.id, sun.id, unrouted.id, unclaimed.id}
    assert ids(desk.search(viewer(db, "zhou", own=False))) == [sun.id]
    assert ids(desk.search(viewer(db, "li", own=True))) == [li.id]
    assert ids(desk.search(viewer(db, "sun", own=True))) == [sun.id]
    for who, hidden in (("li", zhang.id), ("li", unclaimed.id), ("zhou", li.id)):
        with pytest.raises(HandoffNotFound):
            desk.get(viewer(db, who, own=who == "li"), hidden)
    with pytest.raises(HandoffNotFound):
        desk.review(viewer(db, "zhou", own=False), li.id, "zhou", "不是我的单位")
    assert desk.get(Viewer(EVERYTHING), li.id).handoff.reviewed_at is None
    assert [u.username for u in desk.claimers(viewer(db, "zhou", own=False))] == ["sun"]
    assert {u.username for u in desk.claimers(viewer(db, "wang", own=False))} == {"li", "zhang", "sun", "wang"}


def test_filters(db, clock, desk):
    requested = handled(db, clock, "w-req", rating=2)
    fallback = handled(db, clock, "w-fb", reason="fallback", rating=5, by="zhang")
    crisis = handled(db, clock, "w-crisis", reason="crisis", priority=Priority.CRISIS)
    urgent = handled(db, clock, "w-urgent", reason="crisis", priority=Priority.URGENT, region="海淀", by="sun")
    waiting = handled(db, clock, "w-waiting", region=None, claim_after=None, resolve_after=None)
    everyone = Viewer(EVERYTHING)
    units = {u.name: u.id for u in AccountService(db).units()}
    zhang = AccountService(db).get("zhang").id

    def found(**filters) -> set[int]:  # type: ignore[no-untyped-def]
        return set(ids(desk.search(everyone, EscalationFilter(**filters))))

    assert [reason_of(h) for h in (requested, fallback, crisis, urgent)] == ["requested", "fallback", "crisis", "urgent"]
    assert found(reason="requested") == {requested.id, waiting.id}
    assert found(reason="fallback") == {fallback.id}
    assert found(reason="crisis") == {crisis.id}
    assert found(reason="urgent") == {urgent.id}
    assert found(status="open") == {waiting.id}
    assert found(staff_id=zhang) == {fallback.id}
    assert found(rating="low") == {requested.id}
    assert found(rating="5") == {fallback.id}
    assert found(rating="none") == {crisis.id, urgent.id, waiting.id}
    assert found(units=frozenset({units["海淀区工会"]})) == {urgent.id}
    assert found(unrouted=True) == {waiting.id}
    assert found(created_from=crisis.created_at) == {crisis.id, urgent.id, waiting.id}
    assert found(created_from=fallback.created_at, created_before=urgent.created_at) == {fallback.id, crisis.id}
    assert found(reason="requested", status="resolved", rating="low") == {requested.id}


def test_the_export_is_every_match_and_is_audited(db, clock, desk):
    for n in range(3):
        handled(db, clock, f"w-{n}", rating=n + 1)
    rows = desk.export(Viewer(EVERYTHING), EscalationFilter(rating="low"), "wang")
    assert sorted(e.handoff.rating for e in rows) == [1, 2]
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "handoff.exported")).one()
    assert (entry.actor, entry.detail) == ("wang", {"filters": {"rating": "low"}, "rows": 2})


def test_an_erased_conversation_stays_reviewable_without_its_text(db, clock, desk):
    erased = handled(db, clock, "w-forget", rating=1)
    PrivacyService(db).forget("w-forget")
    found = desk.get(Viewer(EVERYTHING), erased.id)
    assert found.needs_review and found.handoff.rating == 1
    assert {m.text for m in found.handoff.messages} == {"[已按职工要求或保存期限删除]"}


def test_migration_0009_keeps_handoffs_on_the_way_down_and_up(database_url, db, clock, desk):
    from bot.storage.migrate import downgrade, upgrade

    done = handled(db, clock, "w-done", rating=2)
    desk.review(Viewer(EVERYTHING), done.id, "wang", "已复核")
    db.dispose()
    downgrade(database_url, "0008")
    upgrade(database_url)
    again = Database(database_url)
    try:
        kept = HandoffService(again).get(done.id)
        assert (kept.rating, kept.reviewed_at, kept.review_note, kept.rating_comment) == (2, None, None, None)
    finally:
        again.dispose()
