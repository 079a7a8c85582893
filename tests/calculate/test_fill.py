"""Which slot each entity fills: the worker's numbers land where the calculation needs them."""
from __future__ import annotations

from datetime import date

import pytest

from bot.calculate.fill import fill, months_between, parse_date
from bot.calculate.kinds import Kind, Slot, missing_slots, required_slots

TODAY = date(2026, 11, 25)


def ent(entity: str, value, start: int, end: int | None = None) -> dict:
    return {"entity": entity, "value": value, "start": start, "end": end if end is not None else start + 2}


def test_compensation_takes_service_years_and_wage_from_one_message():
    # 我干了三年半，月薪六千，被辞退能拿多少
    entities = [ent("duration", 42, 3, 6), ent("money", 6000, 9, 11)]
    updates = fill(Kind.ECONOMIC_COMPENSATION, entities, requested=None, current={}, today=TODAY)
    assert updates == {Slot.MONTHS_SERVICE: 42, Slot.MONTHLY_WAGE: 6000}
    assert missing_slots(Kind.ECONOMIC_COMPENSATION, updates) == [Slot.CAUSE]   # N, N+1 or 2N: asked


def test_medical_period_durations_follow_their_cue_words():
    # 累计工作15年，在这家干了6年  (cue "累计" at 0, "这家" at 8)
    entities = [ent("role", "total", 0, 2), ent("duration", 180, 4, 7),
                ent("role", "employer", 8, 10), ent("duration", 72, 12, 14)]
    updates = fill(Kind.MEDICAL_PERIOD, entities, requested=None, current={}, today=TODAY)
    assert updates == {Slot.MONTHS_TOTAL: 180, Slot.MONTHS_EMPLOYER: 72}


def test_cue_words_win_over_order():
    # 在这家干了6年，累计工作15年
    entities = [ent("role", "employer", 1, 3), ent("duration", 72, 5, 7),
                ent("role", "total", 8, 10), ent("duration", 180, 12, 15)]
    updates = fill(Kind.MEDICAL_PERIOD, entities, requested=None, current={}, today=TODAY)
    assert updates == {Slot.MONTHS_TOTAL: 180, Slot.MONTHS_EMPLOYER: 72}


def test_two_durations_without_cues_larger_is_the_total():
    entities = [ent("duration", 72, 0, 2), ent("duration", 180, 5, 8)]
    updates = fill(Kind.MEDICAL_PERIOD, entities, requested=None, current={}, today=TODAY)
    assert updates == {Slot.MONTHS_TOTAL: 180, Slot.MONTHS_EMPLOYER: 72}


def test_a_bare_answer_fills_the_slot_being_asked_for():
    updates = fill(Kind.MEDICAL_PERIOD, [ent("duration", 72, 0, 2)], requested=Slot.MONTHS_EMPLOYER,
                   current={Slot.MONTHS_TOTAL: 180}, today=TODAY)
    assert updates == {Slot.MONTHS_EMPLOYER: 72}


def test_a_correction_overwrites_the_earlier_value():
    current = {Slot.MONTHS_SERVICE: 42, Slot.MONTHLY_WAGE: 6000}
    updates = fill(Kind.ECONOMIC_COMPENSATION, [ent("money", 7000, 3, 6)], requested=None,
                   current=current, today=TODAY)
    assert updates == {Slot.MONTHLY_WAGE: 7000}


def test_overtime_hours_pair_with_their_day_type():
    # 周末加了16个小时，国庆加了8小时
    entities = [ent("day_type", "restday", 0, 2), ent("hours", 16, 4, 8),
                ent("day_type", "holiday", 9, 11), ent("hours", 8, 13, 16)]
    updates = fill(Kind.OVERTIME_PAY, entities, requested=None, current={}, today=TODAY)
    assert updates[Slot.HOURS] == {"restday": 16, "holiday": 8}


def test_hours_without_a_day_type_wait_for_the_answer():
    updates = fill(Kind.OVERTIME_PAY, [ent("hours", 10, 2, 5)], requested=None, current={}, today=TODAY)
    assert updates[Slot.HOURS] == {"unknown": 10}
    values = {Slot.MONTHLY_WAGE: 5000, **updates}
    assert missing_slots(Kind.OVERTIME_PAY, values) == [Slot.DAY_TYPE]
    answer = fill(Kind.OVERTIME_PAY, [ent("day_type", "restday", 0, 2)], requested=Slot.DAY_TYPE,
                  current=values, today=TODAY)
    assert answer[Slot.HOURS] == {"restday": 10}
    assert missing_slots(Kind.OVERTIME_PAY, {**values, **answer}) == []


