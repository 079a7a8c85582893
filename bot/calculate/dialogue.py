"""Dialogue decisions of the calculations that need no Rasa objects (tested directly)."""
from __future__ import annotations

from typing import Any, Mapping

from bot.calculate.kinds import CALC_SLOTS, Kind, Slot
from bot.knowledge.calc.injury import DISABILITY_MONTHS
from bot.knowledge.calc.money import compensation_months
from bot.knowledge.regions import Region

# What a bare answer is about when no calculation is under way ("双胞胎" -> maternity leave).
KIND_BY_ENTITY: dict[str, Kind] = {
    "birth": Kind.MATERNITY_LEAVE,
    "babies": Kind.MATERNITY_LEAVE,
    "hours": Kind.OVERTIME_PAY,
    "day_type": Kind.OVERTIME_PAY,
    "cause": Kind.ECONOMIC_COMPENSATION,
    "contract": Kind.MAX_PROBATION,
    "injury": Kind.WORK_INJURY,
}
# Kept when the worker moves to another calculation: the same wage, the same place.
SHARED_SLOTS = (Slot.MONTHLY_WAGE, Slot.REGION)


def guess_kind(entities: list[Mapping[str, Any]]) -> Kind | None:
    for entity in entities:
        kind = KIND_BY_ENTITY.get(str(entity.get("entity")))
        if kind:
            return kind
    return None


def fresh_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Slot values for a new calculation: the previous one's specifics cleared."""
    cleared = {slot: None for slot in CALC_SLOTS}
    cleared.update({slot: values.get(slot) for slot in SHARED_SLOTS})
    return cleared


def start_reply(kind: Kind, values: Mapping[str, Any]) -> dict[str, Any]:
    """The response (and its values) that starts asking for what ``kind`` still misses."""
    return grade_months_reply(kind, values) or {"response": f"utter_calc_start_{kind.value}"}


def grade_months_reply(kind: Kind, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """With a disability grade but no wage: what the grade is worth in months of the wage
    (工伤保险条例 第35–37条), the answer to "九级能拿多少" until the wage is known."""
    grade = (values.get(Slot.INJURY) or {}).get("grade") if kind is Kind.WORK_INJURY else None
    if grade not in DISABILITY_MONTHS or values.get(Slot.MONTHLY_WAGE) is not None:
        return None
    return {"response": "utter_calc_injury_grade_months", "grade": grade, "months": DISABILITY_MONTHS[grade]}


def service_months_reply(kind: Kind, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """With the years of service but no wage: how many months of wage the compensation is
    (劳动合同法 第47条), the answer to "要是我干了两年半呢" until the wage is known."""
    months = values.get(Slot.MONTHS_SERVICE)
    if kind is not Kind.ECONOMIC_COMPENSATION or months is None or values.get(Slot.MONTHLY_WAGE) is not None:
        return None
    return {"response": "utter_calc_compensation_months", "service": service_text(months),
            "n": compensation_months(months)}


def service_text(months: Any) -> str:
    """30 -> "2年6个月", 7 -> "7个月", 24 -> "2年" (months may be fractional: 0.5 -> "0.5个月")."""
    total = float(months)
    years, rest = int(total // 12), round(total - 12 * int(total // 12), 1)
    rest_text = f"{rest:g}个月" if rest else ""
    return f"{years}年{rest_text}" if years else (rest_text or "0个月")


def minimum_wage_reply(region: Region | None) -> dict[str, Any]:
    """The response (and its values) naming the region's minimum wage, when we know it."""
    if region is None:
        return {"response": "utter_minimum_wage_ask_region"}
    wage = region.minimum_wage
    if wage is None or not wage.verified or not wage.monthly:
        return {"response": "utter_minimum_wage_region_unknown", "region": region.name}
    return {
        "response": "utter_minimum_wage_region",
        "region": region.name,
        "year": wage.effective.year, "month": wage.effective.month, "day": wage.effective.day,
        "monthly": " / ".join(f"{amount:g}" for amount in wage.monthly),
        "hourly": " / ".join(f"{amount:g}" for amount in wage.hourly) or "-",
    }
