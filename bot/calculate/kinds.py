"""The calculations the bot can do for a worker, the topics they answer and the slots they need."""
from __future__ import annotations

from enum import Enum
from typing import Any, Mapping

from bot.knowledge.calc.money import CAP_ASKED_ABOVE


class Slot:
    """Slot names (domain.yml) of the calculation form; ``region`` is global and remembered."""

    KIND = "calc_kind"
    MONTHS_TOTAL = "calc_months_total"
    MONTHS_EMPLOYER = "calc_months_employer"
    MONTHS_SERVICE = "calc_months_service"
    MONTHS_NO_CONTRACT = "calc_months_no_contract"
    CONTRACT_MONTHS = "calc_contract_months"
    PREGNANCY_MONTHS = "calc_pregnancy_months"
    MONTHLY_WAGE = "calc_monthly_wage"
    CAUSE = "calc_cause"
    HOURS = "calc_hours"
    DAYS = "calc_days"
    DAILY = "calc_daily"
    FESTIVAL = "calc_festival"
    LOCAL_AVERAGE = "calc_local_average"
    DAY_TYPE = "calc_day_type"
    BIRTH = "calc_birth"
    KNOWN_ON = "calc_known_on"
    JOINED_ON = "calc_joined_on"
    INJURY = "calc_injury"
    REGION = "region"
    REGION_SKIPPED = "calc_region_skipped"


class Kind(Enum):
    ANNUAL_LEAVE = "annual_leave"
    ECONOMIC_COMPENSATION = "economic_compensation"
    OVERTIME_PAY = "overtime_pay"
    MEDICAL_PERIOD = "medical_period"
    MATERNITY_LEAVE = "maternity_leave"
    DOUBLE_WAGES = "double_wages"
    MAX_PROBATION = "max_probation"
    ARBITRATION_DEADLINE = "arbitration_deadline"
    WORK_INJURY = "work_injury"

    @property
    def topic(self) -> str:
        return TOPICS[self]

    @property
    def slots(self) -> tuple[str, ...]:
        """Every slot this kind reads (required or optional)."""
        return SLOTS[self]

    @classmethod
    def for_topic(cls, topic: str | None) -> Kind | None:
        return next((k for k, t in TOPICS.items() if t == topic), None)


TOPICS: dict[Kind, str] = {
    Kind.ANNUAL_LEAVE: "annual_leave",
    Kind.ECONOMIC_COMPENSATION: "dismissal_compensation",
    Kind.OVERTIME_PAY: "overtime_pay",
    Kind.MEDICAL_PERIOD: "sick_leave",
    Kind.MATERNITY_LEAVE: "maternity",
    Kind.DOUBLE_WAGES: "labour_contract",
    Kind.MAX_PROBATION: "probation",
    Kind.ARBITRATION_DEADLINE: "arbitration",
    Kind.WORK_INJURY: "work_injury",
}
SLOTS: dict[Kind, tuple[str, ...]] = {
    Kind.ANNUAL_LEAVE: (Slot.MONTHS_TOTAL, Slot.JOINED_ON, Slot.MONTHLY_WAGE),
    Kind.ECONOMIC_COMPENSATION: (Slot.MONTHS_SERVICE, Slot.MONTHLY_WAGE, Slot.LOCAL_AVERAGE, Slot.CAUSE),
    Kind.OVERTIME_PAY: (Slot.MONTHLY_WAGE, Slot.HOURS, Slot.DAY_TYPE, Slot.DAYS, Slot.DAILY, Slot.FESTIVAL),
    Kind.MEDICAL_PERIOD: (Slot.MONTHS_TOTAL, Slot.MONTHS_EMPLOYER),
    Kind.MATERNITY_LEAVE: (Slot.BIRTH, Slot.PREGNANCY_MONTHS, Slot.REGION, Slot.REGION_SKIPPED),
    Kind.DOUBLE_WAGES: (Slot.MONTHS_NO_CONTRACT, Slot.MONTHLY_WAGE),
    Kind.MAX_PROBATION: (Slot.CONTRACT_MONTHS,),
    Kind.ARBITRATION_DEADLINE: (Slot.KNOWN_ON,),
    Kind.WORK_INJURY: (Slot.INJURY, Slot.MONTHLY_WAGE),
}
# The slots a duration can fill, in the order they are asked.
DURATION_SLOTS: dict[Kind, tuple[str, ...]] = {
    Kind.ANNUAL_LEAVE: (Slot.MONTHS_TOTAL,),
    Kind.ECONOMIC_COMPENSATION: (Slot.MONTHS_SERVICE,),
    Kind.MEDICAL_PERIOD: (Slot.MONTHS_TOTAL, Slot.MONTHS_EMPLOYER),
    Kind.MATERNITY_LEAVE: (Slot.PREGNANCY_MONTHS,),
    Kind.DOUBLE_WAGES: (Slot.MONTHS_NO_CONTRACT,),
    Kind.MAX_PROBATION: (Slot.CONTRACT_MONTHS,),
}
CALC_SLOTS: tuple[str, ...] = tuple(sorted(
    {s for slots in SLOTS.values() for s in slots if s != Slot.REGION} | {Slot.KIND}))


def required_slots(kind: Kind, values: Mapping[str, Any]) -> list[str]:
    """What must be known before calculating, given what is known already (in asking order)."""
    if kind is Kind.OVERTIME_PAY:  # hours, days worked or a working day said per day
        counts = {**(values.get(Slot.HOURS) or {}), **(values.get(Slot.DAYS) or {})}
        said = counts or values.get(Slot.DAILY)
        return [Slot.MONTHLY_WAGE] + ([] if said else [Slot.HOURS]) + ([Slot.DAY_TYPE] if "unknown" in counts else [])
    if kind is Kind.ECONOMIC_COMPENSATION:  # the cap first for a high wage (第47条), then the cause
        wage = values.get(Slot.MONTHLY_WAGE)
        high = isinstance(wage, (int, float)) and wage > CAP_ASKED_ABOVE  # the average is asked
        return [Slot.MONTHS_SERVICE, Slot.MONTHLY_WAGE] + ([Slot.LOCAL_AVERAGE] if high else []) + [Slot.CAUSE]
    if kind is Kind.MATERNITY_LEAVE:
        birth = values.get(Slot.BIRTH) or {}
        if birth.get("miscarriage"):
            return [Slot.BIRTH, Slot.PREGNANCY_MONTHS]
        return [Slot.BIRTH] + ([] if values.get(Slot.REGION_SKIPPED) else [Slot.REGION])
    if kind is Kind.WORK_INJURY:  # a death needs no wage (it only adds the dependants' amounts)
        return [Slot.INJURY] + ([] if (values.get(Slot.INJURY) or {}).get("death") else [Slot.MONTHLY_WAGE])
    optional = {Slot.JOINED_ON}
    if kind is Kind.ANNUAL_LEAVE:
        optional.add(Slot.MONTHLY_WAGE)
    return [s for s in kind.slots if s not in optional]


def missing_slots(kind: Kind, values: Mapping[str, Any]) -> list[str]:
    return [s for s in required_slots(kind, values) if values.get(s) is None]


# Topics answered by action_calculate: the calculators', and the minimum wage (region's figure).
ACTION_TOPICS = frozenset({*TOPICS.values(), "minimum_wage"})
