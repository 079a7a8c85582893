"""The worker's own numbers, end to end: real Rasa (NLU with our entity extractor), actions, forms.

Expected figures are worked from the statute here, not read from the code:
- 劳动合同法 第47条: 3 years 6 months -> 4 months' wage; 5 years -> 5 months.
- 企业职工患病或非因工负伤医疗期规定 第3条: 15 years in all, 6 with this employer -> 9 months.
- 劳动法 第44条 + 劳社部发〔2008〕3号: 5000 / 21.75 / 8 = 28.74 per hour; 8 rest-day hours at 200 % = 459.84.
- 女职工劳动保护特别规定 第7条: 98 days + the province's extension from data/knowledge/regions.yml.
"""
from __future__ import annotations

import uuid

from bot.knowledge.regions import load_regions
from tests.conftest import Stack


def new_worker() -> str:
    return uuid.uuid4().hex


def said(stack: Stack, sender: str, text: str) -> str:
    return "\n".join(stack.say(sender, text))


def test_all_numbers_in_one_message_ask_only_the_cause_that_decides_the_figure(servers: Stack):
    sender = new_worker()
    asked = servers.answer(sender, "我在这家厂干了三年半，月薪六千，上个月被辞退了，能拿多少补偿")
    text = "\n".join(m.get("text") or "" for m in asked)
    assert "经济补偿（N）是4个月工资，共24000元" in text and "你的情况是哪一种" in text   # 第47条 N, then the cause
    assert "30000" not in text and "48000" not in text                  # not three figures at once
    buttons = {b["title"]: b["payload"] for m in asked for b in m.get("buttons") or []}
    assert {"违法辞退（2N）", "不清楚"} <= set(buttons)
    reply = said(servers, sender, buttons["不清楚"])
    assert "经济补偿计算" in reply and "24000" in reply           # N
    assert "30000" in reply and "48000" in reply                  # one line on N+1, 2N
    assert "我要投诉" in reply and "转人工" in reply                 # what the worker can do next
    unlawful = said(servers, sender, buttons["违法辞退（2N）"])       # a button clicked later corrects it
    assert "48000" in unlawful and "30000" not in unlawful


def test_the_bot_asks_only_for_what_is_missing(servers: Stack):
    sender = new_worker()
    first = said(servers, sender, "我累计工作15年了，医疗期能有多长")
    assert "现在这家单位干了多久" in first
    assert "累计多少年" not in first                          # already said: not asked again
    result = said(servers, sender, "6年")
    assert "医疗期计算" in result and "9个月" in result
    assert "《企业职工患病或非因工负伤医疗期规定》第3条" in result


def test_a_correction_during_the_form_and_after_the_result(servers: Stack):
    sender = new_worker()
    assert "月工资" in said(servers, sender, "干了两年被公司辞退了，补偿怎么算")
    corrected = said(servers, sender, "不对，我记错了，是五年")   # corrected, still needs the wage
    assert "月工资" in corrected and "按工作5年算，经济补偿是5个月工资" in corrected
    assert "哪一种" in said(servers, sender, "8000")
    result = said(servers, sender, "是协商解除的")
    assert "5个月" in result and "40000" in result
    corrected = said(servers, sender, "说错了，月薪是九千")
    assert "45000" in corrected


def test_switching_topic_mid_form_answers_the_new_question_and_keeps_what_fits(servers: Stack):
    sender = new_worker()
    assert "加班了多少个小时" in said(servers, sender, "月薪5000，帮我算算加班费")
    switched = said(servers, sender, "公司一直不给我交社保怎么办")
    assert "社会保险" in switched and "加班了多少个小时" not in switched
    result = said(servers, sender, "周末加了8个小时")              # back to overtime: the wage is kept
    assert "加班费计算" in result and "28.74" in result and "459.84" in result


def test_numbers_after_the_offer_are_for_the_topic_just_answered(servers: Stack):
    sender = new_worker()
    assert "想算算你自己的情况吗" in said(servers, sender, "公司把我辞退了，补偿怎么算")
    asked = said(servers, sender, "我在这干了两年")
    assert "月工资" in asked and "你想算哪一项" not in asked
    assert "你的情况是哪一种" in said(servers, sender, "7500")   # the cause decides N, N+1 or 2N
    result = said(servers, sender, "不清楚")
    assert "经济补偿计算" in result and "15000" in result      # 2 years -> 2 months' wage (第47条)


def test_a_question_on_another_calculator_topic_mid_form_is_not_taken_as_a_correction(servers: Stack):
    sender = new_worker()
    assert "月工资" in said(servers, sender, "入职半年了公司还不跟我签劳动合同")
    switched = said(servers, sender, "一年能休几天年假")
    assert "带薪年休假" in switched and "月工资" not in switched
    assert "月工资" not in said(servers, sender, "谢谢")          # the double-wage form is gone


def test_the_same_topic_asked_again_mid_form_gets_the_rule_not_a_complaint_it_was_unreadable(servers: Stack):
    sender = new_worker()
    assert "累计多少年" in said(servers, sender, "今年刚换的新单位，5月份入职的，年假怎么算")
    again = said(servers, sender, "一年能休几天年假")
    assert "【带薪年休假" in again and "没看懂" not in again


