"""Complaint rules: tickets, priority, contact details, ratings. Pure functions over data."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import cn2an
import yaml

from bot.config import PROJECT_ROOT
from bot.storage.models import Priority

SERVICE_FILE = PROJECT_ROOT / "data" / "knowledge" / "service.yml"

# Crockford-like alphabet without 0/O, 1/I/L: easy to read out on the phone.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TICKET_RE = re.compile(r"NJ\s*-?\s*(\d{8})\s*-?\s*([2-9A-HJKMNP-Z]{5})", re.IGNORECASE)
MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?(\d{7,8})(?!\d)")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class ComplaintDraft:
    """What the worker told the complaint form, ready to be stored."""

    sender_id: str
    channel: str | None
    employer: str
    topic: str
    description: str
    since_text: str
    workers_affected: int
    phone: str | None
    consent_to_contact: bool
    region: str | None = None  # where the worker works, as they said it (None: not said)

    def dedupe_key(self) -> str:
        """Same worker + same content = same complaint (double taps, retried requests)."""
        parts = [self.sender_id, self.employer.strip(), self.topic, self.description.strip(),
                 self.since_text.strip(), str(self.workers_affected), self.phone or ""]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def service_rules(path: Path = SERVICE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def new_ticket(today: date) -> str:
    suffix = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(5))
    return f"NJ-{today:%Y%m%d}-{suffix}"


def find_ticket(text: str) -> str | None:
    """The ticket number quoted in ``text``, normalised (``nj 20261124 7kq2m`` → ``NJ-20261124-7KQ2M``)."""
    match = TICKET_RE.search(text or "")
    if not match:
        return None
    return f"NJ-{match.group(1)}-{match.group(2).upper()}"


def complaint_priority(topic: str, workers: int, filed_on: date,
                       rules: dict[str, Any] | None = None) -> Priority:
    """Many workers affected, or wage arrears in the weeks before Spring Festival → urgent."""
    cfg = (rules or service_rules())["complaints"]
    if workers >= int(cfg["many_workers"]):
        return Priority.URGENT
    if topic in cfg["wage_topics"]:
        window = int(cfg["spring_festival_window_days"])
        for holiday in cfg["spring_festival"]:
            holiday = holiday if isinstance(holiday, date) else date.fromisoformat(str(holiday))
            if 0 <= (holiday - filed_on).days <= window:
                return Priority.URGENT
    return Priority.NORMAL


def find_phone(text: str) -> str | None:
    """A mainland mobile (11 digits) or landline with area code, digits only."""
    text = (text or "").translate(_FULLWIDTH)
    match = MOBILE_RE.search(text) or LANDLINE_RE.search(text)
    return "".join(match.groups()) if match else None


def mask_phone(phone: str | None) -> str:
    """For places that must not show the whole number (logs, lists): 138****5678."""
    if not phone:
        return ""
    return phone[:3] + "*" * max(len(phone) - 7, 1) + phone[-4:]


def place_name(text: str, fillers: Sequence[str]) -> str:
    """Where the worker works without the words around it: '我在深圳宝安上班。' → '深圳宝安'."""
    words = "|".join(map(re.escape, sorted(fillers, key=len, reverse=True))) or "(?!)"
    edge = rf"(?:{words}|[\s，。、！？,.!?~～])+"
    return re.sub(rf"^{edge}|{edge}$", "", (text or "").strip())


def parse_count(text: str) -> int | None:
    """Workers affected: '50', '三十多个人', '就我一个', '两百人' → an integer, else None."""
    text = (text or "").translate(_FULLWIDTH)
    digits = re.search(r"\d+", text)
    if digits:
        value = int(digits.group())
    else:
        numeral = re.search(r"[零一二两三四五六七八九十百千万]+", text)
        if not numeral:
            return None
        try:
            value = int(cn2an.cn2an(numeral.group().replace("两", "二"), "smart"))
        except (ValueError, KeyError):
            return None
    return value if 1 <= value <= 1_000_000 else None


def parse_rating(text: str, low: int = 1, high: int = 5) -> int | None:
    """A 1–5 score from '5', '５分', '四星', '⭐⭐⭐', '满分'; None if there is none."""
    text = (text or "").translate(_FULLWIDTH)
    stars = text.count("⭐") or text.count("★")
    if stars:
        return min(max(stars, low), high)
    if "满分" in text:
        return high
    match = re.search(r"(?<!\d)([0-9])(?!\d)", text) or re.search(r"[一二两三四五]", text)
    if not match:
        return None
    token = match.group(1) if match.groups() else match.group()
    value = int(token) if token.isdigit() else int(cn2an.cn2an(token.replace("两", "二"), "smart"))
    return value if low <= value <= high else None


def rating_comment(text: str, skip_words: Sequence[str]) -> str | None:
    """What the worker wrote about a poor rating; None when they had nothing to add ('跳过', '没有。')
    or pressed an earlier button instead ('/wage_arrears')."""
    comment = (text or "").strip()
    if comment.startswith("/"):
        return None
    bare = re.sub(r"[\s，。、！？,.!?~～]+", "", comment)
    # with the particles at its end, without them, without 了 too ("算了吧", "没有了")
    forms = {bare, re.sub(r"[啦吧呀啊哈]+$", "", bare), re.sub(r"[了啦吧呀啊哈]+$", "", bare)}
    if not bare or forms & set(skip_words):
        return None
    return comment
