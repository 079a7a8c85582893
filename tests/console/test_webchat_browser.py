"""A worker opens the chat page in real headless Chromium, asks, gets the answer, and gets a union
staff member's replies even when they were written while the page was closed."""
from __future__ import annotations

import re
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
    assert "2倍工资" in answer and "查看依据" in answer and "《劳动合同法》第82条" not in answer
    assert "《劳动合同法》第82条" in page.locator(".msg.bot details.basis").last.text_content()  # folded
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


def _wait_for_bot_text(page, needle: str) -> None:
    page.wait_for_function(
        "n => [...document.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes(n))",
        arg=needle, timeout=30_000)


def _say(page, text: str, expect: str) -> None:
    page.fill("#input", text)
    page.click("#send")
    _wait_for_bot_text(page, expect)


def _tap(page, title: str, expect: str) -> None:
    page.locator(".quick button", has_text=title).last.click()
    _wait_for_bot_text(page, expect)


def test_the_ticket_of_a_filed_complaint_is_copied_and_its_progress_shown_to_its_owner_only(servers, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=servers.web_url)
    page = context.new_page()
    page.goto(servers.web_url + "/")
    _wait_for_bot_count(page, 1)
    _say(page, "我要投诉", "单位叫什么名字")
    _say(page, "宏达电子厂", "哪个城市")
    _say(page, "苏州", "哪方面的问题")
    _tap(page, "拖欠工资", "发生了什么")
    _say(page, "老板拖欠我三个月工资，一共两万四千元", "什么时候开始")
    _say(page, "今年八月", "多少名职工")
    _say(page, "3", "手机号")
    _tap(page, "匿名", "请核对你的投诉")
    _tap(page, "确认提交", "投诉已登记")
    filed = page.locator(".msg.bot .bubble", has_text="投诉已登记")
    ticket = re.search(r"NJ-\d{8}-[2-9A-HJKMNP-Z]{5}", filed.inner_text()).group()
    tools = page.locator(".tools")
    tools.get_by_role("button", name=f"复制工单号 {ticket}").click()
    page.wait_for_function("() => document.querySelector('.tools button').textContent === '已复制'")
    assert page.evaluate("() => navigator.clipboard.readText()") == ticket

    tools.get_by_role("button", name="查询进度").click()
    _wait_for_bot_text(page, f"工单 {ticket}（宏达电子厂）")
    assert "已登记，等待工会受理" in _bot_texts(page)[-1]
    assert page.locator(".msg.user .bubble").last.inner_text() == f"查询进度 {ticket}"

    # Another worker sends what the button sends, with this ticket: the bot knows only their own.
    other = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    other.goto(servers.web_url + "/")
    _wait_for_bot_count(other, 1)
    _say(other, '/check_complaint{"ticket": "%s"}' % ticket, f"没有找到你提交的工单 {ticket}")
    assert "宏达电子厂" not in "".join(_bot_texts(other))
    other.context.close()
    context.close()


def test_a_poor_rating_asks_what_went_wrong_and_the_supervisor_reads_the_answer(servers, browser):
    from tests.console.test_console_browser import make_account, staff_page

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(servers.web_url + "/")
    _wait_for_bot_count(page, 1)
    _say(page, "我要找人工", "转接工会工作人员")
    sender = page.evaluate("JSON.parse(localStorage.getItem('niangjia.session'))")
    with staff_desk(servers) as (desk, staff):
        handoff = next(h for h in desk.queue() if h.sender_id == sender)
        desk.claim(handoff.id, staff)
        desk.reply(handoff.id, staff, "你好，请问是什么问题？")
        desk.resolve(handoff.id, staff)
        _wait_for_bot_text(page, "打个分")
        _tap(page, "1分", "哪里没做好")
        box = page.locator("form.comment")
        box.locator("textarea").fill("等了很久才有人回，也没说清楚怎么办")
        box.get_by_role("button", name="提交").click()
        _wait_for_bot_text(page, "你的意见已经记下")
        assert page.locator("form.comment").count() == 0
        stored = desk.handoffs.get(handoff.id)
        assert (stored.rating, stored.rating_comment) == (1, "等了很久才有人回，也没说清楚怎么办")
    # The worker's comment is on the escalation's page, for the supervisor's review.
    supervisor = staff_page(browser, servers.web_url, make_account(servers.database_url, "supervisor"))
    supervisor.wait_for_url(re.compile(r".*/console/queue$"))
    supervisor.goto(f"{servers.web_url}/console/escalations/{handoff.id}")
    assert supervisor.locator("#rating-comment").inner_text() == "等了很久才有人回，也没说清楚怎么办"
    supervisor.context.close()

    # The bot is itself again.
    _say(page, "试用期最长可以约定多久", "试用期")
    context.close()


