"""What the bot takes as the topic just answered, and which unclear messages follow up on it."""
from __future__ import annotations

from bot.followups import Cues, continues_topic, followup_intent, last_topic, load_cues, named_topic


def bot(text: str, topic: str | None = None) -> dict:
    return {"event": "bot", "text": text, "data": {"custom": {"topic": topic} if topic else None}}


def test_the_last_tagged_answer_is_the_topic():
    events = [bot("【工伤认定与待遇】…", "work_injury"), {"event": "user", "text": "谢谢"},
              bot("不客气"), {"event": "user", "text": "那能赔多少？"}]
    assert last_topic(events) == "work_injury"
    assert last_topic(events + [bot("【社会保险】…", "social_insurance")]) == "social_insurance"


def test_no_tagged_answer_no_topic():
    assert last_topic([bot("你好！我是工会的助手"), {"event": "user", "text": "能赔多少"}]) is None
    assert last_topic([]) is None


def test_short_elliptical_messages_follow_up_long_or_plain_ones_do_not():
    cues = load_cues()
    assert cues.elliptical("那这种情况呢")
    assert cues.elliptical("要是公司不同意呢")
    assert not cues.elliptical("我想问问")
    assert not cues.elliptical("那" + "很长的一段话" * 5)
    assert not Cues(max_chars=20, words=("呢",)).elliptical("   ")


def test_short_questions_on_how_to_go_on_ask_for_the_next_steps():
    cues = load_cues()
    assert cues.asks_next_steps("那现在咋整")
    assert cues.asks_next_steps("第一步应该找谁啊")
    assert not cues.asks_next_steps("谢谢你")
    assert not cues.asks_next_steps("公司一直拖着不给钱，我也不知道该找谁，" * 3)


def parse(text: str, *ranked: str, entities: tuple[str, ...] = ()) -> dict:
    ranking = [{"name": "nlu_fallback", "confidence": 0.2}] + [
        {"name": name, "confidence": 0.15 / (i + 1)} for i, name in enumerate(ranked)]
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.2}, "intent_ranking": ranking,
            "entities": [{"entity": e, "value": "x"} for e in entities]}


def test_an_unsure_message_after_an_answer_is_a_follow_up_when_it_reads_as_one():
    cues = load_cues()
    # the model ranked a follow-up first, though below the fallback
    assert continues_topic(parse("两千也太少了吧，按国家规定他应该给我多少", "ask_amount", "dismissal_compensation"),
                           "work_injury", cues)
    assert followup_intent(parse("想把钱要回来的话第一步干嘛", "ask_next_steps")) == "ask_next_steps"
    # a place after the minimum-wage answer; a short message with the answered topic ranked close
    assert continues_topic(parse("上海的", "greet", "inform", entities=("region",)), "minimum_wage", cues)
    assert continues_topic(parse("单位不让休咋整", "female_protection", "annual_leave"), "annual_leave", cues)
    # how to go on, with the answered topic nowhere near the top of the model's ranking
    assert continues_topic(parse("钱一直拖着不给，现在咋整", "female_protection", "working_hours", "resignation"),
                           "overtime_pay", cues)
    # nothing answered yet, or a long message about something else: asked back as before
    assert not continues_topic(parse("单位不让休咋整", "annual_leave"), None, cues)
    assert not continues_topic(parse("我在一家物流公司干了三年，上个月被调岗到外地，工资也降了一半，公司说不去就算自动离职",
                                     "dismissal_compensation", "labour_contract"), "annual_leave", cues)


def test_unsure_between_the_topic_just_answered_and_a_follow_up_it_is_the_follow_up():
    unsure = parse("这种伤一般能给多少钱", "work_injury", "ask_amount")
    assert followup_intent(unsure, "work_injury") == "ask_amount"
    # another topic answered last, or no topic: not read as a follow-up on this one
    assert followup_intent(unsure, "wage_arrears") is None
    assert followup_intent(unsure) is None
    # the topic first and another topic second: no follow-up intent to take
    assert followup_intent(parse("那这个呢", "work_injury", "sick_leave"), "work_injury") is None


def test_a_how_much_or_what_now_that_names_one_topic_is_about_that_topic():
    assert named_topic(parse("那被辞退了能赔多少钱", "ask_amount", "wage_arrears")) == "dismissal_compensation"
    assert named_topic(parse("工伤了现在第一步找谁", "ask_next_steps")) == "work_injury"
    # it names no topic, or two: the topic just answered decides, as before
    assert named_topic(parse("那能赔多少", "ask_amount")) is None
    assert named_topic(parse("被辞退了社保也没交，能赔多少", "ask_amount")) is None
    # "那要是…呢" names a case of the topic just answered, not a new topic
    assert named_topic(parse("那要是工伤呢", "ask_what_if")) is None
    # a topic question is answered by its topic, not taken as a follow-up
    assert named_topic(parse("被辞退了怎么赔", "dismissal_compensation", "ask_amount")) is None


def test_the_injury_amounts_say_who_pays_when_the_employer_bought_no_insurance():
    import yaml

    from tests.conftest import ROOT

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    text = domain["responses"]["utter_followup_injury_amounts"][0]["text"]
    # 工伤保险条例 第35-37条: one-off disability benefit by grade; 第62条: uninsured -> the employer pays
    for grade, months in ((1, 27), (2, 25), (3, 23), (4, 21), (5, 18), (6, 16), (7, 13), (8, 11), (9, 9), (10, 7)):
        assert f"{grade}级{months}个月" in text
    assert "单位没给你交工伤保险的，以上待遇由单位按同样的项目和标准支付" in text and "第62条" in text
