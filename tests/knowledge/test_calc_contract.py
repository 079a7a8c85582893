"""Contract calculators against worked examples taken from the statutes they implement."""
from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.knowledge.calc import arbitration_deadline, max_probation

# ---- probation: 劳动合同法 第19条 --------------------------------------------------------


@pytest.mark.parametrize(
    "contract_months, limit",
    [
        (0, 0),
        (2.99, 0),    # under 3 months: no probation may be agreed
        (3, 1),       # 3 months to under 1 year: at most 1 month
        (11.99, 1),
        (12, 2),      # exactly 1 year: 1 to under 3 years -> at most 2 months
        (35.99, 2),
        (36, 6),      # exactly 3 years: at most 6 months
        (120, 6),
    ],
)
def test_probation_limit_by_contract_term(contract_months, limit):
    calc = max_probation(contract_months)
    assert calc.result == {"months": limit, "allowed": limit > 0}
    assert calc.basis[0] == "劳动合同法 第19条"
    notes = {n.key for n in calc.notes}
    assert {"max_probation.once", "max_probation.task_based"} <= notes
    # 第20条: probation wage at least 80% and not below the local minimum, when probation exists
    assert ("max_probation.wage" in notes) == (limit > 0)


def test_open_ended_contract_allows_six_months():
    calc = max_probation(None, open_ended=True)
    assert calc.result == {"months": 6, "allowed": True}
    assert calc.steps[-1].key == "max_probation.open_ended"


@pytest.mark.parametrize("bad", [None, -1, math.nan, 601, "12"])
def test_probation_rejects_invalid_terms(bad):
    with pytest.raises(ValueError):
        max_probation(bad)


@given(st.floats(0, 600), st.floats(0, 600))
def test_probation_limit_never_decreases_with_a_longer_term(a, b):
    low, high = sorted((a, b))
    assert 0 <= max_probation(low).result["months"] <= max_probation(high).result["months"] <= 6


# ---- arbitration time limit: 劳动争议调解仲裁法 第27条 ---------------------------------------


def test_one_year_from_the_day_the_worker_knew():
    # 第27条 第1款: one year from the day the worker knew or should have known.
    calc = arbitration_deadline(date(2024, 3, 10), today=date(2024, 3, 10))
    assert calc.result == {"deadline": date(2025, 3, 10), "days_left": 365, "expired": False}
    assert calc.basis == ("劳动争议调解仲裁法 第27条",)
    notes = {n.key for n in calc.notes}
    # 第2、3款 (interruption, suspension) and 第4款 (wage arrears during employment) always noted
    assert {"arbitration_deadline.interruption", "arbitration_deadline.wage_arrears"} <= notes


def test_deadline_exactly_today_is_not_expired():
    calc = arbitration_deadline(date(2024, 3, 10), today=date(2025, 3, 10))
    assert calc.result == {"deadline": date(2025, 3, 10), "days_left": 0, "expired": False}
    assert calc.steps[-1].key == "arbitration_deadline.last_day"


def test_day_after_the_deadline_is_expired_and_points_to_staff():
    calc = arbitration_deadline(date(2024, 3, 10), today=date(2025, 3, 11))
    assert calc.result == {"deadline": date(2025, 3, 10), "days_left": -1, "expired": True}
    assert "arbitration_deadline.ask_staff" in {n.key for n in calc.notes}


def test_leap_day_start_ends_on_28_february():
    calc = arbitration_deadline(date(2024, 2, 29), today=date(2024, 6, 1))
    assert calc.result["deadline"] == date(2025, 2, 28)


def test_datetimes_are_taken_as_their_date():
    calc = arbitration_deadline(datetime(2024, 3, 10, 15, 30), today=datetime(2024, 3, 11, 9, 0))
    assert calc.result["days_left"] == 364


@pytest.mark.parametrize(
    "known_on, today",
    [(date(2025, 1, 2), date(2025, 1, 1)), ("2024-03-10", date(2025, 1, 1)), (date(2024, 3, 10), None)],
)
def test_deadline_rejects_invalid_dates(known_on, today):
    with pytest.raises(ValueError):
        arbitration_deadline(known_on, today=today)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 3000))
def test_deadline_is_one_year_on_and_expiry_follows_it(known_on, elapsed):
    today = date.fromordinal(known_on.toordinal() + elapsed)
    result = arbitration_deadline(known_on, today=today).result
    assert (result["deadline"] - known_on).days in (365, 366)
    assert result["days_left"] == (result["deadline"] - today).days
    assert result["expired"] is (today > result["deadline"])
