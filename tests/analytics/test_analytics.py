"""Dashboard figures on real SQLite and real PostgreSQL.

Conversation events are written by Rasa's own ``SQLTrackerStore`` (its ``events`` table and
JSON, exactly as in production); complaints and handoffs through our models, schema by Alembic.
"""
from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.analytics import (EVENTS, Analytics, Count, DailyActivity, epoch, normalise_employer)
from bot.analytics import queries
from bot.complaints import ComplaintDraft
from bot.storage.db import Database
from bot.storage import models
from bot.storage.models import Complaint, ComplaintStatus, Handoff
from bot.storage.services import ComplaintService

TICKETS = itertools.count(1)

JUNE = datetime(2026, 6, 1)  # a Monday, 00:00 UTC


def said(text: str, intent: str, at: datetime, confidence: float = 0.9) -> UserUttered:
    return UserUttered(text, intent={"name": intent, "confidence": confidence}, timestamp=epoch(at))


def answered(at: datetime) -> list[Event]:
    return [ActionExecuted("utter_answer", timestamp=epoch(at)), BotUttered("……", timestamp=epoch(at))]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def tracker_url(database_url: str, tmp_path: Path) -> str:
    """Where Rasa keeps its events: a file of its own on SQLite, our database on PostgreSQL."""
    return f"sqlite:///{tmp_path / 'tracker.db'}" if database_url.startswith("sqlite") else database_url


@pytest.fixture
def store(tracker_url: str) -> Iterator[SQLTrackerStore]:
    rasa_store = SQLTrackerStore(domain=Domain.empty(), host=tracker_url)
    yield rasa_store
    rasa_store.engine.dispose()


@pytest.fixture
def analytics(db: Database, tracker_url: str, store: SQLTrackerStore) -> Iterator[Analytics]:
    view = Analytics(db, tracker_url)
    yield view
    view.dispose()


def record(store: SQLTrackerStore, conversations: dict[str, list[Event]]) -> None:
    for sender, events in conversations.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def complaint(db: Database, employer: str, at: datetime, topic: str = "wage_arrears",
              status: str = ComplaintStatus.NEW.value, **columns: object) -> str:
    ticket = f"NJ-{next(TICKETS):05d}"
    with db.transaction() as session:
        session.add(Complaint(ticket=ticket, sender_id=f"w-{ticket}", employer=employer, topic=topic,
                              description="拖欠两个月工资", since_text="四月", status=status,
                              dedupe_key=ticket, created_at=at, updated_at=at, **columns))
    return ticket


def handoff(db: Database, sender: str, at: datetime, claim_after: float | None = None,
            resolve_after: float | None = None, rating: int | None = None, **columns: object) -> None:
    claimed = at + timedelta(seconds=claim_after) if claim_after is not None else None
    resolved = at + timedelta(seconds=resolve_after) if resolve_after is not None else None
    with db.transaction() as session:
        session.add(Handoff(sender_id=sender, reason="requested", created_at=at, claimed_at=claimed,
                            resolved_at=resolved, status="resolved" if resolved else "open",
                            rating=rating, rated_at=resolved if rating else None, **columns))


def units(db: Database, *names: str) -> list[int]:
    with db.transaction() as session:
        rows = [models.OrgUnit(name=name) for name in names]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_the_events_table_is_read_as_rasa_defines_it():
    rasa_columns = {c.name: type(c.type) for c in SQLTrackerStore.SQLEvent.__table__.columns}
    assert {c.name: type(c.type) for c in EVENTS.columns} == rasa_columns
    assert EVENTS.name == SQLTrackerStore.SQLEvent.__tablename__


