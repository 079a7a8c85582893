"""Erasure on a worker's request and purging after the retention period, on both engines."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.storage.accounts import AccountService
from bot.storage.channels import ChannelService
from bot.storage.conversations import EVENTS, Conversations
from bot.storage.db import Database
from bot.storage.models import AuditEntry, ChannelUser, Complaint, Handoff, HandoffMessage, utcnow
from bot.storage.models_teaching import UnrecognisedMessage
from bot.storage.privacy import PrivacyService, erased_text
from bot.storage.services import ComplaintService, HandoffRequest, HandoffService
from tests.storage.test_services import draft


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    yield database
    database.dispose()


def worker_with_everything(db: Database, sender: str) -> str:
    ticket = ComplaintService(db).submit(draft(sender, description=f"{sender}的经理扣了我三千元")).complaint.ticket
    HandoffService(db).open(HandoffRequest(sender, "rest", "requested", slots={"complaint_phone": "13812345678"},
                                           transcript=[("worker", "我叫张三，电话13812345678", time.time())]))
    with db.transaction() as session:
        session.add(UnrecognisedMessage(sender_id=sender, text="我身份证110105199003071234", event_ts=time.time(),
                                        received_at=utcnow()))
    ChannelService(db).seen("wechat", f"openid-{sender}", sender, True)
    return ticket


def test_forget_erases_the_workers_personal_data_and_keeps_the_unions_record(db: Database):
    ticket = worker_with_everything(db, "worker-a")
    other = worker_with_everything(db, "worker-b")
    erased = PrivacyService(db).forget("worker-a")
    assert (erased.complaints, erased.handoffs, erased.unrecognised, erased.profiles) == (1, 1, 1, 1)
    with db.transaction() as session:
        complaint = session.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()
        assert (complaint.phone, complaint.consent_to_contact) == (None, False)
        assert complaint.description == complaint.since_text == erased_text()
        assert complaint.sender_id == erased.erased_id  # no longer the worker's: status lookups fail
        assert (complaint.employer, complaint.topic) == ("宏达电子厂", "probation")  # statistics stay
        [handoff] = session.scalars(select(Handoff).where(Handoff.sender_id == erased.erased_id))
        assert handoff.status == "resolved" and handoff.slots == {}
        texts = session.scalars(select(HandoffMessage.text).where(HandoffMessage.handoff_id == handoff.id))
        assert set(texts) == {erased_text()}
        assert session.scalars(select(UnrecognisedMessage).where(UnrecognisedMessage.sender_id == "worker-a")).all() == []
        assert session.scalars(select(ChannelUser).where(ChannelUser.sender_id == "worker-a")).all() == []
        [audit] = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase"))
        assert audit.object_id == erased.erased_id and "worker-a" not in str(audit.detail)
        # The other worker's data is untouched.
        kept = session.scalars(select(Complaint).where(Complaint.ticket == other)).one()
        assert kept.phone == "13812345678" and kept.sender_id == "worker-b"
        assert session.scalars(select(ChannelUser).where(ChannelUser.sender_id == "worker-b")).all()


def rated_with_comment(db: Database, sender: str) -> int:
    handoffs = HandoffService(db)
    handoff = handoffs.open(HandoffRequest(sender, "socketio", "requested"))
    AccountService(db).add(f"li-{sender}", "李干事")
    handoffs.claim(handoff.id, f"li-{sender}")
    handoffs.resolve(handoff.id, f"li-{sender}")
    handoffs.rate(sender, 1)
    handoffs.comment_rating(sender, f"{sender}：李干事电话13812345678一直打不通")
    return handoff.id


def test_the_workers_comment_on_a_rating_is_erased_with_their_data_and_after_retention(db: Database):
    erased, kept = rated_with_comment(db, "worker-a"), rated_with_comment(db, "worker-b")
    PrivacyService(db).forget("worker-a")
    handoffs = HandoffService(db)
    assert (handoffs.get(erased).rating, handoffs.get(erased).rating_comment) == (1, None)  # the figure stays
    assert handoffs.get(kept).rating_comment.startswith("worker-b")
    PrivacyService(db).purge(utcnow() - timedelta(days=1))  # not old enough yet
    assert handoffs.get(kept).rating_comment is not None
    PrivacyService(db).purge(utcnow() + timedelta(days=1))
    assert (handoffs.get(kept).rating, handoffs.get(kept).rating_comment) == (1, None)


def test_forget_for_a_worker_with_no_data_changes_nothing_but_the_audit_log(db: Database):
    erased = PrivacyService(db).forget("nobody")
    assert (erased.complaints, erased.handoffs, erased.unrecognised, erased.profiles) == (0, 0, 0, 0)


def test_purge_removes_what_is_older_than_the_retention_period(db: Database):
    worker_with_everything(db, "old-worker")
    handoffs = HandoffService(db)
    [handoff] = handoffs.queue()
    AccountService(db).add("li", "李干事")
    handoffs.claim(handoff.id, "li")
    handoffs.resolve(handoff.id, "li")
    purged = PrivacyService(db).purge(utcnow() + timedelta(days=1))
    assert (purged.unrecognised, purged.handoff_messages) == (1, 1)
    assert PrivacyService(db).purge(utcnow() - timedelta(days=1)).unrecognised == 0


def test_conversations_are_purged_by_their_last_message_and_erased_by_sender(tmp_path):
    conversations = Conversations(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert conversations.purge(datetime.now()) == (0, 0)  # no table yet: nothing to do
    EVENTS.metadata.create_all(conversations.db.engine)
    now = time.time()
    rows = [("stale", now - 400 * 86400), ("stale", now - 390 * 86400), ("active", now - 400 * 86400),
            ("active", now - 60), ("erase-me", now)]
    with conversations.db.transaction() as session:
        session.execute(EVENTS.insert(), [{"sender_id": s, "type_name": "user", "timestamp": t, "data": "{}"}
                                          for s, t in rows])
    assert conversations.purge(datetime.utcnow() - timedelta(days=365)) == (1, 2)
    assert conversations.forget("erase-me") == 1
    with conversations.db.transaction() as session:
        assert sorted(session.scalars(select(EVENTS.c.sender_id))) == ["active", "active"]
    conversations.dispose()
