"""The audit log as staff read it: Chinese names for actions, objects and details, display names.

An entry's ``detail`` is what the code recorded (``{"from": "new", "to": "accepted"}``,
usernames, unit ids, intent names); each key becomes its Chinese label (``audit_field_<key>``)
and each value what it means (a status, a person's name, a topic's title), never JSON.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from bot.console.deps import action_label, known_text, local_time, say
from bot.console.labels import intent_label, role_label, topic_label
from bot.storage.audit import AuditRow
from bot.storage.models import AuditEntry, Role

PEOPLE_FIELDS = frozenset({"authors", "approver", "to_staff"})
FILTERS = "filters"  # the context of an export's filters: their "from" and "before" are days


@dataclass(frozen=True)
class Names:
    """Who and what the entries name: display names by username, unit names by id, FAQ titles by slug."""

    people: Mapping[str, str]
    units: Mapping[int, str]
    faqs: Mapping[str, str]

    def person(self, username: str) -> str:
        return self.people.get(username) or known_text(f"audit_actor_{username}") or username


@dataclass(frozen=True)
class Line:
    when: str
    actor: str
    action: str
    target: str
    details: list[tuple[str, str]]


def line(row: AuditRow, names: Names) -> Line:
    entry = row.entry
    action = say("audit_logins", n=row.count) if row.count > 1 else action_label(entry.action)
    return Line(local_time(entry.at, "%Y-%m-%d %H:%M:%S"), names.person(entry.actor), action, target(entry, names),
                [(field_label(k), value_text(entry.action, k, v, names)) for k, v in (entry.detail or {}).items()])


def target(entry: AuditEntry, names: Names) -> str:
    """What the entry is about: "转人工 #12", "账号 李干事", "问答 工会办公时间"."""
    kind, key = entry.object_type, entry.object_id
    shown = {"staff_user": lambda: names.person(key), "faq": lambda: names.faqs.get(key, key),
             "org_unit": lambda: names.units.get(int(key), key) if key.isdigit() else key,
             "handoff": lambda: key if key == "*" else f"#{key}",
             "unrecognised_message": lambda: f"#{key}", "publish_job": lambda: f"#{key}"}.get(kind, lambda: key)()
    return f"{known_text(f'audit_object_{kind}') or kind} {shown}"


def field_label(key: str) -> str:
    return known_text(f"audit_field_{key}") or key


def value_text(action: str, key: str, value: Any, names: Names) -> str:
    """A detail's value as staff read it."""
    if value is None or value == "" or value == []:
        return say("audit_none")
    if isinstance(value, bool):
        return say("audit_yes") if value else say("audit_no")
    if isinstance(value, dict):  # an export's filters
        return "；".join(f"{known_text(f'audit_filter_{k}') or field_label(k)}：{value_text(FILTERS, k, v, names)}"
                        for k, v in value.items())
    if isinstance(value, list):
        return "、".join(value_text(action, key, v, names) for v in value)
    shown = _FORMATS.get(_kind(action, key))
    return shown(value, names) if shown else str(value)


def _kind(action: str, key: str) -> str:
    """Which format a detail needs: "from"/"to" are statuses or people, depending on the action."""
    if key in ("from", "to", "before"):
        return {"complaint.status": "complaint_status", "complaint.assigned": "person",
                FILTERS: "filter_day"}.get(action, key)
    if key == "reason" and action.startswith("handoff."):
        return "handoff_reason"
    return "person" if key in PEOPLE_FIELDS else key


def _percent(value: Any, names: Names) -> str:
    return f"{float(value) * 100:.1f}%" if isinstance(value, (int, float)) else str(value)


_FORMATS: dict[str, Callable[[Any, Names], str]] = {
    "person": lambda v, names: names.person(str(v)),
    "role": lambda v, names: role_label(v) if v in {r.value for r in Role} else str(v),
    "complaint_status": lambda v, names: known_text(f"complaint_status_{v}") or str(v),
    "status": lambda v, names: known_text(f"complaint_status_{v}") or known_text(f"handoff_{v}") or str(v),
    "handoff_reason": lambda v, names: known_text(f"reason_{v}") or str(v),
    "priority": lambda v, names: known_text(f"priority_{v}") or str(v),
    "topic": lambda v, names: topic_label(str(v)),
    "intent": lambda v, names: intent_label(str(v), names.faqs),
    "suggested": lambda v, names: intent_label(str(v), names.faqs),
    "to_unit": lambda v, names: names.units.get(v, str(v)) if isinstance(v, int) else str(v),
    "staff_id": lambda v, names: str(v),
    "rating": lambda v, names: f"{v} 分",
    "new": _percent,
    "live": _percent,
    "version": lambda v, names: f"v{v}",
    "note_id": lambda v, names: f"#{v}",
    "message_id": lambda v, names: f"#{v}",
    "filter_day": lambda v, names: local_time(datetime.fromisoformat(str(v)), "%Y-%m-%d"),
}