def test_conversations_and_messages_are_counted_per_day(analytics, store):
    record(store, {
        "a": [said("老板拖欠工资", "wage_arrears", JUNE + timedelta(hours=9)), *answered(JUNE + timedelta(hours=9)),
              said("加班费怎么算", "overtime_pay", JUNE + timedelta(hours=10)),
              said("还有年假", "annual_leave", JUNE + timedelta(days=2, hours=8))],
        "b": [said("你好", "greet", JUNE + timedelta(hours=23, minutes=30))],
        "c": [said("上个月的事", "wage_arrears", JUNE - timedelta(minutes=1))],  # before the period
        "d": [said("明天再问", "wage_arrears", JUNE + timedelta(days=3))],  # the period has ended
    })
    days = analytics.daily_activity(JUNE, JUNE + timedelta(days=3))
    assert days == [DailyActivity(JUNE.date(), 2, 3), DailyActivity(JUNE.date() + timedelta(days=1), 0, 0),
                    DailyActivity(JUNE.date() + timedelta(days=2), 1, 1)]
    assert analytics.conversations(JUNE, JUNE + timedelta(days=3)) == 2


def test_days_can_follow_china_standard_time(db, tracker_url, store):
    record(store, {"a": [said("你好", "greet", JUNE + timedelta(hours=17))]})  # 01:00 on 2 June in Beijing
    view = Analytics(db, tracker_url, day_offset=timedelta(hours=8))
    try:
        days = view.daily_activity(JUNE - timedelta(hours=8), JUNE + timedelta(hours=40))
    finally:
        view.dispose()
    assert [(d.day.day, d.messages) for d in days] == [(1, 0), (2, 1)]


def test_topics_rank_rights_questions_and_leave_out_small_talk(analytics, store):
    at = JUNE + timedelta(hours=9)
    record(store, {
        "a": [said("你好", "greet", at), said("拖欠工资", "wage_arrears", at), said("谢谢", "thank", at)],
        "b": [said("工资没发", "wage_arrears", at), said("工会地址", "faq", at), said("啊啊", "nlu_fallback", at, 0.3)],
        "c": [said("年假几天", "annual_leave", at), said("电话多少", "faq/phone", at), said("怎么投诉", "faq", at)],
        # answers, buttons, yes and no, follow-ups: more of them than of any topic, and none a topic
        "d": [said(text, intent, at) for text, intent in (
            ("六千", "inform"), ("三年", "inform"), ("苏州", "inform"), ("/calculate", "calculate"),
            ("/calculate", "calculate"), ("对", "affirm"), ("不是", "deny"), ("那能赔多少", "ask_amount"),
            ("我要投诉", "file_complaint"), ("删除我的数据", "forget_me"))],
    })
    topics = {"wage_arrears", "annual_leave", "faq"}
    found = analytics.top_topics(JUNE, JUNE + timedelta(days=1), topics)
    assert found == [Count("faq", 3), Count("wage_arrears", 2), Count("annual_leave", 1)]
    assert analytics.top_topics(JUNE, JUNE + timedelta(days=1), topics, limit=1) == [Count("faq", 3)]


def test_fallback_and_handoff_rates(analytics, store, db):
    at = JUNE + timedelta(hours=9)
    record(store, {
        "a": [said("拖欠工资", "wage_arrears", at), said("嗯嗯嗯", "nlu_fallback", at, 0.3)],
        "b": [said("年假", "annual_leave", at), said("社保", "social_insurance", at)],
    })
    handoff(db, "a", at)
    handoff(db, "z", JUNE - timedelta(days=1))  # opened before the period
    fallback = analytics.fallback_rate(JUNE, JUNE + timedelta(days=1))
    assert (fallback.part, fallback.whole, fallback.value) == (1, 4, 0.25)
    rate = analytics.handoff_rate(JUNE, JUNE + timedelta(days=1))
    assert (rate.part, rate.whole, rate.value) == (1, 2, 0.5)
    assert analytics.fallback_rate(JUNE + timedelta(days=5), JUNE + timedelta(days=6)).value is None


