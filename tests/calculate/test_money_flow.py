"""The money calculations end to end: real Rasa (the trained model), the action server, calc_form.

Expected figures are worked from the statutes here, not read from the code:
- 劳动法 第44条, 劳社部发〔2008〕3号: 9000 / 21.75 = 413.79 a day; 2 holiday days x 300 % = 2482.76;
  全国年节及纪念日放假办法 第2条: 劳动节 is 5月1日、2日 (the other days of the break are rest days).
- 劳动法 第36条: 12 hours a day is 4 hours over the 8-hour day: 4 x 6000 / 174 (34.48) x 150 % = 206.88.
- 劳动合同法 第47条: 3 years 6 months -> 4 months; 4 x 20000 = 80000 uncapped; above 3 x the local
  average the wage counts at 3 x: 3 x 6000 = 18000 -> 72000.
- regions.yml 广东 (粤府函〔2025〕23号, from 2025-03-01): 深圳 2520.
"""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import Stack

pytestmark = pytest.mark.slow


def new_worker() -> str:
    return uuid.uuid4().hex


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_holiday_days_and_the_wage_in_one_question_give_the_figure(servers: Stack):
    messages = servers.answer(new_worker(), "月薪9000，五一加班了两天，加班费多少")
    reply = text_of(messages)
    assert "结论：加班费合计2482.76元" in reply
    assert "月工资9000元 ÷ 21.75天 × 2天 × 300%" in reply and "5月1日、2日" in reply
    assert "加班了多少个小时" not in reply                                   # not asked again
    assert "overtime_pay" in [(m.get("custom") or {}).get("topic") for m in messages]


def test_hours_a_day_are_never_taken_for_rest_day_hours(servers: Stack):
    sender = new_worker()
    asked = text_of(servers.answer(sender, "我每天上12个小时班，周末也要上班，加班费怎么算"))
    assert "月工资是多少" in asked and "合计" not in asked
    reply = text_of(servers.answer(sender, "6000"))
    assert "每个工作日的加班费是206.88元" in reply and "超过8小时的4小时" in reply
    assert "合计" not in reply.split("告诉我")[0]                              # no total of invented days


def test_a_high_wage_hears_of_the_cap_before_any_figure(servers: Stack):
    sender = new_worker()
    first = text_of(servers.answer(sender, "我在这家厂干了三年半，月薪两万，被公司辞退了，能拿多少补偿"))
    assert "3倍" in first and "12年" in first and "平均工资" in first
    assert "80000" not in first
    cause = servers.answer(sender, "平均工资6000")
    assert "你的情况是哪一种" in text_of(cause)
    [payload] = [b["payload"] for m in cause for b in m.get("buttons") or [] if b["title"] == "违法辞退（2N）"]
    reply = text_of(servers.answer(sender, payload))                          # 2 x 4 x 18000
    assert "按18000元计算" in reply and "144000元" in reply and "160000" not in reply


def test_not_knowing_the_average_keeps_the_cap_in_front(servers: Stack):
    sender = new_worker()
    servers.answer(sender, "干了三年半，月薪两万，被辞退了，补偿能拿多少")
    servers.answer(sender, "不知道")
    reply = text_of(servers.answer(sender, "不清楚"))
    assert reply.index("没有封顶") < reply.index("80000元")


def test_the_minimum_wage_says_which_figure_is_shenzhens_and_since_when(servers: Stack):
    reply = text_of(servers.answer(new_worker(), "深圳的最低工资标准是多少"))
    assert "2520（深圳市）" in reply and "2025年3月1日起执行" in reply
