"""The legal review's findings (issue 18 item 4): what a worker reads says what the law says."""
from __future__ import annotations

from datetime import date

import pytest

from bot.calculate.answer import answer_text
from bot.calculate.dialogue import minimum_wage_reply
from bot.calculate.kinds import Kind, Slot
from bot.knowledge.calc import annual_leave, double_wages, max_probation, render
from bot.knowledge.regions import load_regions
from bot.knowledge.topics import format_citation, load_topics, render_answer

TOPICS = {t.id: t for t in load_topics()}
REGIONS = load_regions()
INTERPRETATION_ONE = "最高人民法院关于审理劳动争议案件适用法律问题的解释（一）"
INTERPRETATION_TWO = "最高人民法院关于审理劳动争议案件适用法律问题的解释（二）"


def answer(topic_id: str) -> str:
    return render_answer(TOPICS[topic_id])


def cites(text: str, *basis: str) -> bool:
    return all(format_citation(b) in text for b in basis)


# ---- double wages: 劳动合同法实施条例 第5条、第6条; 法释〔2025〕12号 第7条、第8条 -----------------


def test_double_wages_answer_states_the_exceptions_and_the_first_month_refusal():
    text = answer("labour_contract")
    assert "不可抗力" in text and "故意或重大过失" in text           # 解释（二） 第7条
    assert "自动续延" in text and "不算没签" in text                 # 解释（二） 第8条
    assert "你不签" in text and "不付经济补偿" in text               # 实施条例 第5条
    assert "满1个月的次日" in text                                  # 实施条例 第6条
    assert cites(text, "劳动合同法实施条例 第5条", "劳动合同法实施条例 第6条",
                 f"{INTERPRETATION_TWO} 第7条")


def test_double_wages_calculation_names_the_exceptions():
    owed = render(double_wages(5, 6000))
    assert "不可抗力" in owed and "故意或重大过失" in owed and "自动续延" in owed
    assert cites(owed, f"{INTERPRETATION_TWO} 第7条")
    first_month = render(double_wages(0.5, 6000))
    assert "你不签" in first_month and "不付经济补偿" in first_month
    assert cites(first_month, "劳动合同法实施条例 第5条")


# ---- annual leave: 企业职工带薪年休假实施办法 第10条 ------------------------------------------


def test_annual_leave_300_percent_is_for_leave_the_employer_did_not_arrange():
    text = answer("annual_leave")
    assert "单位安排你应休未休" not in text
    assert "单位没安排" in text and "安排的天数少于" in text and "300%" in text
    assert "本人原因" in text and "书面" in text and "只付正常工资" in text
    assert "单位没安排" in render(annual_leave(60, monthly_wage=6000, unused_days=3))


# ---- probation wage: 劳动合同法 第20条 says 或者 -----------------------------------------------


def test_probation_wage_rule_says_or_not_and():
    text = render(max_probation(12))
    assert "最低档工资的80%或者不得低于劳动合同约定工资的80%" in text
    assert "也不得低于合同约定工资" not in text


# ---- regions: second-hand or contradictory rows are not shown as verified ----------------


DOUBT = ("二手", "矛盾", "原文未找到", "原文未核实", "是否已相应修改未核实")


@pytest.mark.parametrize("region_id", sorted(REGIONS))
def test_a_row_whose_note_doubts_its_source_is_not_verified(region_id):
    region = REGIONS[region_id]
    for block in (region.minimum_wage, region.maternity_extension):
        if block.verified:
            assert not any(word in (block.note or "") for word in DOUBT), (region_id, block.note)


@pytest.mark.parametrize("region_id", ["重庆", "江苏", "广西", "宁夏", "江西", "新疆"])
def test_reviewed_maternity_rows_are_unverified(region_id):
    assert not REGIONS[region_id].maternity_extension.verified


def test_tibet_note_does_not_claim_the_national_98_days_apply():
    tibet = REGIONS["西藏"].maternity_extension
    assert not tibet.verified and tibet.days is None
    assert "照常适用" not in tibet.note and "一年" in tibet.note


@pytest.mark.parametrize("region_id", ["辽宁", "青海"])
def test_rows_without_an_effective_date_are_unverified(region_id):
    for block in (REGIONS[region_id].minimum_wage, REGIONS[region_id].maternity_extension):
        assert block.effective is not None or not block.verified


def test_an_unverified_maternity_figure_is_never_shown_to_the_worker():
    jiangsu = REGIONS["江苏"]
    text = answer_text(Kind.MATERNITY_LEAVE, {Slot.BIRTH: {"babies": 1}}, today=date(2026, 1, 5),
                       region=jiangsu)
    assert "江苏规定" not in text and "按国家规定，产假共98天" in text
    assert f"{98 + (jiangsu.maternity_extension.days or 0)}天" not in text


def test_an_unverified_minimum_wage_is_never_shown_to_the_worker():
    for region in REGIONS.values():
        if not region.minimum_wage.verified:
            assert minimum_wage_reply(region)["response"] == "utter_minimum_wage_region_unknown"


# ---- wage arrears: 保障农民工工资支付条例 第30条 -----------------------------------------------


def test_subcontractor_pays_first_and_the_main_contractor_clears_what_it_does_not():
    text = answer("wage_arrears")
    assert "总承包单位对农民工工资负责" not in text
    assert "分包单位" in text and "直接责任" in text and "总承包单位先行清偿" in text
    assert cites(text, "保障农民工工资支付条例 第30条")


# ---- citations that match their text ----------------------------------------------------


@pytest.mark.parametrize(
    ("topic_id", "said", "basis"),
    [
        ("social_insurance", "承诺无效", f"{INTERPRETATION_TWO} 第19条"),
        ("dispatch_worker", "没活干的期间", "劳动合同法 第58条"),
        ("non_compete", "3个月不付补偿", f"{INTERPRETATION_ONE} 第38条"),
        ("arbitration", "调解是自愿的", "劳动争议调解仲裁法 第5条"),
        ("labour_contract", "2倍工资", "劳动合同法实施条例 第6条"),
    ],
)
def test_each_rule_cites_the_article_that_states_it(topic_id, said, basis):
    text = answer(topic_id)
    assert said in text and cites(text, basis)


def test_union_dues_are_attributed_to_the_acftu_not_the_constitution():
    text = answer("union_membership")
    assert "按全国总工会的规定" in text and "0.5%" in text


# ---- 13 statutory holidays since 2025 (全国年节及纪念日放假办法 第2条) -------------------------


@pytest.mark.parametrize("topic_id", ["overtime_pay", "working_hours"])
def test_holiday_answers_name_the_13_days_paid_at_300_percent(topic_id):
    text = answer(topic_id)
    assert "13天" in text and "300%" in text
    for day in ("元旦1天", "春节4天", "除夕", "劳动节2天", "国庆节3天"):
        assert day in text, day
    assert cites(text, "全国年节及纪念日放假办法 第2条")
