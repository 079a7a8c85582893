"""From the slots a conversation collected to the worker's own result, with the working.

Calls the calculators of :mod:`bot.knowledge.calc` and adds what the worker's region
changes (the maternity-leave extension), from ``data/knowledge/regions.yml``, and the dated
national figure a death at work is paid from (``data/knowledge/national_figures.yml``).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Mapping

from bot.calculate.fill import parse_date
from bot.calculate.kinds import Kind, Slot
from bot.knowledge import calc
from bot.knowledge.calc import Calculation
from bot.knowledge.national import urban_income
from bot.knowledge.regions import Region

Values = Mapping[str, Any]


def _annual_leave(values: Values, today: date, region: Region | None) -> Calculation:
    joined = parse_date(values[Slot.JOINED_ON]) if values.get(Slot.JOINED_ON) else None
    return calc.annual_leave(values[Slot.MONTHS_TOTAL], joined_on=joined, year=today.year,
                             monthly_wage=values.get(Slot.MONTHLY_WAGE))


def _compensation(values: Values, today: date, region: Region | None) -> Calculation:
    return calc.economic_compensation(values[Slot.MONTHS_SERVICE], values[Slot.MONTHLY_WAGE],
                                      cause=values.get(Slot.CAUSE), today=today)


def _overtime(values: Values, today: date, region: Region | None) -> Calculation:
    hours = {day: h for day, h in (values.get(Slot.HOURS) or {}).items() if day != "unknown"}
    return calc.overtime_pay(values[Slot.MONTHLY_WAGE], hours)


def _medical(values: Values, today: date, region: Region | None) -> Calculation:
    return calc.medical_period(values[Slot.MONTHS_TOTAL], values[Slot.MONTHS_EMPLOYER])


def _maternity(values: Values, today: date, region: Region | None) -> Calculation:
    birth = values.get(Slot.BIRTH) or {}
    if birth.get("miscarriage"):
        return calc.maternity_leave(miscarriage_months=values[Slot.PREGNANCY_MONTHS])
    extension = verified_extension(region)
    return calc.maternity_leave(difficult=bool(birth.get("difficult")), babies=int(birth.get("babies") or 1),
                                regional_extension_days=extension,
                                region_name=region.name if region and extension is not None else None)


def verified_extension(region: Region | None) -> int | None:
    """The region's extra maternity days, only when our table confirmed them from a source."""
    if region is None or not region.maternity_extension.verified:
        return None
    return region.maternity_extension.days


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


def answer_text(kind: Kind, values: Values, *, today: date, region: Region | None = None) -> str:
    return calc.render(calculate(kind, values, today=today, region=region))
