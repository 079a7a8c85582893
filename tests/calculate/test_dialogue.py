"""What the calculation says before it has every number (bot/calculate/dialogue.py)."""
from __future__ import annotations

import pytest

from bot.calculate.dialogue import service_months_reply, service_text
from bot.calculate.kinds import Kind, Slot


@pytest.mark.parametrize("months, service, n", [(30, "2年6个月", 3), (84, "7年", 7), (12, "1年", 1),
                                                 (5, "5个月", 0.5), (6, "6个月", 1), (56, "4年8个月", 5)])
def test_a_new_duration_without_the_wage_says_how_many_months_of_wage(months, service, n):
    assert service_months_reply(Kind.ECONOMIC_COMPENSATION, {Slot.MONTHS_SERVICE: months}) == {
        "response": "utter_calc_compensation_months", "service": service, "n": n}


def test_nothing_to_say_once_the_wage_is_known_or_for_other_calculations():
    assert service_months_reply(Kind.ECONOMIC_COMPENSATION, {Slot.MONTHS_SERVICE: 30, Slot.MONTHLY_WAGE: 6000}) is None
    assert service_months_reply(Kind.ECONOMIC_COMPENSATION, {}) is None
    assert service_months_reply(Kind.DOUBLE_WAGES, {Slot.MONTHS_SERVICE: 30}) is None


def test_service_text_reads_as_a_worker_writes_it():
    assert service_text(0.5) == "0.5个月" and service_text(18) == "1年6个月" and service_text(0) == "0个月"
