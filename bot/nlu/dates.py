"""Dates in workers' messages as ISO strings with the precision the worker said.

"2024年5月" → "2024-05", "去年三月" → "2025-03" (relative to ``today``), "昨天" → a day,
"3月15日" with no year → the latest such day not after today. Weekdays ("上周二") and
vague spans ("十几天前") give nothing. Used by :mod:`bot.nlu.numbers`, which owns the
public API; this module returns bare spans ``(start, end, value)`` where a ``None``
value is a blocker: text that was recognised as not-a-date and must not be re-read
as another entity. Chinese characters in the patterns are grammar, not user-facing text.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import cn2an

Span = tuple[int, int, "str | None"]

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_YEAR4 = r"(?<![\d.])(?:19|20)\d{2}(?!\d)|(?:一九|二[零〇])[零〇一二三四五六七八九]{2}"
_YEAR2 = r"(?<![\d.])\d{2}(?!\d)|(?<![零〇一二三四五六七八九])[零〇一二三四五六七八九]{2}"
_REL_YEAR = r"大前年|(?<![以之提目先])前年|(?<!过)去年|今年|明年|(?<![以之最然])后年"
_MONTH = r"(?:(?<!\d)(?:1[0-2]|0?[1-9])|十[一二]?|(?<![零〇一二两三四五六七八九十])[一二三四五六七八九])"
_DAY = (r"(?:3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?"
        r"|十[一二三四五六七八九]?|[一二三四五六七八九])(?:日|号)")
# Year words that are a date only when something date-like follows ("24年入职").
_YEAR_SUFFIX = r"(?=初|底|末|年初|年底|上半年|下半年|入职|进厂|进公司|开始|毕业|的时候|签)"

_YEAR_MONTH = re.compile(
    rf"(?:(?P<ya>{_YEAR4}|{_YEAR2})年|(?P<yr>{_REL_YEAR}))的?(?P<m>{_MONTH})月份?(?P<d>{_DAY})?")
_YEAR_ONLY = re.compile(
    rf"(?P<ya>{_YEAR4})年(?!级|代|龄|纪)|(?P<y2>{_YEAR2})年{_YEAR_SUFFIX}|(?P<yr>{_REL_YEAR})")
_MONTH_DAY = re.compile(
    rf"(?<![\d零〇两个第每上下这本几半年])(?P<m>{_MONTH})月份?(?!薪)(?P<d>{_DAY})?")
_REL_MONTH = re.compile(rf"(?P<rm>上上个?月|上个?月|这个?月|本月|下个?月)(?P<d>{_DAY})?")
_REL_DAY = re.compile(
    r"大前天|(?<![以之提目从面眼当])前天|昨天|昨日|昨晚|昨夜|今天|今日|今早|今晚|明天|明日|大后天"
    r"|(?<![以之最然过午落退])后天")
_DAYS_AGO = re.compile(r"(?<![\d.])(?P<n>\d{1,3}|[一二两三四五六七八九十几]{1,3})(?P<more>多)?天以?前")
_NUMERIC = re.compile(
    r"(?<![\d.])(?P<y>(?:19|20)\d{2})(?P<sep>[./-])(?P<m>\d{1,2})"
    r"(?:(?P=sep)(?P<d>\d{1,2}))?(?![\d.]|[元块kKwW%])")
_RANGE = re.compile(r"[一二两三四五六七八九]{2}")  # "一两天", "五六月": a range, not a number
_AGE_AFTER = re.compile(r"(?:都|已经|已|才|刚|刚满|满)?[\d一二两三四五六七八九十]+(?:周?岁|了)")

_YEAR_OFFSETS = {"大前年": -3, "前年": -2, "去年": -1, "今年": 0, "明年": 1, "后年": 2}
_MONTH_OFFSETS = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1}
_DAY_OFFSETS = {"大前天": -3, "前天": -2, "昨": -1, "今": 0, "明": 1, "大后天": 3, "后天": 2}


def find_dates(text: str, today: date) -> list[Span]:
    """Every date-like span in ``text`` (may overlap; the caller keeps the longest)."""
    spans: list[Span] = []
    for m in _YEAR_MONTH.finditer(text):
        spans.append((m.start(), m.end(), _year_month(m, today)))
    for m in _YEAR_ONLY.finditer(text):
        if m["yr"] == "今年" and _AGE_AFTER.match(text, m.end()):
            spans.append((m.start(), m.end(), None))  # "我今年35岁" is an age
            continue
        year = _year(m["ya"] or m["y2"], today) if not m["yr"] else today.year + _YEAR_OFFSETS[m["yr"]]
        spans.append((m.start(), m.end(), _iso(year) if year else None))
    for m in _MONTH_DAY.finditer(text):
        spans.append((m.start(), m.end(), _recent(m, today)))
    for m in _REL_MONTH.finditer(text):
        key = m["rm"].rstrip("月").rstrip("个")
        year, month = _add_months(today.year, today.month, _MONTH_OFFSETS[key])
        spans.append((m.start(), m.end(), _iso(year, month, _day(m["d"]))))
    for m in _REL_DAY.finditer(text):
        word = m.group()
        offset = _DAY_OFFSETS.get(word, _DAY_OFFSETS.get(word[0], 0))
        spans.append((m.start(), m.end(), (today + timedelta(days=offset)).isoformat()))
    for m in _DAYS_AGO.finditer(text):
        days = _small_int(m["n"])
        value = (today - timedelta(days=days)).isoformat() if days is not None and days < 10000 else None
        spans.append((m.start(), m.end(), value))
    for m in _NUMERIC.finditer(text):
        day = int(m["d"]) if m["d"] else None
        spans.append((m.start(), m.end(), _iso(int(m["y"]), int(m["m"]), day)))
    return spans


def months_ago(today: date, months: Decimal) -> str | None:
    """The date ``months`` before today, as precise as said: "三年前" → a year, "半年前" → a month."""
    if months <= 0 or months > 1200:
        return None
    if months % 12 == 0:
        return str(today.year - int(months) // 12)
    if months % 1 == 0:
        year, month = _add_months(today.year, today.month, -int(months))
        return _iso(year, month)
    return (today - timedelta(days=int(months * 30))).isoformat()


def _year_month(m: re.Match[str], today: date) -> str | None:
    year = _year(m["ya"], today) if m["ya"] else today.year + _YEAR_OFFSETS[m["yr"]]
    month = _small_int(m["m"])
    return _iso(year, month, _day(m["d"])) if year and month else None


def _recent(m: re.Match[str], today: date) -> str | None:
    """A month (and day) with no year: the latest one not after today."""
    month, day = _small_int(m["m"]), _day(m["d"])
    if month is None:
        return None
    year = today.year if (month, day or 1) <= (today.month, today.day) else today.year - 1
    return _iso(year, month, day)


def _year(token: str | None, today: date) -> int | None:
    """'2024', '二零二四', '24' → 2024; two-digit years in the future belong to the 1900s."""
    if not token:
        return None
    digits = "".join(str(_CN_DIGITS[c]) if c in _CN_DIGITS else c for c in token)
    if not digits.isdigit():
        return None
    year = int(digits)
    if len(digits) == 2:
        year += 2000 if 2000 + year <= today.year + 1 else 1900
    return year


def _day(token: str | None) -> int | None:
    return _small_int(token[:-1]) if token else None


def _small_int(token: str | None) -> int | None:
    """'15', '05', '十二', '二十一', '两' → int; vague ('十几') or odd tokens → None."""
    if not token or "几" in token or _RANGE.search(token):
        return None
    if token.isdigit():
        return int(token)
    try:
        value = cn2an.cn2an(token.replace("两", "二"), "normal")
    except (ValueError, KeyError):
        return None
    return int(value) if value == int(value) else None


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    """An ISO date of the given precision, or None if the date does not exist."""
    try:
        date(year, month or 1, day or 1)
    except (ValueError, OverflowError):
        return None
    if month is None:
        return f"{year:04d}"
    return f"{year:04d}-{month:02d}" if day is None else f"{year:04d}-{month:02d}-{day:02d}"
