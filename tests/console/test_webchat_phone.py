"""The worker's chat page on a phone (390×844) in headless Chromium: the input box, phone links, the
ticket's buttons, the comment after a poor rating, and where a long answer is scrolled to.

The page is the real one (the web app on a local port); the Rasa server behind its socket is replaced
by a socket that records what the page sends and delivers what a test makes the bot say, so each
behaviour of the page is checked on its own. tests/console/test_webchat_browser.py runs the same
page against the whole assistant.
"""
from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from bot.channels.common import MAX_MESSAGE_CHARS
from bot.config import load_settings
from bot.console import create_app
from tests.conftest import ROOT
from tests.console.conftest import watch_csp

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SESSION = "0123456789abcdef0123456789abcdef"
TICKET = "NJ-20261124-7KQ2M"

# Stands in for socket.io-client: io() returns a socket whose handlers a test calls through
# window.__socket.fire(name, data); what the page emits is kept in window.__socket.sent.
FAKE_SOCKET_IO = """
window.__socket = (function () {
  var handlers = {}, sent = [];
  var socket = {
    on: function (name, fn) { handlers[name] = fn; return socket; },
    emit: function (name, data) { sent.push([name, data]); return socket; },
    fire: function (name, data) { if (handlers[name]) handlers[name](data); },
    sent: sent
  };
  return socket;
})();
window.io = function () {
  setTimeout(function () { window.__socket.fire("connect"); }, 0);
  return window.__socket;
};
"""


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from werkzeug.serving import make_server

    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path_factory.mktemp("var")), "RASA_TOKEN": "t",
                              "RASA_PUBLIC_URL": "http://127.0.0.1:9"})
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def open_chat(browser: Any, web_url: str, touch: bool = True):  # type: ignore[no-untyped-def]
    """The chat page on a phone (``touch``) or a desktop browser, connected to its session."""
    options = {"has_touch": True, "is_mobile": True} if touch else {}
    context = browser.new_context(viewport=PHONE if touch else {"width": 1280, "height": 900},
                                  locale="zh-CN", **options)
    violations = watch_csp(context)
    # A returning worker's session: the page does not greet, so what it sends is what the test did.
    context.add_init_script(f"localStorage.setItem('niangjia.session', '\"{SESSION}\"');")
    context.route("**/vendor/socket.io.min.js",
                  lambda route: route.fulfill(body=FAKE_SOCKET_IO, content_type="application/javascript"))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(web_url + "/")
    connected(page)
    page.errors, page.csp_violations = errors, violations  # checked by the tests
    return page


def connected(page) -> None:  # type: ignore[no-untyped-def]
    """The page asked for its session and got it (after loading or reloading)."""
    page.wait_for_function("() => window.__socket && window.__socket.sent.some(e => e[0] === 'session_request')")
    page.evaluate("id => window.__socket.fire('session_confirm', id)", SESSION)
    page.wait_for_selector("#log[data-state=ready]")


def bot_says(page, text: str, buttons: list[tuple[str, str]] = (), custom: dict | None = None) -> None:  # type: ignore[no-untyped-def]
    """One bot message as Rasa's socket.io channel delivers it (text with quick replies, then custom)."""
    message = {"text": text}
    if buttons:
        message["quick_replies"] = [{"content_type": "text", "title": t, "payload": p} for t, p in buttons]
    page.evaluate("m => window.__socket.fire('bot_uttered', m)", message)
    if custom is not None:
        page.evaluate("c => window.__socket.fire('bot_uttered', {custom: c})", custom)


def staff_says(page, text: str, message_id: int = 1) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("m => window.__socket.fire('bot_uttered', m)",
                  {"text": text, "staff_message_id": message_id, "staff_name": "李干事"})


def sent(page) -> list[str]:  # type: ignore[no-untyped-def]
    """What the page sent to Rasa as the worker's messages."""
    return page.evaluate("() => window.__socket.sent.filter(e => e[0] === 'user_uttered').map(e => e[1].message)")


