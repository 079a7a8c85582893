"""The work-injury calculation in a conversation: the grade or death read from the worker's words,
the slots it fills, what is still asked, and the answer with the project's dated national figure."""
from __future__ import annotations

from datetime import date

import pytest

from bot.calculate.answer import answer_text
from bot.calculate.dialogue import grade_months_reply, guess_kind, start_reply
from bot.calculate.fill import fill
from bot.calculate.injury import find_grade, injury_entities
from bot.calculate.kinds import ACTION_TOPICS, Kind, Slot, missing_slots
from bot.knowledge.generate import build_training_data
from bot.knowledge.topics import load_topics

TODAY = date(2026, 12, 6)


def injury(text: str, requested: str | None = None, entities: list | None = None, calculating: bool = False):
    found = [e for e in injury_entities(text, entities or [], requested, calculating=calculating)
             if e["entity"] == "injury"]
    return found[0]["value"] if found else None


@pytest.mark.parametrize("text, grade", [
    ("我七级伤残，月工资6000，能赔多少", 7),
    ("伤残等级十级能拿多少", 10),
    ("7级伤残", 7),
    ("伤残七级", 7),
    ("鉴定为九级，月薪六千五", 9),
    ("工伤认定下来了，鉴定结果是十级伤残", 10),
    ("评了个九级", 9),
    ("工伤一级", 1),
    ("７级伤残", 7),                       # full-width digit
    ("十级", 10),                          # a short answer
    ("不是七级，是八级", 8),                 # a correction: the last grade named
])
def test_the_grade_in_the_workers_words(text, grade):
    assert injury(text) == {"grade": grade}


@pytest.mark.parametrize("text", [
    "1-4级伤残有伤残津贴吗",                # a range, not the worker's grade
    "五级到十级的待遇一样吗",
    "七级和八级有什么区别",
    "七、八级伤残差多少",
    "工伤以后在三级医院住院",              # a hospital's grade
    "11级伤残",                            # there is no eleventh grade
    "伤残零级",
    "上个月工伤了，工资6000",               # no grade said
])
def test_no_grade_where_none_is_the_workers(text):
    assert find_grade(text) is None


def test_inside_the_calculation_a_grade_needs_no_context_word():
    assert find_grade("九级的话能拿到多少钱") is None
    assert find_grade("九级的话能拿到多少钱", calculating=True)[0] == 9
    assert find_grade("那十级到底能拿多少钱啊", calculating=True)[0] == 10     # 到底 is no range
    assert find_grade("在三级医院住了一个月", calculating=True) is None


def test_a_bare_number_is_a_grade_only_when_the_grade_was_asked():
    assert injury("7") is None and injury("七") is None
    assert injury("7", Slot.INJURY) == {"grade": 7} and injury("是七", Slot.INJURY) == {"grade": 7}
    assert injury("12", Slot.INJURY) is None


@pytest.mark.parametrize("text", ["我老公在工地摔死了，能赔多少", "我爸在厂里触电去世了，家属能拿哪些补偿",
                                  "工亡待遇怎么算", "一级伤残后去世了，家里能领什么钱", "丧葬补助金有多少"])
def test_a_death_whose_worth_is_asked(text):
    assert injury(text) == {"death": True}


def test_a_death_without_a_question_of_money_is_for_the_rule_unless_calculating():
    # "does it count" (第15条: died within 48 hours) is the rule's question, not the calculator's
    assert injury("上班时突发脑溢血，抢救两天后去世了，算工伤吗") is None
    assert injury("工友遇难了") is None
    assert injury("工友遇难了", calculating=True) == {"death": True}
    assert injury("人已经去世了", Slot.INJURY) == {"death": True}


@pytest.mark.parametrize("text, value", [
    ("手指疼死了，七级伤残", {"grade": 7}),       # 疼死了 is pain, not a death
    ("累死了", None),
    ("七级伤残抚恤金多少", {"grade": 7}),          # a benefit's name, and a grade: the grade
])
def test_pain_and_benefit_names_are_not_a_death(text, value):
    assert injury(text) == value


def test_not_appraised_yet():
    assert injury("还没鉴定，月薪6000") == {"grade": None}
    assert injury("不知道") is None                                     # not asked: not about the grade
    assert injury("不知道", Slot.INJURY, [{"entity": "skip", "value": "skip"}]) == {"grade": None}


def entity(name: str, value, start: int = 0, end: int = 2) -> dict:
    return {"entity": name, "value": value, "start": start, "end": end}


def said(text: str, money: list[tuple[int, int, int]], requested: str | None = None) -> dict:
    """Slot updates of a work-injury message whose money entities are (value, start, end)."""
    entities = [entity("money", value, start, end) for value, start, end in money]
    entities += injury_entities(text, entities, requested)
    return fill(Kind.WORK_INJURY, entities, requested=requested, current={}, today=TODAY)


def test_grade_and_wage_from_one_message_leave_nothing_to_ask():
    updates = said("我七级伤残，月工资6000，能赔多少", [(6000, 9, 13)])
    assert updates == {Slot.MONTHLY_WAGE: 6000, Slot.INJURY: {"grade": 7}}
    assert missing_slots(Kind.WORK_INJURY, updates) == []