def test_the_handoff_rate_is_the_share_of_conversations_handed_to_a_person(analytics, store, db):
    at = JUNE + timedelta(hours=9)
    record(store, {
        "a": [said("找人工", "request_human", at), said("还是要人工", "request_human", at + timedelta(hours=3))],
        "b": [said("年假", "annual_leave", at)],
        "c": [said("工伤", "work_injury", at)],
        "old": [said("上个月问过", "wage_arrears", JUNE - timedelta(days=3))],
    })
    handoff(db, "a", at, claim_after=60, resolve_after=120)     # a: handed over twice
    handoff(db, "a", at + timedelta(hours=3))
    handoff(db, "b", at + timedelta(hours=1))                    # b: once
    handoff(db, "old", at + timedelta(hours=2))                  # wrote nothing in the period
    handoff(db, "gone", at + timedelta(hours=2))                 # messages erased (删除我的数据)
    handoff(db, "c", JUNE - timedelta(days=1))                   # opened before the period
    # by hand: 3 conversations (a, b, c); a and b handed over in the period -> 2 of 3
    period = (JUNE, JUNE + timedelta(days=1))
    assert analytics.handoffs(*period).opened == 5
    rate = analytics.handoff_rate(*period)
    assert (rate.part, rate.whole, rate.value) == (2, 3, pytest.approx(2 / 3))


def test_the_handoff_rate_adds_up_the_batches_of_handed_over_workers(analytics, store, db, monkeypatch):
    monkeypatch.setattr(queries, "_IN_BATCH", 2)                # senders are looked up a few at a time
    at = JUNE + timedelta(hours=9)
    workers = [f"w{n}" for n in range(7)]
    record(store, {w: [said("找人工", "request_human", at)] for w in workers[:5]})
    for w in workers:
        handoff(db, w, at)
    rate = analytics.handoff_rate(JUNE, JUNE + timedelta(days=1))
    assert (rate.part, rate.whole) == (5, 5)


def test_ratings_and_median_times_to_claim_and_resolve(analytics, db):
    at = JUNE + timedelta(hours=9)
    handoff(db, "a", at, claim_after=60, resolve_after=600, rating=5)
    handoff(db, "b", at, claim_after=120, resolve_after=1800, rating=4)
    handoff(db, "c", at, claim_after=3000, resolve_after=3600, rating=1)
    handoff(db, "d", at, claim_after=30)  # still being handled
    handoff(db, "e", at)  # nobody has it yet
    handoff(db, "f", JUNE - timedelta(hours=1), claim_after=5, resolve_after=10, rating=1)  # before
    figures = analytics.handoffs(JUNE, JUNE + timedelta(days=1))
    assert figures.opened == 5
    assert (figures.claimed, figures.median_claim_seconds) == (4, 90.0)
    assert (figures.resolved, figures.median_resolve_seconds) == (3, 1800.0)
    assert (figures.rated, figures.average_rating) == (3, pytest.approx(10 / 3))
    empty = analytics.handoffs(JUNE + timedelta(days=2), JUNE + timedelta(days=3))
    assert (empty.opened, empty.median_claim_seconds, empty.median_resolve_seconds, empty.average_rating) == (
        0, None, None, None)


def test_complaints_by_topic_employer_and_region(analytics, db):
    at = JUNE + timedelta(hours=9)
    complaint(db, "宏达电子厂", at)
    complaint(db, " 宏达 电子厂 ", at + timedelta(hours=1), topic="overtime_pay")
    complaint(db, "宏达电子厂", at + timedelta(hours=2), topic="overtime_pay")
    complaint(db, "ＡＢＣ物流", at)
    complaint(db, "abc 物流", at + timedelta(hours=1))
    complaint(db, "顺风餐饮", at)
    complaint(db, "顺风餐饮", JUNE - timedelta(days=1))  # before the period
    period = (JUNE, JUNE + timedelta(days=1))
    assert analytics.complaints_by_topic(*period) == [Count("wage_arrears", 4), Count("overtime_pay", 2)]
    assert analytics.complaints_by_employer(*period) == [
        Count("宏达电子厂", 3), Count("ABC物流", 2), Count("顺风餐饮", 1)]
    assert analytics.complaints_by_employer(*period, limit=1) == [Count("宏达电子厂", 3)]


def test_complaints_by_region(analytics, db):
    at = JUNE + timedelta(hours=9)
    for region in ("宝安区", "宝安区", "龙华区", None):
        complaint(db, "宏达电子厂", at, region=region)
    assert analytics.complaints_by_region(JUNE, JUNE + timedelta(days=1)) == [
        Count("宝安区", 2), Count("龙华区", 1)]


