"""A number the worker gave for an earlier question, used again by a later calculation, is named
in its result ("按你前面说的月薪6000元"), never reused silently (issue 18 item 6).

Double wages (劳动合同法 第82条, 实施条例 第6条-第7条): 18 months without a contract -> 11 months
owed at most; 11 × 6000 = 66000; 11 × 5000 = 55000.
"""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.calculators import ActionCalculate
from bot.calculate.dialogue import CARRIED
from bot.calculate.kinds import Kind, Slot

AFTER_COMPENSATION = {Slot.KIND: Kind.ECONOMIC_COMPENSATION.value, Slot.MONTHS_SERVICE: 36, Slot.MONTHLY_WAGE: 6000}


def calculate(slots: dict[str, Any], text: str, intent: str, entities: list[dict]) -> tuple[str, dict[str, Any]]:
    """action_calculate on ``text``: the reply's text and the slots it sets."""
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities}
    tracker = Tracker("worker", slots, message, [], False, None, None, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionCalculate().run(dispatcher, tracker, {"responses": {}}))
    return "\n".join(m.get("text") or "" for m in dispatcher.messages), {
        e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def duration(months: int) -> dict:
    return {"entity": "duration", "value": months, "start": 0, "end": 0}


def test_the_wage_of_an_earlier_question_is_named_in_the_result():
    text, slots = calculate(AFTER_COMPENSATION, "干了一年半了，一直没签劳动合同，能要多少", "labour_contract",
                            [duration(18)])
    assert "66000" in text
    assert "按你前面说的月薪6000元" in text
    assert slots[CARRIED] == {Slot.MONTHLY_WAGE: 6000}


def test_a_wage_given_in_the_same_message_is_not_called_earlier():
    text, slots = calculate(AFTER_COMPENSATION, "月薪5000，干了一年半一直没签劳动合同", "labour_contract",
                            [duration(18), {"entity": "money", "value": 5000, "start": 0, "end": 0}])
    assert "55000" in text
    assert "前面说的" not in text
    assert slots[CARRIED] is None


def test_a_correction_after_the_result_is_the_workers_own_figure():
    after = {Slot.KIND: Kind.DOUBLE_WAGES.value, Slot.MONTHS_NO_CONTRACT: 18, Slot.MONTHLY_WAGE: 6000,
             CARRIED: {Slot.MONTHLY_WAGE: 6000}}
    text, _ = calculate(after, "不对，月薪是5000", "inform", [{"entity": "money", "value": 5000, "start": 0, "end": 0}])
    assert "55000" in text and "前面说的" not in text
