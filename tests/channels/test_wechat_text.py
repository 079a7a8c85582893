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
