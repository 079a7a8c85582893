"""Staff use the console in real headless Chromium against the running assistant.

A worker chats on the web chat page in one browser context while a staff member
works in another: what each sees is what the test asserts.
"""
from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest

from bot.storage.accounts import AccountService
from bot.storage.db import Database
from tests.console.conftest import watch_csp

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PASSWORD = "browser-test-password"


def make_account(database_url: str, role: str = "staff", unit: str | None = None) -> str:
    db = Database(database_url)
    username = f"{role}{uuid.uuid4().hex[:6]}"
    try:
        AccountService(db).add(username, "李干事" if role == "staff" else "王主任", role, unit, password=PASSWORD)
    finally:
        db.dispose()
    return username


def staff_page(browser, web_url: str, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(web_url + "/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    return page


def worker_page(browser, web_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(web_url + "/")
    page.wait_for_selector("#log[data-state=ready]", timeout=30_000)
    return page


def worker_says(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#input", text)
    page.click("#send")


def wait_for_bot_text(page, needle: str, timeout: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "n => [...document.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes(n))",
        arg=needle, timeout=timeout)


def test_login_refuses_a_wrong_password_then_opens_the_queue(servers, browser):
    username = make_account(servers.database_url)
    page = staff_page(browser, servers.web_url, username, "not the password")
    assert "用户名或密码不正确" in page.locator(".flash.error").inner_text()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/queue$"))
    assert page.locator("h1").inner_text() == "转人工队列"
    assert "李干事" in page.locator(".topbar .me").inner_text()
    page.context.close()


def test_staff_claims_replies_and_resolves_and_the_worker_sees_it_in_the_chat(servers, browser):
    staff = staff_page(browser, servers.web_url, make_account(servers.database_url))
    staff.wait_for_url(re.compile(r".*/console/queue$"))
    # Other tests share this assistant: their conversations may be in the queue too.
    before = staff.eval_on_selector_all("#queue tbody tr[data-id]", "rows => rows.map(r => r.dataset.id)")
    worker = worker_page(browser, servers.web_url)
    marker = f"我被拖欠工资{uuid.uuid4().hex[:4]}，<script>alert(1)</script>"
    worker_says(worker, marker)
    worker_says(worker, "转人工")
    wait_for_bot_text(worker, "已为你转接工会工作人员")

    # The queue shows the new conversation without a reload (polling), the worker's text as text.
    new_id = staff.wait_for_function(
        "seen => [...document.querySelectorAll('#queue tbody tr[data-id]')]"
        ".map(r => r.dataset.id).find(id => !seen.includes(id))", arg=before, timeout=20_000).json_value()
    assert staff.locator("#queue script").count() == 0
    staff.locator(f"#queue tbody tr[data-id='{new_id}'] a").click()
    staff.wait_for_selector("#claim-form")
    # the transcript starts at the handoff; what the worker said before it is one click away, as text
    assert marker not in staff.locator("#messages").inner_text()
    staff.click("#earlier summary")
    assert marker in staff.locator("#transcript").inner_text()
    assert staff.locator("#transcript script").count() == 0
    staff.click("#claim-form button")
    staff.fill("#reply-text", "您好，我是工会的李干事，请问拖欠了几个月？")
    staff.click("#reply-form button")
    assert "回复已发出" in staff.locator(".flash").first.inner_text()
    # The worker sees it in a staff bubble with the name, and the page confirms it.
    worker.locator(".msg.staff .bubble", has_text="我是工会的李干事").wait_for(timeout=30_000)
    assert "工会工作人员 · " in worker.locator(".msg.staff .name").first.inner_text()
    for _ in range(20):  # delivered once the page confirmed it: "职工尚未收到" goes away
        staff.reload()
        staff.locator("#messages li.staff", has_text="我是工会的李干事").wait_for(timeout=20_000)
        if staff.locator("#messages li.staff .pending").count() == 0:
            break
        staff.wait_for_timeout(500)
    assert staff.locator("#messages li.staff .pending").count() == 0

    # The worker answers; the staff page shows it without a reload.
    worker_says(worker, "三个月了")
    staff.locator("#messages li.worker", has_text="三个月了").wait_for(timeout=20_000)

    staff.click("#resolve summary")  # resolving asks first
    staff.click("#resolve-confirm")
    staff.wait_for_url(re.compile(r".*/console/queue$"))
    wait_for_bot_text(worker, "工作人员已处理完毕")
    assert worker.locator(".quick button", has_text="5分").count() == 1
    staff.context.close()
    worker.context.close()


def test_staff_closes_a_complaint_from_the_browser(servers, browser):
    from bot.complaints import ComplaintDraft
    from bot.storage.services import ComplaintService

    db = Database(servers.database_url)
    employer = f"宏达电子厂{uuid.uuid4().hex[:4]}"
    try:
        ticket = ComplaintService(db).submit(ComplaintDraft(
            sender_id="browser-worker", channel="socketio", employer=employer, topic="overtime_pay",
            description="每天加班三小时没有加班费", since_text="今年三月", workers_affected=12,
            phone="13812345678", consent_to_contact=True)).complaint.ticket
    finally:
        db.dispose()
    staff = staff_page(browser, servers.web_url, make_account(servers.database_url))
    staff.wait_for_url(re.compile(r".*/console/queue$"))
    staff.click(".topbar nav >> text=投诉")
    staff.fill("input[name=employer]", employer)
    staff.keyboard.press("Enter")
    staff.locator("a", has_text=ticket).click()
    assert "每天加班三小时没有加班费" in staff.locator("main").inner_text()
    for button, status in (("受理", "已受理"), ("开始处理", "处理中"), ("办结", "已办结")):
        staff.click(f"#status-form button:text-is('{button}')")
        staff.locator("#status", has_text=status).wait_for(timeout=10_000)
    assert "不能再改变状态" in staff.locator("main").inner_text()
    staff.context.close()


def test_the_chat_and_every_console_page_run_under_their_content_security_policy(servers, browser):
    """The pages' own scripts, socket.io to the Rasa server, Chart.js: all allowed, nothing blocked."""
    from bot.complaints import ComplaintDraft
    from bot.storage.services import ComplaintService, HandoffRequest, HandoffService

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    violations = watch_csp(context)
    worker = context.new_page()
    worker.goto(servers.web_url + "/")
    worker.wait_for_selector("#log[data-state=ready]", timeout=30_000)  # socket.io reached Rasa
    worker_says(worker, "试用期最长多久")
    worker.wait_for_function("() => document.querySelectorAll('.msg.bot .bubble').length >= 2", timeout=30_000)
    assert violations == []
    context.close()

    db = Database(servers.database_url)
    try:
        handoff = HandoffService(db).open(HandoffRequest(f"csp-{uuid.uuid4().hex[:6]}", "socketio", "requested"))
        ticket = ComplaintService(db).submit(ComplaintDraft(
            sender_id="csp-worker", channel="socketio", employer="宏达电子厂", topic="overtime_pay",
            description="加班没有加班费", since_text="今年三月", workers_affected=2, phone=None,
            consent_to_contact=False)).complaint.ticket
    finally:
        db.dispose()
    admin = staff_page(browser, servers.web_url, make_account(servers.database_url, "admin"))
    violations = watch_csp(admin.context)
    admin.wait_for_url(re.compile(r".*/console/queue$"))
    admin.wait_for_function("() => typeof window.QUEUE_URL === 'string'")
    admin.goto(servers.web_url + "/console/dashboard")
    admin.locator("#chart-daily").wait_for(state="visible", timeout=20_000)  # Chart.js drew it
    for path in (f"/console/handoffs/{handoff.id}", "/console/complaints", f"/console/complaints/{ticket}",
                 "/console/teach", "/console/faqs", "/console/audit", "/console/accounts", "/console/units",
                 "/console/password", "/console/queue"):
        response = admin.goto(servers.web_url + path)
        assert response.status == 200, path
        admin.wait_for_load_state("networkidle")
    assert violations == []
    admin.context.close()


@pytest.fixture(scope="module")
def own_project(trained_model, tmp_path_factory, fake_wechat_api):  # type: ignore[no-untyped-def]
    """The assistant running from a copy of the project, so publishing writes the copy's data/."""
    from tests.conftest import ROOT, _stack

    root = tmp_path_factory.mktemp("project")
    for name in ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests" / "nlu", root / "tests" / "nlu", ignore=shutil.ignore_patterns("*.py"))
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    (root / "models").mkdir()
    shutil.copy2(trained_model, root / "models" / trained_model.name)
    yield from _stack(root / "var", ("web", "actions", "rasa"), wechat_api=fake_wechat_api.url,
                      NIANGJIA_ROOT=str(root), NIANGJIA_MODELS_DIR=str(root / "models"),
                      PYTHONPATH=str(ROOT))


# The model in data/ falls back on it (nlu_fallback, no topic near): the inbox collects it with any
# model. ("疗休养名额怎么申请" was union_assistance 0.47, just below the inbox's 0.5: a model trained
# a little differently answered it and the test never found its row.)
QUESTION = "今年疗休养轮到谁去"
ANSWER = "职工疗休养由本单位工会每年按名额推荐，一线职工优先。请向所在单位工会报名，也可拨打12351咨询。"


def test_unrecognised_question_becomes_a_live_faq_from_the_browser(own_project, browser):
    stack = own_project
    worker = worker_page(browser, stack.web_url)
    worker_says(worker, QUESTION)
    worker.wait_for_function("() => document.querySelectorAll('.msg.bot .bubble').length >= 2", timeout=30_000)
    assert ANSWER[:10] not in worker.locator(".msg.bot .bubble").last.inner_text()

    staff = staff_page(browser, stack.web_url, make_account(stack.database_url))
    staff.wait_for_url(re.compile(r".*/console/queue$"))
    staff.click("text=教机器人")
    row = staff.locator("#inbox tr", has_text=QUESTION)
    row.locator("a", has_text="新建问答").click()
    assert staff.locator("#questions").input_value() == QUESTION
    staff.fill("#title", "职工疗休养报名")
    staff.fill("#questions", "\n".join([QUESTION, "怎么报名参加职工疗休养", "工会组织的疗养谁能去",
                                        "疗休养名额是怎么分配的", "今年的疗休养什么时候报名"]))
    staff.fill("#answer", ANSWER)
    staff.fill("#basis", "本会职工疗休养管理办法")
    staff.click("#faq-form button[type=submit]")
    assert "已保存为草稿" in staff.locator(".flash").first.inner_text()
    # Staff write, but a supervisor who did not write the answer checks it and publishes.
    assert staff.locator("#publish-form").count() == 0 and staff.locator("#approvals .approve-form").count() == 0

    supervisor = staff_page(browser, stack.web_url, make_account(stack.database_url, "supervisor"))
    supervisor.wait_for_url(re.compile(r".*/console/queue$"))
    supervisor.goto(stack.web_url + "/console/faqs")
    assert supervisor.locator("#approvals .diff.answer ins").inner_text() == ANSWER
    supervisor.click("#approvals .approve-form button")
    assert "已批准" in supervisor.locator(".flash").first.inner_text()
    supervisor.click("#publish-form button")
    assert "已开始重新训练" in supervisor.locator(".flash").first.inner_text()
    status = supervisor.locator(".job .job-status").first
    # Training on two cores takes minutes; the page follows the job without a reload.
    supervisor.wait_for_function(
        "() => ['已上线', '未上线', '失败'].includes(document.querySelector('.job .job-status').textContent)",
        timeout=15 * 60_000, polling=2000)
    message = supervisor.locator(".job .job-message").first.inner_text()
    assert status.inner_text() == "已上线", message
    assert (Path(stack.env["NIANGJIA_ROOT"]) / "data" / "staff" / "faq.yml").exists()

    worker_says(worker, "我想参加疗休养，要找谁报名")
    wait_for_bot_text(worker, ANSWER[:20], timeout=60_000)
    staff.context.close()
    supervisor.context.close()
    worker.context.close()