def input_height(page) -> float:  # type: ignore[no-untyped-def]
    return page.locator("#input").bounding_box()["height"]


def test_the_input_box_grows_with_a_long_story_up_to_a_limit_then_scrolls(browser, web_url):
    page = open_chat(browser, web_url)
    for n in range(5):  # an earlier conversation fills the screen
        page.fill("#input", f"之前的问题{n}")
        page.locator("#send").tap()
        bot_says(page, f"之前的回答{n}\n" * 3)
    one_line = input_height(page)
    page.locator("#input").click()
    page.keyboard.insert_text("老板拖欠工资\n已经三个月了\n我们一共二十个人\n每天干十二个小时")
    four_lines = input_height(page)
    assert four_lines > one_line * 2.5  # all four lines are seen, not one
    page.keyboard.insert_text("\n事情是这样的。" * 60)
    long = input_height(page)
    assert four_lines < long <= 844 * 0.4 + 1  # up to 40 % of the screen: the conversation stays in view
    assert page.eval_on_selector("#input", "el => el.scrollHeight > el.clientHeight")  # the rest scrolls
    newest = page.locator(".msg.bot").last.bounding_box()  # still in view above the grown box
    assert newest["y"] + newest["height"] <= page.locator("#input").bounding_box()["y"]
    page.locator("#send").tap()
    assert sent(page)[-1].startswith("老板拖欠工资\n已经三个月了")
    assert page.input_value("#input") == "" and input_height(page) == pytest.approx(one_line, abs=1)
    assert page.errors == [] and page.csp_violations == []
    page.context.close()


@pytest.mark.parametrize("touch, new_line, send", [(True, "Enter", "the button"), (False, "Shift+Enter", "Enter")],
                         ids=["phone", "desktop"])
def test_enter_sends_on_a_desktop_and_starts_a_new_line_on_a_phone(browser, web_url, touch, new_line, send):
    page = open_chat(browser, web_url, touch=touch)
    page.locator("#input").click()
    page.keyboard.type("第一行")
    page.keyboard.press(new_line)
    page.keyboard.type("第二行")
    assert sent(page) == [] and page.input_value("#input") == "第一行\n第二行"
    if send == "Enter":
        page.keyboard.press("Enter")
    else:
        page.locator("#send").tap()
    assert sent(page) == ["第一行\n第二行"]
    page.context.close()


def test_a_paste_longer_than_the_server_takes_is_kept_whole_and_the_page_says_so(browser, web_url):
    page = open_chat(browser, web_url)
    for n in range(5):
        page.fill("#input", f"之前的问题{n}")
        page.locator("#send").tap()
        bot_says(page, f"之前的回答{n}\n" * 3)
    story = "我在厂里干了三年，老板一直不给交社保。" * 120  # 2280 characters
    assert len(story) > MAX_MESSAGE_CHARS
    page.locator("#input").click()
    page.keyboard.insert_text(story)  # as a paste: nothing is cut
    assert page.input_value("#input") == story
    limit = page.locator("#limit")
    assert limit.is_visible()
    assert f"这段话有{len(story)}字" in limit.inner_text() and f"最多能发{MAX_MESSAGE_CHARS}字" in limit.inner_text()
    assert page.locator("#send").is_disabled()
    newest = page.locator(".msg.bot").last.bounding_box()  # the message above stays in view
    assert newest["y"] + newest["height"] <= limit.bounding_box()["y"]
    page.keyboard.press("Enter")  # (a touch screen: a new line) — nothing is sent either way
    page.evaluate("() => document.getElementById('composer').requestSubmit()")
    assert len(sent(page)) == 5 and page.locator(".msg.user").count() == 5
    # Shortened to what fits, it goes.
    page.fill("#input", story[:MAX_MESSAGE_CHARS - 10])
    assert page.locator("#send").is_enabled() and "还能输入10字" in limit.inner_text()
    page.locator("#send").tap()
    assert sent(page)[-1] == story[:MAX_MESSAGE_CHARS - 10] and limit.is_hidden()
    page.context.close()


