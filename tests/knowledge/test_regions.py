"""The regional table covers all 31 regions, resolves place names and rejects broken rows."""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.knowledge.regions import (
    DEFAULT_PATH,
    MinimumWage,
    RegionDataError,
    load_regions,
    place_names,
    region_of,
)

COMPILED_ON = dt.date(2026, 11, 25)
REGION_IDS = (
    "北京 天津 河北 山西 内蒙古 辽宁 吉林 黑龙江 上海 江苏 浙江 安徽 福建 江西 山东 河南 "
    "湖北 湖南 广东 广西 海南 重庆 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆"
).split()
REGIONS = load_regions()
RAW = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def write_variant(tmp_path: Path, change) -> Path:
    """A copy of the real table with ``change`` applied to its parsed YAML."""
    raw = copy.deepcopy(RAW)
    change(raw)
    path = tmp_path / "regions.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_all_31_regions_are_present():
    assert sorted(REGIONS) == sorted(REGION_IDS)


@pytest.mark.parametrize(
    ("place", "region"),
    [
        ("深圳", "广东"), ("苏州", "江苏"), ("延边", "吉林"), ("喀什", "新疆"), ("日喀则", "西藏"),
        ("恩施", "湖北"), ("大理", "云南"), ("东莞", "广东"), ("义乌", None), ("西双版纳", "云南"),
        ("呼市", "内蒙古"), ("石河子", "新疆"), ("仙桃", "湖北"), ("海南州", "青海"), ("吉林市", "吉林"),
    ],
)
def test_city_names_map_to_their_province(place, region):
    assert region_of(place) == region


@pytest.mark.parametrize(
    ("written", "region"),
    [
        ("深圳市", "广东"), ("延边朝鲜族自治州", "吉林"), ("延边州", "吉林"), ("广东省", "广东"),
        ("广西壮族自治区", "广西"), ("广西", "广西"), ("广西省", "广西"), ("内蒙", "内蒙古"),
        ("新疆维吾尔自治区", "新疆"), ("上海市", "上海"), ("沪", "上海"), ("粤", "广东"),
        (" 杭州 市", "浙江"), ("阿克苏地区", "新疆"), ("锡林郭勒盟", "内蒙古"),
    ],
)
def test_province_and_city_names_resolve_with_or_without_suffix(written, region):
    assert region_of(written) == region


@pytest.mark.parametrize("place", ["朝阳", "巴州", "东方", "阿里", "兴安", "通州", "州"])
def test_ambiguous_or_unknown_names_are_not_guessed(place):
    assert region_of(place) is None
    assert place not in place_names()


def test_full_names_of_ambiguous_cities_still_resolve():
    assert region_of("朝阳市") == "辽宁"
    assert region_of("阿里地区") == "西藏"
    assert region_of("巴音郭楞") == "新疆"


def test_place_names_cover_every_city_and_province():
    names = place_names()
    for region in REGIONS.values():
        assert names[region.id] == region.id
        assert names[region.name] == region.id
        for city in region.cities:
            assert names[city.name] == region.id, city.name
            assert all(names[short] == region.id for short in city.short)


def test_every_province_lists_its_cities_and_municipalities_none():
    municipalities = {"北京", "天津", "上海", "重庆"}
    for region in REGIONS.values():
        assert bool(region.cities) != (region.id in municipalities), region.id
    assert len(REGIONS["广东"].cities) == 21
    assert len(REGIONS["江苏"].cities) == 13


def test_every_tier_list_is_sorted_highest_first():
    for region in REGIONS.values():
        wage = region.minimum_wage
        for tiers in (wage.monthly, wage.hourly):
            assert list(tiers) == sorted(tiers, reverse=True), region.id
            assert all(amount > 0 for amount in tiers), region.id


def test_no_effective_date_is_in_the_future():
    for region in REGIONS.values():
        for effective in (region.minimum_wage.effective, region.maternity_extension.effective):
            assert effective is None or effective <= COMPILED_ON, region.id


def test_unverified_rows_explain_why_and_verified_rows_cite_a_source():
    for region in REGIONS.values():
        for block in (region.minimum_wage, region.maternity_extension):
            if block.verified:
                assert "http" in block.source or "〔" in block.source, region.id
            else:
                assert block.note, region.id


def test_monthly_minimum_is_plausible_against_hourly_part_time_rate():
    for region in REGIONS.values():
        wage = region.minimum_wage
        if wage.monthly and wage.hourly:
            assert 80 < wage.monthly[0] / wage.hourly[0] < 125, region.id


def test_confirmed_figures():
    assert REGIONS["上海"].minimum_wage.monthly == (2740,)
    assert REGIONS["广东"].maternity_extension.days == 80
    assert REGIONS["江苏"].minimum_wage.effective == dt.date(2026, 1, 1)
    assert REGIONS["西藏"].maternity_extension.days is None


def test_possibly_outdated_follows_the_two_year_rule():
    wage = MinimumWage(dt.date(2024, 2, 29), (2000,), (20,), "source", True)
    assert not wage.possibly_outdated(dt.date(2026, 2, 28))
    assert wage.possibly_outdated(dt.date(2026, 3, 1))
    assert MinimumWage(None, (), (), "source", False).possibly_outdated(COMPILED_ON)


