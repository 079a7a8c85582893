"""The supervisors' dashboard: figures from Rasa's tracker store and our tables, scope, warnings.

Conversations are written by Rasa's own ``SQLTrackerStore`` into the app's ``TRACKER_URL``;
complaints and handoffs through our models, routed to the units of the console fixture.
"""
from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from html import escape

import pytest
from flask import Flask
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.analytics import epoch
from bot.console.analytics import duration_label, period, topic_label
from bot.console.deps import services
from bot.storage.models import Complaint, Handoff, utcnow
from tests.console.conftest import PASSWORD, console_in_chromium, login

TICKETS = itertools.count(1)
HOUR = timedelta(hours=1)


def said(text: str, intent: str, at: datetime) -> UserUttered:
    return UserUttered(text, intent={"name": intent, "confidence": 0.9}, timestamp=epoch(at))


def record(app: Flask, conversations: dict[str, list[UserUttered | BotUttered]]) -> None:
    store = SQLTrackerStore(domain=Domain.empty(), host=app.config["NIANGJIA_SETTINGS"].tracker_url)
    try:
        for sender, events in conversations.items():
            asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    finally:
        store.engine.dispose()


def unit_id(app: Flask, name: str) -> int:
    with app.app_context():
        return next(u.id for u in services().accounts.units() if u.name == name)


def complaint(app: Flask, employer: str, at: datetime, unit: str, topic: str = "wage_arrears",
              region: str | None = None) -> str:
    ticket = f"NJ-T{next(TICKETS):05d}"
    org_unit_id = unit_id(app, unit)
    with app.app_context(), services().db.transaction() as session:
        session.add(Complaint(ticket=ticket, sender_id=f"w-{ticket}", employer=employer, topic=topic,
                              description="拖欠两个月工资", since_text="四月", dedupe_key=ticket, region=region,
                              org_unit_id=org_unit_id, created_at=at, updated_at=at))
    return ticket


def handoff(app: Flask, sender: str, at: datetime, unit: str, claim_after: timedelta | None = None,
            resolve_after: timedelta | None = None, rating: int | None = None) -> None:
    org_unit_id = unit_id(app, unit)
    with app.app_context(), services().db.transaction() as session:
        session.add(Handoff(sender_id=sender, reason="requested", created_at=at, org_unit_id=org_unit_id,
                            claimed_at=at + claim_after if claim_after else None,
                            resolved_at=at + resolve_after if resolve_after else None,
                            status="resolved" if resolve_after else "open", rating=rating))


@pytest.fixture
def seeded(app: Flask) -> Flask:
    now = utcnow()
    record(app, {
        "a": [said("老板拖欠工资", "wage_arrears", now - 2 * HOUR), said("嗯嗯", "nlu_fallback", now - 2 * HOUR)],
        "b": [said("工会电话", "faq/phone", now - 3 * HOUR), said("年假几天", "annual_leave", now - 3 * HOUR)],
        "c": [said("加班费", "overtime_pay", now - timedelta(days=40))],  # only in the 90-day view
    })
    handoff(app, "a", now - 3 * HOUR, "朝阳区工会", timedelta(minutes=10), 2 * HOUR, rating=4)
    handoff(app, "b", now - 3 * HOUR, "海淀区工会", timedelta(minutes=10), 2 * HOUR, rating=5)
    handoff(app, "a", now - 2 * HOUR, "朝阳区工会", timedelta(minutes=10), 2 * HOUR)  # a again
    handoff(app, "z", now - 2 * HOUR, "朝阳区工会", timedelta(minutes=10), 2 * HOUR)  # wrote nothing
    complaint(app, "宏达电子厂", now - timedelta(days=10), "朝阳区工会", region="朝阳")
    complaint(app, "宏达 电子厂", now - timedelta(days=12), "朝阳区工会", region="朝阳")
    complaint(app, "顺风餐饮", now - timedelta(days=1), "海淀区工会", topic="overtime_pay", region="海淀")
    return app


