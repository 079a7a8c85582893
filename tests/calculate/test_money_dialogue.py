"""The money calculations from the worker's own words: the entity extractor over data/, slot filling,
what is still asked, and the answer (issue 18 items 4, 5, 6, 7).

Figures are worked from the statutes here, not read from the code:
- 劳动法 第44条, 劳社部发〔2008〕3号: daily wage = monthly / 21.75; a holiday 300 %, a rest day 200 %,
  a working day's extended hours 150 % of monthly / 21.75 / 8. 9000 / 21.75 x 2 x 300 % = 2482.76.
- 全国年节及纪念日放假办法 第2条 (since 2025, 13 days): 劳动节 5月1日、2日; 国庆节 10月1日至3日.
- 劳动法 第36条: an 8-hour day; 12 hours a day is 4 hours of extended time a day.
- 劳动合同法 第47条: N months of wage; a wage above 3 x the local average is paid at 3 x, 12 years at most.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from bot.calculate.answer import answer, answer_text
from bot.calculate.dialogue import minimum_wage_replies, start_reply
from bot.calculate.fill import bare_answer, fill
from bot.calculate.kinds import Kind, Slot, missing_slots
from bot.knowledge.calc.money import STATUTORY_DAYS
from bot.knowledge.regions import load_regions
from bot.nlu.entities import EntityFinder
from bot.nlu.vocab import default_matcher
from tests.conftest import ROOT

TODAY = date(2026, 12, 6)


def entities(text: str) -> list[dict[str, Any]]:
    """What the Rasa component puts in the message (bot.nlu.entities.ChineseEntityExtractor)."""
    return [{"entity": f.entity, "value": f.value, "start": f.start, "end": f.end, "text": f.text}
            for f in EntityFinder(default_matcher()).find(text, TODAY)]


def told(kind: Kind, *messages: str) -> dict[str, Any]:
    """The slots after the worker's messages, each answering what the bot asked before it."""
    values: dict[str, Any] = {}
    requested = None
    for text in messages:
        found = entities(text) or bare_answer(requested, text, TODAY)
        values.update(fill(kind, found, requested=requested, current=values, today=TODAY))
        missing = missing_slots(kind, values)
        requested = missing[0] if missing else None
    return values


# ---- item 7: days of overtime are turned into pay ----------------------------------------


def test_holiday_days_with_the_wage_give_the_figure_at_once():
    values = told(Kind.OVERTIME_PAY, "月薪9000，五一加班了两天，加班费多少")
    assert missing_slots(Kind.OVERTIME_PAY, values) == []                      # nothing left to ask
    reply = answer(Kind.OVERTIME_PAY, values, today=TODAY).conclusion
    assert "结论：加班费合计2482.76元" in reply
    assert "月工资9000元 ÷ 21.75天 × 2天 × 300% = 2482.76元" in reply             # where it came from
    assert "5月1日、2日" in reply and "200%" in reply                               # only those are 300 %


def test_days_beyond_a_festivals_statutory_days_are_rest_days():
    # 国庆 3 statutory days: 9000 / 21.75 x 3 x 300 % = 3724.14; 2 more rest days x 200 % = 1655.17.
    values = told(Kind.OVERTIME_PAY, "国庆加了5天班，工资9000")
    reply = answer_text(Kind.OVERTIME_PAY, values, today=TODAY)
    assert "3724.14元" in reply and "1655.17元" in reply and "结论：加班费合计5379.31元" in reply
    assert "10月1日、2日、3日" in reply


def test_thirteen_statutory_holidays_since_2025():
    assert sum(STATUTORY_DAYS.values()) == 13
    assert STATUTORY_DAYS["spring_festival"] == 4 and STATUTORY_DAYS["labour_day"] == 2


def test_rest_days_without_a_festival_and_days_whose_type_is_asked():
    values = told(Kind.OVERTIME_PAY, "月薪8700，周末加了3天班")        # 8700 / 21.75 x 3 x 200 % = 2400
    assert "结论：加班费合计2400元" in answer_text(Kind.OVERTIME_PAY, values, today=TODAY)
    asked = told(Kind.OVERTIME_PAY, "月薪8700，加班了两天")
    assert missing_slots(Kind.OVERTIME_PAY, asked) == [Slot.DAY_TYPE]
    answered = told(Kind.OVERTIME_PAY, "月薪8700，加班了两天", "法定节假日")   # 8700 / 21.75 x 2 x 300 %
    assert "结论：加班费合计2400元" in answer_text(Kind.OVERTIME_PAY, answered, today=TODAY)