def test_without_numbers_the_rule_and_an_offer_then_the_form_can_be_left(servers: Stack):
    sender = new_worker()
    rule = said(servers, sender, "试用期最长能约定多久")
    assert "【试用期" in rule and "想算算你自己的情况吗" in rule
    assert "合同期限" in said(servers, sender, '/calculate{"calc_kind": "max_probation"}')
    assert "不算了" in said(servers, sender, "算了")
    assert "合同期限" not in said(servers, sender, "谢谢")            # the form is gone


def test_how_much_while_a_number_is_asked_says_the_answer_is_needed_for_it(servers: Stack):
    sender = new_worker()
    assert "干了多久" in said(servers, sender, "被辞退了能赔多少钱")        # names its topic: the compensation
    again = said(servers, sender, "那能赔多少")
    assert "能拿多少要按你的情况算" in again and "干了多久" in again and "没看懂" not in again
    assert "月工资" in said(servers, sender, "三年")                    # the answer counts: the next question


def test_a_bare_number_answers_the_question_and_nonsense_is_asked_again(servers: Stack):
    sender = new_worker()
    assert "合同期限" in said(servers, sender, '/calculate{"calc_kind": "max_probation"}')
    again = said(servers, sender, "嗯嗯")
    assert "没看懂" in again and "合同期限" in again
    result = said(servers, sender, "3")                            # read as 3 years
    assert "试用期最长6个月" in result


def test_the_region_is_remembered_across_sessions(servers: Stack):
    zhejiang = load_regions()["浙江"].maternity_extension
    assert zhejiang.verified and zhejiang.days
    sender = new_worker()
    assert "浙江" in said(servers, sender, "我在杭州上班")
    servers.say(sender, "/session_start")
    reply = said(servers, sender, "顺产的话产假有多少天")
    assert "产假计算" in reply and f"{98 + zhejiang.days}天" in reply


def test_the_minimum_wage_of_the_workers_region(servers: Stack):
    guangdong = load_regions()["广东"].minimum_wage
    reply = said(servers, new_worker(), "深圳的最低工资标准是多少")
    assert f"{guangdong.monthly[0]:g}" in reply and f"{guangdong.effective.year}年" in reply


def test_after_three_answers_it_cannot_read_the_bot_stops_asking(servers: Stack):
    sender = new_worker()
    assert "合同期限" in said(servers, sender, '/calculate{"calc_kind": "max_probation"}')
    said(servers, sender, "嗯嗯")
    said(servers, sender, "啊？")
    given_up = said(servers, sender, "哦哦")
    assert "我先不算了" in given_up and "转人工" in given_up
    assert "合同期限" not in given_up and "你想算哪一项" not in given_up


def test_the_calculate_button_after_the_rule_keeps_its_topic(servers: Stack):
    sender = new_worker()
    logs = {name: (servers.logs / f"{name}.log").stat().st_size for name in ("rasa", "actions")}
    offer = servers.answer(sender, "加班费怎么算")
    assert "想算算你自己的情况吗" in "\n".join(m.get("text") or "" for m in offer)
    button = next(b for m in offer for b in m.get("buttons") or [] if b["title"] == "帮我算一算")
    asked = said(servers, sender, button["payload"])          # what the web chat sends on a click
    assert "帮你算一算加班费" in asked and "月工资" in asked
    assert "你想算哪一项" not in asked
    for name, size in logs.items():                           # Rasa's interpolator logs the response on failure
        with open(servers.logs / f"{name}.log", "rb") as log:
            log.seek(size)
            assert b"interpolator" not in log.read()


def tags(messages: list[dict]) -> list[dict]:
    return [m["custom"] for m in messages if m.get("custom")]


def topics(messages: list[dict]) -> list[str]:
    """The topics the messages are tagged with (a sub-answer's tag names its sub-answer too)."""
    return [t["topic"] for t in tags(messages) if "topic" in t]


def test_every_answer_carries_its_topic_tag_for_integrations(servers: Stack):
    # a plain rule answer, a rule with a calculation offer, a calculation result, a region's figure
    assert "social_insurance" in topics(servers.answer(new_worker(), "公司一直不给我交社保怎么办"))
    assert "overtime_pay" in topics(servers.answer(new_worker(), "加班费怎么算"))
    result = servers.answer(new_worker(), "我在这家厂干了三年半，月薪六千，上个月被辞退了，能拿多少补偿")
    assert "dismissal_compensation" in topics(result)
    assert not any("topic" in (m.get("text") or "") for m in result)  # the tag is never shown as text
    sender = new_worker()
    servers.answer(sender, "我在广东")
    assert topics(servers.answer(sender, "最低工资是多少")).count("minimum_wage") >= 1
    assert tags(servers.answer(new_worker(), "你好")) == []            # not an answer: no tag


def test_two_problems_in_one_message_answer_one_and_offer_the_other(servers: Stack):
    sender = new_worker()
    reply = servers.answer(sender, "进厂一年多了公司一直没跟我签合同，也一直不给我交社保，我该怎么办")
    [answered] = [t["topic"] for t in tags(reply) if "topic" in t]
    assert answered in {"labour_contract", "social_insurance"}
    [offer] = [m for m in reply if (m.get("text") or "").startswith("你还提到了")]
    [(title, payload)] = [(b["title"], b["payload"]) for b in offer["buttons"]]
    other = ({"labour_contract", "social_insurance"} - {answered}).pop()
    assert payload == f"/{other}"
    assert other in topics(servers.answer(sender, payload))   # one click answers it
