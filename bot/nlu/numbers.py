"""Numeric entities in colloquial Chinese worker messages: durations, money, hours, days worked, dates.

``extract_numbers("我在这家厂干了三年半，月薪六千", today)`` gives a ``duration`` of 42
(months) and ``money`` of 6000 (yuan). Hours are hours; ``days`` are days worked, only
next to a word of work ("加班了两天", "上了7天班": not "给我3天时间", "一个月休两天"); dates are
ISO strings with the precision said (see :mod:`bot.nlu.dates`). Numbers are int when whole, else float. Vague
amounts ("十几年", "五六千", "大半年", "几个小时") give nothing rather than a guess; a
bare number is money only with a money cue ("工资4500", "拿4500"), so "3个人", ages,
phone numbers, percentages and "第47条" are never money. Pure Python, regexes compiled
once; never raises. The Chinese characters in the patterns are the grammar being
parsed, not text shown to users.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import cn2an

from bot.nlu.dates import find_dates, months_ago

logger = logging.getLogger(__name__)

DURATION, MONEY, HOURS, DATE, DAYS = "duration", "money", "hours", "date", "days"
_PRIORITY = {DATE: 0, DURATION: 1, HOURS: 2, MONEY: 3, DAYS: 4}


@dataclass(frozen=True)
class Found:
    """One entity; ``text`` is ``original[start:end]``."""

    entity: str
    value: Any
    start: int
    end: int
    text: str


# (entity, start, end, value); a None value is a blocker: seen, vague or not a quantity.
_Cand = tuple[str, int, int, "int | float | str | None"]

# One char for one, so offsets hold: full-width ASCII to half-width (the full-width comma
# stays: it is the ordinary Chinese comma, not a thousands separator), banker's numerals
# (伍仟) and the traditional forms of the characters the patterns read to plain ones.
_WIDTH = ({cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if cp != 0xFF0C} | {0x3000: 0x20, 0xFFE5: 0xA5}
          | str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟萬億兩個時鐘頭塊錢號資給發歲幾來餘這週",
                          "一二三四五六七八九十百千万亿两个时钟头块钱号资给发岁几来余这周"))

_AR = r"(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?"
# "一" continues a numeral after 十/零 ("十一") or a unit ("两千一"), but "两千一个月" is 2000 a month.
_ONE = r"(?:(?<=[零〇十])一|(?<=[百千万亿])一(?!个|天|年|月|小时|周|星期|次|号|日))"
_NUM = (rf"(?:(?<![\d.]){_AR}|(?<![一二两俩三四五六七八九十几])[一二两俩三四五六七八九十几])"
        rf"(?:(?:[零〇二两俩三四五六七八九十百千万亿几]|{_ONE})(?:{_AR})?){{0,10}}")  # bounded: no backtracking blow-up
_SEP = r"(?:-|~|到|至|—)"
_AGE_IN_MONTHS = re.compile(r"大(?!概|约|部|多|半)")

_DURATION = re.compile(rf"""
    (?:(?P<lo>{_NUM}){_SEP})?
    (?: (?P<y>{_NUM})[ ]?(?P<ymod>多|来|余)?年(?!级|代|龄|纪|度|到头|四季)(?P<yhalf>半)?(?P<ymod2>多)?
            (?:(?:零|又)?(?P<m>{_NUM})个(?P<mmod>多)?(?P<mhalf>半)?月)?
      | (?P<mo>{_NUM})[ ]?(?P<momod>多|来|余)?(?P<ge>个)?(?P<momod2>多|半)?月
      | (?P<half>半)个?多?(?P<hunit>年|月) )
    (?P<ago>以?前)?""", re.X)
_HOURS = re.compile(rf"""
    (?:(?P<lo>{_NUM})个?{_SEP})?
    (?: (?P<num>{_NUM})[ ]?(?:多|来)?(?:(?P<ge>个)(?P<mod>多|半)?)?
            (?P<unit>小时|钟头|钟(?!点)|[hH](?![a-zA-Z]))
      | (?P<half>半)(?P<hge>个)?(?P<hunit>小时|钟头|钟(?!点)) )
    (?:(?:零|又)?(?P<min>{_NUM})分(?:钟)?(?!钱))?""", re.X)
_MONEY = re.compile(rf"""
    (?:(?P<cur>¥|RMB|rmb|人民币)[ ]?)?
    (?:(?P<lo>{_NUM})(?P<lokw>[kKwW])?[ ]?{_SEP}[ ]?)?
    (?P<num>{_NUM})(?:(?:多一?点|多|来|余)(?P<mag>万|千)?)?
    (?:(?P<kw>[kKwW])(?P<kwtail>\d(?![\d.]))?(?![a-zA-Z]))?(?:多)?
    (?:[ ]?(?P<unit>块钱|块|元钱|元|圆|毛钱|角钱|毛)
        (?:(?P<frac>(?<=块)[一二三四五六七八九\d])(?![\d个天年月号日点十百千万])(?:毛|角)?)?)?""", re.X)

# Days worked: a count of days right after a word of work ("加班了两天", "值了三天班") or
# followed by 班 ("加了两天班"); never "每天", "前两天", "这两天" (a time, not a count).
_DAYS = re.compile(rf"(?:(?P<num>{_NUM})个?(?P<half>半)?|(?P<halfonly>半))天(?P<half2>半(?![年月个]))?(?P<shift>的?班)?")
_WORK_BEFORE = re.compile(r"(?:加班|加|上班|上|干|做|工作|值班|值|出勤|上岗|开工)了?(?:整整|足足|差不多|大概|快)?$")
_CUE = re.compile(r"工资|月薪|底薪|薪水|薪资|薪酬|工钱|收入|月入|年薪|时薪|日薪|计件|单价|工价|拿|给|发|扣|罚"
                  r"|赔|补偿|押金|欠|奖金|提成|补贴|津贴|补助|费|税前|税后|到手|实发|应发|挣|赚|报销|钱"
                  r"|共计|一共|总共|合计|涨|降|借|基数|社保|公积金|[一每]个?月|[一每]个?小时")
_DAY_CUE = re.compile(r"[一每][天日]")
_CUE_AFTER = re.compile(r"(?:左右|上下|出头)?的?(?:工资|薪水|月薪|底薪|薪资|工钱|补偿|奖金|提成"
                        r"|/个?月|每个?月|一个?月|/小时|[一每]个?小时)")
_DAY_CUE_AFTER = re.compile(r"(?:左右|上下|出头)?(?:/天|/日|[一每]天)")
_CLAUSE = re.compile(r"[，。,!?！？；;、\n]")
_BAD_BEFORE = re.compile(r"(?:[第号#:：_]|分之|除以|乘以|[A-Za-z])$")
_BAD_AFTER = re.compile(r"[个人天年月日号点分秒岁次件条位名家台辆只张本套间层楼米里斤克吨度倍成折周届班级栋户"
                        r"%‰℃°小钟季批趟遍回轮页章款项节期:：×*A-Za-z]|-\d|\.\d|公里|公斤")
# Bare numbers workers say that are never amounts: hotlines (12333 is the labour one), 996.
_NOT_AMOUNTS = frozenset({"110", "119", "120", "12315", "12333", "12345", "12348", "12351", "10086", "10010",
                          "996", "955", "965", "007"})
_RATE_BEFORE = re.compile(r"(?:每|[\d千万百元块kKwW]多?)$")
# Words that may sit between "一个月" and its amount ("一个月才3000", "一个月加班80个小时").
_RATE_AFTER = re.compile(r"[才就只有能可以大概差不多约也都要得给拿发挣赚赔交休息加班工作干上的资是共了薪]{0,5}?"
                         r"(?:\d{2,}|\d+(?:\.\d+)?(?:小时|个|天|次|块|元|[kKwW百千万])"
                         r"|[一二两三四五六七八九十]*[十百千万]|[一二两三四五六七八九十]+(?:个|天|次|块|元))")
# "一年能休几天", "一个月有多少天假": how many per year or month, not how long the worker has worked
# (unless the worker says so first: "干了一年能休几天").
_PER_PERIOD_QUESTION = re.compile(r"[能可以有休请放给]{0,4}(?:几|多少)个?[天次]")
_SERVICE_BEFORE = re.compile(r"(?:干|做|工作|上班|入职|满|待)了?$")
_ADJACENT = re.compile(r"[一二两俩三四五六七八九][一二两俩三四五六七八九\d]|\d[一二两俩三四五六七八九]")
_CN_UNIT = re.compile(r"[十百千万亿]")
_BIG_UNIT = re.compile(r"[千万亿]")
_UNIT_TAIL = re.compile(r"[\d一二两三四五六七八九]([千万])")
_KW = {"k": 1000, "K": 1000, "w": 10000, "W": 10000}
_LIANG = str.maketrans({"两": "二", "俩": "二", "〇": "零"})
_ONES = {"一", "1"}
_MAX_MONTHS, _MAX_HOURS, _MAX_YUAN = Decimal(720), Decimal(10000), Decimal(10) ** 9


def extract_numbers(text: str, today: date) -> list[Found]:
    """All numeric entities in ``text``, sorted by start and non-overlapping; [] on any trouble."""
    if not isinstance(text, str) or not text:
        return []
    if isinstance(today, datetime):
        today = today.date()
    try:
        norm = text.translate(_WIDTH)
        cands: list[_Cand] = [(DATE, s, e, v) for s, e, v in find_dates(norm, today)]
        cands += _durations(norm, today) + _hours(norm) + _money(norm) + _days(norm)
        return _select(text, cands)
    except Exception:  # a parser for free text must never take the conversation down
        logger.exception("numeric entity extraction failed (length %d)", len(text))
        return []


def _select(text: str, cands: list[_Cand]) -> list[Found]:
    """Dates before durations before hours before money; then the longer span; then the earlier."""
    occupied = bytearray(len(text))
    found: list[Found] = []
    for entity, start, end, value in sorted(cands, key=lambda c: (_PRIORITY[c[0]], c[1] - c[2], c[1])):
        if any(occupied[start:end]):
            continue
        occupied[start:end] = b"\x01" * (end - start)
        if value is not None:
            found.append(Found(entity, value, start, end, text[start:end]))
    return sorted(found, key=lambda f: f.start)


def _durations(text: str, today: date) -> list[_Cand]:
    out: list[_Cand] = []
    for m in _DURATION.finditer(text):
        months, unit = _duration_months(m, text)
        if m["ago"]:
            out.append((DATE, m.start(), m.end(), months_ago(today, months) if months else None))
            continue
        simple = not (m["ymod"] or m["yhalf"] or m["ymod2"] or m["m"] or m["momod"] or m["momod2"])
        if months and simple and (m["y"] or m["mo"]) in _ONES and (
                _is_rate(text, m.start(), m.end()) or _asks_per_period(text, m.start(), m.end())):
            months = None  # "一个月3000", "3000一个月", "一年能休几天": a rate, not how long
        if m["lo"]:
            low = _num(m["lo"])
            out.append((DURATION, m.start("lo"), m.end("lo"), _out(low * unit) if low and months else None))
        start = _first_start(m, ("y", "mo", "half")) if m["lo"] and months else m.start()
        out.append((DURATION, start, m.end(), _out(months) if months else None))
    return out


def _duration_months(m: re.Match[str], text: str) -> tuple[Decimal | None, int]:
    """Months said by a duration match (None: vague or not a duration) and the unit size."""
    first = m.start("lo") if m["lo"] else m.start()
    before = text[first - 1] if first else " "
    if before in "第每":
        return None, 1
    if m["half"]:
        ok = before not in "大小多上下前后这那每"
        return (Decimal(6) if m["hunit"] == "年" else Decimal("0.5")) if ok else None, 1
    if m["y"]:
        years, months = _num(m["y"]), _num(m["m"]) if m["m"] else Decimal(0)
        if years is None or months is None or (m["y"] == "两" and before in "这那前"):
            return None, 12
        total = years * 12 + (6 if m["yhalf"] else 0) + months + (Decimal("0.5") if m["mhalf"] else 0)
        return (total if 0 < total <= _MAX_MONTHS and years <= 60 else None), 12
    months = _num(m["mo"])
    if months is None or not (m["ge"] or m["mo"] in ("两", "俩")):
        return None, 1  # "3月" without 个 is March: the date pass reads it
    total = months + (Decimal("0.5") if m["momod2"] == "半" else 0)
    if _AGE_IN_MONTHS.match(text, m.end()):
        return None, 1  # "孩子才8个月大": an age
    return (total if 0 < total <= _MAX_MONTHS else None), 1


def _hours(text: str) -> list[_Cand]:
    out: list[_Cand] = []
    for m in _HOURS.finditer(text):
        value = _hours_value(m, text)
        if value is not None and m["num"] in _ONES and not (m["mod"] or m["min"]) \
                and _is_rate(text, m.start(), m.end()):
            value = None  # "一小时20块": a rate
        if m["lo"]:
            low = _num(m["lo"])
            out.append((HOURS, m.start("lo"), m.end("lo"), _out(low) if low and value else None))
        start = _first_start(m, ("num", "half")) if m["lo"] and value else m.start()
        out.append((HOURS, start, m.end(), _out(value) if value else None))
    return out


def _hours_value(m: re.Match[str], text: str) -> Decimal | None:
    first = m.start("lo") if m["lo"] else m.start()
    if first and text[first - 1] in "第每":
        return None
    if m["half"]:
        hours: Decimal | None = Decimal("0.5") if m["hge"] or m["hunit"] != "钟" else None
    else:
        hours = _num(m["num"])
        if hours is None or (m["unit"] == "钟" and not m["ge"]) \
                or (m["unit"] in "hH" and (m["ge"] or not m["num"][0].isdigit())):
            return None
        hours += Decimal("0.5") if m["mod"] == "半" else 0
    if hours is not None and m["min"]:
        minutes = _num(m["min"])
        if minutes is None or minutes >= 60:
            return None
        hours += round(minutes / 60, 2)
    return hours if hours and 0 < hours <= _MAX_HOURS else None


def _days(text: str) -> list[_Cand]:
    out: list[_Cand] = []
    for m in _DAYS.finditer(text):
        worked = m["shift"] or _WORK_BEFORE.search(text, max(0, m.start() - 8), m.start())
        if not worked or (m.start() and text[m.start() - 1] in "每第前这那后几"):
            continue
        if m["halfonly"]:
            days: Decimal | None = Decimal("0.5")
        else:
            days = _num(m["num"])
            if days is not None and (m["half"] or m["half2"]):
                days += Decimal("0.5")
            if m["num"] in _ONES and not (m["half"] or m["half2"]) and _is_rate(text, m.start(), m.end()):
                days = None  # "加班一天200块": a rate
        ok = days is not None and 0 < days <= 366
        out.append((DAYS, m.start(), m.end(), _out(days) if ok else None))
    return out


def _money(text: str) -> list[_Cand]:
    out: list[_Cand] = []
    for m in _MONEY.finditer(text):
        value, explicit = _money_value(m, text)
        if value is None and not explicit:
            continue  # a bare number with no money cue: not ours to judge
        start = m.start("num") if m["lo"] else m.start()
        if m["lo"] and value is not None:
            low = _low_end(m)
            if low is not None:
                out.append((MONEY, m.start(), m.end("lo"), _out(low)))
        out.append((MONEY, start, m.end(), _out(value) if value is not None else None))
    return out


def _money_value(m: re.Match[str], text: str) -> tuple[Decimal | None, bool]:
    """The amount in yuan (None: not money) and whether the match itself says money."""
    num, unit = m["num"], m["unit"]
    explicit = bool(m["cur"] or unit or m["kw"] or m["mag"] or _BIG_UNIT.search(num))
    start = m.start("lo") if m["lo"] else m.start("num")
    if _BAD_BEFORE.search(text, max(0, start - 2), start) and not m["cur"] \
            or len(num.split(".")[0].replace(",", "")) > 9:
        return None, False
    if not unit and (_BAD_AFTER.match(text, m.end()) or num in _NOT_AMOUNTS and not m["cur"]):
        return None, False
    if unit in ("块", "毛") and num in _ONES and not m["frac"]:
        return None, False  # "一块" is mostly "together", "一毛不拔" an idiom
    value = _num(num)
    if value is None:
        return None, explicit
    if m["mag"]:
        value *= 10000 if m["mag"] == "万" else 1000
    if m["kw"]:
        value = value * _KW[m["kw"]] + (Decimal(m["kwtail"] or 0) * _KW[m["kw"]] / 10)
    if unit and unit[0] in "毛角":
        value /= 10
    frac = _num(m["frac"]) if m["frac"] else None
    if frac:
        value += frac / 10
    if not explicit and value < _cue_threshold(text, start, m.end()):
        return None, False
    return (value if 0 < value < _MAX_YUAN else None), True


def _cue_threshold(text: str, start: int, end: int) -> Decimal:
    """The least a bare number must be to count as money here: 10 after "工资", 25 after
    "一天" (a day has 24 hours), infinite without any cue."""
    window = _CLAUSE.split(text[max(0, start - 10):start])[-1]
    if _CUE.search(window) or _CUE_AFTER.match(text, end):
        return Decimal(10)
    if _DAY_CUE.search(window) or _DAY_CUE_AFTER.match(text, end):
        return Decimal(25)
    return Decimal("Infinity")


def _low_end(m: re.Match[str]) -> Decimal | None:
    """The low end of a range: "3000-4000元", "3-4k" (borrows k), "三到四千" (borrows 千)."""
    low = _num(m["lo"])
    if low is None:
        return None
    low *= _KW.get(m["lokw"] or m["kw"] or "", 1)
    tail = _UNIT_TAIL.fullmatch(m["num"])
    if tail and low < 10 and not _CN_UNIT.search(m["lo"]) and not m["lokw"]:
        low *= 1000 if tail[1] == "千" else 10000
    return low


def _first_start(m: re.Match[str], groups: tuple[str, ...]) -> int:
    return next(m.start(g) for g in groups if m[g] is not None)


def _is_rate(text: str, start: int, end: int) -> bool:
    return bool(_RATE_BEFORE.search(text, max(0, start - 2), start) or _RATE_AFTER.match(text, end))


def _asks_per_period(text: str, start: int, end: int) -> bool:
    return bool(_PER_PERIOD_QUESTION.match(text, end)) and not _SERVICE_BEFORE.search(text, max(0, start - 3), start)


def _num(token: str) -> Decimal | None:
    """'6000', '1,000', '1.2万', '一万二', '七千五', '6千5', '两' → Decimal; vague or odd → None."""
    token = token.replace(",", "")
    if "几" in token or _ADJACENT.search(token):
        return None  # "十几", "五六千", "一两": ranges and guesses
    if token.replace(".", "", 1).isdigit():
        return Decimal(token) if len(token) <= 15 else None
    if len(token) > 1 and not _CN_UNIT.search(token):
        return None  # digit by digit ("二零二四"): a year or a code, not a quantity
    try:
        value = cn2an.cn2an(token.translate(_LIANG), "smart")
    except Exception:  # cn2an raises assorted errors on odd input
        return None
    return Decimal(str(round(value, 6)))


def _out(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