def test_birth_circumstances_combine():
    entities = [ent("birth", "difficult", 0, 3), ent("birth", "multiple", 4, 7), ent("babies", 2, 4, 7)]
    updates = fill(Kind.MATERNITY_LEAVE, entities, requested=None, current={}, today=TODAY)
    assert updates[Slot.BIRTH] == {"difficult": True, "babies": 2, "miscarriage": False}


def test_maternity_asks_for_the_region_and_accepts_i_dont_know():
    values = {Slot.BIRTH: {"difficult": False, "babies": 1, "miscarriage": False}}
    assert missing_slots(Kind.MATERNITY_LEAVE, values) == [Slot.REGION]
    skip = fill(Kind.MATERNITY_LEAVE, [ent("skip", "skip", 0, 3)], requested=Slot.REGION,
                current=values, today=TODAY)
    assert missing_slots(Kind.MATERNITY_LEAVE, {**values, **skip}) == []


def test_miscarriage_needs_the_months_of_pregnancy_not_the_region():
    entities = [ent("role", "pregnancy", 0, 2), ent("duration", 3, 2, 5), ent("birth", "miscarriage", 5, 7)]
    updates = fill(Kind.MATERNITY_LEAVE, entities, requested=None, current={}, today=TODAY)
    assert updates[Slot.PREGNANCY_MONTHS] == 3
    assert missing_slots(Kind.MATERNITY_LEAVE, updates) == []


def test_a_start_date_gives_the_months_without_a_contract():
    # 去年三月入职到现在没签合同
    updates = fill(Kind.DOUBLE_WAGES, [ent("date", "2025-03", 0, 4)], requested=None, current={}, today=TODAY)
    assert updates == {Slot.MONTHS_NO_CONTRACT: 20}


def test_a_date_is_when_the_worker_knew_for_arbitration():
    updates = fill(Kind.ARBITRATION_DEADLINE, [ent("date", "2025-03", 0, 4)], requested=None,
                   current={}, today=TODAY)
    assert updates == {Slot.KNOWN_ON: "2025-03"}


def test_open_ended_contract_for_probation():
    updates = fill(Kind.MAX_PROBATION, [ent("contract", "open_ended", 2, 7)], requested=None,
                   current={}, today=TODAY)
    assert updates == {Slot.CONTRACT_MONTHS: "open_ended"}


def test_annual_leave_joined_this_year_only():
    this_year = fill(Kind.ANNUAL_LEAVE, [ent("date", "2026-07", 0, 4)], requested=None, current={}, today=TODAY)
    assert this_year == {Slot.JOINED_ON: "2026-07-01"}
    assert fill(Kind.ANNUAL_LEAVE, [ent("date", "2019-07", 0, 4)], requested=None, current={}, today=TODAY) == {}


def test_money_is_ignored_where_no_wage_is_needed():
    assert fill(Kind.MAX_PROBATION, [ent("money", 5000, 0, 4)], requested=None, current={}, today=TODAY) == {}


@pytest.mark.parametrize("kind", list(Kind))
def test_nothing_to_fill_from_no_entities(kind):
    assert fill(kind, [], requested=None, current={}, today=TODAY) == {}
    assert required_slots(kind, {})  # every calculation needs something from the worker


def test_dates_and_months():
    assert parse_date("2025") == date(2025, 1, 1)
    assert parse_date("2025-02") == date(2025, 2, 1)
    assert parse_date("2025-02-30") is None
    assert parse_date("") is None
    assert months_between(date(2025, 3, 15), date(2026, 3, 14)) == 11
    assert months_between(date(2025, 3, 15), date(2026, 3, 15)) == 12
    assert months_between(date(2027, 1, 1), TODAY) == 0


@pytest.mark.parametrize("requested, text, expected", [
    (Slot.MONTHLY_WAGE, "8000", [("money", 8000)]),
    (Slot.MONTHLY_WAGE, "１２０００", [("money", 12000)]),
    (Slot.MONTHS_SERVICE, "6", [("duration", 72)]),
    (Slot.MONTHS_SERVICE, "三", [("duration", 36)]),
    (Slot.HOURS, "16", [("hours", 16)]),
    (Slot.PREGNANCY_MONTHS, "3", [("duration", 3)]),
    (Slot.MONTHLY_WAGE, "不知道", []),
    (Slot.MONTHLY_WAGE, "我也不太清楚到底是多少钱", []),   # a sentence, not a bare number
    (Slot.KNOWN_ON, "5", []),                            # no unit to assume for a date
    (None, "8000", []),
])
def test_a_bare_number_answers_the_question_asked(requested, text, expected):
    from bot.calculate.fill import bare_answer
    assert [(e["entity"], e["value"]) for e in bare_answer(requested, text, TODAY)] == expected
