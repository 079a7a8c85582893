"""The work-injury calculation end to end: real Rasa (the trained model), the action server, calc_form.

Expected figures are worked from 工伤保险条例 here, not read from the code:
- 第37条: 7th grade 13 months, 8th grade 11, 10th grade 7 months of the worker's own wage;
- 第35–37条: not appraised yet, from 7 (10th grade) to 27 months (1st grade);
- 第39条: a death's one-off benefit is 20 × the national urban per-capita disposable income of the
  year before it (国家统计局: 2024 -> 54188 yuan, so 1083760 yuan for a death in 2025).
"""
from __future__ import annotations

import uuid

import pytest

from bot.channels.common import folded_details
from bot.knowledge.national import urban_income
from bot.nlu.entities import china_today
from tests.conftest import Stack

pytestmark = pytest.mark.slow


def new_worker() -> str:
    return uuid.uuid4().hex


def said(stack: Stack, sender: str, text: str) -> str:
    return "\n".join(stack.say(sender, text))


def test_grade_and_wage_in_one_message_give_the_figure_in_the_same_reply(servers: Stack):
    sender = new_worker()
    messages = servers.answer(sender, "我七级伤残，月工资6000，能赔多少")
    reply = "\n".join(m.get("text") or "" for m in messages)
    assert "工伤伤残待遇计算" in reply and "结论：7级伤残，一次性伤残补助金78000元" in reply
    assert "我要投诉" in reply and "转人工" in reply
    [result] = [m for m in messages if folded_details(m)]  # the working and article, folded on a page
    assert result["custom"]["topic"] == "work_injury"
    assert "13个月 × 6000元 = 78000元" in folded_details(result) and "《工伤保险条例》第37条" in folded_details(result)
    corrected = said(servers, sender, "说错了，鉴定的是八级")            # 11 x 6000
    assert "8级伤残" in corrected and "66000元" in corrected


def test_a_grade_without_the_wage_asks_for_the_wage(servers: Stack):
    sender = new_worker()
    asked = said(servers, sender, "伤残等级十级能拿多少")
    assert "10级伤残的一次性伤残补助金是7个月的本人工资" in asked        # 第37条, said at once
    assert "月工资是多少" in asked and "伤残等级是几级" not in asked
    again = servers.answer(sender, "那十级到底能拿多少钱啊")              # asked again instead of the wage
    assert "7个月的本人工资" in "\n".join(m.get("text") or "" for m in again)
    assert {"topic": "work_injury"} in [m.get("custom") for m in again]
    result = said(servers, sender, "4800")                              # 7 x 4800
    assert "10级伤残" in result and "33600元" in result


def test_money_the_boss_paid_is_not_taken_for_the_wage(servers: Stack):
    reply = said(servers, new_worker(), "在工地从架子上摔下来腿断了，包工头只给了三千块钱就不管了")
    assert "【工伤认定与待遇" in reply and "想知道能拿多少吗" in reply
    assert "3000" not in reply and "伤残等级是几级" not in reply


def test_after_the_work_injury_answer_the_amounts_offer_the_calculation(servers: Stack):
    sender = new_worker()
    rule = said(servers, sender, "在车间干活手被机器压伤了，厂里不给报工伤")
    assert "【工伤认定与待遇" in rule and "想知道能拿多少吗" in rule
    amounts = servers.answer(sender, "那能赔多少？")
    [button] = [b for m in amounts for b in m.get("buttons") or [] if b["title"] == "帮我算一算"]
    assert "伤残等级是几级" in said(servers, sender, button["payload"])
    assert "月工资是多少" in said(servers, sender, "还没鉴定")
    result = said(servers, sender, "6000")
    assert "伤残等级还没鉴定" in result and "42000元" in result and "162000元" in result


def test_a_death_at_work_is_paid_from_the_year_before_it(servers: Stack):
    sender = new_worker()
    reply = said(servers, sender, "我老公在工地上摔死了，他月工资7000，能赔多少")
    year = china_today().year
    assert "因工死亡待遇计算" in reply and f"{year}年因工死亡" in reply
    figure = urban_income(year - 1)
    if figure is not None:
        assert f"{int(figure.yuan * 20)}元" in reply
    else:
        assert "以国家统计局公布的为准" in reply
    assert "配偶每月2800元" in reply and "丧葬补助金" in reply                 # 40 % of 7000
    earlier = said(servers, sender, "是2025年的事")
    assert "2025年因工死亡" in earlier and "1083760元" in earlier
