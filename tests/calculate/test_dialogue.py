"""What the calculation says before it has every number (bot/calculate/dialogue.py)."""
from __future__ import annotations

import pytest

from bot.calculate.dialogue import CARRIED, carried_note, carried_values, fresh_values, service_months_reply, service_text
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


def test_a_new_question_keeps_the_earlier_wage_and_remembers_it_was_earlier():
    earlier = {Slot.KIND: Kind.ECONOMIC_COMPENSATION.value, Slot.MONTHS_SERVICE: 36, Slot.MONTHLY_WAGE: 6000}
    values = {**fresh_values(earlier), Slot.MONTHS_NO_CONTRACT: 18}
    assert values[Slot.MONTHS_SERVICE] is None and values[Slot.MONTHLY_WAGE] == 6000
    assert carried_values(values, given={Slot.MONTHS_NO_CONTRACT: 18}) == {Slot.MONTHLY_WAGE: 6000}
    # the message gave its own wage: nothing taken from earlier
    assert carried_values({**values, Slot.MONTHLY_WAGE: 5000}, given={Slot.MONTHLY_WAGE: 5000}) is None
    assert carried_values({Slot.MONTHS_NO_CONTRACT: 18, Slot.MONTHLY_WAGE: None}, given={}) is None


def test_the_result_says_which_number_came_from_an_earlier_question():
    values = {Slot.MONTHS_NO_CONTRACT: 18, Slot.MONTHLY_WAGE: 6000.0, CARRIED: {Slot.MONTHLY_WAGE: 6000}}
    note = carried_note(Kind.DOUBLE_WAGES, values)
    assert "按你前面说的月薪6000元" in note and "告诉我" in note      # said, and how to correct it
    # corrected since (in the form or after the result): the worker's new figure is no earlier one
    assert carried_note(Kind.DOUBLE_WAGES, {**values, Slot.MONTHLY_WAGE: 7000}) == ""
    # a calculation that does not use the wage does not mention it
    assert carried_note(Kind.MAX_PROBATION, {**values, Slot.CONTRACT_MONTHS: 24}) == ""
    assert carried_note(Kind.DOUBLE_WAGES, {**values, CARRIED: None}) == ""
    assert "6500.5元" in carried_note(Kind.OVERTIME_PAY, {Slot.MONTHLY_WAGE: 6500.5, CARRIED: {Slot.MONTHLY_WAGE: 6500.5}})
