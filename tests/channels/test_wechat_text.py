"""Bot messages as WeChat text: numbered options, splitting, digit replies."""
from __future__ import annotations

from bot.channels.common import replies
from bot.channels.wechat_text import choice, render, split_text


def test_buttons_become_numbered_options_and_a_menu() -> None:
    rendered = render([{"text": "说说你的问题"},
                       {"text": "选一个：", "buttons": [{"title": "欠薪", "payload": "/wage_arrears"},
                                                      {"title": "工伤", "payload": "/work_injury"}]}])
    assert rendered.texts == [f"说说你的问题\n\n选一个：\n{replies()['wechat_options']}\n1. 欠薪\n2. 工伤"]
    assert rendered.menu == ["/wage_arrears", "/work_injury"]
    assert render([{"text": "没有选项"}]).menu is None
    assert render([{"image": "http://x"}]).texts == []


def test_split_keeps_every_character_and_cuts_at_sentence_ends() -> None:
    text = "第一句话很长。" * 400 + "结尾"
    pieces = split_text(text, 2000)
    assert all(len(p.encode("utf-8")) <= 2000 for p in pieces)
    assert "".join(pieces) == text
    assert all(p.endswith("。") for p in pieces[:-1])
    assert split_text("短", 2000) == ["短"]
    unbroken = "字" * 1500
    assert "".join(split_text(unbroken, 2000)) == unbroken


def test_digit_choices() -> None:
    menu = ["/a", "/b"]
    assert [choice(t, menu) for t in ["1", " 2 ", "２", "2.", "3", "0", "一", "12号", "1"]][:8] == \
        ["/a", "/b", "/b", "/b", None, None, None, None]
    assert choice("1", []) is None


def test_folded_details_are_kept_apart_and_a_line_under_the_conclusion_says_how_to_see_them() -> None:
    messages = [{"text": "帮你算好了：\n经济补偿30000元。"},
                {"custom": {"topic": "dismissal_compensation", "details": {"label": "查看依据", "text": "计算过程：…\n依据：第47条"}}},
                {"text": "还想算别的吗？"}]
    rendered = render(messages)
    hint = replies()["wechat_details_hint"]
    assert rendered.texts == [f"帮你算好了：\n经济补偿30000元。\n{hint}\n\n还想算别的吗？"]
    assert rendered.details == "计算过程：…\n依据：第47条"


def test_an_answer_without_details_has_no_hint() -> None:
    for custom in ({"topic": "wage_arrears"}, {"details": {"text": "  "}}, {"details": "依据"}, {"details": {"text": 3}}):
        rendered = render([{"text": "【拖欠工资】……"}, {"custom": custom}])
        assert rendered.texts == ["【拖欠工资】……"] and rendered.details is None
