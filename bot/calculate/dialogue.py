"""Dialogue decisions of the calculations that need no Rasa objects (tested directly)."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from bot.calculate.kinds import CALC_SLOTS, Kind, Slot, missing_slots
from bot.knowledge.calc.base import DEFAULT_TEMPLATES, plain, shown, yuan
from bot.knowledge.calc.injury import DISABILITY_MONTHS
from bot.knowledge.calc.money import CAP_ASKED_ABOVE, compensation_months
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
# The values of an earlier question a calculation reuses ({slot: value}), so that its result says
# where they came from ("按你前面说的月薪6000元"), never silently; set by action_calculate.
CARRIED = "calc_carried"


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


def carried_values(values: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any] | None:
    """The values a new question's calculation takes from earlier questions (the shared ones kept by
    :func:`fresh_values`, or the last calculation's): those with a wording in calculators.yml
    ``carried`` that the message did not give (``given``). Kept in ``CARRIED`` for the result."""
    kept = {slot: values[slot] for slot in carried_templates() if values.get(slot) is not None and slot not in given}
    return kept or None


def carried_note(kind: Kind, values: Mapping[str, Any]) -> str:
    """Where the numbers came from, one line for each value of ``kind`` still the one the worker gave
    for an earlier question ("按你前面说的月薪6000元算的…"); "" when every number is the message's own."""
    carried = values.get(CARRIED) or {}
    templates = carried_templates()
    return "\n".join(templates[slot].format(value=_said(values[slot])) for slot in kind.slots
                     if slot in templates and slot in carried and carried[slot] == values.get(slot))


def _said(value: Any) -> Any:
    """6000.0 -> 6000, 6500.5 -> 6500.5; not a number: as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return plain(Decimal(str(value)))


@lru_cache(maxsize=1)
def carried_templates(path: Path = DEFAULT_TEMPLATES) -> dict[str, str]:
    """calculators.yml ``carried``: per slot, how a value from an earlier question is named."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {str(slot): str(text).strip() for slot, text in (raw.get("carried") or {}).items()}


def start_reply(kind: Kind, values: Mapping[str, Any]) -> dict[str, Any]:
    """The response (and its values) that starts asking for what ``kind`` still misses."""
    return (grade_months_reply(kind, values) or service_months_reply(kind, values, wage_known=True)
            or {"response": f"utter_calc_start_{kind.value}"})


def national_first(kind: Kind, values: Mapping[str, Any]) -> bool:
    """Maternity leave with the birth known and only the region missing: the national figure
    (女职工劳动保护特别规定 第7条) is given at once, then the region is asked and its extension added."""
    return kind is Kind.MATERNITY_LEAVE and missing_slots(kind, values) == [Slot.REGION]


def grade_months_reply(kind: Kind, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """With a disability grade but no wage: what the grade is worth in months of the wage
    (工伤保险条例 第35–37条), the answer to "九级能拿多少" until the wage is known."""
    grade = (values.get(Slot.INJURY) or {}).get("grade") if kind is Kind.WORK_INJURY else None
    if grade not in DISABILITY_MONTHS or values.get(Slot.MONTHLY_WAGE) is not None:
        return None
    return {"response": "utter_calc_injury_grade_months", "grade": grade, "months": DISABILITY_MONTHS[grade]}


def service_months_reply(kind: Kind, values: Mapping[str, Any], *, wage_known: bool = False) -> dict[str, Any] | None:
    """With the years of service but no wage: how many months of wage the compensation is
    (劳动合同法 第47条), the answer to "要是我干了两年半呢" until the wage is known. ``wage_known``:
    with the wage too, the start of the questions that decide the figure (the cap, the cause)."""
    months = values.get(Slot.MONTHS_SERVICE)
    if kind is not Kind.ECONOMIC_COMPENSATION or months is None \
            or (values.get(Slot.MONTHLY_WAGE) is not None) != wage_known:
        return None
    n = compensation_months(months)
    wage = values.get(Slot.MONTHLY_WAGE)
    if wage_known and isinstance(wage, (int, float)) and wage <= CAP_ASKED_ABOVE:  # N already, then the cause
        return {"response": "utter_calc_compensation_amount", "service": service_text(months), "n": n,
                "wage": shown(Decimal(str(wage))), "amount": shown(yuan(Decimal(str(wage)) * Decimal(n)))}
    return {"response": "utter_calc_compensation_months", "service": service_text(months), "n": n}


def service_text(months: Any) -> str:
    """30 -> "2年6个月", 7 -> "7个月", 24 -> "2年" (months may be fractional: 0.5 -> "0.5个月")."""
    total = float(months)
    years, rest = int(total // 12), round(total - 12 * int(total // 12), 1)
    rest_text = f"{rest:g}个月" if rest else ""
    return f"{years}年{rest_text}" if years else (rest_text or "0个月")


def minimum_wage_replies(region: Region | None, today: date) -> list[dict[str, Any]]:
    """The region's minimum wage and, when its standard is two years old or more, that it may have
    been raised since (最低工资规定 第10条: adjusted at least every two years)."""
    reply = minimum_wage_reply(region)
    wage = region.minimum_wage if region else None
    if reply["response"] != "utter_minimum_wage_region" or not wage.possibly_outdated(today):
        return [reply]
    return [reply, {"response": "utter_minimum_wage_outdated", "region": region.name,
                    "year": wage.effective.year, "month": wage.effective.month}]


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
        "monthly": " / ".join(f"{amount:g}" + (f"（{place}）" if place else "")  # 2520（深圳市）
                              for amount, place in itertools.zip_longest(wage.monthly, wage.places[:len(wage.monthly)])),
        "hourly": " / ".join(f"{amount:g}" for amount in wage.hourly) or "-",
    }
