"""Button payloads: what Rasa receives when a worker presses a button (``/greet``,
``/calculate{"calc_kind": "overtime_pay"}``), and the title the worker saw on that button.

Staff never read a payload: a handoff's transcript keeps the title of the button pressed (from the
bot message that showed it), and the console hides a payload whose title is unknown.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator, Mapping

# "/intent", "/intent@0.9", "/intent{...}" as Rasa's own payload parser reads them.
_PAYLOAD = re.compile(r"^/(?P<intent>[^{@\s]+)(?:@[0-9.]+)?(?P<entities>\{.*\})?$", re.S)


def is_payload(text: str) -> bool:
    return text.strip().startswith("/")


def payload_key(payload: str) -> str | None:
    """One spelling per payload (entity order and spacing do not matter); None: not a payload."""
    found = _PAYLOAD.match(payload.strip())
    if not found:
        return None
    entities = found.group("entities") or ""
    try:
        entities = json.dumps(json.loads(entities), sort_keys=True, ensure_ascii=False) if entities else ""
    except ValueError:
        pass
    return found.group("intent") + entities


def titles_of(buttons: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Payload key → title of each button (the first title a payload has)."""
    titles: dict[str, str] = {}
    for button in buttons:
        key = payload_key(str(button.get("payload") or ""))
        if key and button.get("title"):
            titles.setdefault(key, str(button["title"]))
    return titles


def pressed(events: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Each event (as Rasa stores them) with its text as the worker saw it: a payload becomes the
    title of the matching button of the latest bot message that showed buttons (unknown: the payload
    itself); an event without text has ""."""
    shown: dict[str, str] = {}
    for event in events:
        text = event.get("text") or ""
        if event.get("event") == "bot":
            buttons = (event.get("data") or {}).get("buttons")
            if buttons:
                shown = titles_of(buttons)
        elif event.get("event") == "user" and is_payload(text):
            text = shown.get(payload_key(text) or "", text)
        yield event, text
