"""Money calculators: economic compensation on termination, overtime pay, double wages."""
from __future__ import annotations

from calendar import monthrange
from datetime import date
from decimal import Decimal, ROUND_HALF_UP
from typing import Mapping

from bot.knowledge.calc.base import (
    CENT, Calculation, Number, Step, check_money, check_months, plain, to_decimal, yuan,
)

CAUSES = ("lawful", "no_notice", "unlawful")
CONTRACT_LAW_START = date(2008, 1, 1)
# 劳动合同法 第47条 第2款 caps a wage above 3 x the local average monthly wage; we hold no averages.
# Above this wage the cap is stated first and the average asked: 3 x 5000, a deliberately low line
# (published local averages are mostly well above 5000 a month), so that no wage that could be capped
# somewhere is shown as an uncapped result; asking a few workers too many costs one question.
CAP_ASKED_ABOVE = Decimal(15000)
OVERTIME_RATES = {"workday": Decimal("1.5"), "restday": Decimal("2"), "holiday": Decimal("3")}
DAYS_PER_MONTH = Decimal("21.75")  # pay days a month (劳社部发〔2008〕3号)
HOURS_PER_MONTH = DAYS_PER_MONTH * 8
STANDARD_DAY_HOURS = Decimal(8)  # 劳动法 第36条, 国务院关于职工工作时间的规定 第3条
MAX_HOURS = Decimal(10_000)
MAX_DAYS = Decimal(366)
# 全国年节及纪念日放假办法 第2条 (as amended by 国务院令第795号, in force 2025-01-01): 13 days a year.
STATUTORY_DAYS = {"new_year": 1, "spring_festival": 4, "qingming": 1, "labour_day": 2,
                  "dragon_boat": 1, "mid_autumn": 1, "national_day": 3}
# 法释〔2025〕12号, cited by its title as the worker reads it.
INTERPRETATION_TWO = "最高人民法院关于审理劳动争议案件适用法律问题的解释（二）"


def economic_compensation(
    service_months: Number,
    monthly_wage: Number,
    *,
    cause: str | None = None,
    local_average_wage: Number | None = None,
    today: date | None = None,
) -> Calculation:
    """Economic compensation (N), with notice pay (N+1) and unlawful-dismissal damages (2N).

    劳动合同法 第47条: one month's wage per full year of service; 6 months or more of a
    remainder count as a year, under 6 months as half a month. The monthly wage is the
    average of the last 12 months. A wage above 3 x the local average monthly wage is
    counted as 3 x that average and for at most 12 years.
    ``cause``: "lawful" -> N; "no_notice" (第40条 without 30 days' written notice) -> N plus
    one month's wage at the previous month's level, not capped (劳动合同法实施条例 第20条);
    "unlawful" -> 2N (第87条), instead of N, not on top of it (实施条例 第25条); None (the worker does
    not know) -> N as the result, with one line on what N+1 and 2N would be.
    Without ``local_average_wage``, a wage above ``CAP_ASKED_ABOVE`` opens with the cap: the figure
    shown may be above what the law owes, and the worker is told so before it.
    Service before 2008 follows the rules of that time (第97条): flagged, not computed apart.
    Result: ``months`` (N), ``base_wage``, ``capped``, the amount of each cause shown
    (``lawful``, ``no_notice``, ``unlawful``: all three when ``cause`` is None) and ``amount``
    (for no cause given: N).
    """
    months = check_months(service_months, "service_months")
    wage = check_money(monthly_wage, "monthly_wage")
    if cause is not None and cause not in CAUSES:
        raise ValueError(f"cause must be one of {CAUSES} or None, got {cause!r}")
    steps = [Step("economic_compensation.wage", {"wage": wage})]
    notes = [Step("economic_compensation.when_due"), Step("economic_compensation.wage_definition")]
    basis = ["劳动合同法 第47条", "劳动合同法 第46条", "劳动合同法实施条例 第27条"]
    base, capped = wage, False
    if local_average_wage is None and wage > CAP_ASKED_ABOVE:  # the cap before any figure
        steps.insert(0, Step("economic_compensation.cap_first", {"wage": wage}))
    elif local_average_wage is None:
        notes.append(Step("economic_compensation.cap_unknown"))
    else:
        base, capped, cap_step = _cap(wage, check_money(local_average_wage, "local_average_wage"))
        steps.append(cap_step)
    wage_months, month_steps = _wage_months(months, capped)
    steps += month_steps
    amounts = _amounts(wage_months, base, wage)
    shown = CAUSES if cause is None else (cause,)
    steps.append(_amount_step(cause or "lawful", wage_months, base, wage, amounts))
    if cause is None:  # N, and in one line what the other causes would give
        steps.append(Step("economic_compensation.other_causes",
                          {"no_notice": amounts["no_notice"], "unlawful": amounts["unlawful"]}))
    if "no_notice" in shown:
        notes.append(Step("economic_compensation.notice_pay"))
        basis += ["劳动合同法 第40条", "劳动合同法实施条例 第20条"]
    if "unlawful" in shown:
        basis += ["劳动合同法 第87条", "劳动合同法实施条例 第25条", "劳动合同法 第48条"]
    if months > _months_since_2008(today or date.today()):
        notes.append(Step("economic_compensation.before_2008"))
        basis.append("劳动合同法 第97条")
    result: dict[str, object] = {"months": plain(wage_months), "base_wage": base, "capped": capped}
    result.update({c: amounts[c] for c in shown})
    result["amount"] = amounts[cause or "lawful"]
    return Calculation("economic_compensation", result, tuple(steps), tuple(basis), tuple(notes))


