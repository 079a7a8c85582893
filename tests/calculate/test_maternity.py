"""Maternity leave with the worker's region (issue 18 items 4 and 7).

Expected figures are worked from the texts here, not read from the code:
- 女职工劳动保护特别规定 第7条: 98 days; a difficult birth +15; each extra baby +15; a miscarriage
  under 4 months 15 days, from 4 months 42. It names a difficult birth, not a caesarean section.
- 广东省实施《女职工劳动保护特别规定》办法 第十一条: a difficult birth +30 (not 15); each extra
  baby +15; a miscarriage under 4 months 15 to 30 days, 4 to under 7 months 42, from 7 months 75.
- 广东省人口与计划生育条例: 80 days' reward leave. So a difficult birth in 广东: 98 + 30 + 80 = 208.
"""
from __future__ import annotations

from datetime import date

import pytest
import yaml

from bot.calculate.answer import answer, calculate
from bot.calculate.dialogue import national_first
from bot.calculate.fill import fill
from bot.calculate.kinds import Kind, Slot, missing_slots
from bot.knowledge.regions import DEFAULT_PATH, load_regions
from bot.nlu.vocab import default_matcher

TODAY = date(2026, 12, 6)
REGIONS = load_regions()
GUANGDONG = REGIONS["广东"]
GUANGDONG_WOMEN = "《广东省实施〈女职工劳动保护特别规定〉办法》第11条"


def maternity(birth: dict, region: str | None, **values):
    return calculate(Kind.MATERNITY_LEAVE, {Slot.BIRTH: birth, **values}, today=TODAY,
                     region=REGIONS[region] if region else None)


def text(birth: dict, region: str | None, **values) -> str:
    return answer(Kind.MATERNITY_LEAVE, {Slot.BIRTH: birth, **values}, today=TODAY,
                  region=REGIONS[region] if region else None).text


def test_a_difficult_birth_in_guangdong_gets_its_30_days_not_the_national_15():
    assert maternity({"difficult": True}, "广东").result["days"] == 208          # 98 + 30 + 80
    reply = text({"difficult": True}, "广东")
    assert "结论：产假共208天" in reply and "广东省规定增加产假30天" in reply
    assert "比如广东增加30天" not in reply and GUANGDONG_WOMEN in reply


def test_triplets_in_guangdong_add_15_days_for_each_extra_baby():
    assert maternity({"babies": 3}, "广东").result["days"] == 98 + 30 + 80
    assert maternity({"difficult": True, "babies": 2}, "广东").result["days"] == 98 + 30 + 15 + 80


@pytest.mark.parametrize(
    ("region", "without", "with_difficult"),
    [(None, 98, 113),                       # 第7条 only: 98, or 98 + 15 when diagnosed as difficult
     ("广东", 178, 208),                     # 98 + 80, or 98 + 30 + 80
     ("北京", 158, 173)],                    # 98 + 60, or 98 + 15 + 60 (no regional difficult figure)
)
def test_a_caesarean_is_not_silently_a_difficult_birth_both_figures_are_given(region, without, with_difficult):
    calc = maternity({"caesarean": True}, region)
    assert calc.result["days"] == without and calc.result["days_if_difficult"] == with_difficult
    reply = text({"caesarean": True}, region)
    assert f"产假共{without}天" in reply and f"诊断为难产的，共{with_difficult}天" in reply
    assert "医院的诊断" in reply


def test_caesarean_triplets_without_a_region():
    calc = maternity({"caesarean": True, "babies": 3}, None)
    assert (calc.result["days"], calc.result["days_if_difficult"]) == (128, 143)   # 98 + 30, + 15


def _guangdong_with(tmp_path, **difficult_birth):
    """广东 from a copy of the table whose difficult-birth rule is changed."""
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["regions"]["广东"]["maternity_rules"]["difficult_birth"].update(difficult_birth)
    path = tmp_path / "regions.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_regions(path)["广东"]


@pytest.mark.parametrize(("counts", "days", "said"), [(True, 208, "把剖宫产算作难产"), (False, 178, "不把剖宫产一律算作难产")])
def test_a_region_that_defines_a_caesarean_decides_it(tmp_path, counts, days, said):
    region = _guangdong_with(tmp_path, caesarean=counts)
    result = answer(Kind.MATERNITY_LEAVE, {Slot.BIRTH: {"caesarean": True}}, today=TODAY, region=region)
    assert f"结论：产假共{days}天" in result.text and said in result.text
    assert "诊断为难产的，共" not in result.text


