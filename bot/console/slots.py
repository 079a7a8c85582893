"""What the bot collected about a worker, as staff read it on a handoff ("机器人收集到的信息").

Slot names become their Chinese labels (texts_slots.yml) and values what they mean (加班费计算,
3年6个月, 6000 元, 工作日 20 小时); the dialogue's own bookkeeping (retry counters, the form's
confirmation) and empty or zero values are left out. The phone the complaint form took is shown
only where the worker agreed to be called (``complaint_consent``, as complaints store it).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from bot.calculate.dialogue import CARRIED
from bot.calculate.kinds import Slot
from bot.console.deps import known_text, say
from bot.console.labels import topic_label
from bot.knowledge.calc.base import load_templates

# The dialogue's bookkeeping, never what the worker told the bot.
# ``sub``: which part of a topic's answer the bot gave (the handoff's topic says what it is about);
# ``CARRIED``: which of the numbers shown came from an earlier question.
INTERNAL = frozenset({"calc_retries", Slot.REGION_SKIPPED, "complaint_confirmed", "forget_me", "requested_slot",
                      "session_started_metadata", "sub", CARRIED})
# The complaint form's phone and the worker's consent to be called; "none": the worker stayed anonymous,
# or would not say where they work (actions/complaint.py).
PHONE_SLOT, CONSENT_SLOT, REGION_SLOT, TOPIC_SLOT = ("complaint_phone", "complaint_consent", "complaint_region",
                                                     "complaint_topic")
NOT_GIVEN = "none"
OTHER_TOPIC = "other"
MONTH_SLOTS = (Slot.MONTHS_TOTAL, Slot.MONTHS_EMPLOYER, Slot.MONTHS_SERVICE, Slot.MONTHS_NO_CONTRACT,
               Slot.CONTRACT_MONTHS, Slot.PREGNANCY_MONTHS)


def consented_phone(slots: Mapping[str, Any]) -> str | None:
    """The phone the worker gave in the complaint form, if they agreed to be called."""
    phone = slots.get(PHONE_SLOT)
    if slots.get(CONSENT_SLOT) is True and isinstance(phone, str) and any(ch.isdigit() for ch in phone):
        return phone
    return None


def collected(slots: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of every slot worth a staff member's reading, in the order the bot collected them."""
    rows = []
    for name, value in (slots or {}).items():
        if name in INTERNAL or _empty(value):
            continue
        text = _FORMATS.get(name, _plain)(value, slots)
        if text:
            rows.append((slot_label(name), text))
    return rows


def slot_label(name: str) -> str:
    """A slot's Chinese label (texts_slots.yml); a slot without one keeps its name."""
    return known_text(f"slot_{name}") or name


