"""Leave calculators against worked examples taken from the statutes they implement."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.calc import annual_leave, maternity_leave, medical_period
from bot.knowledge.calc.leave import RegionalRules

months = st.floats(min_value=0, max_value=600, allow_nan=False)


# ---- annual leave: 职工带薪年休假条例 第3条, 企业职工带薪年休假实施办法 第3条 ---------------


@pytest.mark.parametrize(
    "cumulative_months, days",
    [
        (0, 0),
        (11.99, 0),    # 实施办法 第3条: entitled only after 12 months of work
        (12, 5),       # exactly 12 months: 条例 第3条 已满1年不满10年 -> 5 days
        (42, 5),
        (119.99, 5),
        (120, 10),     # exactly 10 years: 已满10年不满20年 -> 10 days
        (239.99, 10),
        (240, 15),     # exactly 20 years: 已满20年 -> 15 days
        (600, 15),
    ],
)
def test_annual_leave_tiers(cumulative_months, days):
    calc = annual_leave(cumulative_months)
    assert calc.result["days"] == days
    assert calc.steps[-1].key == "annual_leave.result"
    assert "职工带薪年休假条例 第3条" in calc.basis
    # 条例 第3条 第2款: holidays and rest days are not counted in the leave
    assert "annual_leave.holidays_excluded" in {n.key for n in calc.notes}


def test_new_employer_prorated_by_remaining_calendar_days():
    # 实施办法 第5条: (remaining calendar days / 365) x full days, part-days dropped.
    # Joined 1 Sept 2008 with 10 full days: 1 Sept - 31 Dec = 122 days; 122/365 x 10 = 3.34 -> 3 days.
    calc = annual_leave(120, joined_on=date(2008, 9, 1))
    assert calc.result == {"days": 3, "full_days": 10}
    prorated = next(s for s in calc.steps if s.key == "annual_leave.prorated")
    assert prorated.values["remaining"] == 122
    assert prorated.values["exact"] == Decimal("3.34")
    assert "企业职工带薪年休假实施办法 第5条" in calc.basis


@pytest.mark.parametrize(
    "joined_on, full_months, days",
    [
        (date(2023, 1, 1), 42, 5),      # whole year: 365/365 x 5
        (date(2024, 1, 1), 42, 5),      # leap year: 366/365 x 5 = 5.01, never above the full days
        (date(2023, 7, 1), 42, 2),      # 184/365 x 5 = 2.52 -> 2
        (date(2023, 12, 31), 240, 0),   # 1/365 x 15 = 0.04 -> 0
    ],
)
def test_proration_drops_part_days(joined_on, full_months, days):
    # 实施办法 第5条: 折算后不足1整天的部分不享受年休假
    assert annual_leave(full_months, joined_on=joined_on).result["days"] == days


def test_joining_in_an_earlier_year_gives_the_full_days():
    calc = annual_leave(42, joined_on=date(2022, 3, 1), year=2024)
    assert calc.result["days"] == 5
    assert "annual_leave.prorated" not in {s.key for s in calc.steps}


def test_join_date_after_the_year_is_rejected():
    with pytest.raises(ValueError, match="joined_on"):
        annual_leave(42, joined_on=date(2025, 3, 1), year=2024)
    with pytest.raises(ValueError, match="year"):
        annual_leave(42, year="2024")


def test_unused_leave_pay_is_300_percent_including_the_normal_wage():
    # 实施办法 第11条: daily wage = 8700 / 21.75 = 400.00 yuan.
    # 实施办法 第10条: each unused day 300% = 1200.00 yuan, of which the normal 100% was already
    # paid, so 200% = 800.00 yuan extra. 5 unused days: 6000.00 in all, 4000.00 extra.
    calc = annual_leave(42, monthly_wage=8700, unused_days=5)
    assert calc.result["daily_wage"] == Decimal("400.00")
    assert calc.result["pay_per_day"] == Decimal("1200.00")
    assert calc.result["extra_per_day"] == Decimal("800.00")
    assert calc.result["unused_pay"] == Decimal("6000.00")
    assert calc.result["extra_owed"] == Decimal("4000.00")
    assert calc.steps[-1].key == "annual_leave.result_with_pay"
    assert {"职工带薪年休假条例 第5条", "企业职工带薪年休假实施办法 第10条",
            "企业职工带薪年休假实施办法 第11条"} <= set(calc.basis)


def test_unused_days_beyond_the_entitlement_are_counted_at_the_entitlement():
    calc = annual_leave(42, monthly_wage=8700, unused_days=8)
    assert calc.result["unused_days"] == 5
    assert calc.result["unused_pay"] == Decimal("6000.00")
    assert "annual_leave.unused_clamped" in {n.key for n in calc.notes}


def test_wage_without_unused_days_shows_the_daily_figures_only():
    calc = annual_leave(300, monthly_wage=6000)
    assert calc.result["pay_per_day"] == Decimal("827.58")   # 6000/21.75 = 275.86; x3
    assert "unused_pay" not in calc.result


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, 600.01, "42", True, None])
def test_annual_leave_rejects_invalid_months(bad):
    with pytest.raises(ValueError):
        annual_leave(bad)


@pytest.mark.parametrize("wage", [-100, 0, 10_000_001, math.nan])
def test_annual_leave_rejects_invalid_wages(wage):
    with pytest.raises(ValueError):
        annual_leave(42, monthly_wage=wage, unused_days=1)


@given(months, months)
def test_annual_leave_days_never_decrease_with_more_service(a, b):
    low, high = sorted((a, b))
    assert 0 <= annual_leave(low).result["days"] <= annual_leave(high).result["days"]


@given(months, st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
def test_prorated_days_stay_between_zero_and_the_full_days(m, joined_on):
    calc = annual_leave(m, joined_on=joined_on)
    assert 0 <= calc.result["days"] <= calc.result["full_days"]


# ---- medical period: 企业职工患病或非因工负伤医疗期规定 第3条, 第4条 ------------------------


@pytest.mark.parametrize(
    "total, employer, period, window",
    [
        (119, 59, 3, 6),      # 第3条(一): under 10 years total, under 5 here -> 3 months (第4条: within 6)
        (119, 60, 6, 12),     # 第3条(一): 5 years here -> 6 months
        (120, 0, 6, 12),      # exactly 10 years total: 第3条(二), under 5 here -> 6 months
        (120, 60, 9, 15),     # 第3条(二): 5 to under 10 here -> 9 months
        (120, 119, 9, 15),
        (120, 120, 12, 18),   # 10 to under 15 here -> 12 months
        (240, 179, 12, 18),
        (240, 180, 18, 24),   # 15 to under 20 here -> 18 months
        (240, 239, 18, 24),
        (240, 240, 24, 30),   # 20 years or more here -> 24 months
        (600, 600, 24, 30),
    ],
)
def test_medical_period_tiers(total, employer, period, window):
    calc = medical_period(total, employer)
    assert calc.result == {"months": period, "window_months": window}
    assert calc.basis[0] == "企业职工患病或非因工负伤医疗期规定 第3条"
    # Sick pay at least 80% of the minimum wage (意见 第59条); no dismissal under 40/41 (第42条)
    assert {"medical_period.sick_pay", "medical_period.no_dismissal"} <= {n.key for n in calc.notes}
    assert {"关于贯彻执行《劳动法》若干问题的意见 第59条", "劳动合同法 第42条"} <= set(calc.basis)


def test_employer_service_cannot_exceed_total_service():
    with pytest.raises(ValueError, match="employer_months"):
        medical_period(60, 61)


@given(months, months, months)
def test_medical_period_never_decreases_with_more_service(a, b, c):
    employer_low, employer_high, total = sorted((a, b, c))
    low = medical_period(total, employer_low).result["months"]
    assert 3 <= low <= medical_period(total, employer_high).result["months"] <= 24


# ---- maternity leave: 女职工劳动保护特别规定 第7条 ----------------------------------------


@pytest.mark.parametrize(
    "kwargs, days",
    [
        ({}, 98),                                   # 98 days, 15 of them before the birth
        ({"difficult": True}, 113),                 # difficult birth +15
        ({"babies": 2}, 113),                       # each extra baby +15
        ({"babies": 3}, 128),                       # triplets: 98 + 2 x 15
        ({"difficult": True, "babies": 3}, 143),    # both: 98 + 15 + 30
    ],
)
def test_maternity_leave_for_births(kwargs, days):
    calc = maternity_leave(**kwargs)
    assert calc.result == {"days": days, "miscarriage": False}
    assert calc.basis == ("女职工劳动保护特别规定 第7条",)
    # Without a regional figure the worker is told provinces add extended leave
    assert "maternity_leave.regional_unknown" in {n.key for n in calc.notes}


@pytest.mark.parametrize(
    "pregnant_months, days",
    [(1, 15), (3.99, 15), (4, 42), (7, 42)],   # 第7条: under 4 months -> 15; 4 months or more -> 42
)
def test_maternity_leave_for_miscarriage(pregnant_months, days):
    calc = maternity_leave(miscarriage_months=pregnant_months)
    assert calc.result == {"days": days, "miscarriage": True}


def test_miscarriage_gets_no_birth_additions():
    calc = maternity_leave(miscarriage_months=4, difficult=True, babies=2, regional_extension_days=60)
    assert calc.result["days"] == 42


def test_regional_extension_is_its_own_step_naming_the_region():
    calc = maternity_leave(regional_extension_days=60, region_name="广东省")
    assert calc.result["days"] == 158
    step = next(s for s in calc.steps if s.key == "maternity_leave.regional")
    assert step.values == {"region": "广东省", "days": 60}
    assert "maternity_leave.regional_unknown" not in {n.key for n in calc.notes}
    assert calc.steps[-1].key == "maternity_leave.total"


@pytest.mark.parametrize(
    "kwargs",
    [{"babies": 0}, {"babies": 1.5}, {"regional_extension_days": -1},
     {"miscarriage_months": -1}, {"miscarriage_months": 11}],
)
def test_maternity_leave_rejects_invalid_input(kwargs):
    with pytest.raises(ValueError):
        maternity_leave(**kwargs)


@given(st.booleans(), st.integers(1, 10), st.integers(0, 365))
def test_maternity_leave_is_at_least_98_days_and_adds_up(difficult, babies, extension):
    calc = maternity_leave(difficult=difficult, babies=babies, regional_extension_days=extension)
    assert calc.result["days"] == 98 + 15 * difficult + 15 * (babies - 1) + extension


@given(st.integers(1, 10), st.none() | st.integers(1, 90), st.none() | st.integers(1, 30), st.none() | st.integers(0, 365))
def test_an_undecided_caesarean_gives_the_figure_without_and_with_the_difficult_days(babies, difficult, per_baby, extension):
    rules = RegionalRules(difficult_days=difficult, per_baby_days=per_baby)
    calc = maternity_leave(caesarean=True, babies=babies, regional_extension_days=extension, region_name="某省", rules=rules)
    without = 98 + (per_baby or 15) * (babies - 1) + (extension or 0)
    assert calc.result["days"] == without                                   # 第7条 names 难产, not 剖宫产
    assert calc.result["days_if_difficult"] == without + (difficult or 15)
    assert maternity_leave(difficult=True, caesarean=True, babies=babies, regional_extension_days=extension,
                           region_name="某省", rules=rules).result == {"days": without + (difficult or 15),
                                                                          "miscarriage": False}