def compensation_months(service_months: Number) -> int | Decimal:
    """N of 第47条 for a service, before any cap: what "干了两年半能拿几个月" is worth."""
    return plain(_wage_months(check_months(service_months, "service_months"), False)[0])


def _cap(wage: Decimal, average: Decimal) -> tuple[Decimal, bool, Step]:
    """第47条 第2款: only a wage *above* three times the local average is capped."""
    cap = yuan(average * 3)
    values = {"wage": wage, "average": average, "cap": cap}
    if wage > cap:
        return cap, True, Step("economic_compensation.cap_applied", values)
    return wage, False, Step("economic_compensation.cap_not_applied", values)


def _wage_months(months: Decimal, capped: bool) -> tuple[Decimal, list[Step]]:
    """第47条: months of wage owed for the service; at most 12 when the wage is capped."""
    years = int(months // 12)
    remainder = months - 12 * years
    steps = [Step("economic_compensation.service",
                  {"months": plain(months), "years": years, "remainder": plain(remainder)})]
    if years:
        steps.append(Step("economic_compensation.full_years", {"years": years}))
    owed = Decimal(years)
    if remainder >= 6:
        owed += 1
        steps.append(Step("economic_compensation.remainder_over_six", {"remainder": plain(remainder)}))
    elif remainder > 0:
        owed += Decimal("0.5")
        steps.append(Step("economic_compensation.remainder_under_six", {"remainder": plain(remainder)}))
    if capped and owed > 12:
        steps.append(Step("economic_compensation.years_capped", {"uncapped": plain(owed)}))
        owed = Decimal(12)
    steps.append(Step("economic_compensation.months_total", {"n": plain(owed)}))
    return owed, steps


def _amounts(wage_months: Decimal, base: Decimal, wage: Decimal) -> dict[str, Decimal]:
    lawful = yuan(wage_months * base)
    return {"lawful": lawful, "no_notice": yuan(lawful + wage), "unlawful": yuan(lawful * 2)}


def _amount_step(
    cause: str, wage_months: Decimal, base: Decimal, wage: Decimal, amounts: Mapping[str, Decimal]
) -> Step:
    values = {"n": plain(wage_months), "base": base, "extra": wage,
              "lawful": amounts["lawful"], "amount": amounts[cause]}
    return Step(f"economic_compensation.amount_{cause}", values)


def _months_since_2008(today: date) -> Decimal:
    """Months from 2008-01-01 (劳动合同法 in force) to ``today``, with the part of this month."""
    if not isinstance(today, date):
        raise ValueError(f"today must be a date, got {today!r}")
    whole = (today.year - CONTRACT_LAW_START.year) * 12 + today.month - 1
    part = Decimal(today.day - 1) / monthrange(today.year, today.month)[1]
    return whole + part


def overtime_pay(
    monthly_wage: Number,
    hours: Mapping[str, Number] | None = None,
    *,
    days: Mapping[str, Number] | None = None,
    festival: str | None = None,
    daily: Mapping[str, object] | None = None,
) -> Calculation:
    """Overtime pay by day type, from hours, from whole days, or per day of a long working day.

    劳动法 第44条: extended hours on a working day at least 150% of the wage; rest-day work
    without compensatory time off at least 200%; statutory holidays at least 300%.
    Hourly wage = monthly wage / 21.75 / 8 = monthly wage / 174, daily wage = monthly wage / 21.75
    (关于职工全年月平均工作时间和工资折算问题的通知, 劳社部发〔2008〕3号); a day worked is paid
    from the daily wage, rounded once at the end (9000 / 21.75 x 2 x 300% = 2482.76).
    ``festival`` names the holiday the ``days["holiday"]`` fell in (全国年节及纪念日放假办法 第2条,
    13 days since 2025): only its statutory days are holidays; days beyond them in the break are
    counted as rest days (200%, or time off), and the worker is told so.
    ``daily``: the worker's working day said per day, not a count: ``{"hours": 12}`` (the day's
    length: over 8 hours is extended time, 劳动法 第36条) or ``{"overtime": 3}`` (overtime a day),
    and ``{"restday": True}`` when rest days are worked but not counted. Only the pay per day is
    computed then: the number of days is the worker's to say, never assumed.
    Result: ``hourly_wage``, ``workday``, ``restday``, ``holiday`` (0 when not given), ``total``
    (None when only ``daily`` was given), and with ``daily`` the pay ``per_workday`` / ``per_restday``.
    """
    wage = check_money(monthly_wage, "monthly_wage")
    if not all(isinstance(m, Mapping) for m in (hours or {}, days or {}, daily or {})):
        raise ValueError(f"hours, days and daily must be mappings, got {hours!r}, {days!r}, {daily!r}")
    hours, days, daily = dict(hours or {}), dict(days or {}), dict(daily or {})
    if not (hours or days or daily):
        raise ValueError(f"give hours, days or daily hours of {tuple(OVERTIME_RATES)}, got {hours!r}")
    for name, given in (("hours", hours), ("days", days)):
        unknown = set(given) - set(OVERTIME_RATES)
        if unknown:
            raise ValueError(f"unknown day types in {name} {sorted(map(str, unknown))}; use {tuple(OVERTIME_RATES)}")
    hourly = yuan(wage / HOURS_PER_MONTH)
    daily_exact = wage / DAYS_PER_MONTH
    steps = [Step("overtime_pay.hourly", {"wage": wage, "hourly": hourly})] if hours or daily else []
    notes: list[Step] = []
    basis = ["劳动法 第44条", "关于职工全年月平均工作时间和工资折算问题的通知"]
    counted_days = {kind: _check_count(value, f"days[{kind!r}]", MAX_DAYS) for kind, value in days.items()}
    if festival is not None:
        counted_days, festival_steps = _festival_days(festival, counted_days)
        steps += festival_steps
        basis.append("全国年节及纪念日放假办法 第2条")
    if counted_days:
        steps.append(Step("overtime_pay.daily_wage", {"wage": wage, "daily": yuan(daily_exact)}))
    result: dict[str, object] = {"hourly_wage": hourly}
    for kind, rate in OVERTIME_RATES.items():
        pay = Decimal(0)
        if kind in hours:
            counted = _check_count(hours[kind], f"hours[{kind!r}]", MAX_HOURS)
            by_hour = yuan(hourly * rate * counted)
            pay += by_hour
            steps.append(Step(f"overtime_pay.{kind}", {"hours": plain(counted), "hourly": hourly, "amount": by_hour}))
        if counted_days.get(kind):
            by_day = yuan(daily_exact * rate * counted_days[kind])
            pay += by_day
            steps.append(Step(f"overtime_pay.{kind}_days", {"days": plain(counted_days[kind]), "wage": wage,
                                                           "amount": by_day}))
        result[kind] = yuan(pay)
    if hours or counted_days:
        total = yuan(sum((result[k] for k in OVERTIME_RATES), Decimal(0)))
        result["total"] = total
        steps.append(Step("overtime_pay.total", {"total": total}))
    else:
        result["total"] = None
    if daily:
        steps += _per_day(daily, hourly, daily_exact, result)
        notes += [Step("overtime_pay.daily_limit"), Step("overtime_pay.daily_breaks")]
        basis += ["劳动法 第36条", "劳动法 第41条"]
    notes.insert(0, Step("overtime_pay.minimum"))
    if "restday" in hours or counted_days.get("restday") or daily.get("restday"):
        notes.append(Step("overtime_pay.restday_time_off"))
    if "holiday" in hours or counted_days.get("holiday"):
        notes.append(Step("overtime_pay.holiday_no_swap"))
    return Calculation("overtime_pay", result, tuple(steps), tuple(basis), tuple(notes))


def _festival_days(festival: str, days: dict[str, Decimal]) -> tuple[dict[str, Decimal], list[Step]]:
    """全国年节及纪念日放假办法 第2条: the holiday days said of a named festival, at most its
    statutory days; the rest of the break are rest days (the worker is told which days are which)."""
    if festival not in STATUTORY_DAYS:
        raise ValueError(f"festival must be one of {tuple(STATUTORY_DAYS)}, got {festival!r}")
    statutory = STATUTORY_DAYS[festival]
    said = days.get("holiday", Decimal(0))
    steps = [Step(f"overtime_pay.festival_{festival}")]
    if said <= statutory:
        return days, steps + [Step("overtime_pay.festival_fits", {"said": plain(said)})]
    split = {**days, "holiday": Decimal(statutory), "restday": days.get("restday", Decimal(0)) + said - statutory}
    return split, steps + [Step("overtime_pay.festival_split",
                                {"said": plain(said), "statutory": statutory, "rest": plain(said - statutory)})]


def _per_day(daily: Mapping[str, object], hourly: Decimal, daily_exact: Decimal,
             result: dict[str, object]) -> list[Step]:
    """The pay for one day of the worker's working pattern; the count of days is not assumed."""
    steps = []
    if "hours" in daily:
        length = _check_count(daily["hours"], "daily['hours']", Decimal(24))
        extra = max(length - STANDARD_DAY_HOURS, Decimal(0))
        steps.append(Step("overtime_pay.day_length" if extra else "overtime_pay.day_length_within",
                          {"length": plain(length), "extra": plain(extra)}))
    else:
        extra = _check_count(daily.get("overtime", 0), "daily['overtime']", Decimal(24))
    per_workday = yuan(hourly * OVERTIME_RATES["workday"] * extra)
    if extra:
        result["per_workday"] = per_workday
        steps.append(Step("overtime_pay.per_workday", {"extra": plain(extra), "hourly": hourly,
                                                       "amount": per_workday}))
    if daily.get("restday"):
        per_restday = yuan(daily_exact * OVERTIME_RATES["restday"])
        result["per_restday"] = per_restday
        steps.append(Step("overtime_pay.per_restday", {"daily": yuan(daily_exact), "amount": per_restday}))
    key = ("per_day_both" if extra and daily.get("restday") else "per_day_workday" if extra
           else "per_day_restday" if daily.get("restday") else "per_day_none")
    steps.append(Step(f"overtime_pay.{key}", {"workday": per_workday, "restday": result.get("per_restday")}))
    return steps


def _check_count(value: object, name: str, limit: Decimal) -> Decimal:
    counted = to_decimal(value, name)
    if counted > limit:
        raise ValueError(f"{name} of {value!r} is beyond {limit}")
    return counted.quantize(CENT, ROUND_HALF_UP)


def double_wages(months_without_contract: Number, monthly_wage: Number) -> Calculation:
    """The extra wage owed for working without a written contract.

    劳动合同法 第82条, 劳动合同法实施条例 第6条, 第7条: from the day after the first month of
    work until the day before a contract is signed, at most up to the day before the first
    anniversary, the employer pays twice the wage each month, i.e. one extra month's wage for at
    most 11 months. Whole months only: floor(months) - 1, clamped to 0..11. After a full year an
    open-ended contract is deemed concluded (第14条, 实施条例 第7条). Not owed when the employer
    proves force majeure or the worker's own intent or gross fault (法释〔2025〕12号 第7条), nor for a
    contract extended by law at its expiry (第8条); a worker who will not sign within the first
    month may be let go without compensation (实施条例 第5条).
    Result: ``months_owed``, ``amount`` (the extra wage on top of normal pay), ``open_ended_deemed``.
    """
    months = check_months(months_without_contract, "months_without_contract")
    wage = check_money(monthly_wage, "monthly_wage")
    whole = int(months)
    owed = min(max(whole - 1, 0), 11)
    amount = yuan(owed * wage)
    count_key = ("double_wages.months_grace" if months <= 1 else "double_wages.months_none" if whole < 2 else
                 "double_wages.months_capped" if whole > 12 else "double_wages.months")
    steps = [Step("double_wages.period", {"months": plain(months)}),
             Step(count_key, {"whole": whole, "owed": owed})]
    if owed:  # between 1 and 2 months the days are owed, but no whole month: no "0 yuan" conclusion
        steps.append(Step("double_wages.amount", {"owed": owed, "wage": wage, "amount": amount}))
    notes = []
    if 1 < months < 12 and months != whole:
        notes.append(Step("double_wages.partial_month"))
    basis = ["劳动合同法 第82条", "劳动合同法实施条例 第6条", "劳动合同法实施条例 第7条"]
    if months <= 1:
        notes.append(Step("double_wages.first_month_refusal"))
        basis.append("劳动合同法实施条例 第5条")
    else:
        notes.append(Step("double_wages.exceptions"))
        basis += [f"{INTERPRETATION_TWO} 第7条", f"{INTERPRETATION_TWO} 第8条"]
    if months >= 12:
        notes.append(Step("double_wages.open_ended"))
        basis.append("劳动合同法 第14条")
    notes.append(Step("double_wages.time_limit"))
    result = {"months_owed": owed, "amount": amount, "open_ended_deemed": months >= 12}
    return Calculation("double_wages", result, tuple(steps), tuple(basis), tuple(notes))
