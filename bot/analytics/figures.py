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
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

USER_EVENT = "user"
FALLBACK_INTENT = "nlu_fallback"
# Messages the bot did not answer with a topic: staff should see them in the teaching inbox.
UNANSWERED_INTENTS = frozenset({FALLBACK_INTENT, "out_of_scope"})
FAQ_INTENT = "faq"
# Dialogue mechanics and service requests, not rights topics: left out of the topic ranking.
BASIC_INTENTS = frozenset({
    FALLBACK_INTENT, "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "stop", "rate",
    "out_of_scope", "chitchat", "request_human", "file_complaint", "check_complaint", "urgent_help",
})
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


@dataclass(frozen=True)
class UnrecognisedScan:
    messages: list[UnrecognisedMessage]
    last_event_id: int  # pass back as since_event_id: everything up to it has been examined


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
    try:
        data: dict[str, Any] = json.loads(raw or "{}")
    except ValueError:
        return None
    text = (data.get("text") or "").strip()
    intent = (data.get("parse_data") or {}).get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    unsure = isinstance(confidence, (int, float)) and confidence < low_confidence
    if not text or text.startswith("/") or (name not in UNANSWERED_INTENTS and not unsure):
        return None
    return UnrecognisedMessage(event_id, sender_id, text, name, confidence, timestamp)
