"""Leave calculators: paid annual leave, medical period, maternity leave."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from bot.knowledge.calc.base import (
    Calculation, Number, Step, check_count, check_money, check_months, plain, to_decimal, yuan,
)

PAY_DAYS_PER_MONTH = Decimal("21.75")
MIN_YEAR, MAX_YEAR = 1950, 2100


def annual_leave(
    cumulative_months: Number,
    *,
    joined_on: date | None = None,
    year: int | None = None,
    monthly_wage: Number | None = None,
    unused_days: Number | None = None,
) -> Calculation:
    """Paid annual leave days and pay for leave not taken.

    职工带薪年休假条例 第3条: cumulative work of 1 to under 10 years -> 5 days, 10 to under
    20 years -> 10 days, 20 years or more -> 15 days; statutory holidays and rest days are not
    counted. 企业职工带薪年休假实施办法 第3条, 第4条: entitled after 12 months of work, the tier
    follows cumulative work at any employer. 实施办法 第5条: in the year a worker joins a new
    employer, days = remaining calendar days in that employer / 365 x full days, part-days
    dropped. 条例 第5条, 实施办法 第10条, 第11条: each unused day is paid at 300% of the daily
    wage (monthly wage / 21.75), which includes the normal wage already paid (200% extra).
    Result: ``days``, ``full_days``; with a wage ``daily_wage``, ``pay_per_day`` (300%),
    ``extra_per_day`` (200%); with unused days too ``unused_days``, ``unused_pay``, ``extra_owed``.
    """
    months = check_months(cumulative_months, "cumulative_months")
    if year is not None:
        check_count(year, "year", MIN_YEAR, MAX_YEAR)
    full = _full_days(months)
    steps = [_tier_step(months, full)]
    basis = ["职工带薪年休假条例 第3条", "职工带薪年休假条例 第4条", "企业职工带薪年休假实施办法 第3条",
             "企业职工带薪年休假实施办法 第4条"]
    days = full
    if joined_on is not None:
        days, prorated = _prorate(full, joined_on, year)
        if prorated is not None:
            steps.append(prorated)
            basis.append("企业职工带薪年休假实施办法 第5条")
    result: dict[str, object] = {"days": days, "full_days": full}
    notes = [Step("annual_leave.holidays_excluded"), Step("annual_leave.exclusions")]
    if monthly_wage is not None:
        pay_steps, pay_notes = _unused_pay(check_money(monthly_wage, "monthly_wage"), days,
                                           unused_days, result)
        steps += pay_steps
        notes += pay_notes
        basis += ["职工带薪年休假条例 第5条", "企业职工带薪年休假实施办法 第10条",
                  "企业职工带薪年休假实施办法 第11条"]
    elif unused_days is not None:
        to_decimal(unused_days, "unused_days")
        notes.append(Step("annual_leave.wage_needed"))
    steps.append(_result_step(result))
    return Calculation("annual_leave", result, tuple(steps), tuple(basis), tuple(notes))


def _full_days(months: Decimal) -> int:
    if months < 12:
        return 0
    if months < 120:
        return 5
    if months < 240:
        return 10
    return 15


def _tier_step(months: Decimal, full: int) -> Step:
    years = plain((months / 12).quantize(Decimal("0.1"), ROUND_DOWN))
    values = {"months": plain(months), "years": years, "days": full}
    if full == 0:
        return Step("annual_leave.under_year", values)
    low, high = {5: (1, 10), 10: (10, 20), 15: (20, None)}[full]
    if high is None:
        return Step("annual_leave.tier_top", {**values, "low": low})
    return Step("annual_leave.tier", {**values, "low": low, "high": high})


def _prorate(full: int, joined_on: date, year: int | None) -> tuple[int, Step | None]:
    """实施办法 第5条: (remaining calendar days / 365) x full days, part-days dropped."""
    if not isinstance(joined_on, date):
        raise ValueError(f"joined_on must be a date, got {joined_on!r}")
    year = joined_on.year if year is None else year
    if not MIN_YEAR <= joined_on.year <= year:
        raise ValueError(f"joined_on {joined_on} must fall in or before the year {year}")
    if joined_on.year < year or full == 0:
        return full, None
    remaining = (date(year, 12, 31) - joined_on).days + 1
    exact = Decimal(remaining) * full / 365
    days = min(int(exact), full)
    shown = exact.quantize(Decimal("0.01"), ROUND_DOWN)
    return days, Step("annual_leave.prorated", {
        "joined_on": joined_on, "remaining": remaining, "full": full, "exact": shown, "days": days,
    })


def _unused_pay(
    wage: Decimal, days: int, unused_days: Number | None, result: dict[str, object]
) -> tuple[list[Step], list[Step]]:
    """实施办法 第10条, 第11条: 300% of the daily wage per unused day, 200% of it on top of pay."""
    daily = yuan(wage / PAY_DAYS_PER_MONTH)
    per_day, extra_per_day = yuan(daily * 3), yuan(daily * 2)
    result.update(daily_wage=daily, pay_per_day=per_day, extra_per_day=extra_per_day)
    steps = [
        Step("annual_leave.daily_wage", {"wage": wage, "daily": daily}),
        Step("annual_leave.per_day", {"daily": daily, "per_day": per_day, "extra_per_day": extra_per_day}),
    ]
    notes = [Step("annual_leave.wage_basis"), Step("annual_leave.written_waiver")]
    if unused_days is None:
        return steps, notes
    claimed = to_decimal(unused_days, "unused_days")
    unused = min(claimed, Decimal(days))
    if claimed > unused:
        notes.insert(0, Step("annual_leave.unused_clamped", {"claimed": plain(claimed), "days": days}))
    total, extra = yuan(unused * per_day), yuan(unused * extra_per_day)
    result.update(unused_days=plain(unused), unused_pay=total, extra_owed=extra)
    steps.append(Step("annual_leave.unused_total", {
        "unused": plain(unused), "per_day": per_day, "extra_per_day": extra_per_day,
        "total": total, "extra": extra,
    }))
    return steps, notes


def _result_step(result: dict[str, object]) -> Step:
    if "unused_pay" in result:
        return Step("annual_leave.result_with_pay", dict(result))
    return Step("annual_leave.result", dict(result))


def medical_period(total_months: Number, employer_months: Number) -> Calculation:
    """Medical period for illness or non-work injury.

    企业职工患病或非因工负伤医疗期规定 第3条: total work under 10 years -> 3 months if under 5
    years with this employer, 6 months if 5 or more; total work 10 years or more -> 6 / 9 / 12 /
    18 / 24 months for under 5 / 5-10 / 10-15 / 15-20 / 20+ years with this employer.
    第4条: the sick days count cumulatively within a window (3 -> 6 months, 6 -> 12, 9 -> 15,
    12 -> 18, 18 -> 24, 24 -> 30).
    Result: ``months``, ``window_months``.
    """
    total = check_months(total_months, "total_months")
    here = check_months(employer_months, "employer_months")
    if here > total:
        raise ValueError(f"employer_months ({here}) cannot exceed total_months ({total})")
    if total < 120:
        period = 3 if here < 60 else 6
    else:
        period = {0: 6, 1: 9, 2: 12, 3: 18}.get(int(here // 60), 24)
    window = {3: 6, 6: 12, 9: 15, 12: 18, 18: 24, 24: 30}[period]
    steps = (
        Step("medical_period.service", {"total": plain(total), "employer": plain(here)}),
        Step("medical_period.tier_under_ten" if total < 120 else "medical_period.tier_ten_plus",
             {"months": period}),
        Step("medical_period.window", {"months": period, "window": window}),
    )
    notes = (Step("medical_period.sick_pay"), Step("medical_period.no_dismissal"),
             Step("medical_period.regional"))
    basis = ("企业职工患病或非因工负伤医疗期规定 第3条", "企业职工患病或非因工负伤医疗期规定 第4条",
             "关于贯彻执行《劳动法》若干问题的意见 第59条", "劳动合同法 第42条")
    return Calculation("medical_period", {"months": period, "window_months": window}, steps, basis, notes)


def maternity_leave(
    *,
    difficult: bool = False,
    babies: int = 1,
    miscarriage_months: Number | None = None,
    regional_extension_days: int | None = None,
    region_name: str | None = None,
) -> Calculation:
    """Maternity leave days.

    女职工劳动保护特别规定 第7条: 98 days, of which up to 15 before the birth; a difficult
    birth adds 15 days; each extra baby of a multiple birth adds 15 days. Miscarriage under 4
    months of pregnancy -> 15 days, at 4 months or later -> 42 days. Provinces add extended
    leave for births (``regional_extension_days``), shown as its own step.
    Result: ``days``, ``miscarriage``.
    """
    babies = check_count(babies, "babies", 1, 10)
    if regional_extension_days is not None:
        check_count(regional_extension_days, "regional_extension_days", 0, 365)
    if miscarriage_months is not None:
        return _miscarriage(check_months(miscarriage_months, "miscarriage_months"))
    steps = [Step("maternity_leave.base", {"days": 98})]
    days = 98
    if difficult:
        days += 15
        steps.append(Step("maternity_leave.difficult", {"days": 15}))
    if babies > 1:
        extra = 15 * (babies - 1)
        days += extra
        steps.append(Step("maternity_leave.multiple", {"babies": babies, "extra": extra}))
    notes: list[Step] = []
    if regional_extension_days is None:
        notes.append(Step("maternity_leave.regional_unknown"))
    else:
        days += regional_extension_days
        key = "maternity_leave.regional" if region_name else "maternity_leave.regional_unnamed"
        steps.append(Step(key, {"region": region_name or "", "days": regional_extension_days}))
    steps.append(Step("maternity_leave.total", {"days": days}))
    return Calculation("maternity_leave", {"days": days, "miscarriage": False}, tuple(steps),
                       ("女职工劳动保护特别规定 第7条",), tuple(notes))


def _miscarriage(months: Decimal) -> Calculation:
    if months > 10:
        raise ValueError(f"miscarriage_months of {months} is beyond a pregnancy")
    days = 15 if months < 4 else 42
    key = "maternity_leave.miscarriage_early" if months < 4 else "maternity_leave.miscarriage_late"
    steps = (Step(key, {"months": plain(months), "days": days}),)
    return Calculation("maternity_leave", {"days": days, "miscarriage": True}, steps,
                       ("女职工劳动保护特别规定 第7条",), (Step("maternity_leave.miscarriage_regional"),))
