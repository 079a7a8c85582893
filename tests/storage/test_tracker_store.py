"""Our tracker store writes exactly the rows Rasa's own SQLTrackerStore would, on both engines:
each event once, in order, the latest session read back, nothing re-inserted."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.storage.tracker_store import UrlSQLTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, wage_arrears]
slots:
  region:
    type: text
    mappings: [{type: custom}]
  forget_me:
    type: bool
    mappings: [{type: custom}]
""")


@pytest.fixture
def tracker_url(database_url: str) -> str:
    return database_url


def _run(coro):  # noqa: ANN001, ANN202
    return asyncio.run(coro)


def _turn(tracker: DialogueStateTracker, text: str, at: float) -> None:
    tracker.update(UserUttered(text, {"name": "wage_arrears", "confidence": 0.9}, timestamp=at))
    tracker.update(ActionExecuted("utter_wage_arrears_answer", timestamp=at + 0.1))
    tracker.update(BotUttered("依据：《劳动法》第五十条", timestamp=at + 0.2))
    tracker.update(ActionExecuted("action_listen", timestamp=at + 0.3))


def _rasa_store(url: str) -> SQLTrackerStore:
    """Rasa's own store on the same database: what it reads is what Rasa would see."""
    parsed = make_url(url)
    return SQLTrackerStore(DOMAIN, dialect=parsed.drivername, host=parsed.host, port=parsed.port,
                           db=parsed.database or "", username=parsed.username, password=parsed.password)


def _texts(tracker: DialogueStateTracker) -> list[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_turns_are_stored_once_each_and_read_back_in_order(tracker_url: str) -> None:
    store = UrlSQLTrackerStore(DOMAIN, host=tracker_url)
    tracker = store.init_tracker("worker-1")
    tracker.update(SessionStarted(timestamp=1.0))
    _turn(tracker, "老板拖欠工资", 2.0)
    _run(store.save(tracker))
    for n, text in enumerate(["拖了两个月", "能去哪里投诉", "谢谢"]):
        tracker = _run(store.retrieve("worker-1"))
        _turn(tracker, text, 10.0 + n)
        _run(store.save(tracker))
        _run(store.save(tracker))  # a second save of the same turn adds nothing

    expected = ["老板拖欠工资", "拖了两个月", "能去哪里投诉", "谢谢"]
    assert _texts(_run(store.retrieve("worker-1"))) == expected
    rasa_view = _run(_rasa_store(tracker_url).retrieve("worker-1"))
    assert _texts(rasa_view) == expected
    assert [e.as_dict() for e in rasa_view.events] == [e.as_dict() for e in _run(store.retrieve("worker-1")).events]


def test_a_new_session_is_read_alone_and_the_old_one_kept(tracker_url: str) -> None:
    store = UrlSQLTrackerStore(DOMAIN, host=tracker_url)
    tracker = store.init_tracker("worker-2")
    tracker.update(SessionStarted(timestamp=1.0))
    tracker.update(SlotSet("region", "江苏", timestamp=1.5))
    _turn(tracker, "第一次来问", 2.0)
    _run(store.save(tracker))

    tracker = _run(store.retrieve("worker-2"))
    tracker.update(ActionExecuted("action_session_start", timestamp=100.0))
    tracker.update(SessionStarted(timestamp=100.1))
    tracker.update(SlotSet("region", "江苏", timestamp=100.2))
    _turn(tracker, "第二次来问", 101.0)
    _run(store.save(tracker))

    latest = _run(store.retrieve("worker-2"))
    assert _texts(latest) == ["第二次来问"]
    assert latest.get_slot("region") == "江苏"
    assert _texts(_run(store.retrieve_full_tracker("worker-2"))) == ["第一次来问", "第二次来问"]
    assert _texts(_run(_rasa_store(tracker_url).retrieve_full_tracker("worker-2"))) == ["第一次来问", "第二次来问"]


def test_a_tracker_rebuilt_from_events_saves_only_what_is_new(tracker_url: str) -> None:
    """A tracker the store did not read (Rasa's API builds some) falls back to counting rows."""
    store = UrlSQLTrackerStore(DOMAIN, host=tracker_url)
    tracker = store.init_tracker("worker-3")
    tracker.update(SessionStarted(timestamp=1.0))
    _turn(tracker, "加班费怎么算", 2.0)
    _run(store.save(tracker))

    rebuilt = DialogueStateTracker.from_events("worker-3", list(_run(store.retrieve("worker-3")).events),
                                               DOMAIN.slots)
    _turn(rebuilt, "周末加班呢", 5.0)
    _run(store.save(rebuilt))
    assert _texts(_run(store.retrieve("worker-3"))) == ["加班费怎么算", "周末加班呢"]


def test_delete_my_data_removes_every_event_of_that_worker_only(tracker_url: str) -> None:
    store = UrlSQLTrackerStore(DOMAIN, host=tracker_url)
    for sender in ("forget-me", "keep-me"):
        tracker = store.init_tracker(sender)
        _turn(tracker, "我的手机号13812345678", 1.0)
        _run(store.save(tracker))
    tracker = _run(store.retrieve("forget-me"))
    tracker.update(SlotSet("forget_me", True))
    _run(store.save(tracker))

    assert _run(store.retrieve("forget-me")) is None
    assert _texts(_run(store.retrieve("keep-me"))) == ["我的手机号13812345678"]
