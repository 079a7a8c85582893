"""Turning the bot's messages into WeChat text, and a worker's digit back into a button.

WeChat shows plain text only: buttons become numbered options (the worker replies
"2"), and a message longer than WeChat's limit is split at line breaks. A calculation's
details (its working and statutes, ``{"details": {"text": …}}`` in the custom payload) are not
sent with it: a line under the conclusion says to reply "依据" for them, and the channel keeps them.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable

from bot.channels.common import folded_details, replies

# WeChat cuts text messages (passive replies, customer-service and WeCom app messages)
# at 2048 bytes of UTF-8; keep a margin for the numbering.
MAX_TEXT_BYTES = 2000
_CHOICE = re.compile(r"\d{1,2}")
_BREAK_AFTER = "。！？；\n"


@dataclass(frozen=True)
class Rendered:
    texts: list[str] = field(default_factory=list)
    # Payloads of the numbered options in these texts; None when they show no options.
    menu: list[str] | None = None
    # The details a calculation folded away, sent when the worker replies "依据".
    details: str | None = None


def render(messages: Iterable[dict[str, Any]], max_bytes: int = MAX_TEXT_BYTES) -> Rendered:
    """One WeChat text per ``max_bytes``; all of a turn's messages are joined first."""
    parts: list[str] = []
    menu: list[str] | None = None
    details: str | None = None
    for message in messages:
        text = (message.get("text") or "").strip()
        buttons = [b for b in message.get("buttons") or [] if b.get("title") and b.get("payload")]
        if buttons:
            lines = [f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1)]
            text = "\n".join(filter(None, [text, replies()["wechat_options"], *lines]))
            menu = [b["payload"] for b in buttons]
        if text:
            parts.append(text)
        folded = folded_details(message)
        if folded:  # Rasa sends the custom payload after its text: the hint goes right under it
            details = folded
            parts[-1:] = ["\n".join([*parts[-1:], replies()["wechat_details_hint"]])]
    if not parts:
        return Rendered()
    return Rendered(split_text("\n\n".join(parts), max_bytes), menu, details)


def split_text(text: str, max_bytes: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces of at most ``max_bytes`` (UTF-8), cut after a line or sentence end when possible."""
    chunks: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > max_bytes:
        cut = _fitting_prefix(rest, max_bytes)
        natural = max(rest.rfind(mark, 0, cut) for mark in _BREAK_AFTER)
        if natural > cut // 2:
            cut = natural + 1
        chunks.append(rest[:cut].strip())
        rest = rest[cut:].lstrip("\n")
    if rest.strip():
        chunks.append(rest.strip())
    return chunks


def _fitting_prefix(text: str, max_bytes: int) -> int:
    """The number of leading characters whose UTF-8 form fits in ``max_bytes``."""
    size = 0
    for index, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > max_bytes:
            return index
    return len(text)


def choice(text: str, menu: list[str]) -> str | None:
    """The payload a reply like "2" (or "２") picks from the options last shown, if any."""
    normalised = unicodedata.normalize("NFKC", text).strip().rstrip(".")
    if not menu or not _CHOICE.fullmatch(normalised):
        return None
    number = int(normalised)
    return menu[number - 1] if 1 <= number <= len(menu) else None
