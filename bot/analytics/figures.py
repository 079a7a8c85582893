"""Pure figures for the supervisors' dashboard: the values it shows and how they are derived.

Nothing here touches a database, so every rule (ranking, medians, employer spellings,
what counts as an unrecognised message) is testable on plain values.
"""
from __future__ import annotations

import json
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

from bot.clarify import NONE, NONE_HUMAN

USER_EVENT = "user"
BOT_EVENT = "bot"
LOOP_EVENT = "active_loop"
FALLBACK_INTENT = "nlu_fallback"
# Messages the bot did not answer with a topic: staff should see them in the teaching inbox.
UNANSWERED_INTENTS = frozenset({FALLBACK_INTENT, "out_of_scope"})
FAQ_INTENT = "faq"
_CJK = r"[\u2e80-\u9fff\uf900-\ufaff]"


@dataclass(frozen=True)
class DailyActivity:
    day: date
    conversations: int  # distinct senders with at least one user message that day
    messages: int  # user messages


@dataclass(frozen=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int
    value: float | None  # None when there is nothing to divide by


@dataclass(frozen=True)
class HandoffFigures:
    """Of the handoffs opened in a period: how fast staff took and closed them, how workers rated them."""

    opened: int
    claimed: int
    median_claim_seconds: float | None
    resolved: int
    median_resolve_seconds: float | None
    rated: int
    average_rating: float | None


@dataclass(frozen=True)
class EmployerWarning:
    employer: str  # the spelling used most often
    count: int
    latest_at: datetime
    tickets: list[str]


@dataclass(frozen=True)
class UnrecognisedMessage:
    id: int
    sender_id: str
    text: str
    intent: str | None
    confidence: float | None
    timestamp: float


# The worker's answer to an ask-back that was one of its "none of these" buttons.
DECLINED = "declined"
_DECLINE_PAYLOADS = frozenset({NONE["payload"], NONE_HUMAN["payload"]})


@dataclass(frozen=True)
class AskBack:
    """The bot asked back (bot/clarify.py), and what the worker answered."""

    sender_id: str
    at: float  # when the bot asked
    question_at: float | None  # the worker's message it asked about (None: not among the events read)
    options: tuple[str, ...]  # the topics offered, in the order shown
    reply: str | None  # the topic chosen, DECLINED, or None: abandoned (something else, or nothing yet)


@dataclass(frozen=True)
class ClarifyTopic:
    topic: str
    offered: int
    chosen: int
    declined: int  # offered, and the worker pressed a "none of these" button
    abandoned: int  # offered, and the worker wrote something else or nothing


@dataclass(frozen=True)
class ClarifyFigures:
    asked: int
    chosen: int
    declined: int
    abandoned: int
    topics: list[ClarifyTopic]  # most offered first


@dataclass(frozen=True)
class UnrecognisedScan:
    messages: list[UnrecognisedMessage]
    last_event_id: int  # pass back as since_event_id: everything up to it has been examined
    ask_backs: list[AskBack] = field(default_factory=list)  # asked back or answered in the events read


def ranked(counts: Iterable[tuple[str, int]], limit: int | None = None) -> list[Count]:
    """Most first; equal counts in key order, so the page does not reshuffle between loads."""
    return [Count(k, n) for k, n in sorted(counts, key=lambda kv: (-kv[1], kv[0]))[:limit]]


def ratio(part: int, whole: int) -> Ratio:
    return Ratio(part, whole, part / whole if whole else None)


def median_seconds(spans: Iterable[tuple[datetime, datetime | None]]) -> tuple[int, float | None]:
    """How many spans ended, and the median of their lengths in seconds (None if none did)."""
    seconds = [(end - start).total_seconds() for start, end in spans if end is not None]
    return len(seconds), (statistics.median(seconds) if seconds else None)


def average(values: Iterable[int | None]) -> tuple[int, float | None]:
    """How many values there are (None: missing), and their mean."""
    present = [v for v in values if v is not None]
    return len(present), (statistics.fmean(present) if present else None)


def clean_employer(name: str) -> str:
    """The spelling shown: fullwidth folded to halfwidth (NFKC), whitespace collapsed, and
    dropped next to Chinese characters (which are not space-separated)."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name)).strip()
    return re.sub(rf"(?<={_CJK}) | (?={_CJK})", "", text)


def normalise_employer(name: str) -> str:
    """One key per employer however it was typed: "ＸＸ厂 ", "xx  厂" and "XX厂" agree."""
    return clean_employer(name).casefold()


def group_employers(rows: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """(name, count) rows merged by :func:`normalise_employer`.

    Each group shows its most frequent clean spelling (ties: the first in sort order).
    """
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for name, count in rows:
        spellings[normalise_employer(name)][clean_employer(name)] += count
    return [(min(c, key=lambda s: (-c[s], s)), sum(c.values())) for c in spellings.values()]


def topic_of(intent: str) -> str:
    """Retrieval intents (``faq/<question>``) count as one topic, ``faq``."""
    return FAQ_INTENT if intent.split("/", 1)[0] == FAQ_INTENT else intent


def fill_days(counts: dict[date, tuple[int, int]], first: date, last: date) -> list[DailyActivity]:
    """One entry per day from ``first`` to ``last``, zeros where nothing happened (charts need them)."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [DailyActivity(d, *counts.get(d, (0, 0))) for d in days]


def epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


def unrecognised(event_id: int, sender_id: str, timestamp: float, raw: str | None,
                 low_confidence: float) -> UnrecognisedMessage | None:
    """The user event as an inbox entry if the NLU fell back, judged it out of scope or was unsure.

    Button payloads (``/intent``) and empty messages are never entries: nobody typed them.
    """
    data = event_data(raw)
    text = (data.get("text") or "").strip()
    intent = (data.get("parse_data") or {}).get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    unsure = isinstance(confidence, (int, float)) and confidence < low_confidence
    if not text or text.startswith("/") or (name not in UNANSWERED_INTENTS and not unsure):
        return None
    return UnrecognisedMessage(event_id, sender_id, text, name, confidence, timestamp)


def event_data(raw: str | None) -> dict[str, Any]:
    """A tracker event's JSON (``events.data``); {} if unreadable."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def is_button(raw: str | None) -> bool:
    """A user event whose text is a payload (``/intent``): a button pressed, not typed words."""
    return (event_data(raw).get("text") or "").strip().startswith("/")


def clarify_options(raw: str | None) -> tuple[str, ...] | None:
    """The topics a bot event offered as an ask-back (its ``{"clarify": [...]}`` tag), or None."""
    custom = (event_data(raw).get("data") or {}).get("custom")
    options = custom.get("clarify") if isinstance(custom, dict) else None
    return tuple(o for o in options if isinstance(o, str)) if isinstance(options, list) else None


def reply_to(text: str, options: tuple[str, ...]) -> str | None:
    """What a worker's next message says about the ask-back: a topic button pressed, a "none of
    these" button (DECLINED), or None (typed something else: the ask-back was abandoned)."""
    text = text.strip()
    if text in _DECLINE_PAYLOADS:
        return DECLINED
    chosen = text[1:].partition("{")[0] if text.startswith("/") else None  # "/work_injury{"sub": …}"
    return chosen if chosen in options else None


def ask_backs(events: Iterable[tuple[int, str, str, float, str | None]]) -> list[AskBack]:
    """The ask-backs among ``(id, sender_id, type_name, timestamp, data)`` tracker events (ordered
    by id), each with the worker's message before it and the worker's next message as the reply."""
    last_user: dict[str, float] = {}
    waiting: dict[str, int] = {}  # sender → index in ``found`` of the ask-back without a reply yet
    found: list[AskBack] = []
    for _, sender, kind, timestamp, raw in events:
        if kind == USER_EVENT:
            index = waiting.pop(sender, None)
            if index is not None:
                asked = found[index]
                found[index] = replace(asked, reply=reply_to(event_data(raw).get("text") or "", asked.options))
            last_user[sender] = timestamp
        elif kind == BOT_EVENT:
            options = clarify_options(raw)
            if options is not None:
                waiting[sender] = len(found)
                found.append(AskBack(sender, timestamp, last_user.get(sender), options, None))
    return found


def untaught(events: Iterable[tuple[int, str, str, float, str | None]], low_confidence: float,
             in_form: Iterable[str] = ()) -> list[UnrecognisedMessage]:
    """The inbox entries among tracker events (ordered by id): :func:`unrecognised` user messages,
    except answers to a form's questions (names, phone numbers … are not questions to learn from).
    ``in_form``: senders whose form was active before the first event."""
    looping = set(in_form)
    found: list[UnrecognisedMessage] = []
    for event_id, sender, kind, timestamp, raw in events:
        if kind == LOOP_EVENT:
            (looping.add if event_data(raw).get("name") else looping.discard)(sender)
        elif kind == USER_EVENT and sender not in looping:
            message = unrecognised(event_id, sender, timestamp, raw, low_confidence)
            if message is not None:
                found.append(message)
    return found


def clarify_figures(asked: Iterable[AskBack]) -> ClarifyFigures:
    """Ask-backs counted: how many, how they were answered, and per topic offered."""
    asked = list(asked)
    per_topic: dict[str, Counter[str]] = defaultdict(Counter)
    for a in asked:
        outcome = "declined" if a.reply == DECLINED else "abandoned" if a.reply is None else None
        for topic in a.options:
            counts = per_topic[topic]
            counts["offered"] += 1
            counts[outcome or ("chosen" if a.reply == topic else "other")] += 1
    topics = [ClarifyTopic(t, c["offered"], c["chosen"], c["declined"], c["abandoned"])
              for t, c in sorted(per_topic.items(), key=lambda tc: (-tc[1]["offered"], -tc[1]["chosen"], tc[0]))]
    chosen = sum(1 for a in asked if a.reply not in (None, DECLINED))
    declined = sum(1 for a in asked if a.reply == DECLINED)
    return ClarifyFigures(len(asked), chosen, declined, len(asked) - chosen - declined, topics)
