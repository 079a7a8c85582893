"""A calculation's reply opens with the conclusion; the working and statutes travel folded in its custom
payload (issue 18 item 5), next to the topic tag integrations read.

企业职工患病或非因工负伤医疗期规定 第3条: 15 years of work in all, 6 with this employer -> 9 months,
counted within 15 months.
"""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.calculators import FORM, ActionCalculate
from bot.calculate.kinds import Kind, Slot


def test_the_result_is_the_conclusion_and_the_working_is_folded_in_its_payload():
    slots = {Slot.KIND: Kind.MEDICAL_PERIOD.value, Slot.MONTHS_TOTAL: 180, Slot.MONTHS_EMPLOYER: 72}
    message = {"text": "6年", "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    tracker = Tracker("worker", slots, message, [], False, None, None, FORM)
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCalculate().run(dispatcher, tracker, {"responses": {}}))
    result, after = dispatcher.messages
    assert result["text"].splitlines() == ["帮你算好了（医疗期计算）：", "结论：医疗期9个月，按15个月内累计病休时间计算。"]
    assert result["custom"]["topic"] == "sick_leave"
    details = result["custom"]["details"]
    assert details["label"] == "查看依据"
    assert details["text"].startswith("计算过程：\n1. 你参加工作累计180个月")
    assert details["text"].splitlines()[-1].startswith("依据：《企业职工患病或非因工负伤医疗期规定》第3条；")
    assert "依据：" not in result["text"] and "计算过程" not in result["text"]
    assert after["response"] == "utter_calc_next"
