"""Work-injury benefits against worked examples taken from 工伤保险条例 (2010 revision).

The tables below are copied from the statute's text, not from the code:
- 第35条: grades 1–4, one-off benefit 27 / 25 / 23 / 21 months of the own wage, monthly allowance
  90 / 85 / 80 / 75 % (from the fund);
- 第36条: grades 5–6, 18 / 16 months; 70 / 60 % a month from the employer when it has no suitable job;
- 第37条: grades 7–10, 13 / 11 / 9 / 7 months, no allowance;
- 第39条: death — 一次性工亡补助金 20 × the previous year's national urban per-capita disposable
  income; dependants 40 % (spouse), 30 % (each other relative), +10 % for an old person or orphan alone.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.calc import load_templates, render, work_injury_death, work_injury_disability
from bot.knowledge.topics import format_citation

STATUTE_MONTHS = {1: 27, 2: 25, 3: 23, 4: 21, 5: 18, 6: 16, 7: 13, 8: 11, 9: 9, 10: 7}
STATUTE_ALLOWANCE = {1: 90, 2: 85, 3: 80, 4: 75, 5: 70, 6: 60}
ARTICLE = {**{g: 35 for g in range(1, 5)}, 5: 36, 6: 36, **{g: 37 for g in range(7, 11)}}
grades = st.integers(min_value=1, max_value=10)
wages = st.decimals(min_value=1, max_value=10_000_000, places=2)


def cited(calc, *articles: int) -> bool:
    return all(f"工伤保险条例 第{a}条" in calc.basis for a in articles)


# ---- disability: 第35–37条 --------------------------------------------------------------


@pytest.mark.parametrize("grade", range(1, 11))
def test_one_off_benefit_is_the_grades_months_of_the_own_wage(grade):
    calc = work_injury_disability(grade, 6000)
    assert calc.result["months"] == STATUTE_MONTHS[grade]
    assert calc.result["lump_sum"] == Decimal(6000 * STATUTE_MONTHS[grade])
    assert calc.basis[0] == f"工伤保险条例 第{ARTICLE[grade]}条"


@pytest.mark.parametrize("grade", range(1, 11))
def test_monthly_allowance_only_for_grades_one_to_six(grade):
    calc = work_injury_disability(grade, 6000)
    if grade <= 6:
        assert calc.result["allowance_percent"] == STATUTE_ALLOWANCE[grade]
        assert calc.result["monthly_allowance"] == Decimal(6000 * STATUTE_ALLOWANCE[grade]) / 100
    else:
        assert calc.result["monthly_allowance"] is None
        assert "伤残津贴" not in render(calc)


def test_seventh_grade_at_6000_is_78000_and_the_provinces_set_the_rest():
    # 第37条: 13 months x 6000 = 78000; the medical and employment benefits on leaving are provincial.
    text = render(work_injury_disability(7, 6000))
    assert text.splitlines()[1] == "结论：7级伤残，一次性伤残补助金78000元。"   # conclusion first
    assert "13个月 × 6000元 = 78000元" in text
    assert "一次性工伤医疗补助金" in text and "一次性伤残就业补助金" in text and "各省" in text
    assert "依据：《工伤保险条例》第37条" in text


def test_first_grade_gets_the_allowance_until_retirement_from_the_fund():
    # 第35条: 27 x 6000 = 162000; 90 % = 5400 a month, kept up to the minimum wage, then the pension.
    text = render(work_injury_disability(1, 6000))
    assert "162000元" in text and "6000元 × 90% = 5400元/月" in text
    assert "工伤保险基金按月支付" in text and "退休" in text and "最低工资" in text
    assert "一次性工伤医疗补助金" not in text        # grades 1-4 keep their employment relation


def test_fifth_grade_allowance_is_paid_by_the_employer_without_a_suitable_job():
    # 第36条: 18 x 6000 = 108000; 70 % = 4200 a month from the employer, which also pays the contributions.
    text = render(work_injury_disability(5, 6000))
    assert "108000元" in text and "4200元/月" in text
    assert "由单位按月发" in text and "难以安排" in text and "社会保险费" in text
    assert "你本人提出" in text and "各省" in text


def test_cents_of_the_allowance_round_half_up():
    # 第36条: 6th grade, 7333.33 a month: 16 x 7333.33 = 117333.28; 60 % = 4399.998 -> 4400.00.
    calc = work_injury_disability(6, Decimal("7333.33"))
    assert calc.result["lump_sum"] == Decimal("117333.28")
    assert calc.result["monthly_allowance"] == Decimal("4400.00")


def test_every_result_says_where_the_grade_and_the_own_wage_come_from_and_who_pays_without_insurance():
    for grade in (None, 1, 5, 10):
        calc = work_injury_disability(grade, 6000)
        text = render(calc)
        assert "劳动能力鉴定" in text and "1级最重" in text            # 第21-23条
        assert "60%" in text and "300%" in text and "12个月" in text   # 第64条: the own wage
        assert "没给你缴工伤保险" in text and "单位按同样的项目和标准支付" in text   # 第62条
        assert cited(calc, 21, 22, 23, 62, 64)


def test_not_appraised_yet_gives_the_range_from_tenth_to_first_grade():
    calc = work_injury_disability(None, 6000)
    assert calc.result["lump_sum_low"] == Decimal(7 * 6000)
    assert calc.result["lump_sum_high"] == Decimal(27 * 6000)
    text = render(calc)
    assert text.splitlines()[1].startswith("结论：伤残等级还没鉴定") and "42000元" in text and "162000元" in text
    assert cited(calc, 35, 36, 37)


def test_the_months_listed_for_every_grade_are_the_statutes():
    listed = load_templates().lines["work_injury.months_by_grade"]
    assert {int(g): int(m) for g, m in re.findall(r"(\d+)级(\d+)个月", listed)} == STATUTE_MONTHS


@pytest.mark.parametrize("grade", [0, 11, -1, 7.0, "7", True])
def test_a_grade_outside_one_to_ten_is_refused(grade):
    with pytest.raises(ValueError):
        work_injury_disability(grade, 6000)


@pytest.mark.parametrize("wage", [0, -6000, 10_000_001, math.nan, math.inf, "6000"])
def test_an_impossible_wage_is_refused(wage):
    with pytest.raises(ValueError):
        work_injury_disability(7, wage)


def test_the_largest_and_smallest_wages_accepted():
    assert work_injury_disability(1, 10_000_000).result["lump_sum"] == Decimal(270_000_000)
    assert work_injury_disability(10, Decimal("0.01")).result["lump_sum"] == Decimal("0.07")


@given(grades, grades, wages)
def test_a_more_severe_grade_never_gets_less(a, b, wage):
    severe, light = sorted((a, b))
    more, less = (work_injury_disability(g, wage).result["lump_sum"] for g in (severe, light))
    assert more >= less


@given(grades, wages)
def test_the_benefit_is_the_wage_times_the_months_and_the_allowance_below_the_wage(grade, wage):
    calc = work_injury_disability(grade, wage)
    assert calc.result["lump_sum"] == calc.result["months"] * wage   # wages are whole cents
    allowance = calc.result["monthly_allowance"]
    assert (allowance is not None) == (grade <= 6)
    if allowance is not None:
        assert 0 < allowance < wage


@given(grades, wages)
def test_the_range_when_not_appraised_holds_every_grade(grade, wage):
    span = work_injury_disability(None, wage).result
    assert span["lump_sum_low"] <= work_injury_disability(grade, wage).result["lump_sum"] <= span["lump_sum_high"]


# ---- death at work: 第39条 ----------------------------------------------------------------


def test_death_in_2025_is_twenty_times_the_2024_urban_income():
    # 2024年全国城镇居民人均可支配收入 54188元 (国家统计局) x 20 = 1083760元.
    calc = work_injury_death(2025, 54188)
    assert calc.result["lump_sum"] == Decimal(1_083_760)
    text = render(calc)
    assert text.splitlines()[1].startswith("结论：2025年因工死亡的，一次性工亡补助金1083760元")
    assert "上一年度（2024年）全国城镇居民人均可支配收入54188元" in text and "× 20 = 1083760元" in text
    assert "丧葬补助金" in text and "6个月" in text and "这里没有计算" in text    # the region's figure
    assert "供养亲属抚恤金" in text and "40%" in text and "30%" in text and "10%" in text
    assert "停工留薪期满后死亡" in text and "没有一次性工亡补助金" in text         # 第39条 第3款
    assert "30日内" in text and "近亲属或者工会组织可以在1年内" in text          # 第17条: determination first
    assert "单位按同样的项目和标准支付" in text                                 # 第62条
    assert cited(calc, 39, 17, 62)


def test_without_the_years_figure_no_amount_is_invented():
    calc = work_injury_death(2027, None)
    assert calc.result["lump_sum"] is None
    text = render(calc)
    assert "2026年全国城镇居民人均可支配收入的20倍" in text and "以国家统计局公布的为准" in text
    assert "× 20 =" not in text and not re.search(r"\d{5,}元", text)


def test_dependants_shares_of_the_workers_wage():
    # 第39条: 7000 a month -> spouse 40 % = 2800, other relative 30 % = 2100, alone 30 + 10 % = 2800.
    calc = work_injury_death(2025, 54188, monthly_wage=7000)
    assert (calc.result["spouse"], calc.result["relative"], calc.result["alone"]) == (2800, 2100, 2800)
    text = render(calc)
    assert "配偶每月2800元" in text and "其他亲属每人每月2100元" in text and "不超过职工生前的工资" in text
    assert cited(calc, 64)


@pytest.mark.parametrize("year", [2010, 1999, 2101, 2025.0, "2025"])
def test_a_death_year_outside_the_revisions_time_is_refused(year):
    with pytest.raises(ValueError):
        work_injury_death(year, 54188)


@pytest.mark.parametrize("income", [0, -1, math.nan])
def test_an_impossible_income_is_refused(income):
    with pytest.raises(ValueError):
        work_injury_death(2025, income)


@given(st.integers(2011, 2100), st.decimals(min_value=1, max_value=1_000_000, places=2), st.none() | wages)
def test_death_benefit_is_twenty_times_the_income_and_shares_stay_below_the_wage(year, income, wage):
    calc = work_injury_death(year, income, monthly_wage=wage)
    assert calc.result["lump_sum"] == income * 20
    assert calc.result["income_year"] == year - 1
    if wage is not None:
        assert calc.result["relative"] <= calc.result["spouse"] == calc.result["alone"] <= wage
    text = render(calc)
    assert f"{format_citation('工伤保险条例 第39条')}" in text and "{" not in text
