"""Which slot each entity of a worker's message fills, for one kind of calculation.

Pure functions over the entities of :mod:`bot.nlu.entities` (dicts as Rasa stores
them). The hard part is durations: "累计工作15年，在这家干了6年" has two, and the
medical period needs both. A duration takes the role of the nearest cue word before
it in its clause (``role`` entities: 累计 → total, 在这家 → employer, 怀孕 → pregnancy);
without a cue it fills the slot being asked for, else the kind's first empty one.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Mapping

import yaml

from bot.calculate.kinds import DURATION_SLOTS, Kind, Slot
from bot.nlu.numbers import extract_numbers
from bot.nlu.vocab import VOCAB_PATH

Entity = Mapping[str, Any]
UNKNOWN_DAY = "unknown"
ROLE_SLOTS: dict[str, str] = {
    "total": Slot.MONTHS_TOTAL, "employer": Slot.MONTHS_EMPLOYER, "pregnancy": Slot.PREGNANCY_MONTHS,
    "contract": Slot.CONTRACT_MONTHS, "no_contract": Slot.MONTHS_NO_CONTRACT,
}
# A role named by a cue, as it applies to each kind (the employer's years are the
# service years of compensation; anything said about an annual-leave duration is cumulative).
ROLE_FOR_KIND: dict[Kind, dict[str, str]] = {
    Kind.ECONOMIC_COMPENSATION: {"employer": Slot.MONTHS_SERVICE, "total": Slot.MONTHS_SERVICE},
    Kind.ANNUAL_LEAVE: {"employer": Slot.MONTHS_TOTAL},
    Kind.DOUBLE_WAGES: {"employer": Slot.MONTHS_NO_CONTRACT, "no_contract": Slot.MONTHS_NO_CONTRACT},
}
MAX_CUE_GAP = 12  # characters between a cue word and its duration
MAX_WAGE_GAP = 6  # characters between a wage word and the money after it ("工资大概五千")
MAX_BARE_ANSWER = 8  # characters: "8000", "三", "6个" — a short answer, not a sentence
MAX_PER_DAY_GAP = 4  # characters between "每天" and its hours ("每天都要上12个小时")
UNKNOWN_CAUSE = "unknown"  # "不清楚" to the cause: N, with a line on N+1 and 2N
UNKNOWN_AVERAGE = "unknown"  # "不知道" to the local average wage: the cap stated, not computed


def _of(entities: list[Entity], name: str) -> list[Entity]:
    return [e for e in entities if e.get("entity") == name]


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 when start is later)."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(months, 0)


def parse_date(value: str) -> date | None:
    """``2025``, ``2025-03`` or ``2025-03-15`` as a date (the first day of a year or month said)."""
    parts = [int(p) for p in str(value).split("-") if p.isdigit()]
    if not parts:
        return None
    try:
        year, month, day = (parts + [1, 1])[:3]
        return date(year, month, day)
    except ValueError:
        return None


def _role_before(duration: Entity, entities: list[Entity]) -> str | None:
    cues = [e for e in _of(entities, "role")
            if e["end"] <= duration["start"] and duration["start"] - e["end"] <= MAX_CUE_GAP]
    blockers = [e for e in entities if e.get("entity") == "duration" and e["end"] <= duration["start"]]
    if blockers:  # a cue before the previous duration belongs to that one
        cues = [c for c in cues if c["start"] >= max(b["end"] for b in blockers)]
    return cues[-1]["value"] if cues else None


def _duration_slot(kind: Kind, role: str | None, requested: str | None, taken: Mapping[str, Any]) -> str | None:
    slots = DURATION_SLOTS.get(kind, ())
    if not slots:
        return None
    if role:
        slot = ROLE_FOR_KIND.get(kind, {}).get(role) or ROLE_SLOTS.get(role)
        if slot in slots:
            return slot
    if requested in slots:
        return requested
    return next((s for s in slots if taken.get(s) is None), slots[0])


def fill_durations(kind: Kind, entities: list[Entity], requested: str | None,
                   current: Mapping[str, Any]) -> dict[str, Any]:
    durations = _of(entities, "duration")
    updates: dict[str, Any] = {}
    unassigned = []
    for duration in durations:
        role = _role_before(duration, entities)
        if role is None and len(durations) > 1:
            unassigned.append(duration)
            continue
        slot = _duration_slot(kind, role, requested, {**current, **updates})
        if slot:
            updates[slot] = duration["value"]
    if unassigned:  # "15年……6年" with no cue: the larger is the total
        for duration in sorted(unassigned, key=lambda d: -float(d["value"])):
            slot = _duration_slot(kind, None, None, {**current, **updates})
            if slot and slot not in updates:
                updates[slot] = duration["value"]
    return updates


def _wage(kind: Kind, entities: list[Entity], requested: str | None) -> Any:
    """The first money said, as the monthly wage; for a work injury only next to a wage word
    ("月工资6000", "6000一个月"), said on its own, or as the answer to the wage question."""
    money = _of(entities, "money")
    if not money or Slot.MONTHLY_WAGE not in kind.slots:
        return None
    if kind is not Kind.WORK_INJURY or requested == Slot.MONTHLY_WAGE:
        return money[0]["value"]
    cues = _of(entities, "wage_cue")
    named = [m for m in money for c in cues
             if (c["value"] == "before" and 0 <= m["start"] - c["end"] <= MAX_WAGE_GAP)
             or (c["value"] == "after" and 0 <= c["start"] - m["end"] <= 1)
             or (c["value"] == "bare" and c["start"] == m["start"])]
    return named[0]["value"] if named else None


def fill_hours(entities: list[Entity], current: Mapping[str, Any]) -> dict[str, Any]:
    """Overtime hours and days worked by day type; those with no day type wait for the worker to say
    which. Hours said per day ("每天上12个小时班") are a working day, not hours of one day type; a named
    festival ("五一加班了两天") is kept, for only its statutory days are holidays."""
    daily = _daily(entities)
    types = _of(entities, "day_type")
    updates: dict[str, Any] = {}
    for slot, name in ((Slot.HOURS, "hours"), (Slot.DAYS, "days")):
        counts = [e for e in _of(entities, name) if not any(e is d["entity"] for d in daily)]
        pending = current.get(slot) or {}
        if counts:
            updates[slot] = _by_day_type(counts, types)
        elif types and UNKNOWN_DAY in pending:  # the answer to "哪天加的班？"
            rest = {k: v for k, v in pending.items() if k != UNKNOWN_DAY}
            rest[types[0]["value"]] = rest.get(types[0]["value"], 0) + pending[UNKNOWN_DAY]
            updates[slot] = rest
    festival = _festival(entities, types) if (updates.get(Slot.DAYS) or {}).get("holiday") else None
    if festival or Slot.DAYS in updates:
        updates[Slot.FESTIVAL] = festival
    if daily:
        value: dict[str, Any] = {daily[-1]["kind"]: daily[-1]["entity"]["value"]}
        counted = {**updates.get(Slot.HOURS, {}), **updates.get(Slot.DAYS, {})}
        if any(t["value"] == "restday" for t in types) and "restday" not in counted:
            value["restday"] = True  # "周末也要上班": worked, not counted
        updates[Slot.DAILY] = value
    elif updates.get(Slot.HOURS) or updates.get(Slot.DAYS):
        updates[Slot.DAILY] = None  # counts now: the per-day figure has done its job
    return updates


def _by_day_type(counts: list[Entity], types: list[Entity]) -> dict[str, float]:
    by_day: dict[str, float] = {}
    for item in counts:
        before = [d for d in types if d["end"] <= item["start"]]
        after = [d for d in types if d["start"] >= item["end"]]
        day = before[-1]["value"] if before else (after[0]["value"] if after else UNKNOWN_DAY)
        by_day[day] = by_day.get(day, 0) + float(item["value"])
    return by_day


def _daily(entities: list[Entity]) -> list[dict[str, Any]]:
    """Hours right after a per-day cue ("每天上12个小时", "每天加班3小时"): ``kind`` "hours" for the
    length of the working day, "overtime" for the overtime of each day."""
    found = []
    for hours in _of(entities, "hours"):
        cues = [c for c in _of(entities, "per_day") if 0 <= hours["start"] - c["end"] <= MAX_PER_DAY_GAP]
        if cues:
            found.append({"entity": hours, "kind": "overtime" if cues[-1]["value"] == "overtime" else "hours"})
    return found


def _festival(entities: list[Entity], types: list[Entity]) -> str | None:
    """The festival a holiday word names (五一 -> labour_day); None for 法定节假日 and the like."""
    names = _festival_forms()
    named = [names[str(t.get("text"))] for t in types if t["value"] == "holiday" and str(t.get("text")) in names]
    return named[-1] if named else None


@lru_cache(maxsize=1)
def _festival_forms() -> dict[str, str]:
    raw = yaml.safe_load(VOCAB_PATH.read_text(encoding="utf-8"))
    return {str(form): str(festival) for festival, forms in (raw.get("festivals") or {}).items() for form in forms}


def fill_compensation(entities: list[Entity], requested: str | None) -> tuple[list[Entity], dict[str, Any]]:
    """The cause and the local average wage of the cap (劳动合同法 第47条): money after 平均工资 or
    answering the question for it; "不知道" to either question. Returns the entities left for the wage."""
    updates: dict[str, Any] = {}
    causes = _of(entities, "cause")
    if causes:
        updates[Slot.CAUSE] = causes[-1]["value"]
    elif requested == Slot.CAUSE and _of(entities, "skip"):
        updates[Slot.CAUSE] = UNKNOWN_CAUSE
    cues = [c for c in _of(entities, "role") if c["value"] == "average"]
    average = [m for m in _of(entities, "money")
               if requested == Slot.LOCAL_AVERAGE or any(0 <= m["start"] - c["end"] <= MAX_WAGE_GAP for c in cues)]
    if average:
        updates[Slot.LOCAL_AVERAGE] = average[-1]["value"]
    elif requested == Slot.LOCAL_AVERAGE and _of(entities, "skip"):
        updates[Slot.LOCAL_AVERAGE] = UNKNOWN_AVERAGE
    return [e for e in entities if not any(e is m for m in average)], updates


def fill_birth(entities: list[Entity], current: Mapping[str, Any]) -> dict[str, Any]:
    """The birth circumstances: 难产 is a difficult birth; 剖腹产 is a caesarean, kept apart
    (``caesarean``) because 第7条 names only a difficult birth and regions differ on it."""
    births = _of(entities, "birth")
    if not births:
        return {}
    birth = dict(current.get(Slot.BIRTH) or {"difficult": False, "babies": 1, "miscarriage": False})
    for item in births:
        if item["value"] == "difficult":
            birth["difficult"] = True
        elif item["value"] == "caesarean":
            birth["caesarean"] = True
        elif item["value"] == "miscarriage":
            birth["miscarriage"] = True
        elif item["value"] == "normal":
            birth.update(difficult=False, miscarriage=False)
            birth.pop("caesarean", None)
    for item in _of(entities, "babies"):
        birth["babies"] = int(item["value"])
    return {Slot.BIRTH: birth}


def fill_injury(entities: list[Entity], current: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The grade or the death (``injury`` entities of bot.calculate.injury); a death's year from a date
    said with it or after it ("是2025年的事"), else None (the calculation then takes this year)."""
    injuries = _of(entities, "injury")
    injury = dict(injuries[-1]["value"]) if injuries else dict(current.get(Slot.INJURY) or {})
    if not injury.get("death"):
        return {Slot.INJURY: injury} if injuries else {}
    said = [parse_date(str(e["value"])) for e in _of(entities, "date")]
    years = [d.year for d in said if d is not None and d <= today]
    if years:
        injury["year"] = years[-1]
    elif not injuries:
        return {}
    return {Slot.INJURY: injury}