def _wage(raw):
    return raw["regions"]["广东"]["minimum_wage"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: _wage(raw).update(monthly=[1750, 2500]), "广东.minimum_wage.monthly"),
        (lambda raw: _wage(raw).update(hourly=[23.7, -1]), "广东.minimum_wage.hourly"),
        (lambda raw: _wage(raw).update(monthly=[2500, "x"]), "广东.minimum_wage.monthly"),
        (lambda raw: _wage(raw).update(effective="2025-13-01"), "广东.minimum_wage.effective"),
        (lambda raw: _wage(raw).update(effective=None), "广东.minimum_wage"),
        (lambda raw: _wage(raw).update(source=""), "广东.minimum_wage"),
        (lambda raw: _wage(raw).update(verified="yes"), "广东.minimum_wage"),
        (
            lambda raw: raw["regions"]["上海"]["maternity_extension"].update(days=0),
            "上海.maternity_extension.days",
        ),
        (lambda raw: raw["regions"]["上海"].update(name="沪"), "region 上海"),
        (lambda raw: raw["regions"]["湖南"]["cities"].append({"short": ["x"]}), "region 湖南"),
        (lambda raw: raw["regions"].pop("西藏"), "expected 31 regions"),
    ],
)
def test_broken_rows_are_rejected_with_their_name(tmp_path, change, message):
    with pytest.raises(RegionDataError, match=message):
        load_regions(write_variant(tmp_path, change))


def test_a_name_in_two_provinces_must_be_marked_ambiguous(tmp_path):
    def add_shenzhen_to_hunan(raw):
        raw["regions"]["湖南"]["cities"].append({"name": "深圳市", "short": ["深圳"]})

    with pytest.raises(RegionDataError, match="深圳.*广东, 湖南"):
        load_regions(write_variant(tmp_path, add_shenzhen_to_hunan))


def test_a_shared_name_marked_ambiguous_everywhere_is_accepted(tmp_path):
    def share_chaoyang_with_beijing(raw):
        raw["regions"]["北京"]["cities"].append(
            {"name": "朝阳区", "short": [{"name": "朝阳", "ambiguous": True}]}
        )

    path = write_variant(tmp_path, share_chaoyang_with_beijing)
    assert len(load_regions(path)) == 31
    assert region_of("朝阳", path) is None
    assert region_of("朝阳区", path) == "北京"


def test_a_name_both_clear_and_ambiguous_is_rejected(tmp_path):
    def clear_chaoyang_in_beijing(raw):
        raw["regions"]["北京"]["cities"].append({"name": "朝阳区", "short": ["朝阳"]})

    with pytest.raises(RegionDataError, match="朝阳"):
        load_regions(write_variant(tmp_path, clear_chaoyang_in_beijing))


# ---- maternity_rules: the province's own figures that replace 第7条's --------------------------


def test_guangdong_replaces_the_difficult_birth_days_and_sets_its_miscarriage_leave():
    # 广东省实施《女职工劳动保护特别规定》办法 第十一条: 难产 +30; each extra baby +15; a
    # miscarriage under 4 months 15 to 30 days, 4 to under 7 months 42, from 7 months 75.
    rules = REGIONS["广东"].maternity_rules
    assert rules.difficult_birth.verified and rules.difficult_birth.days == 30
    assert rules.difficult_birth.caesarean is None      # the article names 难产, not 剖宫产
    assert rules.multiple_birth.verified and rules.multiple_birth.days_per_baby == 15
    assert [(t.from_months, t.days, t.up_to_days) for t in rules.miscarriage.tiers] == [
        (0, 15, 30), (4, 42, None), (7, 75, None)]
    assert all(r.cites == "广东省实施《女职工劳动保护特别规定》办法 第11条"
               for r in (rules.difficult_birth, rules.multiple_birth, rules.miscarriage))


def test_later_children_figures_match_the_rows_own_notes():
    zhejiang, hebei = REGIONS["浙江"], REGIONS["河北"]
    assert (zhejiang.maternity_rules.later_children.second, zhejiang.maternity_rules.later_children.third) == (90, 90)
    assert "二孩、三孩延长90天" in zhejiang.maternity_extension.note
    assert (hebei.maternity_rules.later_children.second, hebei.maternity_rules.later_children.third) == (None, 90)
    assert "第三个及以上延长90天" in hebei.maternity_extension.note


def test_a_region_without_rules_keeps_the_national_figures():
    rules = REGIONS["江苏"].maternity_rules
    assert rules.difficult_birth is None and rules.multiple_birth is None and rules.miscarriage is None


def test_every_verified_rule_names_its_source_and_what_to_cite():
    for region in REGIONS.values():
        rules = region.maternity_rules
        for rule in (rules.difficult_birth, rules.multiple_birth, rules.miscarriage, rules.later_children):
            if rule is not None and rule.verified:
                assert "http" in rule.source and rule.cites and rule.note, region.id


def _rules(raw):
    return raw["regions"]["广东"]["maternity_rules"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: _rules(raw)["difficult_birth"].update(caesarean="yes"), "difficult_birth.caesarean"),
        (lambda raw: _rules(raw)["difficult_birth"].update(days=0), "difficult_birth.days"),
        (lambda raw: _rules(raw)["difficult_birth"].update(cites=""), "difficult_birth: missing 'cites'"),
        (lambda raw: _rules(raw)["multiple_birth"].update(source=""), "multiple_birth: missing 'source'"),
        (lambda raw: _rules(raw)["miscarriage"]["tiers"].pop(0), "miscarriage.tiers: must start at 0"),
        (lambda raw: _rules(raw)["miscarriage"]["tiers"][0].update(up_to_days=10), "up_to_days"),
        (lambda raw: _rules(raw).update(stillbirth={}), "unknown rules"),
        (lambda raw: _rules(raw).update(later_children={"cites": "x", "source": "y", "verified": False}),
         "later_children: give 'second' or 'third'"),
    ],
)
def test_broken_maternity_rules_are_rejected_with_their_name(tmp_path, change, message):
    with pytest.raises(RegionDataError, match=f"广东.maternity_rules.*{message}"):
        load_regions(write_variant(tmp_path, change))