def test_a_waiting_worker_hears_the_message_arrived_then_who_took_over_and_sees_staff_apart(servers, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(servers.web_url + "/")
    _wait_for_bot_count(page, 1)
    page.fill("#input", "我刚从架子上摔下来了，腿很疼")
    page.click("#send")
    _wait_for_bot_count(page, 3)  # the hotlines at once, then the handoff
    assert "120" in _bot_texts(page)[1] and "转接工会工作人员" in _bot_texts(page)[2]
    sender = page.evaluate("JSON.parse(localStorage.getItem('niangjia.session'))")

    # Nobody has claimed it yet: the worker's next message is acknowledged (not swallowed) ...
    page.fill("#input", "有人吗？？腿很疼")
    page.click("#send")
    _wait_for_bot_count(page, 4)
    told = _bot_texts(page)[3]
    assert "收到你的消息了" in told and "在这个对话里回复你" in told and re.search(r"排在第\d+位", told)
    assert "12351" in told and "120" in told
    assert page.locator(".msg.bot .bubble").last.locator("a[href='tel:12351']").count() == 1
    # ... but not every message: the next one, at once, gets nothing more.
    page.fill("#input", "还是很疼，站不起来")
    page.click("#send")
    page.wait_for_timeout(2500)
    assert len(_bot_texts(page)) == 4

    with staff_desk(servers) as (desk, staff):
        handoff = next(h for h in desk.queue() if h.sender_id == sender)
        assert handoff.priority == 1
        desk.claim(handoff.id, staff)
        notice = page.locator(".msg.notice .bubble")
        notice.wait_for(timeout=30_000)
        assert notice.inner_text() == "工会的李干事已接入，接下来会在这个对话里直接回复你。"
        desk.reply(handoff.id, staff, "我是李干事，先别动，我们马上帮你联系120和单位。")
        page.wait_for_selector(".msg.staff .bubble", timeout=30_000)
        _wait_for_delivery(desk, handoff.id, [True])
        assert [m.role for m in desk.handoffs.get(handoff.id).messages if m.role in ("notice", "staff")] == [
            "notice", "staff"]
    staff_row = page.locator(".msg.staff").last
    # The staff member's name above the bubble (not inside it), in a bubble unlike the bot's.
    assert staff_row.locator(".name").inner_text() == "工会工作人员 · 李干事"
    assert staff_row.locator(".bubble").inner_text() == "我是李干事，先别动，我们马上帮你联系120和单位。"
    name_box, bubble_box = staff_row.locator(".name").bounding_box(), staff_row.locator(".bubble").bounding_box()
    assert name_box["y"] + name_box["height"] <= bubble_box["y"] + 1
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderTopColor]"
    assert staff_row.locator(".bubble").evaluate(style) != page.locator(".msg.bot .bubble").last.evaluate(style)
    page.screenshot(path=str(servers.var_dir / "waiting-worker-390.png"))
    # Reloaded, the page shows the same: the notice and the staff reply are kept.
    page.reload()
    page.wait_for_selector("#log[data-state=ready]", timeout=30_000)
    assert page.locator(".msg.notice").count() == 1 and page.locator(".msg.staff .name").count() == 1
    context.close()
