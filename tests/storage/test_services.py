"""Services and repositories on real SQLite and real PostgreSQL, schema built by Alembic."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.complaints import ComplaintDraft
from bot.storage.db import Database
from bot.cli import main as cli_main
from bot.storage.errors import (HandoffNotFound, InvalidTransition, NotHandoffOwner, StaffNotFound,
                                StorageUnavailable, TicketNotFound)
from bot.storage.migrate import downgrade, upgrade
from bot.storage.models import AuditEntry, Complaint, Priority
from bot.storage.repositories import ComplaintRepository
from bot.storage.accounts import AccountService
from bot.storage.services import ComplaintService, HandoffRequest, HandoffService
from tests.conftest import free_port

JUNE = datetime(2026, 6, 1, 9, 0)


def draft(sender: str = "worker-1", **changes: object) -> ComplaintDraft:
    fields = dict(sender_id=sender, channel="rest", employer="宏达电子厂", topic="probation",
                  description="试用期六个月，合同只签一年", since_text="今年三月", workers_affected=1,
                  phone="13812345678", consent_to_contact=True)
    fields.update(changes)
    return ComplaintDraft(**fields)  # type: ignore[arg-type]


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    yield database
    database.dispose()


def count(db: Database, model) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_complaint_gets_a_quotable_ticket_and_an_audit_entry(db):
    result = ComplaintService(db, clock=lambda: JUNE).submit(draft())
    assert result.created
    assert re.fullmatch(r"NJ-20260601-[2-9A-HJKMNP-Z]{5}", result.complaint.ticket)
    stored = ComplaintService(db).for_sender(result.complaint.ticket, "worker-1")
    assert stored.employer == "宏达电子厂" and stored.status == "new"
    assert stored.priority == Priority.NORMAL
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.object_id) for e in entries] == [("complaint.filed", result.complaint.ticket)]


def test_the_same_complaint_twice_is_stored_once(db):
    service = ComplaintService(db)
    first, second = service.submit(draft()), service.submit(draft())
    assert first.created and not second.created
    assert second.complaint.ticket == first.complaint.ticket
    assert count(db, Complaint) == 1


def test_concurrent_double_taps_store_one_complaint(db):
    service = ComplaintService(db)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: service.submit(draft()), range(8)))
    assert len({r.complaint.ticket for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert count(db, Complaint) == 1


def test_different_complaints_get_distinct_tickets_even_when_a_ticket_collides(db):
    tickets = iter(["NJ-20260601-AAAAA", "NJ-20260601-AAAAA", "NJ-20260601-BBBBB"])
    service = ComplaintService(db, ticket_factory=lambda now: next(tickets))
    one = service.submit(draft(description="拖欠两个月工资"))
    two = service.submit(draft(description="加班没有加班费"))
    assert (one.complaint.ticket, two.complaint.ticket) == ("NJ-20260601-AAAAA", "NJ-20260601-BBBBB")
    assert count(db, Complaint) == 2


def test_a_worker_never_sees_another_workers_ticket(db):
    ticket = ComplaintService(db).submit(draft("worker-1")).complaint.ticket
    with pytest.raises(TicketNotFound):
        ComplaintService(db).for_sender(ticket, "worker-2")
    assert ComplaintService(db).recent_for_sender("worker-2") == []
    assert [c.ticket for c in ComplaintService(db).recent_for_sender("worker-1")] == [ticket]


def districts(db: Database) -> dict[str, int]:
    """A city union with two districts and a factory union; unit name → id."""
    accounts = AccountService(db)
    accounts.add_unit("市总工会", regions=["北京"])
    accounts.add_unit("朝阳区工会", parent="市总工会", regions=["朝阳"])
    accounts.add_unit("海淀区工会", parent="市总工会", regions=["海淀"])
    accounts.add_unit("星光电子厂工会", parent="朝阳区工会", employers=["星光电子厂"])
    return {u.name: u.id for u in accounts.units()}


@pytest.mark.parametrize("employer, region, unit", [
    ("宏达电子厂", "北京朝阳区", "朝阳区工会"),     # the district the worker named
    ("宏达电子厂", "北京", "市总工会"),             # only the city is known
    ("朝阳宏达电子厂", None, "朝阳区工会"),         # the place in the employer's name
    ("朝阳宏达电子厂", "北京", "朝阳区工会"),       # ... narrows the city down
    ("朝阳宏达电子厂", "海淀", "海淀区工会"),       # ... but never overrides where the worker works
    ("星光电子厂", "海淀", "星光电子厂工会"),       # the employer's own union comes first
    ("宏达电子厂", None, None),
    ("宏达电子厂", "江苏", None),
])
def test_a_complaint_keeps_its_region_and_is_routed_like_a_handoff(db, employer, region, unit):
    units = districts(db)
    complaint = ComplaintService(db).submit(draft(employer=employer, region=region)).complaint
    assert complaint.region == region
    assert complaint.org_unit_id == units.get(unit)
    handoff = HandoffService(db).open(HandoffRequest(f"h-{complaint.ticket}", "rest", "requested",
                                                     slots={"complaint_employer": employer, "region": region}))
    assert handoff.org_unit_id == complaint.org_unit_id


@pytest.mark.parametrize("topic, workers, day, expected", [
    ("probation", 1, JUNE, Priority.NORMAL),
    ("probation", 30, JUNE, Priority.URGENT),                   # many workers affected
    ("wage_arrears", 1, datetime(2027, 1, 20), Priority.URGENT),  # 17 days before Spring Festival 2027
    ("wage_arrears", 1, datetime(2026, 9, 1), Priority.NORMAL),
    ("probation", 1, datetime(2027, 1, 20), Priority.NORMAL),   # not about wages
])
def test_priority_rises_for_many_workers_or_arrears_before_spring_festival(db, topic, workers, day, expected):
    result = ComplaintService(db, clock=lambda: day).submit(draft(topic=topic, workers_affected=workers))
    assert result.complaint.priority == expected


def test_complaint_status_workflow_is_enforced_and_audited(db):
    service = ComplaintService(db)
    ticket = service.submit(draft()).complaint.ticket
    with pytest.raises(InvalidTransition):
        service.change_status(ticket, "resolved", "li")  # must be accepted first
    service.change_status(ticket, "accepted", "li")
    with pytest.raises(InvalidTransition):
        service.change_status(ticket, "rejected", "li", reason="  ")  # a reason is required
    service.change_status(ticket, "rejected", "li", reason="不属于工会受理范围")
    stored = service.for_sender(ticket, "worker-1")
    assert (stored.status, stored.status_reason) == ("rejected", "不属于工会受理范围")
    with pytest.raises(TicketNotFound):
        service.change_status("NJ-20260101-ZZZZZ", "accepted", "li")
    with db.transaction() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["complaint.filed", "complaint.status", "complaint.status"]


def test_a_failed_unit_of_work_leaves_nothing_behind(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            ComplaintRepository(session).add(Complaint(
                ticket="NJ-20260601-CCCCC", sender_id="w", employer="x厂", topic="probation",
                description="d", since_text="s", workers_affected=1, dedupe_key="k"))
            raise RuntimeError("crash after the insert, before the commit")
    assert count(db, Complaint) == 0


def staffed(db: Database) -> None:
    accounts = AccountService(db)
    accounts.add_unit("市总工会")
    accounts.add_unit("区工会", parent="市总工会")
    accounts.add("li", "李干事", "staff", "市总工会")
    accounts.add("wang", "王干事", "staff", "区工会")


def test_a_poor_rating_keeps_what_the_worker_wrote_once(db):
    staffed(db)
    service = HandoffService(db)
    for sender, rating in (("poor", 2), ("good", 4)):
        handoff = service.open(HandoffRequest(sender, "socketio", "requested"))
        service.claim(handoff.id, "li")
        service.resolve(handoff.id, "li")
        assert service.comment_rating(sender, "没人理我") is None  # not rated yet
        service.rate(sender, rating)
    stored = service.comment_rating("poor", "等了一个小时才有人回")
    assert stored is not None and service.get(stored.id).rating_comment == "等了一个小时才有人回"
    assert service.comment_rating("poor", "再补充一句") is None  # once
    assert service.get(stored.id).rating_comment == "等了一个小时才有人回"
    assert service.comment_rating("good", "挺好") is None  # asked only after a rating of 1–2
    assert service.comment_rating("nobody", "…") is None
    with db.transaction() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(stored.id)))
        assert "handoff.rating_commented" in list(actions)


def test_handoff_queue_puts_crisis_first_then_the_oldest(db):
    staffed(db)
    clock = iter([JUNE, JUNE + timedelta(minutes=1), JUNE + timedelta(minutes=2)])
    service = HandoffService(db, clock=lambda: next(clock))
    service.open(HandoffRequest("a", "socketio", "requested"))
    service.open(HandoffRequest("b", "socketio", "requested"))
    service.open(HandoffRequest("c", "socketio", "crisis", Priority.CRISIS, "self_harm"))
    queue = HandoffService(db, clock=lambda: JUNE).queue()
    assert [h.sender_id for h in queue] == ["c", "a", "b"]


def test_a_second_trigger_joins_the_open_handoff_and_raises_its_priority(db):
    service = HandoffService(db)
    first = service.open(HandoffRequest("w", "rest", "requested",
                                        transcript=[("worker", "转人工", 1.0), ("bot", "好的", 1.1)]))
    second = service.open(HandoffRequest("w", "rest", "crisis", Priority.CRISIS, "violence",
                                         transcript=[("worker", "转人工", 1.0), ("worker", "他们打人了", 2.0)]))
    assert second.id == first.id
    assert (second.priority, second.urgency) == (Priority.CRISIS, "violence")
    assert [m.text for m in second.messages] == ["转人工", "好的", "他们打人了"]


def test_claim_reply_resolve_rate(db):
    staffed(db)
    service = HandoffService(db)
    handoff = service.open(HandoffRequest("w", "socketio", "requested", slots={"complaint_employer": "某厂"}))
    with pytest.raises(InvalidTransition):
        service.record_staff_reply(handoff.id, "li", "你好")  # not claimed yet
    assert service.claim(handoff.id, "li").claimed_by.username == "li"
    with pytest.raises(InvalidTransition):
        service.claim(handoff.id, "wang")  # already someone else's
    with pytest.raises(StaffNotFound):
        service.claim(handoff.id, "nobody")
    message_id = service.record_staff_reply(handoff.id, "li", "你好，我是工会的李干事")
    service.mark_delivery(message_id, False, "rasa unavailable")
    assert service.add_worker_messages(handoff.id, [("谢谢", 5.0), ("谢谢", 5.0)]) == 1
    resolved = service.resolve(handoff.id, "li")
    assert resolved.status == "resolved" and resolved.slots == {"complaint_employer": "某厂"}
    staff_message = next(m for m in resolved.messages if m.role == "staff")
    assert (staff_message.delivered, staff_message.delivery_error) == (False, "rasa unavailable")
    assert service.rate("w", 4).rating == 4
    assert service.rate("w", 1) is None  # rated once only
    with pytest.raises(InvalidTransition):
        service.resolve(handoff.id, "li")
    with pytest.raises(HandoffNotFound):
        service.claim(9999, "li")
    # After resolution the worker may be handed off again.
    assert service.open(HandoffRequest("w", "socketio", "requested")).id != handoff.id


def test_only_the_claimer_or_a_supervisor_may_transfer_or_resolve_a_claimed_handoff(db):
    staffed(db)
    AccountService(db).add("zhao", "赵主任", "supervisor", "市总工会")
    AccountService(db).add("zhou", "周干事", "staff", "市总工会")
    service = HandoffService(db)
    unit = AccountService(db).units()[1].id
    handoff = service.open(HandoffRequest("w", "socketio", "requested"))
    service.claim(handoff.id, "li")
    for refused in (lambda: service.transfer(handoff.id, "wang", to_staff="wang"),
                    lambda: service.transfer(handoff.id, "wang", to_unit_id=unit),
                    lambda: service.resolve(handoff.id, "wang"),
                    lambda: service.check_may_resolve(handoff.id, "wang")):
        with pytest.raises(NotHandoffOwner):
            refused()
    kept = service.get(handoff.id)
    assert (kept.status, kept.claimed_by.username, kept.org_unit_id) == ("claimed", "li", None)
    # Not to a colleague whose units do not cover it (区工会 does not see unrouted work): they could not open it.
    with pytest.raises(InvalidTransition):
        service.transfer(handoff.id, "li", to_staff="wang")
    assert service.transfer(handoff.id, "li", to_staff="zhou").claimed_by.username == "zhou"
    assert service.resolve(handoff.id, "zhao").status == "resolved"  # a supervisor may
    # An unclaimed handoff is anyone's to pass on.
    second = service.open(HandoffRequest("w2", "socketio", "requested"))
    assert service.transfer(second.id, "wang", to_unit_id=unit).org_unit_id == unit


def test_the_cli_refuses_to_resolve_someone_elses_handoff_before_waking_the_bot(db, database_url, tmp_path,
                                                                                 monkeypatch, capsys):
    staffed(db)
    service = HandoffService(db)
    handoff = service.open(HandoffRequest("w", "socketio", "requested"))
    service.claim(handoff.id, "li")
    # No Rasa server listens here: reaching it would fail differently.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NIANGJIA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_PORT", str(free_port()))
    assert cli_main(["resolve", str(handoff.id), "--as", "wang"]) == 2
    error = capsys.readouterr().err
    assert "NotHandoffOwner" in error and "claimed by li" in error
    assert service.get(handoff.id).status == "claimed"


def test_unclaimed_handoffs_are_flagged_after_the_timeout(db):
    service = HandoffService(db, clock=lambda: JUNE, claim_minutes=10)
    handoff = service.open(HandoffRequest("w", "rest", "requested"))
    assert service.queue()[0].flagged_at is None
    later = HandoffService(db, clock=lambda: JUNE + timedelta(minutes=11), claim_minutes=10)
    assert later.queue()[0].flagged_at == JUNE + timedelta(minutes=11)
    assert later.get(handoff.id).flagged_at is not None


def test_migrations_go_down_and_up_again(database_url):
    downgrade(database_url, "base")
    upgrade(database_url)
    db = Database(database_url)
    assert ComplaintService(db).submit(draft()).created
    db.dispose()


def test_an_unreachable_database_is_reported_not_hidden(tmp_path, postgres):
    for url in (f"sqlite:///{tmp_path}/missing/dir/niangjia.db", postgres.url("no_such_database"),
                "postgresql://niangjia@127.0.0.1:1/niangjia"):
        db = Database(url)
        with pytest.raises(StorageUnavailable):
            ComplaintService(db).submit(draft())
        db.dispose()


def test_web_chat_replies_wait_for_the_workers_page_and_only_that_worker_confirms_them(db):
    from bot.storage.models import HandoffMessage
    from bot.storage.privacy import erased_text

    accounts = AccountService(db)
    accounts.add("li", "李干事")
    handoffs = HandoffService(db)
    handoff = handoffs.open(HandoffRequest("w-page", "socketio", "requested"))
    handoffs.claim(handoff.id, "li")
    first = handoffs.record_staff_reply(handoff.id, "li", "你好，我是李干事")
    second = handoffs.record_staff_reply(handoff.id, "li", "请把工资条发来")
    assert [r.message_id for r in handoffs.unacknowledged_replies("w-page", "socketio")] == [first, second]
    assert handoffs.unacknowledged_replies("w-page", "wechat") == []
    assert handoffs.acknowledge_replies("w-other", "socketio", [first, second]) == 0
    assert handoffs.acknowledge_replies("w-page", "socketio", [first]) == 1
    assert [r.text for r in handoffs.unacknowledged_replies("w-page", "socketio")] == ["请把工资条发来"]
    with db.transaction() as session:  # retention erased the old reply's text
        session.get(HandoffMessage, second).text = erased_text()
    assert handoffs.unacknowledged_replies("w-page", "socketio") == []


def test_urls_name_the_console_and_how_to_create_the_first_admin_until_one_exists(database_url, tmp_path,
                                                                                  monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NIANGJIA_VAR_DIR", str(tmp_path))
    assert cli_main(["urls"]) == 0
    first = capsys.readouterr().out
    assert "/console" in first and "create-admin" in first
    db = Database(database_url)
    try:
        AccountService(db).add("zhao", "赵主任", "admin")
    finally:
        db.dispose()
    assert cli_main(["urls"]) == 0
    later = capsys.readouterr().out
    assert "/console" in later and "create-admin" not in later
