"""From the slots a conversation collected to the worker's own result, with the working.

Calls the calculators of :mod:`bot.knowledge.calc` and adds what the worker's region
changes (the maternity-leave extension and the province's own figures for a difficult or multiple
birth, a miscarriage and later children), from ``data/knowledge/regions.yml``, and the dated
national figure a death at work is paid from (``data/knowledge/national_figures.yml``).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Mapping

from bot.calculate.fill import UNKNOWN_DAY, parse_date
from bot.calculate.kinds import Kind, Slot
from bot.knowledge import calc
from bot.knowledge.calc import Calculation, Rendered
from bot.knowledge.calc.money import CAUSES
from bot.knowledge.calc.leave import NATIONAL, RegionalRules
from bot.knowledge.national import urban_income
from bot.knowledge.regions import Region

Values = Mapping[str, Any]


def _annual_leave(values: Values, today: date, region: Region | None) -> Calculation:
    joined = parse_date(values[Slot.JOINED_ON]) if values.get(Slot.JOINED_ON) else None
    return calc.annual_leave(values[Slot.MONTHS_TOTAL], joined_on=joined, year=today.year,
                             monthly_wage=values.get(Slot.MONTHLY_WAGE))


def _compensation(values: Values, today: date, region: Region | None) -> Calculation:
    """The cause and the local average as the worker said them; "不清楚" / "不知道" are not figures."""
    cause = values.get(Slot.CAUSE)
    average = values.get(Slot.LOCAL_AVERAGE)
    return calc.economic_compensation(values[Slot.MONTHS_SERVICE], values[Slot.MONTHLY_WAGE],
                                      cause=cause if cause in CAUSES else None,
                                      local_average_wage=average if isinstance(average, (int, float)) else None,
                                      today=today)


def _overtime(values: Values, today: date, region: Region | None) -> Calculation:
    hours, days = ({day: n for day, n in (values.get(slot) or {}).items() if day != UNKNOWN_DAY}
                   for slot in (Slot.HOURS, Slot.DAYS))
    festival = values.get(Slot.FESTIVAL) if days.get("holiday") else None
    return calc.overtime_pay(values[Slot.MONTHLY_WAGE], hours, days=days, festival=festival,
                             daily=values.get(Slot.DAILY))


def _medical(values: Values, today: date, region: Region | None) -> Calculation:
    return calc.medical_period(values[Slot.MONTHS_TOTAL], values[Slot.MONTHS_EMPLOYER])


def _maternity(values: Values, today: date, region: Region | None) -> Calculation:
    birth = values.get(Slot.BIRTH) or {}
    name = region.name if region else None
    if birth.get("miscarriage"):
        return calc.maternity_leave(miscarriage_months=values[Slot.PREGNANCY_MONTHS], region_name=name,
                                    rules=regional_rules(region))
    return calc.maternity_leave(difficult=bool(birth.get("difficult")), caesarean=bool(birth.get("caesarean")),
                                babies=int(birth.get("babies") or 1), regional_extension_days=verified_extension(region),
                                region_name=name, rules=regional_rules(region))


def verified_extension(region: Region | None) -> int | None:
    """The region's extra maternity days, only when our table confirmed them from a source."""
    if region is None or not region.maternity_extension.verified:
        return None
    return region.maternity_extension.days


def regional_rules(region: Region | None) -> RegionalRules:
    """The region's own figures that replace 第7条's, only those our table confirmed from a source."""
    if region is None:
        return NATIONAL
    rules = region.maternity_rules
    difficult, multiple, miscarriage, later = (
        rule if rule is not None and rule.verified else None
        for rule in (rules.difficult_birth, rules.multiple_birth, rules.miscarriage, rules.later_children))
    if later is not None and verified_extension(region) is None:
        later = None  # the second/third child's days only make sense beside a confirmed first-child figure
    cites = {name: rule.cites for name, rule in (("difficult", difficult), ("multiple", multiple),
                                                  ("miscarriage", miscarriage), ("later_children", later)) if rule}
    return RegionalRules(
        difficult_days=difficult.days if difficult else None,
        caesarean_difficult=difficult.caesarean if difficult else None,
        per_baby_days=multiple.days_per_baby if multiple else None,
        miscarriage=tuple((t.from_months, t.days, t.up_to_days) for t in miscarriage.tiers) if miscarriage else (),
        second_child_days=later.second if later else None,
        third_child_days=later.third if later else None,
        cites=cites,
    )


def _double_wages(values: Values, today: date, region: Region | None) -> Calculation:
    return calc.double_wages(values[Slot.MONTHS_NO_CONTRACT], values[Slot.MONTHLY_WAGE])


def _probation(values: Values, today: date, region: Region | None) -> Calculation:
    months = values[Slot.CONTRACT_MONTHS]
    if months == "open_ended":
        return calc.max_probation(None, open_ended=True)
    return calc.max_probation(months)


def _arbitration(values: Values, today: date, region: Region | None) -> Calculation:
    said = str(values[Slot.KNOWN_ON])
    known = parse_date(said)
    if known is None:
        raise ValueError("the date the worker learned of the violation is not a date")
    return calc.arbitration_deadline(known, today=today, month_only=said.count("-") < 2)


def _work_injury(values: Values, today: date, region: Region | None) -> Calculation:
    injury = values[Slot.INJURY]
    if not injury.get("death"):
        return calc.work_injury_disability(injury.get("grade"), values[Slot.MONTHLY_WAGE])
    year = int(injury.get("year") or today.year)
    income = urban_income(year - 1)  # 第39条: the year before the death
    return calc.work_injury_death(year, income.yuan if income else None, monthly_wage=values.get(Slot.MONTHLY_WAGE))


CALCULATORS: dict[Kind, Callable[[Values, date, Region | None], Calculation]] = {
    Kind.ANNUAL_LEAVE: _annual_leave,
    Kind.ECONOMIC_COMPENSATION: _compensation,
    Kind.OVERTIME_PAY: _overtime,
    Kind.MEDICAL_PERIOD: _medical,
    Kind.MATERNITY_LEAVE: _maternity,
    Kind.DOUBLE_WAGES: _double_wages,
    Kind.MAX_PROBATION: _probation,
    Kind.ARBITRATION_DEADLINE: _arbitration,
    Kind.WORK_INJURY: _work_injury,
}


def calculate(kind: Kind, values: Values, *, today: date, region: Region | None = None) -> Calculation:
    """The calculation for ``kind``; ``ValueError`` when a value is impossible (the bot asks again)."""
    return CALCULATORS[kind](values, today, region)


def answer(kind: Kind, values: Values, *, today: date, region: Region | None = None) -> Rendered:
    """The worker's result in Chinese: the conclusion, and the working and citations behind it."""
    return calc.render_parts(calculate(kind, values, today=today, region=region))


def answer_text(kind: Kind, values: Values, *, today: date, region: Region | None = None) -> str:
    return answer(kind, values, today=today, region=region).text