# ---- item 6: hours a day are a working day, not overtime hours ----------------------------


def test_twelve_hours_a_day_are_never_twelve_rest_day_hours():
    values = told(Kind.OVERTIME_PAY, "我每天上12个小时班，周末也要上班，加班费怎么算")
    assert not values.get(Slot.HOURS) and not values.get(Slot.DAYS)
    assert missing_slots(Kind.OVERTIME_PAY, values) == [Slot.MONTHLY_WAGE]
    values = told(Kind.OVERTIME_PAY, "我每天上12个小时班，周末也要上班，加班费怎么算", "6000")
    calc_text = answer_text(Kind.OVERTIME_PAY, values, today=TODAY)
    # 6000 / 174 = 34.48 an hour; (12 - 8) x 34.48 x 150 % = 206.88 a working day;
    # a rest day 6000 / 21.75 x 200 % = 551.72. No total: the days are the worker's to say.
    assert "每个工作日的加班费是206.88元" in calc_text and "551.72元" in calc_text
    assert "加班费合计" not in calc_text and "休息日加班12小时" not in calc_text
    assert "超过8小时的4小时" in calc_text and "《劳动法》第41条" in calc_text


def test_overtime_said_per_day_is_overtime_of_each_working_day():
    values = told(Kind.OVERTIME_PAY, "每天加班3小时，工资5000")       # 3 x 28.74 x 150 % = 129.33
    assert "每个工作日的加班费是129.33元" in answer_text(Kind.OVERTIME_PAY, values, today=TODAY)
    counted = told(Kind.OVERTIME_PAY, "每天加班3小时，工资5000", "工作日加班60小时，周末加班4天")
    assert counted[Slot.DAILY] is None                         # the counts replace the per-day figure
    text = answer_text(Kind.OVERTIME_PAY, counted, today=TODAY)  # 60 x 28.74 x 1.5 + 5000/21.75 x 4 x 2
    assert "2586.60元" in text and "1839.08元" in text and "结论：加班费合计4425.68元" in text


# ---- item 4: the compensation cap leads for a high wage -------------------------------------


def test_a_high_wage_is_asked_the_local_average_before_any_figure():
    values = told(Kind.ECONOMIC_COMPENSATION, "我在这家厂干了三年半，月薪两万，被辞退了能拿多少")
    assert missing_slots(Kind.ECONOMIC_COMPENSATION, values) == [Slot.LOCAL_AVERAGE, Slot.CAUSE]
    # 3 x 6000 = 18000 < 20000: 4 months x 18000 = 72000 (not 80000)
    capped = told(Kind.ECONOMIC_COMPENSATION, "我在这家厂干了三年半，月薪两万，被辞退了能拿多少", "6000", "协商解除")
    assert capped[Slot.LOCAL_AVERAGE] == 6000 and capped[Slot.MONTHLY_WAGE] == 20000
    reply = answer(Kind.ECONOMIC_COMPENSATION, capped, today=TODAY).conclusion
    assert "按18000元计算" in reply and "72000元" in reply and "80000元" not in reply


def test_a_worker_who_does_not_know_the_average_sees_the_cap_before_the_figure():
    values = told(Kind.ECONOMIC_COMPENSATION, "干了三年半，月薪两万，被辞退了能拿多少", "不知道", "不清楚")
    assert missing_slots(Kind.ECONOMIC_COMPENSATION, values) == []
    lines = answer(Kind.ECONOMIC_COMPENSATION, values, today=TODAY).conclusion.splitlines()
    assert "3倍" in lines[1] and "没有封顶" in lines[1] and "80000元" in lines[2]


def test_the_average_said_with_its_name_is_not_the_wage():
    values = told(Kind.ECONOMIC_COMPENSATION, "干了5年，工资3万，当地平均工资8000，违法辞退")
    assert values[Slot.MONTHLY_WAGE] == 30000 and values[Slot.LOCAL_AVERAGE] == 8000
    assert values[Slot.CAUSE] == "unlawful"                         # 2 x 5 x 24000 = 240000
    assert "240000元" in answer(Kind.ECONOMIC_COMPENSATION, values, today=TODAY).conclusion


def test_an_ordinary_wage_is_not_asked_the_average():
    values = told(Kind.ECONOMIC_COMPENSATION, "干了三年半，月薪六千，被辞退了")
    assert missing_slots(Kind.ECONOMIC_COMPENSATION, values) == [Slot.CAUSE]