def test_an_unverified_regional_rule_is_not_used(tmp_path):
    region = _guangdong_with(tmp_path, verified=False)
    calc = calculate(Kind.MATERNITY_LEAVE, {Slot.BIRTH: {"difficult": True}}, today=TODAY, region=region)
    assert calc.result["days"] == 98 + 15 + 80


@pytest.mark.parametrize(
    ("months", "said"),
    [(3, "享受产假15天至30天"), (4, "享受产假42天"), (6.5, "享受产假42天"), (7, "享受产假75天"), (8, "享受产假75天")],
)
def test_a_miscarriage_in_guangdong_follows_its_own_tiers(months, said):
    reply = text({"miscarriage": True}, "广东", **{Slot.PREGNANCY_MONTHS: months})
    assert said in reply and "按广东省的规定" in reply and GUANGDONG_WOMEN in reply


def test_a_miscarriage_elsewhere_keeps_the_national_tiers():
    assert maternity({"miscarriage": True}, "北京", **{Slot.PREGNANCY_MONTHS: 7}).result["days"] == 42


def test_the_second_and_third_child_figures_are_named_where_the_region_sets_them():
    reply = text({"babies": 1}, "浙江")
    assert "产假共158天" in reply and "第二个90天，第三个90天" in reply
    assert "第三个90天" in text({"babies": 1}, "河北") and "第二个60天" in text({"babies": 1}, "河北")


def test_an_unverified_region_is_not_asked_for_again_and_the_worker_is_told_to_check_locally():
    jiangsu = REGIONS["江苏"]
    assert not jiangsu.maternity_extension.verified
    values = {Slot.BIRTH: {"babies": 1}, Slot.REGION: "江苏"}
    assert missing_slots(Kind.MATERNITY_LEAVE, values) == [] and not national_first(Kind.MATERNITY_LEAVE, values)
    result = answer(Kind.MATERNITY_LEAVE, values, today=TODAY, region=jiangsu)
    assert "按国家规定，产假共98天" in result.conclusion
    assert "江苏省另外延长的产假天数" in result.conclusion and "12333" in result.conclusion
    assert "告诉我你在哪个省市" not in result.text


def test_with_the_birth_known_and_no_region_the_national_figure_comes_first():
    values = {Slot.BIRTH: {"babies": 3}}                              # 顺产三胞胎
    assert national_first(Kind.MATERNITY_LEAVE, values)
    conclusion = answer(Kind.MATERNITY_LEAVE, values, today=TODAY).conclusion
    assert "按国家规定，产假共128天" in conclusion                      # 98 + 2 x 15
    assert not national_first(Kind.MATERNITY_LEAVE, {})                 # nothing known yet: ask the birth
    assert not national_first(Kind.MATERNITY_LEAVE, {Slot.BIRTH: {"miscarriage": True}})
    assert not national_first(Kind.ECONOMIC_COMPENSATION, values)


@pytest.mark.parametrize(
    ("said", "birth"),
    [("剖腹产产假多少天", {"difficult": False, "caesarean": True, "babies": 1, "miscarriage": False}),
     ("顺转剖", {"difficult": False, "caesarean": True, "babies": 1, "miscarriage": False}),
     ("难产产假多少天", {"difficult": True, "babies": 1, "miscarriage": False}),
     ("剖宫产，医生诊断是难产", {"difficult": True, "caesarean": True, "babies": 1, "miscarriage": False}),
     ("顺产三胞胎产假多少天", {"difficult": False, "babies": 3, "miscarriage": False})],
)
def test_a_caesarean_is_kept_apart_from_a_difficult_birth(said, birth):
    entities = [{"entity": f.entity, "value": f.value, "start": f.start, "end": f.end}
                for f in default_matcher().find(said)]
    updates = fill(Kind.MATERNITY_LEAVE, entities, requested=None, current={}, today=TODAY)
    assert updates[Slot.BIRTH] == birth


def test_saying_it_was_a_normal_birth_after_all_clears_the_caesarean():
    current = {Slot.BIRTH: {"difficult": False, "caesarean": True, "babies": 1, "miscarriage": False}}
    updates = fill(Kind.MATERNITY_LEAVE, [{"entity": "birth", "value": "normal", "start": 0, "end": 2}],
                   requested=None, current=current, today=TODAY)
    assert updates[Slot.BIRTH] == {"difficult": False, "babies": 1, "miscarriage": False}
