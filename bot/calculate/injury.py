"""The disability grade, a death at work and the wage, read from the worker's own words.

The entity extractor has no such entities: "七级" is only a grade next to a word that says so
("伤残七级", "7级伤残", "鉴定为九级"), inside a work-injury calculation, or as the answer to the
question for it. What is found is returned in the form of the extractor's entities, so slot
filling treats it like any other: ``injury`` (value ``{"grade": 7}``, ``{"death": True}``, or
``{"grade": None}`` for "not appraised yet") and ``wage_cue`` (a word that makes the money next to
it the wage: in a work-injury story money is as often what the boss paid). The words live in
``data/knowledge/vocab.yml`` (``work_injury``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import cn2an
import yaml

from bot.calculate.kinds import Slot
from bot.nlu.vocab import VOCAB_PATH

ENTITY = "injury"
WAGE_CUE = "wage_cue"
GRADES = range(1, 11)
NUMERAL = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
GRADE = re.compile(NUMERAL + r"\s*级")
# A grade joined to another number by these is a range or a list ("1-4级", "五级到十级", "七、八级").
JOINERS = "[-~～至到—－、和或与跟]"
JOINED_BEFORE = re.compile(NUMERAL + r"\s*级?\s*" + JOINERS + r"\s*$")
JOINED_AFTER = re.compile(r"^\s*" + JOINERS + r"\s*" + NUMERAL)
# What may stand around a bare sum that answers the wage question ("6000", "大概六千块吧").
BARE_MONEY_REST = re.compile(r"[\s，。,.!！?？~元块钱吧啊左右大概差不多是有就]*")
BARE_NUMBER = re.compile(r"^\s*(?:是|就是)?\s*" + NUMERAL + r"\s*级?\s*[。.!！]?\s*$")
CONTEXT_BEFORE = 8  # characters between a context word and the grade after it ("伤残等级鉴定为七级")
CONTEXT_AFTER = 3   # characters between "级" and a context word after it ("七级伤残")
SHORT_ANSWER = 8    # a message this short that names a grade is the grade ("是七级")


@dataclass(frozen=True)
class Words:
    grade_context: tuple[str, ...]
    grade_not_before: tuple[str, ...]
    death: tuple[str, ...]
    death_benefits: tuple[str, ...]
    death_amount: tuple[str, ...]
    not_appraised: tuple[str, ...]
    wage_before: tuple[str, ...]
    wage_after: tuple[str, ...]


@lru_cache(maxsize=1)
def words() -> Words:
    raw = (yaml.safe_load(VOCAB_PATH.read_text(encoding="utf-8")) or {}).get("work_injury") or {}
    return Words(**{name: tuple(str(w) for w in raw.get(name) or ()) for name in Words.__dataclass_fields__})


def _number(numeral: str) -> int | None:
    try:
        return int(numeral) if numeral.isdigit() else int(cn2an.cn2an(numeral, "smart"))
    except ValueError:
        return None


def _is_grade(text: str, match: re.Match[str], calculating: bool) -> bool:
    start, end = match.span()
    after = text[end:]
    if JOINED_BEFORE.search(text[:start]) or JOINED_AFTER.match(after):
        return False
    if after.startswith(words().grade_not_before):
        return False
    near = text[max(0, start - CONTEXT_BEFORE):start] + "|" + after[:CONTEXT_AFTER + 2]
    return calculating or any(w in near for w in words().grade_context) or len(text.strip()) <= SHORT_ANSWER


def find_grade(text: str, *, asked: bool = False, calculating: bool = False) -> tuple[int, int, int] | None:
    """The last disability grade named (1–10) and where: ``(grade, start, end)``.

    ``asked``: the bot asked for the grade, so a bare number ("7", "七") is one too.
    ``calculating``: a work-injury calculation is under way, so "N级" needs no context word.
    """
    text = unicodedata.normalize("NFKC", text or "")
    found = [(_number(m.group(1)), m.start(), m.end()) for m in GRADE.finditer(text)
             if _is_grade(text, m, calculating)]
    if asked and not found and (bare := BARE_NUMBER.match(text)):
        found = [(_number(bare.group(1)), 0, len(text))]
    valid = [(grade, start, end) for grade, start, end in found if grade in GRADES]
    return valid[-1] if valid else None


def injury_entities(text: str, entities: list[Mapping[str, Any]], requested: str | None = None, *,
                    calculating: bool = False) -> list[dict[str, Any]]:
    """The ``injury`` entity of a message, if it has one (a death whose worth is asked, else a grade,
    else the death benefits named, else "not appraised"), and its ``wage_cue`` entities.

    ``entities``: the extractor's, for its ``skip`` ("不知道") when the grade is asked and its money.
    """
    text = text or ""
    asked = requested == Slot.INJURY
    cues = _wage_cues(text, [e for e in entities if e.get("entity") == "money"])
    value: dict[str, Any] | None = None
    grade = find_grade(text, asked=asked, calculating=calculating)
    death = any(w in text for w in words().death) and (
        asked or calculating or any(w in text for w in words().death_amount))
    if death or (grade is None and any(w in text for w in words().death_benefits)):
        value = {"death": True}
    elif grade:
        value = {"grade": grade[0]}
    elif any(w in text for w in words().not_appraised) or (
            asked and any(e.get("entity") == "skip" for e in entities)):
        value = {"grade": None}
    return cues + ([{"entity": ENTITY, "value": value, "start": 0, "end": len(text)}] if value else [])


def _wage_cues(text: str, money: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What makes a sum the wage, as entities: a wage word ``before`` it ("月工资6000") or ``after`` it
    ("6000一个月"), or the sum said ``bare`` ("6000", "大概六千吧": the answer to a wage question)."""
    if not money:
        return []
    cues = [{"entity": WAGE_CUE, "value": side, "start": m.start(), "end": m.end()}
            for side, said in (("before", words().wage_before), ("after", words().wage_after))
            for m in re.finditer("|".join(map(re.escape, said)), text)]
    for sum_ in money:
        if BARE_MONEY_REST.fullmatch(text[:sum_["start"]] + text[sum_["end"]:]):
            cues.append({"entity": WAGE_CUE, "value": "bare", "start": sum_["start"], "end": sum_["end"]})
    return cues
