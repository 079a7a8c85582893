"""Maternity leave end to end: real Rasa (the trained model), the action server, calc_form.

Expected figures are worked from the texts here, not read from the code:
- 女职工劳动保护特别规定 第7条: 98 days; each extra baby +15 (triplets: 128); a difficult birth +15.
- 广东: a difficult birth +30 (广东省实施《女职工劳动保护特别规定》办法 第十一条) and 80 days'
  reward leave: 98 + 80 = 178, or 98 + 30 + 80 = 208 when the hospital diagnoses a difficult birth.
- 浙江: 60 days for a first child: triplets 98 + 30 + 60 = 188.
- 江苏: its extension is unverified in data/knowledge/regions.yml: the national figure, and check locally.
"""
from __future__ import annotations

import uuid

import pytest

from bot.knowledge.regions import load_regions
from tests.conftest import Stack

pytestmark = pytest.mark.slow
REGIONS = load_regions()


def new_worker() -> str:
    return uuid.uuid4().hex


def said(stack: Stack, sender: str, text: str) -> str:
    return "\n".join(stack.say(sender, text))


def test_a_caesarean_in_guangdong_gets_both_figures_with_guangdongs_30_days(servers: Stack):
    assert REGIONS["广东"].maternity_extension.days == 80
    reply = said(servers, new_worker(), "我在广东，剖腹产产假多少天")
    assert "产假共178天" in reply and "诊断为难产的，共208天" in reply
    assert "193" not in reply and "你在哪个省份" not in reply


def test_a_difficult_birth_in_guangdong_is_208_days(servers: Stack):
    reply = said(servers, new_worker(), "我在广州上班，生孩子难产了，产假能休多少天")
    assert "产假共208天" in reply


def test_triplets_get_the_national_figure_at_once_then_the_region_is_asked(servers: Stack):
    sender = new_worker()
    first = said(servers, sender, "顺产三胞胎产假多少天")
    assert "按国家规定，产假共128天" in first
    assert "你在哪个省份或城市工作" in first
    assert first.index("128天") < first.index("你在哪个省份或城市工作")
    assert REGIONS["浙江"].maternity_extension.days == 60
    result = said(servers, sender, "浙江")
    assert "产假共188天" in result


def test_a_known_region_with_an_unverified_figure_is_not_asked_again(servers: Stack):
    assert not REGIONS["江苏"].maternity_extension.verified
    reply = said(servers, new_worker(), "我在南京上班，顺产的话产假有多少天")
    assert "按国家规定，产假共98天" in reply and "12333" in reply
    assert "你在哪个省份" not in reply and "告诉我你在哪个省市" not in reply