def test_phone_numbers_in_bubbles_are_tappable_and_nothing_else_is(browser, web_url):
    page = open_chat(browser, web_url)
    text = ("有危险先打110或120，工会职工服务热线12351；北京市总工会010-12345678，李干事手机138 0013 8000。"
            "依据第120条，加班120天、月薪12000元、工作满12个月，工单NJ-20261124-7KQ2M，身份证110101199003074321。")
    bot_says(page, text)
    bubble = page.locator(".msg.bot .bubble").last
    assert bubble.inner_text() == text  # the text itself is unchanged
    links = bubble.locator("a").evaluate_all("as => as.map(a => [a.textContent, a.getAttribute('href')])")
    assert links == [["110", "tel:110"], ["120", "tel:120"], ["12351", "tel:12351"],
                     ["010-12345678", "tel:01012345678"], ["138 0013 8000", "tel:13800138000"]]
    page.fill("#input", "我的电话是13912345678")
    page.locator("#send").tap()
    assert page.locator(".msg.user .bubble a").get_attribute("href") == "tel:13912345678"
    page.context.close()


def test_markup_in_a_message_stays_text_and_only_phone_links_are_made(browser, web_url):
    page = open_chat(browser, web_url)
    hostile = ('<img src=x onerror="window.__xss=1"><a href="javascript:window.__xss=2">拨打12351</a>'
               '<script>window.__xss=3</script>')
    bot_says(page, hostile)
    staff_says(page, hostile)
    page.reload()  # and again from the kept transcript
    connected(page)
    for bubble in (page.locator(".msg.bot .bubble").last, page.locator(".msg.staff .bubble").last):
        assert hostile in bubble.inner_text()
        assert bubble.locator("img, script").count() == 0
        assert bubble.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))") == ["tel:12351"]
    assert page.evaluate("() => window.__xss") is None
    page.context.close()


def test_the_ticket_can_be_copied_and_its_progress_asked_for(browser, web_url):
    page = open_chat(browser, web_url)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web_url)
    # Only a real ticket number gets buttons (not every answer's topic tag, not markup).
    bot_says(page, "【拖欠工资】……", custom={"topic": "wage_arrears"})
    bot_says(page, "投诉已登记", custom={"ticket": "<img src=x onerror=alert(1)>"})
    assert page.locator(".tools").count() == 0 and page.locator("#log img").count() == 0

    bot_says(page, f"投诉已登记，工单号：{TICKET}\n请记下这个号码。", custom={"ticket": TICKET})
    tools = page.locator(".tools")
    assert tools.count() == 1
    copy = tools.get_by_role("button", name=f"复制工单号 {TICKET}")
    copy.tap()
    page.wait_for_function("() => document.querySelector('.tools button').textContent === '已复制'")
    assert page.evaluate("() => navigator.clipboard.readText()") == TICKET
    page.wait_for_function("() => document.querySelector('.tools button').textContent === '复制'", timeout=5000)

    tools.get_by_role("button", name="查询进度").tap()
    assert page.locator(".msg.user .bubble").last.inner_text() == f"查询进度 {TICKET}"
    [payload] = sent(page)
    # Rasa reads it as the complaint-status intent naming the ticket (the sender is the socket's).
    domain = Domain.load(str(ROOT / "domain.yml"))
    message = YAMLStoryReader.unpack_regex_message(Message({"text": payload}), domain, "RegexMessageHandler")
    assert message.get("intent")["name"] == "check_complaint"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("ticket", TICKET)]

    page.reload()  # the buttons are kept with the transcript
    connected(page)
    assert page.locator(".tools button").all_inner_texts() == ["复制", "查询进度"]
    page.context.close()


ASK_COMMENT = "很抱歉这次没能让你满意。能说说哪里没做好吗？不想说可以回复“跳过”。"


