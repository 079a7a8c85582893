"""Money calculators against worked examples taken from the statutes they implement."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.calc import Step, double_wages, economic_compensation, overtime_pay, render_parts

TODAY = date(2025, 1, 1)   # 204 months after 2008-01-01
months = st.floats(min_value=0, max_value=600, allow_nan=False)
wages = st.decimals(min_value=1, max_value=10_000_000, places=2)
hours = st.decimals(min_value=0, max_value=5_000, places=2)
CAUSE_KEYS = ("lawful", "no_notice", "unlawful")


def compensation(service, wage, **kwargs):
    return economic_compensation(service, wage, today=TODAY, **kwargs)


# ---- economic compensation: 劳动合同法 第47条 --------------------------------------------


@pytest.mark.parametrize(
    "service, wage_months",
    [
        (0, 0),
        (3, Decimal("0.5")),    # under 6 months -> half a month's wage
        (5.99, Decimal("0.5")),
        (6, 1),                 # exactly 6 months -> counted as a year
        (12, 1),                # exactly 12 months -> one full year
        (36, 3),
        (41, Decimal("3.5")),   # 3 years 5 months -> 3 + 0.5
        (42, 4),                # 3 years + exactly 6 months of remainder -> 3 + 1
        (200, 17),              # not capped: no 12-year limit (16 years 8 months -> 17)
    ],
)
def test_one_month_per_year_six_months_count_as_a_year(service, wage_months):
    calc = compensation(service, 8000, cause="lawful")
    assert calc.result["months"] == wage_months
    assert calc.result["amount"] == calc.result["lawful"] == Decimal(8000) * Decimal(wage_months)
    assert calc.basis[0] == "劳动合同法 第47条"


def test_an_unknown_cause_gives_n_and_one_line_on_the_others():
    # 第47条: N = 4 months x 8000 = 32000; 第40条 without notice (实施条例 第20条): N + 8000 = 40000;
    # unlawful (第87条): 2N = 64000, instead of N (实施条例 第25条). Not known: N is the result.
    calc = compensation(42, 8000)
    assert {k: calc.result[k] for k in CAUSE_KEYS} == {
        "lawful": Decimal("32000.00"), "no_notice": Decimal("40000.00"), "unlawful": Decimal("64000.00"),
    }
    assert calc.result["amount"] == Decimal("32000.00")
    assert [s.key for s in calc.steps[-2:]] == ["economic_compensation.amount_lawful",
                                                "economic_compensation.other_causes"]
    conclusion = render_parts(calc).conclusion
    assert "32000元" in conclusion and "40000元" in conclusion and "64000元" in conclusion
    assert conclusion.count("\n") == 2                  # the warm line, N, one line on N+1 and 2N
    assert {"劳动合同法 第87条", "劳动合同法实施条例 第25条", "劳动合同法实施条例 第20条"} <= set(calc.basis)


def test_wage_exactly_three_times_the_average_is_not_capped():
    # 第47条 第2款 caps a wage *higher than* three times the local average monthly wage.
    calc = compensation(42, 30000, cause="lawful", local_average_wage=10000)
    assert calc.result["capped"] is False
    assert calc.result["amount"] == Decimal("120000.00")


def test_one_yuan_above_three_times_the_average_is_capped():
    calc = compensation(42, 30001, cause="lawful", local_average_wage=10000)
    assert calc.result["capped"] is True
    assert calc.result["base_wage"] == Decimal("30000.00")
    assert calc.result["amount"] == Decimal("120000.00")


def test_capped_wage_counts_at_most_twelve_years():
    # 16 years 8 months at 40000 with a local average of 10000: 12 x 30000 = 360000.
    calc = compensation(200, 40000, local_average_wage=10000)
    assert calc.result["months"] == 12
    assert calc.result["lawful"] == Decimal("360000.00")
    assert calc.result["unlawful"] == Decimal("720000.00")
    # The extra month for no notice is the previous month's wage, not capped (实施条例 第20条).
    assert calc.result["no_notice"] == Decimal("400000.00")
    assert "economic_compensation.years_capped" in {s.key for s in calc.steps}


def test_without_a_local_average_the_cap_is_flagged_not_guessed():
    calc = compensation(42, 15000)
    assert calc.result["capped"] is False
    assert "economic_compensation.cap_unknown" in {n.key for n in calc.notes}
    given_avg = compensation(42, 50000, local_average_wage=10000)
    assert "economic_compensation.cap_unknown" not in {n.key for n in given_avg.notes}
    assert "economic_compensation.cap_first" not in {s.key for s in given_avg.steps}


def test_a_high_wage_without_the_average_opens_with_the_cap():
    # 第47条 第2款: above 3 x the local average the wage is capped and at most 12 years count; with no
    # average known, a wage above 15000 (3 x 5000) is told so before any figure.
    calc = compensation(42, 15000.01)
    assert calc.steps[0] == Step("economic_compensation.cap_first", {"wage": Decimal("15000.01")})
    conclusion = render_parts(calc).conclusion.splitlines()
    assert "3倍" in conclusion[1] and "12年" in conclusion[1] and "没有封顶" in conclusion[1]
    assert "60000.04元" in conclusion[2]                   # the figure only after the cap
    assert "economic_compensation.cap_first" not in {
        s.key for s in compensation(42, 15000).steps}


def test_service_before_2008_is_flagged_but_not_computed_differently():
    # 劳动合同法 第97条: years before 2008-01-01 follow the rules of the time.
    after = compensation(204, 8000)    # started exactly on 2008-01-01
    before = compensation(205, 8000)
    assert "economic_compensation.before_2008" not in {n.key for n in after.notes}
    assert "economic_compensation.before_2008" in {n.key for n in before.notes}
    assert "劳动合同法 第97条" in before.basis
    assert before.result["months"] == Decimal("17.5")   # 17 years 1 month, computed as usual
    assert before.result["lawful"] == Decimal("140000.00")


@pytest.mark.parametrize(
    "args, kwargs",
    [((-1, 8000), {}), ((42, -8000), {}), ((601, 8000), {}), ((42, 10_000_001), {}),
     ((math.nan, 8000), {}), ((42, 8000), {"cause": "fired"}), ((42, 8000), {"local_average_wage": 0})],
)
def test_compensation_rejects_invalid_input(args, kwargs):
    with pytest.raises(ValueError):
        compensation(*args, **kwargs)


@given(months, months, wages, st.none() | wages)
def test_compensation_never_decreases_with_more_service(a, b, wage, average):
    low, high = sorted((a, b))
    small = compensation(low, wage, local_average_wage=average).result
    large = compensation(high, wage, local_average_wage=average).result
    for key in CAUSE_KEYS:
        assert 0 <= small[key] <= large[key]


@given(months, st.decimals(min_value=100, max_value=3_000_000, places=2), st.integers(1, 10_000))
def test_capped_compensation_never_exceeds_twelve_times_the_cap(service, average, above):
    wage = average * 3 + above
    result = compensation(service, wage, local_average_wage=average).result
    cap_total = average * 3 * 12
    assert result["capped"] is True
    assert result["lawful"] <= cap_total
    assert result["unlawful"] <= cap_total * 2
    assert result["no_notice"] <= cap_total + wage   # the notice month is not capped


# ---- overtime pay: 劳动法 第44条, 劳社部发〔2008〕3号 ----------------------------------------


def test_overtime_by_day_type():
    # Hourly wage 8700 / 21.75 / 8 = 50.00. Workday 10 h x 150% = 750; rest day 8 h x 200% = 800;
    # statutory holiday 8 h x 300% = 1200; total 2750.
    calc = overtime_pay(8700, {"workday": 10, "restday": 8, "holiday": 8})
    assert calc.result == {
        "hourly_wage": Decimal("50.00"), "workday": Decimal("750.00"), "restday": Decimal("800.00"),
        "holiday": Decimal("1200.00"), "total": Decimal("2750.00"),
    }
    assert [s.key for s in calc.steps] == [
        "overtime_pay.hourly", "overtime_pay.workday", "overtime_pay.restday",
        "overtime_pay.holiday", "overtime_pay.total",
    ]
    assert "overtime_pay.restday_time_off" in {n.key for n in calc.notes}
    assert calc.basis[0] == "劳动法 第44条"


def test_overtime_shows_only_the_day_types_given():
    calc = overtime_pay(5000, {"workday": 20})   # 5000 / 174 = 28.74; 20 x 28.74 x 1.5 = 862.20
    assert calc.result["total"] == Decimal("862.20")
    assert calc.result["restday"] == calc.result["holiday"] == Decimal("0.00")
    assert {s.key for s in calc.steps} == {"overtime_pay.hourly", "overtime_pay.workday", "overtime_pay.total"}


@pytest.mark.parametrize("bad", [{}, {"night": 3}, {"workday": -1}, {"workday": math.nan},
                                 {"workday": 10_001}, [("workday", 3)]])
def test_overtime_rejects_invalid_hours(bad):
    with pytest.raises(ValueError):
        overtime_pay(5000, bad)


def test_days_are_paid_from_the_daily_wage_rounded_once():
    # 劳社部发〔2008〕3号: 9000 / 21.75 = 413.793...; x 2 days x 300 % = 2482.758... -> 2482.76
    # (not 413.79 x 6 = 2482.74).
    calc = overtime_pay(9000, days={"holiday": 2})
    assert calc.result["holiday"] == calc.result["total"] == Decimal("2482.76")
    assert "全国年节及纪念日放假办法 第2条" not in calc.basis            # no festival named


@pytest.mark.parametrize("festival, said, holiday_days, rest_days", [
    ("labour_day", 2, 2, 0), ("labour_day", 5, 2, 3), ("national_day", 7, 3, 4),
    ("spring_festival", 4, 4, 0), ("spring_festival", 8, 4, 4), ("mid_autumn", 1, 1, 0),
])
def test_only_a_festivals_statutory_days_are_paid_as_holidays(festival, said, holiday_days, rest_days):
    calc = overtime_pay(8700, days={"holiday": said}, festival=festival)   # 8700 / 21.75 = 400 a day
    assert calc.result["holiday"] == Decimal(400 * 3 * holiday_days)
    assert calc.result["restday"] == Decimal(400 * 2 * rest_days)
    assert "全国年节及纪念日放假办法 第2条" in calc.basis


@pytest.mark.parametrize("kwargs", [{"days": {"holiday": 367}}, {"days": {"night": 1}},
                                    {"days": {"holiday": 1}, "festival": "christmas"},
                                    {"daily": {"hours": 25}}, {"days": [("holiday", 1)]}])
def test_overtime_rejects_invalid_days(kwargs):
    with pytest.raises(ValueError):
        overtime_pay(5000, **kwargs)


@given(wages, hours, hours, hours, hours)
def test_overtime_pay_is_linear_in_hours(wage, w1, w2, r, h):
    one = overtime_pay(wage, {"workday": w1, "restday": r, "holiday": h}).result
    two = overtime_pay(wage, {"workday": w2}).result
    both = overtime_pay(wage, {"workday": w1 + w2, "restday": r, "holiday": h}).result
    assert abs(both["workday"] - (one["workday"] + two["workday"])) <= Decimal("0.01")
    rate = {"workday": Decimal("1.5"), "restday": 2, "holiday": 3}
    for kind, given_hours in (("workday", w1), ("restday", r), ("holiday", h)):
        exact = one["hourly_wage"] * rate[kind] * given_hours
        assert abs(one[kind] - exact) <= Decimal("0.005")
    assert one["total"] == one["workday"] + one["restday"] + one["holiday"] >= 0


# ---- double wages: 劳动合同法 第82条, 实施条例 第6条, 第7条 ----------------------------------


@pytest.mark.parametrize(
    "worked, owed",
    [
        (0.5, 0),
        (1, 0),       # the first month is the time allowed to sign
        (1.5, 0),     # whole months only (the part-month is noted)
        (2, 1),       # from the day after the first month: one month owed
        (6, 5),
        (12, 11),     # 实施条例 第7条: up to the day before the first anniversary -> at most 11
        (13, 11),
        (36, 11),
    ],
)
def test_double_wages_from_the_second_month_for_at_most_eleven(worked, owed):
    calc = double_wages(worked, 5000)
    assert calc.result["months_owed"] == owed
    assert calc.result["amount"] == Decimal(5000 * owed).quantize(Decimal("0.01"))
    assert calc.basis[:3] == ("劳动合同法 第82条", "劳动合同法实施条例 第6条", "劳动合同法实施条例 第7条")


def test_a_year_without_contract_deems_an_open_ended_contract():
    # 劳动合同法 第14条 第3款, 实施条例 第7条
    assert double_wages(12, 5000).result["open_ended_deemed"] is True
    assert "double_wages.open_ended" in {n.key for n in double_wages(12, 5000).notes}
    assert double_wages(11.99, 5000).result["open_ended_deemed"] is False
    assert "double_wages.time_limit" in {n.key for n in double_wages(3, 5000).notes}


@given(months, months, wages)
def test_double_wages_never_decrease_and_stay_within_eleven_months(a, b, wage):
    low, high = sorted((a, b))
    small, large = double_wages(low, wage).result, double_wages(high, wage).result
    assert 0 <= small["amount"] <= large["amount"] <= wage * 11
