"""Dialogue decisions of the calculations that need no Rasa objects (tested directly)."""
from __future__ import annotations

from typing import Any, Mapping

from bot.calculate.kinds import CALC_SLOTS, Kind, Slot
from bot.knowledge.regions import Region

# What a bare answer is about when no calculation is under way ("双胞胎" -> maternity leave).
KIND_BY_ENTITY: dict[str, Kind] = {
    "birth": Kind.MATERNITY_LEAVE,
    "babies": Kind.MATERNITY_LEAVE,
    "hours": Kind.OVERTIME_PAY,
    "day_type": Kind.OVERTIME_PAY,
    "cause": Kind.ECONOMIC_COMPENSATION,
    "contract": Kind.MAX_PROBATION,
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
