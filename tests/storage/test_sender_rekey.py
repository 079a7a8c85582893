"""WeChat / WeCom conversation ids are an HMAC under the server's key, and migration 0005 re-keys
the rows of existing workers (profile, complaints, handoffs, untaught messages, tracker events)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.storage.channels import channel_sender_id
from bot.storage.migrate import upgrade

KEY = "k" * 40
APP_ID = "wx5e1f0c0ffee00001"
CORP_AGENT = "ww5e1f0c0ffee00002:1000002"
COMPLAINT = ("INSERT INTO complaints (ticket, sender_id, channel, employer, topic, description, since_text, "
             "workers_affected, consent_to_contact, priority, status, dedupe_key, created_at, updated_at) "
             "VALUES ('{ticket}', :s, 'wechat', '宏达电子厂', 'wage_arrears', '欠薪', '八月', 1, false, 2, 'new', "
             "'{key}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")


def old_id(channel: str, account: str, external: str) -> str:
    """How ids were made before: a hash of public values, which anyone could compute."""
    return f"{channel}_{hashlib.sha256(f'{account}:{external}'.encode()).hexdigest()[:40]}"


def test_a_known_userid_no_longer_gives_the_workers_id():
    computed_by_attacker = old_id("wecom", CORP_AGENT, "zhangsan")
    ours = channel_sender_id("wecom", "zhangsan", KEY)
    assert ours != computed_by_attacker and ours.startswith("wecom_")
    assert channel_sender_id("wecom", "zhangsan", "another-key" * 4) != ours
    assert channel_sender_id("wechat", "zhangsan", KEY) != ours


@pytest.fixture
def old_database(blank_database_url: str) -> str:
    """A database at revision 0004 (before the re-keying)."""
    upgrade(blank_database_url, "0004")
    return blank_database_url


def _events_table(engine: sa.engine.Engine) -> None:
    with engine.begin() as db:
        db.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                           "type_name VARCHAR(255), data TEXT)"))


def test_migration_rekeys_every_row_of_existing_workers(old_database: str, tmp_path: Path):
    wechat_old, wecom_old = old_id("wechat", APP_ID, "o-openid-1"), old_id("wecom", CORP_AGENT, "lisi")
    engine = sa.create_engine(old_database)
    _events_table(engine)  # Rasa's tracker store sharing the database (PostgreSQL in production)
    with engine.begin() as db:
        for n, (channel, external, sender) in enumerate(
                [("wechat", "o-openid-1", wechat_old), ("wecom", "lisi", wecom_old)], start=1):
            db.execute(sa.text("INSERT INTO channel_users (id, channel, sender_id, external_id, subscribed, "
                               "updated_at) VALUES (:n, :c, :s, :e, true, CURRENT_TIMESTAMP)"),
                       {"n": n, "c": channel, "s": sender, "e": external})
            db.execute(sa.text("INSERT INTO events (id, sender_id, type_name, data) VALUES (:n, :s, 'user', '{}')"),
                       {"n": n, "s": sender})
        db.execute(sa.text(COMPLAINT.format(ticket="NJ-20261201-AAAAA", key="k1")), {"s": wechat_old})
        db.execute(sa.text("INSERT INTO handoffs (sender_id, channel, reason, priority, status, slots, created_at) "
                           "VALUES (:s, 'wecom', 'requested', 2, 'open', '{}', CURRENT_TIMESTAMP)"), {"s": wecom_old})
        db.execute(sa.text(COMPLAINT.format(ticket="NJ-20261201-BBBBB", key="k2")), {"s": "rest:other"})
    tracker_url = None
    if old_database.startswith("sqlite"):  # one machine: the tracker store is a file of its own
        tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
        tracker = sa.create_engine(tracker_url)
        _events_table(tracker)
        with tracker.begin() as db:
            db.execute(sa.text("INSERT INTO events (id, sender_id, type_name, data) VALUES (1, :s, 'user', '{}')"),
                       {"s": wecom_old})
        tracker.dispose()

    upgrade(old_database, sender_key=KEY, tracker_url=tracker_url or "")

    wechat_new, wecom_new = channel_sender_id("wechat", "o-openid-1", KEY), channel_sender_id("wecom", "lisi", KEY)
    with engine.connect() as db:
        def senders(table: str) -> list[str]:
            return sorted(db.execute(sa.text(f"SELECT sender_id FROM {table}")).scalars())
        assert senders("channel_users") == sorted([wechat_new, wecom_new])
        assert senders("complaints") == sorted(["rest:other", wechat_new])  # others untouched
        assert senders("handoffs") == [wecom_new]
        assert senders("events") == sorted([wechat_new, wecom_new])
    engine.dispose()
    if tracker_url:
        tracker = sa.create_engine(tracker_url)
        with tracker.connect() as db:
            assert list(db.execute(sa.text("SELECT sender_id FROM events")).scalars()) == [wecom_new]
        tracker.dispose()


def test_an_empty_database_migrates_without_a_key(old_database: str):
    upgrade(old_database, sender_key="", tracker_url="")
    engine = sa.create_engine(old_database)
    with engine.connect() as db:
        assert db.execute(sa.text("SELECT count(*) FROM channel_users")).scalar() == 0
    engine.dispose()
