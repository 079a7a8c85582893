"""The vocabulary entities (spaCy EntityRuler over data/knowledge/): regions, day types, births."""
from __future__ import annotations

import pytest

from bot.nlu.vocab import default_matcher


def found(text: str) -> list[tuple[str, object]]:
    return [(f.entity, f.value) for f in default_matcher().find(text)]


@pytest.mark.parametrize("text, region", [
    ("我在深圳打工", "广东"), ("广西壮族自治区南宁市", "广西"), ("内蒙的最低工资", "内蒙古"),
    ("延边州的厂子", "吉林"), ("在喀什上班", "新疆"), ("苏州工业园区", "江苏"), ("重庆", "重庆"),
])
def test_places_map_to_their_province(text, region):
    assert ("region", region) in found(text)


def test_the_longest_form_wins_and_is_found_once():
    assert found("广西壮族自治区") == [("region", "广西")]
    assert found("剖腹产") == [("birth", "caesarean")]
    assert found("顺转剖") == [("birth", "caesarean")]


def test_ambiguous_place_names_are_not_guessed():
    assert not [v for e, v in found("朝阳那边") if e == "region"]


@pytest.mark.parametrize("text, day", [
    ("周末加班", "restday"), ("星期天也要上", "restday"), ("国庆节加班", "holiday"), ("春节值班", "holiday"),
    ("平时下班后加班", "workday"), ("十一长假加班", "holiday"),
])
def test_day_types(text, day):
    assert ("day_type", day) in found(text)


def test_eleven_is_a_number_not_the_national_day():
    assert not [e for e, _ in found("加了十一个小时") if e == "day_type"]


def test_multiple_births_carry_the_number_of_babies():
    assert found("生了双胞胎") == [("birth", "multiple"), ("babies", 2)]
    assert ("babies", 3) in found("三胞胎产假")


def test_cue_words_for_whose_duration_it_is():
    assert ("role", "total") in found("累计工作15年")
    assert ("role", "employer") in found("在这家干了6年")


@pytest.mark.parametrize("text, cue", [
    ("我每天上12个小时班", "work"), ("一天干12个钟头", "work"), ("每天加班3小时", "overtime"), ("天天加班到十点", "overtime"),
])
def test_a_working_day_said_per_day(text, cue):
    assert ("per_day", cue) in found(text)
