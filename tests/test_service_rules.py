"""Rules read from data: urgent words, complaint answers, tickets and ratings."""
from __future__ import annotations

import pytest

from bot.complaints import (find_phone, find_ticket, mask_phone, parse_count, parse_rating, place_name,
                            rating_comment, service_rules)
from bot.storage.models import Priority
from bot.urgency import detect, load_rules, rules_from_data


@pytest.mark.parametrize("text, category", [
    ("我真的不想活了", "self_harm"),
    ("老板带人把我打了一顿", "violence"),
    ("刚才工友的手被机器压了，正在流血", "injury_now"),
    ("我们工地上百个工人被欠薪半年", "group_arrears"),
    ("明天全厂准备罢工", "strike"),
])
def test_urgent_words_are_recognised(text, category):
    assert detect(text, load_rules()).category == category


@pytest.mark.parametrize("text", ["工伤认定需要多长时间", "公司拖欠了我两个月工资", "去年受伤的工伤赔偿怎么算",
                                  "加班费怎么算", "试用期被辞退有补偿吗"])
def test_ordinary_questions_are_not_urgent(text):
    assert detect(text, load_rules()) is None


def test_life_risk_categories_are_crisis_and_checked_first():
    rules = load_rules()
    assert all(r.priority == Priority.CRISIS for r in rules if r.life_risk)
    assert detect("工资拖欠了，我想自杀，几十个工友也没拿到钱", rules).category == "self_harm"


def test_a_bad_pattern_fails_loudly():
    with pytest.raises(ValueError, match="broken"):
        rules_from_data({"categories": {"broken": {"priority": "urgent", "patterns": ["(unclosed"]}}})


@pytest.mark.parametrize("text, count", [("50", 50), ("三十多个人", 30), ("就我一个", 1), ("两百人", 200),
                                         ("１２", 12), ("好多", None), ("0", None)])
def test_workers_affected(text, count):
    assert parse_count(text) == count


@pytest.mark.parametrize("text, place", [("苏州", "苏州"), ("我在深圳宝安上班。", "深圳宝安"),
                                         (" 在北京朝阳区工作 ", "北京朝阳区"), ("江苏苏州工业园区那边", "江苏苏州工业园区"),
                                         ("就在这边", "")])
def test_the_place_a_worker_names_without_the_words_around_it(text, place):
    assert place_name(text, service_rules()["form"]["place_fillers"]) == place


@pytest.mark.parametrize("text, rating", [("5", 5), ("５分", 5), ("四星", 4), ("⭐⭐⭐", 3), ("满分", 5),
                                          ("打1分", 1), ("9", None), ("还行吧", None)])
def test_ratings(text, rating):
    assert parse_rating(text) == rating


@pytest.mark.parametrize("text, comment", [
    ("跳过", None), ("没有了。", None), ("算了吧", None), ("  无 ", None), ("", None),
    ('/rate{"rating": "1"}', None), ("/wage_arrears", None),  # an earlier button pressed instead
    ("  等了一个小时才有人回 ", "等了一个小时才有人回"), ("没有人理我", "没有人理我"),
])
def test_a_comment_on_a_poor_rating_or_nothing_to_add(text, comment):
    assert rating_comment(text, service_rules()["handoff"]["comment_skip_words"]) == comment


def test_phones_tickets_and_masking():
    assert find_phone("电话 138 1234 5678") == "13812345678"
    assert find_phone("0755-12345678") == "075512345678"
    assert find_phone("工号12345") is None
    assert find_ticket("查一下 nj-20261124-7kq2m") == "NJ-20261124-7KQ2M"
    assert find_ticket("NJ-2026-ABC") is None
    assert mask_phone("13812345678") == "138****5678"