def _empty(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == 0
    return value is None or value == "" or (isinstance(value, (dict, list)) and not value)


def _number(value: Any) -> str:
    """6000 for 6000.0, 1.5 stays 1.5; anything else as it was said."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return str(int(number)) if number == number.to_integral_value() else f"{number.normalize():f}"


def _months(value: Any, slots: Mapping[str, Any]) -> str:
    if value == "open_ended":
        return say("collected_open_ended")
    try:
        months = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if months != months.to_integral_value() or months < 12:
        return say("collected_months", n=_number(months))
    years, rest = divmod(int(months), 12)
    return say("collected_years_months", years=years, months=rest) if rest else say("collected_years", n=years)


def _date(value: Any, slots: Mapping[str, Any]) -> str:
    """``2025``, ``2025-03`` or ``2025-03-15`` (how the bot stores a date) in Chinese."""
    parts = [p for p in str(value).split("-") if p.isdigit()]
    keys = {1: "collected_year", 2: "collected_year_month", 3: "collected_date"}
    if len(parts) not in keys:
        return str(value)
    return say(keys[len(parts)], **dict(zip(("y", "m", "d"), (int(p) for p in parts))))


def _hours(value: Any, slots: Mapping[str, Any], unit: str = "collected_hours") -> str:
    if not isinstance(value, Mapping):
        return say(unit, day="", n=_number(value))
    return "、".join(say(unit, day=_known("collected_day", day), n=_number(hours))
                    for day, hours in value.items() if hours)


def _daily(value: Any, slots: Mapping[str, Any]) -> str:
    """A working day said per day: {"hours": 12, "restday": true} -> 每天上班 12 小时，休息日也上班."""
    if not isinstance(value, Mapping):
        return _plain(value, slots)
    said = [say(f"collected_daily_{key}", n=_number(n)) for key, n in value.items() if key in ("hours", "overtime")]
    return "，".join(said + ([say("collected_daily_restday")] if value.get("restday") else []))


def _birth(value: Any, slots: Mapping[str, Any]) -> str:
    if not isinstance(value, Mapping):
        return _known("collected_birth", value)
    if value.get("miscarriage"):
        return say("collected_birth_miscarriage")
    kind = say("collected_birth_difficult" if value.get("difficult") else
               "collected_birth_caesarean" if value.get("caesarean") else "collected_birth_normal")
    babies = int(value.get("babies") or 1)
    return f"{kind}，{say('collected_babies', n=babies)}" if babies > 1 else kind


def _injury(value: Any, slots: Mapping[str, Any]) -> str:
    """``{"grade": 7}``, ``{"grade": None}`` (not appraised yet) or ``{"death": True, "year": 2025}``."""
    if not isinstance(value, Mapping):
        return str(value)
    if value.get("death"):
        year = value.get("year")
        return say("collected_injury_death_year", y=year) if year else say("collected_injury_death")
    grade = value.get("grade")
    return say("collected_injury_grade", n=grade) if grade else say("collected_injury_unappraised")


def _consent(value: Any, slots: Mapping[str, Any]) -> str:
    if slots.get(PHONE_SLOT) in (None, NOT_GIVEN):
        return ""  # anonymous: the phone's line says so
    return say("collected_consent_yes" if value is True else "collected_consent_no")


def _phone(value: Any, slots: Mapping[str, Any]) -> str:
    if value == NOT_GIVEN:
        return say("collected_anonymous")
    return consented_phone(slots) or ""


def _known(prefix: str, value: Any) -> str:
    """The Chinese word for a value the bot uses as a name (``restday``); unknown ones as they are."""
    return known_text(f"{prefix}_{value}") or str(value)


def _plain(value: Any, slots: Mapping[str, Any]) -> str:
    if isinstance(value, bool):
        return say("audit_yes") if value else say("audit_no")
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, Mapping):
        return "；".join(f"{k}：{_plain(v, slots)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_plain(v, slots) for v in value)
    return str(value)


_FORMATS: dict[str, Callable[[Any, Mapping[str, Any]], str]] = {
    **{name: _months for name in MONTH_SLOTS},
    Slot.KIND: lambda v, s: load_templates().headings.get(str(v)) or str(v),
    Slot.MONTHLY_WAGE: lambda v, s: say("collected_money", n=_number(v)),
    Slot.CAUSE: lambda v, s: _known("collected_cause", v),
    Slot.DAY_TYPE: lambda v, s: _known("collected_day", v),
    Slot.HOURS: _hours,
    Slot.DAYS: lambda v, s: _hours(v, s, "collected_days"),
    Slot.DAILY: _daily,
    Slot.FESTIVAL: lambda v, s: _known("collected_festival", v),
    Slot.LOCAL_AVERAGE: lambda v, s: say("collected_money", n=_number(v)) if isinstance(v, (int, float))
    else say("collected_average_unknown"),
    Slot.BIRTH: _birth,
    "calc_injury": _injury,
    Slot.KNOWN_ON: _date,
    Slot.JOINED_ON: _date,
    TOPIC_SLOT: lambda v, s: say("complaint_topic_other") if v == OTHER_TOPIC else topic_label(str(v)),
    REGION_SLOT: lambda v, s: "" if v == NOT_GIVEN else str(v),
    "complaint_workers": lambda v, s: say("collected_workers", n=_number(v)),
    PHONE_SLOT: _phone,
    CONSENT_SLOT: _consent,
}
