"""A worker opens the chat page in real headless Chromium, asks, and gets the answer."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _bot_texts(page) -> list[str]:
    return page.locator(".msg.bot .bubble").all_inner_texts()


def _wait_for_bot_count(page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.bot .bubble').length >= n", arg=count, timeout=30_000)


def test_worker_asks_and_sees_the_answer_then_reloads(servers, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
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
    context.close()