# ---- item 5: the cause is asked instead of printing all three ------------------------------


def test_the_cause_is_asked_and_the_reply_starts_with_the_months():
    values = told(Kind.ECONOMIC_COMPENSATION, "我在这家厂干了三年半，月薪六千，上个月被辞退了，能拿多少补偿")
    assert missing_slots(Kind.ECONOMIC_COMPENSATION, values) == [Slot.CAUSE]
    assert start_reply(Kind.ECONOMIC_COMPENSATION, values) == {            # N = 4 x 6000 first
        "response": "utter_calc_compensation_amount", "service": "3年6个月", "n": 4, "wage": 6000, "amount": 24000}
    high = told(Kind.ECONOMIC_COMPENSATION, "干了三年半，月薪两万，被辞退了")     # no uncapped figure
    assert start_reply(Kind.ECONOMIC_COMPENSATION, high) == {
        "response": "utter_calc_compensation_months", "service": "3年6个月", "n": 4}


@pytest.mark.parametrize("said, figure, absent", [
    ("协商解除的", "24000元", "48000元"),          # N = 4 x 6000
    ("没提前30天通知", "30000元", "48000元"),      # N + 1 month
    ("违法辞退", "48000元", "30000元"),           # 2N
])
def test_each_cause_gives_its_own_figure(said, figure, absent):
    values = told(Kind.ECONOMIC_COMPENSATION, "干了三年半，月薪六千，被辞退了", said)
    reply = answer(Kind.ECONOMIC_COMPENSATION, values, today=TODAY).conclusion
    assert figure in reply and absent not in reply


def test_not_knowing_the_cause_gives_n_and_one_line_on_the_others():
    values = told(Kind.ECONOMIC_COMPENSATION, "干了三年半，月薪六千，被辞退了", "不清楚")
    lines = answer(Kind.ECONOMIC_COMPENSATION, values, today=TODAY).conclusion.splitlines()
    assert len(lines) == 3 and "24000元" in lines[1]
    assert "N+1" in lines[2] and "30000元" in lines[2] and "2N" in lines[2] and "48000元" in lines[2]


def test_the_cause_buttons_set_the_cause():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    [ask] = domain["responses"]["utter_ask_calc_cause"]
    payloads = [b["payload"] for b in ask["buttons"]]
    assert payloads == ['/inform{{"cause": "%s"}}' % c for c in ("lawful", "no_notice", "unlawful", "unknown")]
    values = told(Kind.ECONOMIC_COMPENSATION, "干了三年半，月薪六千，被辞退了")
    clicked = {**values, **fill(Kind.ECONOMIC_COMPENSATION, [{"entity": "cause", "value": "unknown"}],
                                 requested=Slot.CAUSE, current=values, today=TODAY)}
    assert missing_slots(Kind.ECONOMIC_COMPENSATION, clicked) == []
    assert "24000元" in answer(Kind.ECONOMIC_COMPENSATION, clicked, today=TODAY).conclusion


# ---- item 4: the minimum wage's date, its age, and whose figure is whose ------------------


def test_guangdong_names_shenzhens_figure_and_every_figure_its_date():
    guangdong = load_regions()["广东"]
    [reply] = minimum_wage_replies(guangdong, TODAY)
    assert reply["monthly"].startswith("2520（深圳市） / 2500（广州市）")
    assert (reply["year"], reply["month"], reply["day"]) == (2025, 3, 1)


def test_a_standard_two_years_old_may_have_been_raised():
    guangdong = load_regions()["广东"]                                      # in force since 2025-03-01
    assert len(minimum_wage_replies(guangdong, date(2027, 2, 28))) == 1
    [_, outdated] = minimum_wage_replies(guangdong, date(2027, 3, 1))
    assert outdated == {"response": "utter_minimum_wage_outdated", "region": "广东省", "year": 2025, "month": 3}
    for region in load_regions().values():                   # unverified rows name no figure, old or not
        if not region.minimum_wage.verified:
            assert [r["response"] for r in minimum_wage_replies(region, date(2030, 1, 1))] == [
                "utter_minimum_wage_region_unknown"]


def test_a_region_names_at_most_one_place_per_tier(tmp_path):
    from bot.knowledge.regions import DEFAULT_PATH, RegionDataError
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["regions"]["广东"]["minimum_wage"]["places"] = ["深圳市"] * 6                 # 5 tiers
    path = tmp_path / "regions.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegionDataError, match="广东.minimum_wage.places"):
        load_regions(path)