def fill_dates(kind: Kind, entities: list[Entity], today: date) -> dict[str, Any]:
    dates = _of(entities, "date")
    if not dates:
        return {}
    value = str(dates[0]["value"])
    if kind is Kind.ARBITRATION_DEADLINE:
        return {Slot.KNOWN_ON: value}
    start = parse_date(value)
    if start is None or start > today:
        return {}
    if kind is Kind.ANNUAL_LEAVE:
        return {Slot.JOINED_ON: start.isoformat()} if start.year == today.year else {}
    slot = {Kind.ECONOMIC_COMPENSATION: Slot.MONTHS_SERVICE, Kind.DOUBLE_WAGES: Slot.MONTHS_NO_CONTRACT,
            Kind.MEDICAL_PERIOD: Slot.MONTHS_EMPLOYER}.get(kind)
    return {slot: months_between(start, today)} if slot else {}


def fill(kind: Kind, entities: list[Entity], *, requested: str | None, current: Mapping[str, Any],
         today: date) -> dict[str, Any]:
    """Slot updates for ``kind`` from one message's entities (corrections overwrite)."""
    updates: dict[str, Any] = {}
    updates.update(fill_dates(kind, entities, today))
    updates.update(fill_durations(kind, entities, requested, current))
    if kind is Kind.ECONOMIC_COMPENSATION:
        entities, compensation = fill_compensation(entities, requested)
        updates.update(compensation)
    wage = _wage(kind, entities, requested)
    if wage is not None:
        updates[Slot.MONTHLY_WAGE] = wage
    if kind is Kind.OVERTIME_PAY:
        updates.update(fill_hours(entities, current))
    if kind is Kind.WORK_INJURY:
        updates.update(fill_injury(entities, current, today))
    if kind is Kind.MATERNITY_LEAVE:
        updates.update(fill_birth(entities, current))
        regions = _of(entities, "region")
        if regions:
            updates[Slot.REGION] = regions[-1]["value"]
        elif requested == Slot.REGION and _of(entities, "skip"):
            updates[Slot.REGION_SKIPPED] = True
    if kind is Kind.MAX_PROBATION and any(e["value"] == "open_ended" for e in _of(entities, "contract")):
        updates[Slot.CONTRACT_MONTHS] = "open_ended"
    return updates


@lru_cache(maxsize=1)
def _bare_answer_units() -> dict[str, tuple[str, str]]:
    raw = yaml.safe_load(VOCAB_PATH.read_text(encoding="utf-8"))
    return {slot: (str(u.get("prefix") or ""), str(u.get("suffix") or ""))
            for slot, u in (raw.get("bare_answers") or {}).items()}


def bare_answer(requested: str | None, text: str, today: date) -> list[dict[str, Any]]:
    """Entities of a bare number ("8000", "三") answering the question for ``requested``.

    Called when the extractor found nothing: "8000" to the wage question is 8000 yuan,
    "6" to a years question is six years. Long texts are sentences, not bare answers.
    """
    units = _bare_answer_units().get(requested or "")
    if units is None or not text or len(text.strip()) > MAX_BARE_ANSWER:
        return []
    prefix, suffix = units
    hinted = f"{prefix}{text.strip()}{suffix}"
    return [{"entity": f.entity, "value": f.value, "start": 0, "end": len(text)}
            for f in extract_numbers(hinted, today)]