def test_a_supervisor_sees_the_seeded_figures(seeded, clients):
    data = clients["supervisor"].get("/console/dashboard.json").get_json()
    cards = data["cards"]
    assert data["days"] == 30 and len(data["daily"]) == 30
    assert cards["conversations"] == 2
    assert (cards["fallback_rate"]["part"], cards["fallback_rate"]["whole"], cards["fallback_rate"]["label"]) == (
        1, 4, "25.0%")
    # 4 handoffs, but of the 2 conversations (a, b) each was handed over: 2 of 2, not 200 %
    assert cards["claim"]["opened"] == 4
    assert (cards["handoff_rate"]["part"], cards["handoff_rate"]["whole"], cards["handoff_rate"]["label"]) == (
        2, 2, "100.0%")
    assert (cards["rating"]["average"], cards["rating"]["n"]) == (4.5, 2)
    assert (cards["claim"]["label"], cards["resolve"]["label"]) == ("10 分钟", "2 小时")
    assert sum(d["conversations"] for d in data["daily"]) == 2
    assert {(t["label"], t["count"]) for t in data["topics"]} == {
        ("拖欠工资、克扣工资", 1), ("员工自建问答", 1), ("带薪年休假", 1)}
    assert [(r["label"], r["count"]) for r in data["complaints_by_topic"]] == [
        ("拖欠工资、克扣工资", 2), ("加班费", 1)]
    assert [(r["label"], r["count"]) for r in data["complaints_by_employer"]] == [("宏达电子厂", 2), ("顺风餐饮", 1)]
    assert [(r["label"], r["count"]) for r in data["complaints_by_region"]] == [("朝阳", 2), ("海淀", 1)]

    html = clients["supervisor"].get("/console/dashboard").get_data(as_text=True)
    for shown in ("25.0%", "100.0%", "2 / 2 个对话转了人工", "4.5", "共 2 条评价", "10 分钟", "2 小时", "员工自建问答", "宏达电子厂", "全部对话"):
        assert shown in html
    assert "chart.umd.min.js" in html and clients["supervisor"].get("/vendor/chart.umd.min.js").status_code == 200


def test_the_period_selector_changes_the_figures(seeded, clients):
    week = clients["supervisor"].get("/console/dashboard.json?days=7").get_json()
    quarter = clients["supervisor"].get("/console/dashboard.json?days=90").get_json()
    assert (len(week["daily"]), week["complaints_by_employer"]) == (7, [
        {"key": "顺风餐饮", "label": "顺风餐饮", "count": 1}])
    assert (len(quarter["daily"]), quarter["cards"]["conversations"]) == (90, 3)
    assert clients["supervisor"].get("/console/dashboard.json?days=365").get_json()["days"] == 30
    assert 'value="90" selected' in clients["supervisor"].get("/console/dashboard?days=90").get_data(as_text=True)


def test_complaint_and_handoff_figures_cover_only_the_supervisors_units(seeded, clients, app):
    with app.app_context():
        services().accounts.add("hd_lead", "周主任", "supervisor", "海淀区工会", password=PASSWORD)
    client = app.test_client()
    assert login(client, "hd_lead").status_code == 302
    data = client.get("/console/dashboard.json").get_json()
    assert [r["label"] for r in data["complaints_by_employer"]] == ["顺风餐饮"]
    assert (data["cards"]["rating"]["average"], data["cards"]["rating"]["n"]) == (5, 1)
    assert data["cards"]["conversations"] == 2  # conversations have no unit: everyone's


def test_staff_may_not_open_the_dashboard(clients):
    assert clients["staff"].get("/console/dashboard").status_code == 403
    assert clients["staff"].get("/console/dashboard.json").status_code == 403
    assert clients["admin"].get("/console/dashboard").status_code == 200
    assert clients["anonymous"].get("/console/dashboard").status_code == 302


