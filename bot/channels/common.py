"""What every channel of ours shares: its own replies to workers and the input guard."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MAX_MESSAGE_CHARS = 2000
_REPLIES = Path(__file__).with_name("replies.yml")


@lru_cache(maxsize=1)
def replies() -> dict[str, str]:
    """The channels' own replies to workers (Chinese text lives in replies.yml)."""
    return yaml.safe_load(_REPLIES.read_text(encoding="utf-8"))


# Rasa acts on these "/intent" commands itself (a restart even ends a handoff's pause). Button
# payloads never use them, so a worker typing one is read as plain words.
_RASA_COMMANDS = re.compile(r"^\s*/(?=(restart|back|session_start|nlu_fallback)\b)")


def problem_with(text: object) -> str | None:
    """The reply for a message the model should not see, or None when it is fine."""
    if not isinstance(text, str) or not text.strip():
        return replies()["empty_message"]
    if len(text) > MAX_MESSAGE_CHARS:
        return replies()["message_too_long"]
    if not clean(text):
        return replies()["message_unreadable"]
    return None


def clean(text: str) -> bool:
    """Text every database can store: encodable (no lone surrogate) and without NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def as_words(text: str) -> str:
    """``text`` with a leading Rasa command slash removed ("/restart" → "restart")."""
    return _RASA_COMMANDS.sub("", text, count=1)


def folded_details(message: dict[str, Any]) -> str | None:
    """The details (a calculation's working and statutes) a bot message carries in its custom
    payload, ``{"details": {"label": …, "text": …}}``, for channels that fold them; None if none."""
    custom = message.get("custom")
    details = custom.get("details") if isinstance(custom, dict) else None
    text = details.get("text") if isinstance(details, dict) else None
    return text.strip() if isinstance(text, str) and text.strip() else None