def test_complaints_filed_by_workers_are_counted_by_the_region_they_gave(analytics, db):
    service = ComplaintService(db, clock=lambda: JUNE + timedelta(hours=9))
    for n, region in enumerate(("深圳宝安", "深圳宝安", "江苏", None)):
        service.submit(ComplaintDraft(f"w-{n}", "rest", "宏达电子厂", "wage_arrears", f"拖欠{n + 2}个月工资",
                                      "四月", 1, None, False, region=region))
    assert analytics.complaints_by_region(JUNE, JUNE + timedelta(days=1)) == [
        Count("深圳宝安", 2), Count("江苏", 1)]


def test_three_complaints_within_a_week_warn_about_the_employer(analytics, db):
    now = JUNE + timedelta(days=20)
    tickets = [complaint(db, name, now - timedelta(days=days))
               for name, days in (("宏达电子厂", 6), ("宏达电子厂 ", 3), ("宏达　电子厂", 1))]
    for days in (10, 5, 0.5):  # three, but spread over ten days
        complaint(db, "顺风餐饮", now - timedelta(days=days))
    complaint(db, "ABC物流", now - timedelta(days=1))
    complaint(db, "ABC物流", now - timedelta(days=2))
    complaint(db, "ABC物流", now - timedelta(days=2, hours=1), status=ComplaintStatus.REJECTED.value)

    [warning] = analytics.early_warnings(now)
    assert (warning.employer, warning.count) == ("宏达电子厂", 3)
    assert warning.latest_at == now - timedelta(days=1)
    assert warning.tickets == tickets
    assert analytics.early_warnings(now, window=timedelta(days=10)) != []
    assert {w.employer for w in analytics.early_warnings(now, threshold=2)} == {"宏达电子厂", "顺风餐饮", "ABC物流"}
    assert analytics.early_warnings(now + timedelta(days=7)) == []


def test_employer_names_normalise_to_one_key():
    assert normalise_employer(" 宏达  电子厂 ") == normalise_employer("宏达电子厂")
    assert normalise_employer("ＸＸ厂\u3000") == normalise_employer("xx厂")
    assert normalise_employer("Foxconn  Shenzhen") == "foxconn shenzhen"
    assert normalise_employer("宏达电子厂") != normalise_employer("宏达电子二厂")


def test_a_unit_sees_its_own_complaints_and_handoffs(analytics, db):
    district, factory = units(db, "宝安区总工会", "宏达电子厂工会")
    now = JUNE + timedelta(days=3)
    for days, unit in ((1, district), (2, district), (2.5, factory), (3, None)):
        complaint(db, "宏达电子厂", now - timedelta(days=days), org_unit_id=unit)
    handoff(db, "a", JUNE, claim_after=60, org_unit_id=district)
    handoff(db, "b", JUNE, claim_after=600, org_unit_id=factory)
    period = (JUNE - timedelta(days=1), now)
    assert analytics.complaints_by_topic(*period) == [Count("wage_arrears", 4)]
    assert analytics.complaints_by_topic(*period, unit_ids=[district]) == [Count("wage_arrears", 2)]
    assert analytics.complaints_by_employer(*period, unit_ids=[district, factory]) == [Count("宏达电子厂", 3)]
    assert analytics.complaints_by_topic(*period, unit_ids=[]) == []
    assert [w.count for w in analytics.early_warnings(now)] == [4]
    assert analytics.early_warnings(now, unit_ids=[district]) == []
    assert [w.count for w in analytics.early_warnings(now, unit_ids=[district, factory])] == [3]
    assert analytics.handoffs(*period, unit_ids=[factory]).median_claim_seconds == 600
    assert analytics.handoffs(*period).median_claim_seconds == 330