def test_after_a_poor_rating_the_worker_can_say_what_went_wrong(browser, web_url):
    page = open_chat(browser, web_url)
    bot_says(page, ASK_COMMENT, buttons=[("跳过", "跳过")], custom={"ask": "rating_comment"})
    box = page.locator("form.comment")
    assert box.count() == 1 and page.locator(".quick").count() == 0  # the box has its own 跳过
    box.get_by_role("button", name="提交").tap()
    assert "请先写下意见" in box.locator(".note").inner_text() and sent(page) == []
    box.locator("textarea").fill("等了四十分钟才有人回，问题也没说清楚")
    box.get_by_role("button", name="提交").tap()
    assert sent(page) == ["等了四十分钟才有人回，问题也没说清楚"]
    assert page.locator(".msg.user .bubble").last.inner_text() == "等了四十分钟才有人回，问题也没说清楚"
    assert page.locator("form.comment").count() == 0  # answered: the box is gone
    page.reload()
    connected(page)
    assert page.locator("form.comment").count() == 0 and page.locator(".quick").count() == 0
    page.context.close()


def test_the_comment_can_be_skipped_or_typed_in_the_input_box(browser, web_url):
    page = open_chat(browser, web_url)
    bot_says(page, ASK_COMMENT, buttons=[("跳过", "跳过")], custom={"ask": "rating_comment"})
    page.locator("form.comment").get_by_role("button", name="跳过").tap()
    assert sent(page) == ["跳过"] and page.locator("form.comment").count() == 0

    bot_says(page, ASK_COMMENT, buttons=[("跳过", "跳过")], custom={"ask": "rating_comment"})
    page.fill("#input", "态度不好")
    page.locator("#send").tap()
    assert sent(page)[-1] == "态度不好" and page.locator("form.comment").count() == 0
    page.context.close()


LONG_ANSWER = "【经济补偿】\n结论：你可以拿到36000元。\n" + "\n".join(f"{n}. 计算过程与依据第{n}行。" for n in range(1, 45))


def _top_gap(page, locator) -> float:  # type: ignore[no-untyped-def]
    """How far the top of ``locator`` is below the top of the conversation area (negative: above it)."""
    return locator.bounding_box()["y"] - page.locator("#log").bounding_box()["y"]


def test_a_long_answer_opens_at_its_first_line_not_its_end(browser, web_url):
    page = open_chat(browser, web_url)
    for n in range(6):  # an earlier conversation fills the screen
        bot_says(page, f"之前的回答{n}\n" * 4)
    page.fill("#input", "我干了三年，月薪一万二，被辞退能拿多少")
    page.locator("#send").tap()
    bot_says(page, LONG_ANSWER)
    bot_says(page, "还想算其他的吗？", buttons=[("算加班费", "/overtime_pay")])
    answer = page.locator(".msg.bot", has_text="结论：你可以拿到36000元")
    assert answer.bounding_box()["height"] > 844  # longer than the screen
    assert 0 <= _top_gap(page, answer) <= 24  # its first line, the conclusion, is at the top
    assert page.get_by_text("结论：你可以拿到36000元").is_visible()

    # A short answer fits: the page shows all of it, down to its buttons.
    page.fill("#input", "试用期最长多久")
    page.locator("#send").tap()
    bot_says(page, "【试用期】劳动合同三年以上的，试用期最长六个月。", buttons=[("年休假", "/annual_leave")])
    log_box = page.locator("#log").bounding_box()
    quick = page.locator(".quick").last.bounding_box()
    assert quick["y"] + quick["height"] <= log_box["y"] + log_box["height"] + 1
    assert page.evaluate("() => { const l = document.getElementById('log');"
                         " return l.scrollHeight - l.scrollTop - l.clientHeight; }") <= 1
    page.context.close()


def test_a_long_staff_reply_also_opens_at_its_first_line(browser, web_url):
    page = open_chat(browser, web_url)
    bot_says(page, "已为你转接工会工作人员，请稍候。")
    staff_says(page, "你好，我是李干事。先说结论：可以申请仲裁。\n" + "具体步骤……\n" * 50)
    staff = page.locator(".msg.staff")  # the name, then the bubble
    assert 0 <= _top_gap(page, staff) <= 24
    page.context.close()


