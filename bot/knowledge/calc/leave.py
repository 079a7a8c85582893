"""Leave calculators: paid annual leave, medical period, maternity leave."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Mapping

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


@dataclass(frozen=True)
class RegionalRules:
    """The worker's region's own maternity figures, where they replace 第7条's (None: 第7条 applies).

    ``caesarean_difficult``: True when the region's rule counts a caesarean section as a difficult
    birth, False when it says it does not, None when it is silent. ``miscarriage``: (from months of
    pregnancy, days, up to days on medical advice or None), rising. ``cites``: the articles behind
    these figures, added to the citations when one is used.
    """

    difficult_days: int | None = None
    caesarean_difficult: bool | None = None
    per_baby_days: int | None = None
    miscarriage: tuple[tuple[int, int, int | None], ...] = ()
    second_child_days: int | None = None
    third_child_days: int | None = None
    cites: Mapping[str, str] = field(default_factory=dict)


NATIONAL = RegionalRules()
NATIONAL_EXTRA_DAYS = 15  # 第7条: a difficult birth, and each extra baby of a multiple birth


def maternity_leave(
    *,
    difficult: bool = False,
    caesarean: bool = False,
    babies: int = 1,
    miscarriage_months: Number | None = None,
    regional_extension_days: int | None = None,
    region_name: str | None = None,
    rules: RegionalRules = NATIONAL,
) -> Calculation:
    """Maternity leave days.

    女职工劳动保护特别规定 第7条: 98 days, of which up to 15 before the birth; a difficult
    birth adds 15 days; each extra baby of a multiple birth adds 15 days. Miscarriage under 4
    months of pregnancy -> 15 days, at 4 months or later -> 42 days. Provinces add extended
    leave for births (``regional_extension_days``), shown as its own step, and some replace
    第7条's figures (``rules``, e.g. 广东: 30 days for a difficult birth).
    第7条 names a difficult birth, not a caesarean section: unless the region's rule says whether
    a caesarean counts, the result is the figure without it (``days``) and, when the hospital
    diagnoses a difficult birth, ``days_if_difficult``.
    ``region_name`` without ``regional_extension_days``: the region is known but its extension
    is not confirmed (the worker is told to check locally, not asked for the region again).
    Result: ``days``, ``miscarriage`` (and ``days_if_difficult`` for an undecided caesarean).
    """
    babies = check_count(babies, "babies", 1, 10)
    if regional_extension_days is not None:
        check_count(regional_extension_days, "regional_extension_days", 0, 365)
    if miscarriage_months is not None:
        return _miscarriage(check_months(miscarriage_months, "miscarriage_months"), region_name, rules)
    region = region_name or ""
    rules = rules if region else NATIONAL  # a region's figures are shown with its name
    basis = ["女职工劳动保护特别规定 第7条"]
    steps = [Step("maternity_leave.base", {"days": 98})]
    notes: list[Step] = []
    days = 98
    extra = rules.difficult_days or NATIONAL_EXTRA_DAYS
    counts_difficult = difficult or (caesarean and rules.caesarean_difficult is True)
    undecided = caesarean and not difficult and rules.caesarean_difficult is None
    if counts_difficult:
        days += extra
        steps.append(_regional_or_national("difficult", rules.difficult_days, region, {"days": extra}))
        if not difficult:
            notes.append(Step("maternity_leave.caesarean_counts", {"region": region}))
    elif caesarean and rules.caesarean_difficult is False:
        notes.append(Step("maternity_leave.caesarean_not_counted", {"region": region}))
    if babies > 1:
        per_baby = rules.per_baby_days or NATIONAL_EXTRA_DAYS
        steps.append(_regional_or_national("multiple", rules.per_baby_days, region,
                                           {"babies": babies, "per_baby": per_baby, "extra": per_baby * (babies - 1)}))
        days += per_baby * (babies - 1)
    if regional_extension_days is None:
        total = "maternity_leave.total_unverified" if region else "maternity_leave.total_national"
        if not region:
            notes.append(Step("maternity_leave.regional_unknown"))
    else:
        days += regional_extension_days
        steps.append(_extension_step(region, regional_extension_days, rules))
        total = "maternity_leave.total"
    result: dict[str, object] = {"days": days, "miscarriage": False}
    if undecided:
        steps.append(Step("maternity_leave.caesarean_undecided", {"days": extra}))
    steps.append(Step(total, {"region": region, "days": days}))
    if undecided:
        result["days_if_difficult"] = days + extra
        steps.append(Step("maternity_leave.caesarean_total", {"days_if_difficult": days + extra}))
    used = {"difficult": counts_difficult or undecided, "multiple": babies > 1,
            "later_children": regional_extension_days is not None}
    basis += [cite for name, cite in rules.cites.items() if used.get(name) and cite not in basis]
    return Calculation("maternity_leave", result, tuple(steps), tuple(basis), tuple(notes))


def _regional_or_national(name: str, regional: int | None, region: str, values: dict[str, object]) -> Step:
    """The step stating a 第7条 figure, or the region's own figure that replaces it."""
    if regional is not None and region:
        return Step(f"maternity_leave.{name}_regional", {"region": region, **values})
    return Step(f"maternity_leave.{name}", values)


def _extension_step(region: str, days: int, rules: RegionalRules) -> Step:
    if not region:
        return Step("maternity_leave.regional_unnamed", {"days": days})
    later = {"second": rules.second_child_days, "third": rules.third_child_days}
    if all(v is None for v in later.values()):
        return Step("maternity_leave.regional", {"region": region, "days": days})
    # A child whose figure the region does not set apart gets the first child's days.
    later = {k: days if v is None else v for k, v in later.items()}
    return Step("maternity_leave.regional_by_child", {"region": region, "days": days, **later})


def _miscarriage(months: Decimal, region_name: str | None, rules: RegionalRules) -> Calculation:
    if months > 10:
        raise ValueError(f"miscarriage_months of {months} is beyond a pregnancy")
    if region_name and rules.miscarriage:
        _, days, up_to = [t for t in rules.miscarriage if t[0] <= months][-1]
        values = {"region": region_name, "months": plain(months), "days": days}
        step = (Step("maternity_leave.miscarriage_region", values) if up_to is None
                else Step("maternity_leave.miscarriage_region_range", {**values, "up_to": up_to}))
        basis = ("女职工劳动保护特别规定 第7条", *filter(None, [rules.cites.get("miscarriage")]))
        return Calculation("maternity_leave", {"days": days, "miscarriage": True}, (step,), basis)
    days = 15 if months < 4 else 42
    key = "maternity_leave.miscarriage_early" if months < 4 else "maternity_leave.miscarriage_late"
    steps = (Step(key, {"months": plain(months), "days": days}),)
    return Calculation("maternity_leave", {"days": days, "miscarriage": True}, steps,
                       ("女职工劳动保护特别规定 第7条",), (Step("maternity_leave.miscarriage_regional"),))
