"""Who may change what the bot tells every worker, and whose untaught messages and audit entries
an account sees, on real SQLite and real PostgreSQL (schema by Alembic, events by Rasa's own store)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from bot.analytics import DECLINED, AskBack
from bot.complaints import ComplaintDraft
from bot.storage.accounts import EVERYTHING, ROUTING_SLOTS, AccountService
from bot.storage.audit import AuditFilter, audit_condition, audit_page
from bot.storage.conversations import Conversations
from bot.storage.db import Database
from bot.storage.errors import InvalidTransition
from bot.storage.models import AuditEntry
from bot.storage.models_teaching import FaqEntry, PublishJob, UnrecognisedMessage
from bot.storage.services import ComplaintService, HandoffRequest, HandoffService
from bot.storage.teaching import (ApprovalPending, MessageNotFound, NotPermitted, OwnChange, TeachingService,
                                  pending_approval)

ANSWER = "工作日 9:00-17:00，周六上午值班。"


@dataclass(frozen=True)
class Said:
    """An untaught message as the tracker scan reports it."""

    sender_id: str
    text: str
    intent: str | None = "nlu_fallback"
    confidence: float | None = 0.2
    timestamp: float = 1_780_000_000.0


def record_slots(tracker_url: str, slots: dict[str, dict[str, str]]) -> None:
    """Conversations in which the bot learnt these slots, stored by Rasa's own SQLTrackerStore."""
    store = SQLTrackerStore(domain=Domain.empty(), host=tracker_url)
    try:
        for sender, values in slots.items():
            events = [UserUttered("你好", timestamp=1_780_000_000.0),
                      *(SlotSet(name, value, timestamp=1_780_000_001.0) for name, value in values.items())]
            asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    finally:
        store.engine.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    accounts = AccountService(database)
    accounts.add_unit("市总工会")
    accounts.add_unit("朝阳区工会", parent="市总工会", regions=["朝阳"])
    accounts.add_unit("星光电子厂工会", parent="朝阳区工会", employers=["星光电子厂"])
    accounts.add_unit("海淀区工会", parent="市总工会", regions=["海淀"])
    accounts.add("li", "李干事", "staff", "朝阳区工会")
    accounts.add("wang", "王主任", "supervisor", "市总工会")
    accounts.add("zhou", "周主任", "supervisor", "海淀区工会")
    accounts.add("zhao", "赵管理员", "admin")
    yield database
    database.dispose()


@pytest.fixture
def tracker_url(database_url: str, tmp_path: Path) -> str:
    """Where Rasa keeps its events: a file of its own on SQLite, our database on PostgreSQL."""
    return f"sqlite:///{tmp_path / 'tracker.db'}" if database_url.startswith("sqlite") else database_url


def unit_id(db: Database, name: str) -> int:
    return next(u.id for u in AccountService(db).units() if u.name == name)


def scope_of(db: Database, unit: str):  # type: ignore[no-untyped-def]
    return AccountService(db).scope(unit_id(db, unit))


def jobs(db: Database) -> list[PublishJob]:
    with db.transaction() as session:
        return list(session.scalars(select(PublishJob)))


def office_hours(teaching: TeachingService, author: str, basis: str = "") -> FaqEntry:
    """An FAQ ``author`` wrote: version 1, waiting for approval."""
    return teaching.create_faq("办公时间", ["工会几点下班"], ANSWER, basis, author)


# --- publishing and four eyes -------------------------------------------------------------
def test_staff_publishing_is_refused(db):
    teaching = TeachingService(db)
    with pytest.raises(NotPermitted):
        teaching.start_job("li")
    assert jobs(db) == []
    job = teaching.start_job("wang")
    assert teaching.job(job.id).started_by.username == "wang"