def test_without_a_tracker_store_the_page_shows_zeros(clients):
    response = clients["supervisor"].get("/console/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="card-conversations">0<' in html and "这段时间没有数据。" in html and "没有预警" in html
    data = clients["supervisor"].get("/console/dashboard.json").get_json()
    assert data["cards"]["conversations"] == 0 and data["cards"]["fallback_rate"]["value"] is None
    assert data["topics"] == [] and data["warnings"] == []


def test_three_complaints_in_a_week_warn_on_the_dashboard_and_the_queue(app, clients):
    now = utcnow()
    tickets = [complaint(app, name, now - timedelta(days=days), "朝阳区工会")
               for name, days in (("宏达电子厂", 6), ("宏达电子厂", 3), ("宏达 电子厂", 1))]
    complaint(app, "顺风餐饮", now - timedelta(days=2), "海淀区工会")

    [warning] = clients["supervisor"].get("/console/dashboard.json").get_json()["warnings"]
    assert (warning["employer"], warning["count"], warning["days"]) == ("宏达电子厂", 3, 7)
    assert [t["ticket"] for t in warning["tickets"]] == tickets
    assert warning["latest"] == (now - timedelta(days=1) + timedelta(hours=8)).strftime("%m-%d %H:%M")
    html = clients["supervisor"].get("/console/dashboard").get_data(as_text=True)
    assert all(ticket in html for ticket in tickets) and "近 7 天收到 3 件投诉" in html

    queue = clients["staff"].get("/console/queue").get_data(as_text=True)
    assert "宏达电子厂</strong> 近 7 天收到 3 件投诉" in queue
    warnings = clients["staff"].get("/console/queue.json").get_json()["warnings"]
    assert [(w["employer"], w["count"]) for w in warnings] == [("宏达电子厂", 3)]
    assert clients["haidian"].get("/console/queue.json").get_json()["warnings"] == []  # another district's


def test_warning_tickets_link_to_the_complaint_page_when_there_is_one(app, request):
    if "complaints.detail" not in app.view_functions:  # before the first request: a stand-in page
        app.add_url_rule("/console/complaints/<ticket>", endpoint="complaints.detail", view_func=lambda ticket: "")
    clients = request.getfixturevalue("clients")
    tickets = [complaint(app, "宏达电子厂", utcnow() - timedelta(days=d), "朝阳区工会") for d in (1, 2, 3)]
    html = clients["supervisor"].get("/console/dashboard").get_data(as_text=True)
    assert all(f'href="/console/complaints/{t}"' in html for t in tickets)


def test_an_employer_named_like_markup_is_shown_as_text(app, clients):
    name = "<script>alert(1)</script>厂"
    for days in (1, 2, 3):
        complaint(app, name, utcnow() - timedelta(days=days), "朝阳区工会")
    html = clients["supervisor"].get("/console/dashboard").get_data(as_text=True)
    assert "<script>alert(1)" not in html and escape(name, quote=False) in html
    assert clients["supervisor"].get("/console/dashboard.json").get_json()["warnings"][0]["employer"] == name
    assert "<script>alert(1)" not in clients["staff"].get("/console/queue").get_data(as_text=True)


def test_durations_read_in_minutes_hours_and_days():
    assert [duration_label(s) for s in (None, 20, 600, 3600, 5400, 90000, 172800)] == [
        "—", "不到 1 分钟", "10 分钟", "1 小时", "1 小时 30 分钟", "1 天 1 小时", "2 天"]


def test_a_period_is_whole_china_days_up_to_today():
    since, until = period(7, datetime(2026, 6, 1, 17, 30))  # 01:30 on 2 June in Beijing
    assert (since, until) == (datetime(2026, 5, 26, 16), datetime(2026, 6, 2, 16))


@pytest.mark.browser
def test_the_charts_draw_in_a_browser_and_markup_stays_text(seeded, tmp_path):
    """Real headless Chromium against the app on a local port: charts drawn, values set as text."""
    for days in (1, 2, 3):
        complaint(seeded, "<img src=x onerror=alert(1)>厂", utcnow() - timedelta(days=days), "朝阳区工会")
    with console_in_chromium(seeded, "supervisor") as (page, errors):
        page.goto(page.url.replace("/queue", "/dashboard"))
        page.wait_for_function("() => !document.querySelector('#chart-daily').parentNode.hidden")
        assert page.locator("#warning-list strong").inner_text() == "<img src=x onerror=alert(1)>厂"
        page.select_option("#period", "90")
        page.wait_for_function("() => document.getElementById('card-conversations').textContent === '3'")
        assert page.locator("#card-handoff-note").inner_text() == "2 / 3 个对话转了人工"  # a and b of a, b, c
        assert page.locator("#rows-daily tr").count() == 90
        assert "days=90" in page.url and errors == []


def test_ask_backs_and_the_workers_answers_are_counted_per_topic_with_titles(app, clients):
    now = utcnow()
    offered = {"custom": {"clarify": ["work_injury", "wage_arrears"]}}

    def asked_back(at: datetime) -> BotUttered:
        return BotUttered("你想问的是哪一个？", data=offered, timestamp=epoch(at))

    record(app, {
        "a": [said("那个事", "nlu_fallback", now - 2 * HOUR), asked_back(now - 2 * HOUR),
              said("/wage_arrears", "wage_arrears", now - 2 * HOUR)],
        "b": [said("问一下", "nlu_fallback", now - HOUR), asked_back(now - HOUR),
              said("/out_of_scope", "out_of_scope", now - HOUR)],
        "c": [said("嗯", "nlu_fallback", now - HOUR), asked_back(now - HOUR)],
    })
    clarify = clients["supervisor"].get("/console/dashboard.json").get_json()["clarify"]
    assert (clarify["asked"], clarify["chosen"], clarify["declined"], clarify["abandoned"]) == (3, 1, 1, 1)
    assert [(t["label"], t["offered"], t["chosen"], t["declined"], t["abandoned"]) for t in clarify["topics"]] == [
        ("拖欠工资、克扣工资", 3, 1, 1, 1), (topic_label("work_injury"), 3, 0, 1, 1)]
    html = clients["supervisor"].get("/console/dashboard").get_data(as_text=True)
    assert "共追问 3 次：职工选了主题 1 次，点了“都不是” 1 次，没有选 1 次。" in html
    assert "<td>拖欠工资、克扣工资</td><td>3</td><td>1</td><td>1</td><td>1</td>" in html


def test_answers_buttons_and_yes_or_no_are_never_hot_questions(app, clients):
    now = utcnow()
    chatter = [("六千", "inform"), ("三年", "inform"), ("苏州", "inform"), ("/calculate", "calculate"),
               ("/calculate", "calculate"), ("对", "affirm"), ("不是", "deny"), ("你好", "greet"),
               ("那能赔多少", "ask_amount"), ("那怎么办", "ask_next_steps"), ("删除我的数据", "forget_me")]
    record(app, {"a": [said("加班费怎么算", "overtime_pay", now - HOUR)] + [said(t, i, now - HOUR) for t, i in chatter]})
    data = clients["supervisor"].get("/console/dashboard.json").get_json()
    assert [(t["key"], t["count"]) for t in data["topics"]] == [("overtime_pay", 1)]


def test_the_dashboard_counts_the_handoffs_waiting_now_in_the_supervisors_units(app, clients):
    from bot.storage.models import Priority
    from tests.console.conftest import open_handoff, post

    with app.app_context():
        handoffs = services().handoffs
        open_handoff(handoffs, "w-wait", region="朝阳")
        open_handoff(handoffs, "w-crisis", region="朝阳", reason="crisis", priority=Priority.CRISIS)
        claimed = open_handoff(handoffs, "w-claimed", region="朝阳", reason="crisis", priority=Priority.CRISIS)
        open_handoff(handoffs, "w-hd", region="海淀", reason="crisis", priority=Priority.CRISIS)
        services().accounts.add("cy_lead", "吴主任", "supervisor", "朝阳区工会", password=PASSWORD)
    post(clients["staff"], f"/console/handoffs/{claimed.id}/claim")
    assert clients["supervisor"].get("/console/dashboard.json").get_json()["live"] == {"waiting": 3, "crisis": 2}
    district = app.test_client()
    assert login(district, "cy_lead").status_code == 302
    assert district.get("/console/dashboard.json").get_json()["live"] == {"waiting": 2, "crisis": 1}
    html = district.get("/console/dashboard").get_data(as_text=True)
    assert 'id="card-waiting">2<' in html and 'id="card-crisis-waiting">1<' in html and "card live crisis" in html


def test_an_empty_chart_says_there_is_no_data(clients):
    html = clients["supervisor"].get("/console/dashboard").get_data(as_text=True)
    for name in ("daily", "topics", "complaints_by_topic", "complaints_by_employer", "complaints_by_region"):
        assert f'<p class="no-data" id="empty-{name}">暂无数据</p>' in html, name


@pytest.mark.browser
def test_charts_use_two_axes_say_no_data_and_follow_the_waiting_count(app, tmp_path):
    """Chromium: conversations and messages on their own axes; empty charts say so; live counts redraw."""
    from bot.storage.models import Priority
    from tests.console.conftest import open_handoff

    now = utcnow()
    record(app, {"a": [said("老板拖欠工资", "wage_arrears", now - HOUR)] + [said("嗯", "inform", now - HOUR)] * 9})
    with console_in_chromium(app, "supervisor") as (page, errors):
        page.goto(page.url.replace("/queue", "/dashboard"))
        page.wait_for_function("() => !document.querySelector('#chart-daily').parentNode.hidden")
        scales = page.evaluate("""() => {
            const chart = Chart.getChart('chart-daily');
            return chart.data.datasets.map(d => [d.yAxisID, chart.scales[d.yAxisID].position,
                                                 chart.scales[d.yAxisID].max]);
        }""")
        assert [(axis, side) for axis, side, _ in scales] == [("y", "left"), ("messages", "right")]
        assert scales[0][2] < scales[1][2]  # one conversation is not drawn on the scale of ten messages
        assert page.locator("#empty-daily").is_hidden() and page.locator("#empty-topics").is_hidden()
        for name in ("complaints_by_topic", "complaints_by_employer", "complaints_by_region"):
            assert page.locator(f"#empty-{name}").inner_text() == "暂无数据"
            assert page.locator(f"#chart-{name}").is_hidden()
        assert page.locator("#card-waiting").inner_text() == "0"
        with app.app_context():
            open_handoff(services().handoffs, "w-now", region="朝阳", reason="crisis", priority=Priority.CRISIS)
        page.select_option("#period", "7")
        page.wait_for_function("() => document.getElementById('card-crisis-waiting').textContent === '1'")
        assert page.locator("#card-waiting").inner_text() == "1"
        assert "crisis" in page.locator("#card-live").get_attribute("class")
        assert errors == []