def test_unrecognised_messages_are_fallbacks_and_unsure_guesses_typed_by_people(analytics, store):
    at = JUNE + timedelta(hours=9)
    record(store, {
        "a": [said("厂里那个事情怎么弄", "nlu_fallback", at, 0.3), *answered(at),
              said("拖欠工资", "wage_arrears", at, 0.95),
              said("/greet", "greet", at, 1.0),  # a button
              said("/nlu_fallback", "nlu_fallback", at, 1.0)],
        "b": [said("包吃住扣钱合法吗", "wage_arrears", at, 0.41), said("  ", "nlu_fallback", at, 0.3),
              said("年假", "annual_leave", at, 0.6)],
    })
    scan = analytics.unrecognised_messages(since_event_id=0, low_confidence=0.5)
    assert [(m.sender_id, m.text, m.intent) for m in scan.messages] == [
        ("a", "厂里那个事情怎么弄", "nlu_fallback"), ("b", "包吃住扣钱合法吗", "wage_arrears")]
    assert scan.messages[1].confidence == pytest.approx(0.41)
    assert scan.messages[0].timestamp == pytest.approx(epoch(at))

    record(store, {"c": [said("赔偿金N+1", "dismissal_compensation", at + timedelta(hours=1), 0.2)]})
    later = analytics.unrecognised_messages(since_event_id=scan.last_event_id, low_confidence=0.5)
    assert [m.text for m in later.messages] == ["赔偿金N+1"]
    assert later.last_event_id > scan.last_event_id
    again = analytics.unrecognised_messages(since_event_id=later.last_event_id, low_confidence=0.5)
    assert again.messages == [] and again.last_event_id == later.last_event_id


def test_a_scan_examines_at_most_max_events_and_resumes(analytics, store):
    at = JUNE + timedelta(hours=9)
    record(store, {"a": [said(f"问题{n}", "nlu_fallback", at, 0.3) for n in range(5)]})
    first = analytics.unrecognised_messages(0, 0.5, max_events=3)
    rest = analytics.unrecognised_messages(first.last_event_id, 0.5, max_events=3)
    assert [m.text for m in first.messages + rest.messages] == [f"问题{n}" for n in range(5)]


def test_before_rasa_has_created_its_table_the_figures_are_empty(db, tmp_path):
    view = Analytics(db, f"sqlite:///{tmp_path / 'no-tracker.db'}")
    try:
        assert view.daily_activity(JUNE, JUNE + timedelta(days=1)) == [DailyActivity(JUNE.date(), 0, 0)]
        assert view.unrecognised_messages(7, 0.5).last_event_id == 7
        assert view.fallback_rate(JUNE, JUNE + timedelta(days=1)).value is None
    finally:
        view.dispose()


# --- ask-backs (bot/clarify.py) ------------------------------------------------------------
def asked_back(options: list[str], at: datetime) -> list[Event]:
    """action_clarify's message as Rasa stores it: buttons, and the {"clarify": [...]} tag."""
    buttons = [{"title": o, "payload": f"/{o}"} for o in options] + [
        {"title": "都不是，转人工", "payload": "/request_human"}, {"title": "都不是", "payload": "/out_of_scope"}]
    return [ActionExecuted("action_clarify", timestamp=epoch(at)),
            BotUttered("你想问的是哪一个？", data={"buttons": buttons, "custom": {"clarify": options}},
                       timestamp=epoch(at))]


def pressed(payload: str, at: datetime) -> UserUttered:
    return said(payload, payload.lstrip("/"), at, 1.0)