def test_the_author_cannot_approve_their_own_text(db):
    teaching = TeachingService(db)
    entry = office_hours(teaching, "wang", "服务公告")
    with pytest.raises(OwnChange):
        teaching.approve(entry.id, 1, "wang")
    assert teaching.faq(entry.id).current.approved_by_id is None
    with pytest.raises(ApprovalPending) as waiting:
        teaching.start_job("zhou")
    assert waiting.value.titles == ["办公时间"] and jobs(db) == []

    teaching.approve(entry.id, 1, "zhou")
    assert pending_approval(teaching.faq(entry.id)) is None
    assert teaching.start_job("wang")
    with db.transaction() as session:
        (approved,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "faq.approved")).all()
    assert approved.actor == "zhou" and approved.detail["authors"] == ["wang"]
    assert approved.detail["approver"] == "zhou" and approved.detail["version"] == 1


def test_staff_write_but_cannot_approve(db):
    teaching = TeachingService(db)
    entry = office_hours(teaching, "li")
    with pytest.raises(NotPermitted):
        teaching.approve(entry.id, 1, "li")
    assert teaching.approve(entry.id, 1, "zhao").current.approved_by.username == "zhao"


def test_a_changed_answer_waits_again_but_new_wordings_of_the_question_do_not(db):
    teaching = TeachingService(db)
    entry = office_hours(teaching, "li", "服务公告")
    teaching.approve(entry.id, 1, "wang")
    teaching.edit_faq(entry.id, "办公时间", ["工会几点下班", "周末工会有人吗"], ANSWER, "服务公告", "li")
    assert teaching.approvals() == []
    for answer, basis in ((ANSWER + "节假日休息。", "服务公告"), (ANSWER, "本会服务公告")):
        teaching.edit_faq(entry.id, "办公时间", ["工会几点下班"], answer, basis, "li")
        (waiting,) = teaching.approvals()
        assert waiting.before.number == 1 and [a.username for a in waiting.authors] == ["li"]
        with pytest.raises(ApprovalPending):
            teaching.start_job("wang")
    teaching.approve(entry.id, teaching.faq(entry.id).current.number, "wang")
    assert teaching.start_job("wang")


def test_everyone_who_wrote_part_of_a_change_is_its_author(db):
    teaching = TeachingService(db)
    entry = office_hours(teaching, "li")
    teaching.approve(entry.id, 1, "zhao")
    teaching.edit_faq(entry.id, "办公时间", ["工会几点下班"], "随时都有人。", "", "wang")  # the text
    teaching.edit_faq(entry.id, "工会办公时间", ["工会几点下班"], "随时都有人。", "", "li")  # the title
    with pytest.raises(OwnChange):
        teaching.approve(entry.id, 3, "wang")
    assert teaching.approve(entry.id, 3, "zhou").current.approved_by.username == "zhou"


def test_only_the_version_the_approver_read_can_be_approved(db):
    teaching = TeachingService(db)
    entry = office_hours(teaching, "li")
    teaching.edit_faq(entry.id, "办公时间", ["工会几点下班"], "随时都有人。", "", "li")
    with pytest.raises(InvalidTransition):
        teaching.approve(entry.id, 1, "wang")  # the supervisor read v1; v2 changed it since
    assert len(teaching.approvals()) == 1


def test_a_change_made_after_the_publish_started_is_not_published(db):
    teaching = TeachingService(db)
    entry = office_hours(teaching, "li")
    teaching.approve(entry.id, 1, "wang")
    teaching.start_job("wang")
    teaching.edit_faq(entry.id, "办公时间", ["工会几点下班"], "随时都有人。", "", "li")
    with pytest.raises(ApprovalPending):
        teaching.publishable()


