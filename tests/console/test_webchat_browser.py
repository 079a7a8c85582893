"""A worker opens the chat page in real headless Chromium, asks, gets the answer, and gets a union
staff member's replies even when they were written while the page was closed."""
from __future__ import annotations

import time

import pytest

from tests.conftest import staff_desk
from tests.console.conftest import watch_csp

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _bot_texts(page) -> list[str]:
    return page.locator(".msg.bot .bubble").all_inner_texts()


def _wait_for_bot_count(page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.bot .bubble').length >= n", arg=count, timeout=30_000)


def test_worker_asks_and_sees_the_answer_then_reloads(servers, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    violations = watch_csp(context)
    page = context.new_page()
    page.goto(servers.web_url + "/")

    # First visit: the greeting with the menu of what the bot can do.
    _wait_for_bot_count(page, 1)
    assert "娘家人" in _bot_texts(page)[0]
    assert page.locator(".quick button", has_text="拖欠工资").count() == 1

    page.fill("#input", "我在厂里干了一年多，公司一直没跟我签劳动合同，怎么办")
    page.click("#send")
    # The rule first; the worker said how long (一年多), so the bot offers their own figure
    # and asks for the one number it still needs.
    _wait_for_bot_count(page, 3)
    answer, question = _bot_texts(page)[-2:]
    assert "2倍工资" in answer and "《劳动合同法》第82条" in answer
    assert "月工资" in question
    assert page.locator(".msg.user .bubble").last.inner_text().startswith("我在厂里干了一年多")

    # A quick-reply button sends its payload and shows its title (another question: the
    # calculation is left and the rule answered, with an offer to calculate).
    page.locator(".quick button", has_text="年休假").first.click()
    _wait_for_bot_count(page, 4)
    assert "年休假5天" in _bot_texts(page)[-1]

    # Reload: the transcript is still there and the same conversation continues.
    page.reload()
    page.wait_for_selector("#log[data-state=ready]", timeout=30_000)
    assert len(_bot_texts(page)) == 4
    page.fill("#input", "<script>alert(1)</script>")
    page.click("#send")
    _wait_for_bot_count(page, 5)
    # The worker's text is shown as text, not executed as markup.
    assert page.locator(".msg.user .bubble").last.inner_text() == "<script>alert(1)</script>"
    assert page.locator("#log script").count() == 0
    page.fill("#input", "那试用期呢？")
    page.click("#send")
    _wait_for_bot_count(page, 6)
    assert "试用期" in _bot_texts(page)[-1]
    assert violations == []  # the page's settings, socket.io to the Rasa server: all within its CSP
    context.close()


def _staff_bubbles(page) -> list[str]:
    return page.locator(".msg.staff .bubble").all_inner_texts()


def _delivery(desk, handoff_id: int) -> list[bool | None]:
    """What the console knows of each staff reply: delivered, not yet confirmed (None), failed."""
    return [m.delivered for m in desk.handoffs.get(handoff_id).messages if m.role == "staff"]


def _wait_for_delivery(desk, handoff_id: int, expected: list[bool | None]) -> None:
    deadline = time.monotonic() + 15
    while _delivery(desk, handoff_id) != expected:
        assert time.monotonic() < deadline, f"delivery stayed {_delivery(desk, handoff_id)}"
        time.sleep(0.3)


def test_a_staff_reply_written_while_the_page_is_closed_is_there_once_when_it_reopens(servers, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(servers.web_url + "/")
    _wait_for_bot_count(page, 1)
    page.fill("#input", "我要找人工")
    page.click("#send")
    _wait_for_bot_count(page, 2)
    sender = page.evaluate("JSON.parse(localStorage.getItem('niangjia.session'))")

    with staff_desk(servers) as (desk, staff):
        handoff = next(h for h in desk.queue() if h.sender_id == sender)
        desk.claim(handoff.id, staff)
        # While the page is open the reply arrives at once, in a staff bubble with the name.
        desk.reply(handoff.id, staff, "你好，我是工会的李干事，请问单位欠了几个月工资？")
        page.wait_for_selector(".msg.staff .bubble", timeout=30_000)
        assert "李干事" in _staff_bubbles(page)[0]
        _wait_for_delivery(desk, handoff.id, [True])

        page.close()  # the worker locks the phone
        delivery = desk.reply(handoff.id, staff, "我们先帮你联系单位，明天给你回复。")
        assert delivery.pending and not delivery.delivered
        time.sleep(1)
        assert _delivery(desk, handoff.id) == [True, None]

        page = context.new_page()  # ... and opens the chat again
        page.goto(servers.web_url + "/")
        page.wait_for_function(
            "() => document.querySelectorAll('.msg.staff .bubble').length >= 2", timeout=30_000)
        page.wait_for_timeout(1000)  # a second copy would have arrived by now
        staff_texts = _staff_bubbles(page)
        assert len(staff_texts) == 2 and "明天给你回复" in staff_texts[1]
        _wait_for_delivery(desk, handoff.id, [True, True])

        page.reload()  # confirmed replies are not sent again
        page.wait_for_selector("#log[data-state=ready]", timeout=30_000)
        page.wait_for_timeout(1000)
        assert len(_staff_bubbles(page)) == 2
    context.close()
