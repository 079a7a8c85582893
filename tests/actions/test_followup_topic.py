"""A "how much" that names its own topic is about that topic, not the one answered before it
(actions/followups.py): "那被辞退了能赔多少钱" after a wage answer starts the calculation of the
economic compensation (劳动合同法 第47条), and needs no earlier answer at all."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.followups import ActionFollowup

WAGE_ANSWER = {"event": "bot", "text": "【拖欠工资、克扣工资】…", "data": {"custom": {"topic": "wage_arrears"}}}


def follow_up(text: str, earlier: list[dict]) -> list[dict]:
    """action_followup on ``text``, read as "how much", after ``earlier`` events: its messages."""
    message = {"text": text, "intent": {"name": "ask_amount", "confidence": 0.63},
               "intent_ranking": [{"name": "ask_amount", "confidence": 0.63},
                                  {"name": "dismissal_compensation", "confidence": 0.25}],
               "entities": []}
    events = earlier + [{"event": "user", "text": text, "parse_data": message}]
    tracker = Tracker("worker", {}, message, events, False, None, None, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionFollowup().run(dispatcher, tracker, {"responses": {}}))
    return dispatcher.messages


def topics(messages: list[dict]) -> set[str]:
    return {(m.get("custom") or {}).get("topic") for m in messages} - {None}


def test_a_how_much_naming_dismissal_after_a_wage_answer_calculates_the_compensation():
    messages = follow_up("那被辞退了能赔多少钱", [WAGE_ANSWER])
    assert topics(messages) == {"dismissal_compensation"}
    assert messages[0]["response"] == "utter_calc_start_economic_compensation"
    # without a topic of its own the message is about the wage answer, as before
    [reply] = follow_up("那能赔多少", [WAGE_ANSWER])
    assert reply["response"] == "utter_followup_amount" and topics([reply]) == {"wage_arrears"}


def test_a_how_much_naming_its_topic_needs_no_earlier_answer():
    messages = follow_up("被辞退了能赔多少钱", [])
    assert topics(messages) == {"dismissal_compensation"}
    assert not any((m.get("custom") or {}).get("clarify") for m in messages)