# --- org-unit scope -------------------------------------------------------------------------
def test_untaught_messages_are_routed_like_handoffs_and_staff_see_their_units(db, tracker_url):
    record_slots(tracker_url, {"w-chaoyang": {"region": "朝阳"}, "w-haidian": {"region": "北京海淀"}})
    conversations = Conversations(tracker_url)
    try:
        slots = conversations.latest_slots(["w-chaoyang", "w-haidian", "w-unknown"], ROUTING_SLOTS)
    finally:
        conversations.dispose()
    teaching = TeachingService(db)
    teaching.import_messages([Said("w-chaoyang", "朝阳的消息"), Said("w-haidian", "海淀的消息"),
                              Said("w-unknown", "没说在哪")], slots)
    by_text = {m.text: m for m in teaching.inbox()}
    handoff = HandoffService(db).open(HandoffRequest("w-haidian", "rest", "requested", slots=slots["w-haidian"]))
    assert by_text["海淀的消息"].org_unit_id == handoff.org_unit_id == unit_id(db, "海淀区工会")
    assert by_text["朝阳的消息"].org_unit_id == unit_id(db, "朝阳区工会")
    assert by_text["没说在哪"].org_unit_id is None

    haidian = scope_of(db, "海淀区工会")
    assert [m.text for m in teaching.inbox(scope=haidian)] == ["海淀的消息"]
    with pytest.raises(MessageNotFound):
        teaching.message(by_text["朝阳的消息"].id, haidian)
    assert {m.text for m in teaching.inbox(scope=scope_of(db, "市总工会"))} == set(by_text)


def test_a_supervisor_of_one_unit_reads_no_audit_entry_about_another(db):
    chaoyang, haidian, root = (scope_of(db, n) for n in ("朝阳区工会", "海淀区工会", "市总工会"))
    handoff = HandoffService(db).open(HandoffRequest("w1", "rest", "requested", slots={"region": "朝阳"}))
    HandoffService(db).claim(handoff.id, "li")
    routed = ComplaintService(db).submit(complaint("w2", "朝阳区 星光电子厂")).complaint
    unrouted = ComplaintService(db).submit(complaint("w3", "某公司")).complaint  # no unit covers it
    teaching = TeachingService(db)
    teaching.import_messages([Said("w4", "朝阳的消息")], {"w4": {"region": "朝阳"}})
    teaching.dismiss(teaching.inbox()[0].id, "li")
    office_hours(teaching, "li")
    AccountService(db).update("li", actor="zhao", display_name="李干事（朝阳）")

    def seen(scope) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
        with db.transaction() as session:
            rows, _ = audit_page(session, AuditFilter(), audit_condition(scope), 0, 300)
        return {(r.entry.action, r.entry.object_id) for r in rows}

    about_chaoyang = {("handoff.opened", str(handoff.id)), ("handoff.claimed", str(handoff.id)),
                      ("complaint.filed", routed.ticket), ("inbox.dismissed", str(teaching.inbox("dismissed")[0].id)),
                      ("staff.created", "li"), ("staff.updated", "li"),
                      ("unit.created", str(unit_id(db, "朝阳区工会")))}
    assert about_chaoyang <= seen(chaoyang)
    assert seen(haidian).isdisjoint(about_chaoyang)
    assert ("complaint.filed", unrouted.ticket) in seen(root) - seen(chaoyang) - seen(haidian)
    faq_created = next(e for e in seen(EVERYTHING) if e[0] == "faq.created")
    assert faq_created in seen(haidian)  # the bot's FAQs are every unit's, as every account sees them
    with db.transaction() as session:
        everything = {(e.action, e.object_id) for e in session.query(AuditEntry).all()}
    assert seen(root) == seen(EVERYTHING) == everything and audit_condition(EVERYTHING) is None


def complaint(sender: str, employer: str) -> ComplaintDraft:
    return ComplaintDraft(sender_id=sender, channel="rest", employer=employer, topic="wage_arrears",
                          description="拖欠工资", since_text="三月", workers_affected=1, phone=None,
                          consent_to_contact=False)


# --- what workers chose when the bot asked back -------------------------------------------------
def asked(sender: str, reply: str | None, options: tuple[str, ...] = ("work_injury", "wage_arrears"),
          question_at: float | None = 1_780_000_000.0) -> AskBack:
    return AskBack(sender, 1_780_000_001.0, question_at, options, reply)


