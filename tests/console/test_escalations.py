"""The escalations page: who sees which handoffs (role × unit), what needs review first, filters,
a resolved handoff with its transcript, notes and rating, the review, and the CSV export."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.console.deps import services
from bot.storage.models import AuditEntry, Handoff, Priority, utcnow
from bot.storage.privacy import PrivacyService
from bot.storage.services import HandoffRequest, HandoffService
from tests.console.conftest import PASSWORD, build_app, login, post
# The console's accounts and ``zhou``, a supervisor of 海淀区工会 (not the root unit).
from tests.console.test_unit_scope import everyone  # noqa: F401 (a fixture)

ROWS = re.compile(r'<tr class="[^"]*" data-id="(\d+)">')


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def handled(app, sender: str, start: datetime, *, region: str | None = "朝阳", by: str | None = "staff",
            claim_after: int = 1, reply: str | None = "您好，我是工会的工作人员", resolve: bool = True,
            rating: int | None = None, priority: Priority = Priority.NORMAL, reason: str = "requested",
            said: str = "我要找人工", slots: dict | None = None) -> int:
    """A handoff that went as told, ``start`` being when the worker was handed over."""
    clock = Clock(start)
    with app.app_context():
        service = HandoffService(services().db, clock=clock)
        handoff = service.open(HandoffRequest(
            sender, "socketio", reason, priority, slots={**({"region": region} if region else {}), **(slots or {})},
            transcript=[("worker", said, start.replace(tzinfo=timezone.utc).timestamp())]))
        if by:
            clock.now = start + timedelta(minutes=claim_after)
            service.claim(handoff.id, by)
            if reply:
                clock.now += timedelta(minutes=1)
                service.record_staff_reply(handoff.id, by, reply)
        if resolve:
            clock.now += timedelta(minutes=10)
            service.resolve(handoff.id, by or "supervisor")
            if rating is not None:
                service.rate(sender, rating)
    return handoff.id


@pytest.fixture
def cases(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """朝阳: ``low`` (rated 2, with a note and a comment), ``late`` (a crisis claimed after 5 minutes),
    ``silent`` (resolved without a reply); 海淀: ``haidian``; unrouted: ``waiting`` (open)."""
    hours_ago = utcnow() - timedelta(hours=5)
    found = {
        "low": handled(app, "w-low", hours_ago, rating=2, said="老板拖欠我三个月工资"),
        "late": handled(app, "w-late", hours_ago + timedelta(hours=1), claim_after=5, rating=5,
                        priority=Priority.CRISIS, reason="crisis", said="工地有人受伤了"),
        "silent": handled(app, "w-silent", hours_ago + timedelta(hours=2), reply=None, by="supervisor"),
        "haidian": handled(app, "w-haidian", hours_ago + timedelta(hours=3), region="海淀", by="haidian", rating=4),
        "waiting": handled(app, "w-waiting", hours_ago + timedelta(hours=4), region=None, by=None, resolve=False),
    }
    with app.app_context():
        services().handoffs.add_note(found["low"], "staff", "已建议职工申请劳动仲裁")
        with services().db.transaction() as session:
            session.execute(update(Handoff).where(Handoff.id == found["low"])
                            .values(rating_comment="等了很久，回答也不清楚"))
    return found


def listed(client, query: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get(f"/console/escalations{query}")
    assert response.status_code == 200
    return [int(i) for i in ROWS.findall(response.get_data(as_text=True))]


SEES = {"staff": {"low", "late"}, "haidian": {"haidian"}, "zhou": {"haidian"},
        "supervisor": {"low", "late", "silent", "haidian", "waiting"},
        "admin": {"low", "late", "silent", "haidian", "waiting"}}


@pytest.mark.parametrize("who", sorted(SEES))
def test_each_account_sees_the_handoffs_of_its_units_and_staff_only_their_own(app, everyone, cases, who):
    assert set(listed(everyone[who])) == {cases[name] for name in SEES[who]}
    for name, handoff_id in cases.items():
        response = everyone[who].get(f"/console/escalations/{handoff_id}")
        assert response.status_code == (200 if name in SEES[who] else 404), (who, name)


@pytest.mark.parametrize("who, case, status", [
    ("staff", "low", 403), ("haidian", "haidian", 403), ("zhou", "low", 404), ("zhou", "haidian", 302),
    ("supervisor", "low", 302), ("supervisor", "haidian", 302), ("admin", "silent", 302)])
def test_only_supervisors_and_admins_of_its_units_mark_a_handoff_reviewed(app, everyone, cases, who, case, status):
    response = post(everyone[who], f"/console/escalations/{cases[case]}/review", note="处理及时，答复准确")
    assert response.status_code == status
    with app.app_context():
        handoff = services().handoffs.get(cases[case])
    assert (handoff.reviewed_at is not None) is (status == 302)
    assert handoff.review_note == ("处理及时，答复准确" if status == 302 else None)


@pytest.mark.parametrize("who, sees", [("zhou", {"haidian"}), ("supervisor", set(SEES["supervisor"]))])
def test_the_export_holds_what_the_account_sees(app, everyone, cases, who, sees):
    rows = exported(everyone[who])
    assert {int(r["编号"]) for r in rows} == {cases[name] for name in sees}


def test_the_page_is_in_the_menu_of_every_role(everyone):
    for who in ("staff", "supervisor", "admin"):
        html = everyone[who].get("/console/queue").get_data(as_text=True)
        assert 'href="/console/escalations">转人工记录</a>' in html


def test_what_needs_review_comes_first_with_its_reasons_and_times(app, everyone, cases):
    html = everyone["supervisor"].get("/console/escalations").get_data(as_text=True)
    assert listed(everyone["supervisor"]) == [cases[n] for n in ("silent", "late", "low", "waiting", "haidian")]
    rows = {int(i): row for i, row in re.findall(r'data-id="(\d+)">(.*?)</tr>', html, re.S)}
    assert "待复核" in rows[cases["low"]] and "职工评分 1–2 分" in rows[cases["low"]]
    assert '<td class="late">2 分</td>' in rows[cases["low"]] and "李干事" in rows[cases["low"]]
    assert "危急情况等待认领超时" in rows[cases["late"]] and '<td class="late">5 分钟</td>' in rows[cases["late"]]
    assert "<td>6 分钟</td>" in rows[cases["late"]]  # the first reply came a minute after the claim
    assert "没有回复职工就结束了" in rows[cases["silent"]] and "<td>没有回复</td>" in rows[cases["silent"]]
    assert "待复核" not in rows[cases["haidian"]] and "孙干事" in rows[cases["haidian"]]
    waiting = rows[cases["waiting"]]
    assert "未分派" in waiting and "已等 1 小时" in waiting and "待认领" in waiting
    assert '<td class="late">已等 1 小时' in waiting  # unclaimed past the general limit


@pytest.mark.parametrize("query, expected", [
    ("?reason=crisis", {"late"}), ("?reason=requested", {"low", "silent", "haidian", "waiting"}),
    ("?rating=low", {"low"}), ("?rating=none", {"silent", "waiting"}), ("?rating=5", {"late"}),
    ("?status=open", {"waiting"}), ("?status=resolved&review=needed", {"low", "late", "silent"}),
    ("?unit=none", {"waiting"}), ("?reason=crisis&rating=low", set()),
])
def test_filters(app, everyone, cases, query, expected):
    assert set(listed(everyone["supervisor"], query)) == {cases[name] for name in expected}


def test_the_unit_and_staff_filters_offer_what_the_account_may_see(app, everyone, cases):
    with app.app_context():
        units = {u.name: u.id for u in services().accounts.units()}
        haidian = services().accounts.get("haidian").id
    root = everyone["supervisor"]
    assert set(listed(root, f"?unit={units['朝阳区工会']}")) == {cases[n] for n in ("low", "late", "silent")}
    assert set(listed(root, f"?staff={haidian}")) == {cases["haidian"]}
    html = everyone["zhou"].get("/console/escalations").get_data(as_text=True)
    assert "朝阳区工会" not in html and "李干事" not in html and "未分派" not in html
    # Another unit's id is no choice of zhou's: the filter is refused, not applied.
    answer = everyone["zhou"].get(f"/console/escalations?unit={units['朝阳区工会']}").get_data(as_text=True)
    assert "筛选条件有误" in answer
    assert 'name="staff"' not in everyone["staff"].get("/console/escalations").get_data(as_text=True)


def test_dates_are_beijing_days_and_an_invalid_filter_is_reported(app, everyone, cases):
    today = (utcnow() + timedelta(hours=8)).date()
    tomorrow = today + timedelta(days=1)
    assert listed(everyone["supervisor"], f"?date_from={tomorrow}") == []
    assert len(listed(everyone["supervisor"], f"?date_to={tomorrow}")) == 5
    html = everyone["supervisor"].get("/console/escalations?rating=9").get_data(as_text=True)
    assert "筛选条件有误" in html and len(ROWS.findall(html)) == 5


def test_a_resolved_handoff_opens_with_its_transcript_notes_rating_and_comment(app, everyone, cases):
    html = everyone["staff"].get(f"/console/escalations/{cases['low']}").get_data(as_text=True)
    transcript = html.split('id="messages"')[1].split("</ol>")[0]
    notes = html.split('id="notes"')[1].split("</ol>")[0]
    assert "老板拖欠我三个月工资" in transcript and "您好，我是工会的工作人员" in transcript
    assert "已建议职工申请劳动仲裁" in notes and "已建议职工申请劳动仲裁" not in transcript
    assert "2 分" in html and "等了很久，回答也不清楚" in html and "职工评分 1–2 分" in html
    assert "对话内容保存到" in html
    assert 'id="review-form"' not in html and "尚未复核" in html  # staff read, supervisors review
    assert 'id="review-form"' in everyone["supervisor"].get(f"/console/escalations/{cases['low']}").get_data(as_text=True)
    waiting = everyone["supervisor"].get(f"/console/escalations/{cases['waiting']}").get_data(as_text=True)
    assert 'id="review-form"' not in waiting and "对话解决后才能复核" in waiting


def test_a_purged_transcript_says_so(app, everyone, cases):
    with app.app_context():
        PrivacyService(services().db).purge(utcnow() + timedelta(days=1))
    html = everyone["supervisor"].get(f"/console/escalations/{cases['low']}").get_data(as_text=True)
    assert 'id="erased"' in html and "老板拖欠我三个月工资" not in html and "2 分" in html


def test_the_review_is_shown_filtered_and_audited_in_chinese(app, everyone, cases):
    client = everyone["supervisor"]
    assert "复核意见不能为空" in client.get(
        post(client, f"/console/escalations/{cases['low']}/review", note="  ").location).get_data(as_text=True)
    response = post(client, f"/console/escalations/{cases['low']}/review", note="已电话回访职工")
    page = client.get(response.location).get_data(as_text=True)
    assert "已标记为“已复核”" in page and "已电话回访职工" in page and "王主任" in page
    assert 'id="review-form"' not in page
    assert post(client, f"/console/escalations/{cases['low']}/review", note="再来一次").status_code == 409
    assert post(client, f"/console/escalations/{cases['waiting']}/review", note="还没解决").status_code == 409
    assert set(listed(client, "?review=reviewed")) == {cases["low"]}
    assert cases["low"] not in listed(client, "?review=needed")
    audit = client.get("/console/audit").get_data(as_text=True).split('id="audit"')[1].split("</table>")[0]
    assert "复核转人工对话" in audit and "handoff.reviewed" not in audit
    with app.app_context(), services().db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "handoff.reviewed")).one()
    assert (entry.actor, entry.object_id) == ("supervisor", str(cases["low"]))


def test_the_crisis_claim_limit_is_a_setting(tmp_path):
    app = build_app(tmp_path, CRISIS_CLAIM_MINUTES="10")
    late = handled(app, "w-late", utcnow() - timedelta(hours=1), claim_after=5, priority=Priority.CRISIS,
                   reason="crisis")
    client = app.test_client()
    assert login(client, "supervisor").status_code == 302
    html = client.get("/console/escalations").get_data(as_text=True)
    assert listed(client) == [late] and "危急 10 分钟" in html
    assert "危急情况等待认领超时" not in html and '<td class="late">' not in html


# --- CSV export -------------------------------------------------------------------------------

def exported(client, query: str = "") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/console/escalations.csv{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode("utf-8"))
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_staff_may_not_export(app, everyone, cases):
    assert everyone["staff"].get("/console/escalations.csv").status_code == 403
    assert 'id="export"' not in everyone["staff"].get("/console/escalations").get_data(as_text=True)
    assert 'id="export"' in everyone["supervisor"].get("/console/escalations").get_data(as_text=True)


def test_the_export_follows_the_filters_and_is_audited(app, everyone, cases):
    rows = exported(everyone["supervisor"], "?reason=crisis")
    assert len(rows) == 1
    row = rows[0]
    assert (row["编号"], row["原因"], row["处理人"], row["认领用时（分钟）"], row["等到回复用时（分钟）"],
            row["评分"], row["需复核的原因"]) == (str(cases["late"]), "危急情况", "李干事", "5", "6", "5",
                                            "危急情况等待认领超时")
    assert everyone["supervisor"].get("/console/escalations.csv?date_to=tomorrow").status_code == 400
    with app.app_context(), services().db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "handoff.exported")).one()
    assert entry.detail == {"filters": {"reason": "crisis"}, "rows": 1}


def test_the_export_shows_a_phone_only_with_consent_and_runs_no_formula(app, everyone, cases):
    start = utcnow() - timedelta(hours=1)
    agreed = handled(app, "w-agreed", start, slots={"complaint_phone": "13812345678", "complaint_consent": True})
    refused = handled(app, "w-refused", start, slots={"complaint_phone": "13987654321", "complaint_consent": False})
    with app.app_context(), services().db.transaction() as session:
        session.execute(update(Handoff).where(Handoff.id == agreed).values(rating_comment="+1 太慢了"))
    post(everyone["supervisor"], f"/console/escalations/{refused}/review", note='=HYPERLINK("http://x")')
    rows = {int(r["编号"]): r for r in exported(everyone["supervisor"])}
    assert rows[agreed]["联系电话（职工同意联系时，已隐藏中间位）"] == "138****5678"
    assert rows[refused]["联系电话（职工同意联系时，已隐藏中间位）"] == ""
    assert rows[agreed]["职工的评价意见"] == "'+1 太慢了"
    assert rows[refused]["复核意见"] == "'=HYPERLINK(\"http://x\")" and rows[refused]["复核"] == "已复核"
    body = everyone["supervisor"].get("/console/escalations.csv").get_data().decode("utf-8-sig")
    assert "13987654321" not in body and "13812345678" not in body and "7654321" not in body


# --- In a browser -----------------------------------------------------------------------------

@pytest.mark.browser
def test_a_supervisor_filters_opens_a_resolved_handoff_and_marks_it_reviewed(app, cases):
    """Real headless Chromium against the console on a local port, under its CSP."""
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from tests.console.conftest import CHROMIUM, FLAGS, watch_csp

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            violations = watch_csp(context)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/console/login")
            page.fill("input[name=username]", "supervisor")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.click("nav >> text=转人工记录")
            page.wait_for_selector("#escalations")
            assert page.locator("#escalations tbody tr").count() == 5
            page.select_option("#rating", "low")
            page.click("#escalation-filters button[type=submit]")
            page.wait_for_url(re.compile(r".*rating=low.*"))
            assert page.locator("#escalations tbody tr").count() == 1
            row = page.locator(f"#escalations tbody tr[data-id='{cases['low']}']")
            assert "待复核" in row.inner_text() and "职工评分 1–2 分" in row.inner_text()
            row.locator("a").click()
            page.wait_for_selector("#review-form")
            assert "老板拖欠我三个月工资" in page.locator("#messages").inner_text()
            assert "已建议职工申请劳动仲裁" in page.locator("#notes").inner_text()
            assert "等了很久，回答也不清楚" in page.locator("#rating").inner_text()
            page.fill("#note", "已电话回访，职工接受了补充说明")
            page.click("#review-form button")
            page.wait_for_selector("#reviewed-badge")
            assert "已标记为“已复核”" in page.locator(".flash").first.inner_text()
            assert page.locator("#review-note").inner_text() == "已电话回访，职工接受了补充说明"
            page.goto(base + "/console/escalations?review=reviewed")
            assert page.locator("#escalations tbody tr").count() == 1
            assert "已复核" in page.locator(f"tr[data-id='{cases['low']}'] .review").inner_text()
            assert violations == [] and errors == []
            browser.close()
    finally:
        server.shutdown()