def test_ask_backs_are_counted_with_their_answers_per_topic_offered(analytics, store):
    at, end = JUNE + timedelta(hours=9), JUNE + timedelta(days=1)
    record(store, {
        "a": [said("厂里那个事情怎么弄", "nlu_fallback", at, 0.3),
              *asked_back(["work_injury", "wage_arrears", "social_insurance"], at), pressed("/wage_arrears", at)],
        "b": [said("老板不给钱咋办", "nlu_fallback", at, 0.3), *asked_back(["wage_arrears", "overtime_pay"], at),
              pressed("/out_of_scope", at)],
        "c": [said("那个那个", "nlu_fallback", at, 0.3), *asked_back(["work_injury", "wage_arrears"], at),
              said("算了", "deny", at)],
        "d": [said("问个事", "nlu_fallback", at, 0.3), *asked_back(["social_insurance"], at)],
        "e": [said("我的事", "nlu_fallback", at, 0.3), *asked_back(["work_injury", "overtime_pay"], at),
              pressed("/request_human", at), said("加班那个", "nlu_fallback", at, 0.3),
              *asked_back(["overtime_pay"], at), pressed('/overtime_pay{"sub": "holiday_overtime"}', at)],
        "f": [said("昨天的", "nlu_fallback", JUNE - timedelta(hours=1), 0.3),  # asked before the period
              *asked_back(["wage_arrears"], JUNE - timedelta(hours=1)), pressed("/wage_arrears", at)],
        "g": [said("摔了", "nlu_fallback", end - timedelta(minutes=1), 0.3),  # answered after the period
              *asked_back(["work_injury"], end - timedelta(minutes=1)), pressed("/work_injury", end + timedelta(minutes=5))],
        "h": [said("年休", "nlu_fallback", at, 0.3), *asked_back(["annual_leave"], at),
              pressed("/wage_arrears", at)],  # not offered: a menu, not the ask-back
    })
    figures = analytics.clarify(JUNE, end)
    # by hand: asked a b c d e e g h; chosen a, e (2nd), g; declined b, e (1st); abandoned c, d, h
    assert (figures.asked, figures.chosen, figures.declined, figures.abandoned) == (8, 3, 2, 3)
    assert [(t.topic, t.offered, t.chosen, t.declined, t.abandoned) for t in figures.topics] == [
        ("work_injury", 4, 1, 1, 1), ("overtime_pay", 3, 1, 2, 0), ("wage_arrears", 3, 1, 1, 1),
        ("social_insurance", 2, 0, 0, 1), ("annual_leave", 1, 0, 0, 1)]
    assert analytics.clarify(JUNE + timedelta(days=2), JUNE + timedelta(days=3)).asked == 0


def test_the_inbox_scan_finds_the_topic_chosen_even_in_a_later_scan(analytics, store):
    at = JUNE + timedelta(hours=9)
    record(store, {"a": [said("厂里那个事情怎么弄", "nlu_fallback", at, 0.3),
                         *asked_back(["work_injury", "wage_arrears"], at)]})
    first = analytics.unrecognised_messages(0, 0.5)
    assert [m.text for m in first.messages] == ["厂里那个事情怎么弄"]
    [asked] = first.ask_backs
    assert (asked.question_at, asked.options, asked.reply) == (epoch(at), ("work_injury", "wage_arrears"), None)

    record(store, {"a": [said("厂里那个事情怎么弄", "nlu_fallback", at, 0.3), *asked_back(["work_injury", "wage_arrears"], at),
                         pressed("/wage_arrears", at + timedelta(seconds=20))]})
    later = analytics.unrecognised_messages(first.last_event_id, 0.5)
    assert later.messages == []  # a button is nobody's words
    [asked] = later.ask_backs
    assert (asked.sender_id, asked.question_at, asked.reply) == ("a", epoch(at), "wage_arrears")


def test_answers_to_a_form_question_never_reach_the_inbox(analytics, store):
    at = JUNE + timedelta(hours=9)
    form = [said("我要投诉", "file_complaint", at), ActiveLoop("complaint_form", timestamp=epoch(at)),
            said("星光电子厂", "nlu_fallback", at, 0.3), said("张三 13800138000", "nlu_fallback", at, 0.2)]
    record(store, {"a": form})
    first = analytics.unrecognised_messages(0, 0.5, max_events=3)  # the next scan starts inside the form
    rest = analytics.unrecognised_messages(first.last_event_id, 0.5)
    assert first.messages + rest.messages == []

    record(store, {"a": [*form, ActiveLoop(None, timestamp=epoch(at)), said("那个那个", "nlu_fallback", at, 0.3)]})
    after = analytics.unrecognised_messages(rest.last_event_id, 0.5)
    assert [m.text for m in after.messages] == ["那个那个"]