def test_the_topic_a_worker_chose_is_a_suggestion_staff_confirm_and_the_next_publish_learns(db):
    teaching = TeachingService(db)
    teaching.import_messages([Said("w-chose", "厂里那个事情怎么弄"), Said("w-none", "帮我看看这个"),
                              Said("w-left", "那个那个"), Said("w-typed", "工资那个", timestamp=1_780_000_005.0)])
    teaching.record_ask_backs([asked("w-chose", "wage_arrears"), asked("w-none", DECLINED), asked("w-left", None),
                               asked("w-typed", "wage_arrears", question_at=None),  # its message was not read
                               asked("w-nobody", "work_injury")])
    by_text = {m.text: m for m in teaching.inbox()}
    chose, none, left, typed = (by_text[t] for t in ("厂里那个事情怎么弄", "帮我看看这个", "那个那个", "工资那个"))
    assert (chose.suggested_label, chose.offered, chose.declined) == ("wage_arrears", ["work_injury", "wage_arrears"],
                                                                      False)
    assert (none.suggested_label, none.declined) == (None, True)
    assert (left.suggested_label, left.offered, left.declined) == (None, ["work_injury", "wage_arrears"], False)
    assert (typed.suggested_label, typed.offered) == (None, None)

    for message in (none, left):
        with pytest.raises(InvalidTransition):  # "none of these" and abandoned ones stay unlabelled
            teaching.confirm(message.id, "li")
    example = teaching.confirm(chose.id, "li")
    assert (example.text, example.intent) == ("厂里那个事情怎么弄", "wage_arrears")
    assert teaching.message(chose.id).status == "labelled"
    with pytest.raises(InvalidTransition):
        teaching.confirm(chose.id, "wang")  # once
    _, examples = teaching.publishable()
    assert [(e.text, e.intent) for e in examples] == [("厂里那个事情怎么弄", "wage_arrears")]
    with db.transaction() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "inbox.confirmed")).all()
        assert (entry.actor, entry.object_id, entry.detail) == ("li", str(chose.id), {"intent": "wage_arrears"})


def test_staff_correct_a_suggestion_and_the_audit_shows_both(db):
    teaching = TeachingService(db)
    teaching.import_messages([Said("w1", "老板跑了工钱没给")])
    teaching.record_ask_backs([asked("w1", "work_injury")])
    message = teaching.inbox()[0]
    assert teaching.label(message.id, "wage_arrears", "li").intent == "wage_arrears"
    with db.transaction() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "inbox.labelled")).all()
        assert entry.detail == {"intent": "wage_arrears", "suggested": "work_injury"}


def test_a_row_stored_before_masking_becomes_a_masked_training_example(db):
    teaching = TeachingService(db)
    teaching.import_messages([Said("w-old", "老板欠钱不给")])
    with db.transaction() as session:  # as rows were stored before the inbox masked numbers
        session.scalars(select(UnrecognisedMessage)).one().text = "老板欠钱不给，我电话13812345678"
    example = teaching.label(teaching.inbox()[0].id, "wage_arrears", "li")
    assert "13812345678" not in example.text and example.text.startswith("老板欠钱不给，我电话")


def test_migration_0008_keeps_the_inbox_on_the_way_down_and_up(database_url, db):
    from bot.storage.migrate import downgrade, upgrade

    teaching = TeachingService(db)
    teaching.import_messages([Said("w1", "那个那个")])
    teaching.record_ask_backs([asked("w1", "wage_arrears")])
    db.dispose()
    downgrade(database_url, "0007")
    upgrade(database_url)
    again = Database(database_url)
    try:
        [message] = TeachingService(again).inbox()
        assert (message.text, message.suggested_label, message.offered, message.declined) == ("那个那个", None, None,
                                                                                              False)
    finally:
        again.dispose()