CALC_NEXT = ("以上是按你提供的情况估算，实际以当地规定和具体情况为准。数字说错了可以直接告诉我改正。单位不按规定执行的，"
             "可以说“我要投诉”，或者“转人工”找工会工作人员；维权热线12351。")


def _compensation_result() -> tuple[str, dict]:
    """The real result of "干了三年，月薪一万，被辞退" as action_calculate sends it (劳动合同法 第47条:
    3 months' wage = 30000; N+1 40000; 2N 60000): the conclusion, then the details in custom."""
    from datetime import date

    from bot.knowledge.calc import economic_compensation, render_parts
    from bot.knowledge.topics import topic_tag

    parts = render_parts(economic_compensation(36, 10000, today=date(2026, 12, 6)))
    return parts.conclusion, {**topic_tag("dismissal_compensation"), **parts.payload()}


def test_a_calculation_opens_with_its_conclusion_on_one_screen_and_folds_the_working(browser, web_url, tmp_path):
    page = open_chat(browser, web_url)
    for n in range(6):  # an earlier conversation fills the screen
        bot_says(page, f"之前的回答{n}\n" * 4)
    page.fill("#input", "我干了三年，月薪一万，被辞退能拿多少")
    page.locator("#send").tap()
    conclusion, custom = _compensation_result()
    bot_says(page, conclusion, custom=custom)
    bot_says(page, CALC_NEXT, buttons=[("我要投诉", "/file_complaint"), ("转人工", "/request_human")])
    page.screenshot(path=str(tmp_path / "compensation-390x844.png"))

    answer = page.locator(".msg.bot", has_text="帮你算好了（经济补偿计算）")
    fold = answer.locator("details.basis")
    assert fold.count() == 1 and not fold.evaluate("d => d.open")
    for figure in ("30000元", "40000元", "60000元"):  # the figures without opening anything
        assert page.get_by_text(figure, exact=False).first.is_visible()
    assert not page.get_by_text("依据：《劳动合同法》第47条").is_visible()  # the statutes are folded
    # The whole reply, down to its buttons, is on the screen: nothing to scroll.
    log_box = page.locator("#log").bounding_box()
    assert _top_gap(page, answer) >= 0
    quick = page.locator(".quick").last.bounding_box()
    assert quick["y"] + quick["height"] <= log_box["y"] + log_box["height"] + 1

    fold.locator("summary").tap()  # 查看依据
    assert fold.evaluate("d => d.open") and fold.locator("summary").inner_text() == "查看依据"
    assert "1. 月工资应按解除或终止合同前12个月的平均工资" in fold.inner_text()
    assert page.get_by_text("依据：《劳动合同法》第47条", exact=False).count() == 1

    page.reload()  # kept with the transcript, folded again
    connected(page)
    kept = page.locator(".msg.bot", has_text="帮你算好了（经济补偿计算）").locator("details.basis")
    assert kept.count() == 1 and not kept.evaluate("d => d.open")
    assert page.errors == [] and page.csp_violations == []
    page.context.close()


def test_the_folded_details_are_text_never_markup(browser, web_url):
    page = open_chat(browser, web_url)
    hostile = '<img src=x onerror="window.__xss=1">拨打12351<script>window.__xss=3</script>'
    bot_says(page, "帮你算好了：", custom={"details": {"label": "<b>查看</b>", "text": hostile}})
    bot_says(page, "没有依据的", custom={"details": {"text": 42}})   # not text: no fold
    fold = page.locator("details.basis")
    assert fold.count() == 1
    assert fold.locator("summary").inner_text() == "<b>查看</b>"
    fold.locator("summary").tap()
    assert hostile in fold.inner_text() and fold.locator("img, script, b").count() == 0
    assert fold.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))") == ["tel:12351"]
    assert page.evaluate("() => window.__xss") is None
    page.context.close()