@pytest.mark.parametrize("text, money, wage", [
    ("十级伤残，6000一个月", [(6000, 5, 9)], 6000),
    ("接下来赔偿是咋算的 我一个月工资五千左右", [(5000, 16, 18)], 5000),
    ("大概六千吧", [(6000, 2, 4)], 6000),                              # said on its own
    ("老板就给了两千块让我别闹", [(2000, 5, 8)], None),               # what the boss paid
    ("医药费花了3万，月薪6000", [(30000, 5, 7), (6000, 10, 14)], 6000),
])
def test_money_is_the_wage_only_next_to_a_wage_word(text, money, wage):
    assert said(text, money).get(Slot.MONTHLY_WAGE) == wage


def test_any_money_answers_the_wage_question():
    assert said("两千", [(2000, 0, 2)], requested=Slot.MONTHLY_WAGE) == {Slot.MONTHLY_WAGE: 2000}


def test_a_grade_alone_asks_the_wage_and_a_death_asks_nothing():
    assert missing_slots(Kind.WORK_INJURY, {Slot.INJURY: {"grade": 10}}) == [Slot.MONTHLY_WAGE]
    assert missing_slots(Kind.WORK_INJURY, {Slot.INJURY: {"grade": None}}) == [Slot.MONTHLY_WAGE]
    assert missing_slots(Kind.WORK_INJURY, {Slot.INJURY: {"death": True}}) == []
    assert missing_slots(Kind.WORK_INJURY, {Slot.MONTHLY_WAGE: 6000}) == [Slot.INJURY]


def test_the_year_of_a_death_said_with_it_or_after_it():
    said = fill(Kind.WORK_INJURY, [entity("date", "2025-03"), entity("injury", {"death": True})],
                requested=None, current={}, today=TODAY)
    assert said == {Slot.INJURY: {"death": True, "year": 2025}}
    later = fill(Kind.WORK_INJURY, [entity("date", "2024")], requested=None,
                 current={Slot.INJURY: {"death": True, "year": 2025}}, today=TODAY)
    assert later == {Slot.INJURY: {"death": True, "year": 2024}}
    future = fill(Kind.WORK_INJURY, [entity("date", "2027-01"), entity("injury", {"death": True})],
                  requested=None, current={}, today=TODAY)
    assert future == {Slot.INJURY: {"death": True}}
    assert fill(Kind.WORK_INJURY, [entity("date", "2024")], requested=None,
                current={Slot.INJURY: {"grade": 7}}, today=TODAY) == {}     # a grade has no year


def test_a_correction_of_the_grade_overwrites_it():
    updates = fill(Kind.WORK_INJURY, [entity("injury", {"grade": 8})], requested=None,
                   current={Slot.INJURY: {"grade": 7}, Slot.MONTHLY_WAGE: 6000}, today=TODAY)
    assert updates == {Slot.INJURY: {"grade": 8}}


def test_a_grade_without_the_wage_is_told_in_months_of_the_wage():
    # 第37条: 10th grade, 7 months of the own wage; said at once, then the wage is asked.
    assert start_reply(Kind.WORK_INJURY, {Slot.INJURY: {"grade": 10}}) == {
        "response": "utter_calc_injury_grade_months", "grade": 10, "months": 7}
    assert start_reply(Kind.WORK_INJURY, {Slot.INJURY: {"grade": None}}) == {"response": "utter_calc_start_work_injury"}
    assert start_reply(Kind.WORK_INJURY, {Slot.MONTHLY_WAGE: 6000}) == {"response": "utter_calc_start_work_injury"}
    assert start_reply(Kind.OVERTIME_PAY, {}) == {"response": "utter_calc_start_overtime_pay"}
    assert grade_months_reply(Kind.WORK_INJURY, {Slot.INJURY: {"grade": 10}, Slot.MONTHLY_WAGE: 6000}) is None


def test_the_answer_with_the_workers_figures():
    # 工伤保险条例 第37条: 13 months x 6000 = 78000.
    text = answer_text(Kind.WORK_INJURY, {Slot.INJURY: {"grade": 7}, Slot.MONTHLY_WAGE: 6000}, today=TODAY)
    assert "78000元" in text and "《工伤保险条例》第37条" in text


def test_a_death_is_paid_from_the_year_before_it():
    # 第39条: 2025 -> 20 x 54188 (国家统计局, 2024) = 1083760; the death year defaults to this year.
    text = answer_text(Kind.WORK_INJURY, {Slot.INJURY: {"death": True, "year": 2025}}, today=TODAY)
    assert "1083760元" in text and "2024年" in text
    this_year = answer_text(Kind.WORK_INJURY, {Slot.INJURY: {"death": True}}, today=date(2031, 3, 1))
    assert "2031年因工死亡" in this_year and "2030年全国城镇居民人均可支配收入的20倍" in this_year
    assert "以国家统计局公布的为准" in this_year                         # no 2030 row: no figure


def test_a_death_before_the_2011_amounts_is_refused():
    with pytest.raises(ValueError):
        answer_text(Kind.WORK_INJURY, {Slot.INJURY: {"death": True, "year": 2009}}, today=TODAY)


def test_a_grade_or_death_alone_is_about_work_injury():
    assert guess_kind([entity("injury", {"grade": 7})]) is Kind.WORK_INJURY
    assert Kind.for_topic("work_injury") is Kind.WORK_INJURY


def test_work_injury_questions_go_to_the_calculation():
    assert "work_injury" in ACTION_TOPICS
    rules = build_training_data(load_topics())["rules"]
    [rule] = [r for r in rules if r["rule"] == "answer work_injury"]
    assert rule["steps"][1] == {"action": "action_calculate"}
