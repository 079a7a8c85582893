"""Contract calculators: the longest lawful probation, the labour-arbitration deadline."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from bot.knowledge.calc.base import Calculation, Number, Step, check_months, plain


def max_probation(contract_months: Number | None, *, open_ended: bool = False) -> Calculation:
    """The longest probation the contract term allows.

    劳动合同法 第19条: term under 3 months (or a contract for a defined task) -> no probation;
    3 months to under 1 year -> at most 1 month; 1 to under 3 years -> at most 2 months;
    3 years or more, or open-ended -> at most 6 months. One probation per employer and worker.
    第20条: probation wage at least 80% of the agreed wage (or of the lowest wage for the same
    post) and not below the local minimum wage. 第83条: damages for probation served beyond it.
    Result: ``months`` (0 when none may be agreed), ``allowed``.
    """
    if open_ended:
        limit, step = 6, Step("max_probation.open_ended", {"limit": 6})
    elif contract_months is None:
        raise ValueError("contract_months is required unless open_ended is True")
    else:
        months = check_months(contract_months, "contract_months")
        limit, key = _band(months)
        step = Step(f"max_probation.{key}", {"months": plain(months), "limit": limit})
    notes = [Step("max_probation.task_based"), Step("max_probation.once"),
             Step("max_probation.included")]
    if limit:
        notes += [Step("max_probation.wage"), Step("max_probation.overlong")]
    else:
        notes.append(Step("max_probation.none_allowed"))
    basis = ("劳动合同法 第19条", "劳动合同法 第20条", "劳动合同法 第83条")
    return Calculation("max_probation", {"months": limit, "allowed": limit > 0}, (step,), basis,
                       tuple(notes))


def _band(months: Decimal) -> tuple[int, str]:
    if months < 3:
        return 0, "band_short"
    if months < 12:
        return 1, "band_under_year"
    if months < 36:
        return 2, "band_under_three_years"
    return 6, "band_long"


def arbitration_deadline(known_on: date, *, today: date, month_only: bool = False) -> Calculation:
    """The last day to apply for labour arbitration.

    劳动争议调解仲裁法 第27条: one year from the day the worker knew or should have known that
    the right was infringed; the year ends on the same month and day of the next year (28
    February for a 29 February start). 第2、3款: interrupted by a claim to the employer, a
    request to an authority or the employer agreeing to pay (the year restarts), suspended by
    force majeure or another proper reason. 第4款: unpaid wages during employment are not
    time-barred, but must be claimed within one year after the employment ends.
    ``month_only``: the worker named a month, not a day; the 1st is assumed (the earliest,
    so the deadline shown is never later than the real one) and the text says so.
    Result: ``deadline`` (date), ``days_left`` (negative once passed), ``expired``.
    """
    known_on, today = _as_date(known_on, "known_on"), _as_date(today, "today")
    if known_on > today:
        raise ValueError(f"known_on {known_on} is after today {today}")
    deadline = _one_year_after(known_on)
    days_left = (deadline - today).days
    expired = days_left < 0
    steps = [Step("arbitration_deadline.start", {"known_on": known_on}),
             Step("arbitration_deadline.deadline", {"deadline": deadline})]
    if expired:
        steps.append(Step("arbitration_deadline.expired", {"today": today, "days": -days_left}))
    elif days_left == 0:
        steps.append(Step("arbitration_deadline.last_day", {"today": today}))
    else:
        steps.append(Step("arbitration_deadline.days_left", {"today": today, "days": days_left}))
    notes = [Step("arbitration_deadline.month_only")] if month_only else []
    notes += [Step("arbitration_deadline.interruption"), Step("arbitration_deadline.wage_arrears")]
    notes.append(Step("arbitration_deadline.ask_staff" if expired else "arbitration_deadline.act_early"))
    result = {"deadline": deadline, "days_left": days_left, "expired": expired}
    return Calculation("arbitration_deadline", result, tuple(steps), ("劳动争议调解仲裁法 第27条",),
                       tuple(notes))


def _as_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise ValueError(f"{name} must be a date, got {value!r}")
    return value


def _one_year_after(start: date) -> date:
    """Same month and day next year; 29 February -> 28 February."""
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return start.replace(year=start.year + 1, day=28)
