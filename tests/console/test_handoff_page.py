"""The handoff page and the queue as staff read them: the transcript from the handoff on (earlier
messages on request, buttons by their titles, never a payload), what the bot collected in Chinese,
the worker's complaints, the queue's preview and tab title, resolving (claimed first, by whom,
confirmed), channel names, and the complaint page's explanation to the worker and history."""
from __future__ import annotations

import asyncio
import re
import time

import pytest
import yaml
from flask import Flask
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker

from actions.handoff import transcript
from bot.complaints import ComplaintDraft
from bot.config import PROJECT_ROOT
from bot.console.deps import services
from bot.console.slots import INTERNAL, slot_label
from bot.storage.accounts import AccountService
from bot.storage.errors import InvalidTransition, NotHandoffOwner
from bot.storage.models import Handoff, Priority
from bot.storage.services import ComplaintService, HandoffRequest
from tests.console.conftest import account_client, console_in_chromium, open_handoff, post
from tests.console.test_escalations import exported
from tests.console.test_unit_scope import everyone  # noqa: F401 (a fixture)

OFFER = {"title": "帮我算一算", "payload": '/calculate{"calc_kind": "overtime_pay"}'}


def _open(app: Flask, sender: str, said: list[tuple[str, str, float]], slots: dict | None = None,
          channel: str | None = "socketio", priority: Priority = Priority.NORMAL) -> Handoff:
    """A handoff from 星光电子厂 (朝阳) whose transcript is ``said``: (role, text, seconds before now)."""
    now = time.time()
    with app.app_context():
        return services().handoffs.open(HandoffRequest(
            sender, channel, "crisis" if priority == Priority.CRISIS else "requested", priority,
            slots={"complaint_employer": "星光电子厂", **(slots or {})},
            transcript=[(role, text, now - ago) for role, text, ago in said]))


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def _texts(html: str) -> list[str]:
    return re.findall(r'<div class="text">(.*?)</div>', html, re.S)


def record(app: Flask, sender: str, events: list[Event]) -> None:
    """``events`` into the app's tracker store, as the Rasa server stores a conversation."""
    store = SQLTrackerStore(domain=Domain.empty(), host=app.config["NIANGJIA_SETTINGS"].tracker_url)
    try:
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    finally:
        store.engine.dispose()


# --- The transcript ------------------------------------------------------------------------------

def test_the_transcript_starts_at_the_handoff_and_never_shows_a_payload(app, clients):
    handoff = _open(app, "w-long", [
        ("worker", "/greet", 900), ("bot", "你好！我是工会的“娘家人”助手", 899),
        ("worker", "加班费怎么算", 800), ("bot", "加班费按劳动法第44条计算", 799),
        ("worker", '/calculate{"calc_kind":"overtime_pay"}', 700),  # stored before titles were
        ("bot", "你的月工资是多少？", 699), ("worker", "/made_up_intent", 600),
        ("worker", "我要找工会的人", 5)])
    html = clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    earlier = _section(html, '<details id="earlier">', "</details>")
    assert "显示更早的对话（5 条）" in earlier
    assert _texts(earlier) == ["你好！我是工会的“娘家人”助手", "加班费怎么算", "加班费按劳动法第44条计算",
                               "加班费", "你的月工资是多少？"]  # the button's title, from the domain
    assert _texts(_section(html, '<ol id="messages"', "</ol>")) == ["我要找工会的人"]
    for payload in ("/greet", "calc_kind", "overtime_pay", "made_up_intent"):
        assert payload not in html
    # New messages are fetched from the handoff on: the earlier ones are already on the page.
    data = clients["staff"].get(f"/console/handoffs/{handoff.id}/messages.json").get_json()
    assert [m["text"] for m in data["messages"]] == ["我要找工会的人"]


def test_a_handoff_without_earlier_messages_has_no_control_for_them(app, clients):
    handoff = _open(app, "w-short", [("worker", "我要找人工", 2)])
    html = clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert 'id="earlier"' not in html and _texts(_section(html, '<ol id="messages"', "</ol>")) == ["我要找人工"]


def test_a_pressed_button_is_recorded_by_the_title_the_worker_saw():
    tracker = Tracker.from_dict({"sender_id": "w", "slots": {}, "latest_message": {}, "events": [
        {"event": "bot", "text": "想算算你自己的情况吗？", "timestamp": 1.0, "data": {"buttons": [OFFER]}},
        {"event": "user", "text": '/calculate{"calc_kind":  "overtime_pay"}', "timestamp": 2.0},
        {"event": "user", "text": "/greet", "timestamp": 3.0}]})
    assert transcript(tracker) == [("bot", "想算算你自己的情况吗？", 1.0), ("worker", "帮我算一算", 2.0),
                                   ("worker", "/greet", 3.0)]  # no title: kept, and never shown


def test_a_button_pressed_while_staff_hold_the_conversation_shows_its_title(app, clients, rasa):
    handoff = _open(app, "w-paused", [("worker", "转人工", 2)])
    rasa.events["w-paused"] = [
        {"event": "bot", "text": "想算算你自己的情况吗？", "timestamp": time.time() - 60, "data": {"buttons": [OFFER]}},
        {"event": "pause", "timestamp": time.time() - 30},
        {"event": "user", "text": OFFER["payload"], "timestamp": time.time() + 1}]
    html = clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert _texts(_section(html, '<ol id="messages"', "</ol>")) == ["转人工", "帮我算一算"]


# --- What the bot collected ----------------------------------------------------------------------

CALCULATION = {"calc_kind": "overtime_pay", "calc_retries": 0, "calc_region_skipped": True,
               "calc_monthly_wage": 6000.0, "calc_hours": {"workday": 20, "restday": 8},
               "calc_months_total": 42, "calc_months_employer": 0, "calc_known_on": "2025-03",
               "calc_birth": {"difficult": True, "babies": 2, "miscarriage": False}, "calc_cause": "unlawful",
               "complaint_topic": "overtime_pay", "complaint_workers": 12, "complaint_confirmed": "yes",
               "complaint_region": "none"}


def collected(html: str) -> dict[str, str]:
    box = _section(html, '<dl class="slots" id="collected">', "</dl>")
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", box, re.S))


def test_what_the_bot_collected_reads_in_chinese_without_bookkeeping(app, clients):
    handoff = _open(app, "w-slots", [("worker", "算不清楚，找人", 2)], slots=CALCULATION)
    html = clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert collected(html) == {
        "投诉单位": "星光电子厂", "正在计算": "加班费计算", "月工资": "6000 元",
        "加班时间": "工作日（下班后延长工作时间） 20 小时、休息日 8 小时", "累计工作年限": "3年6个月",
        "知道权益受侵害的日期": "2025年3月", "生育情况": "难产，2胞胎",
        "解除原因": "违法解除（无故辞退）", "投诉问题": "加班费", "涉及人数": "12 人"}
    for raw in ("overtime_pay", "没听懂的次数", "calc_", "unlawful", "workday", "确认提交", "none"):
        assert raw not in _section(html, "机器人收集到的信息", "</section>")


def test_every_slot_of_the_domain_has_a_chinese_label_or_is_bookkeeping():
    slots = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"]
    unlabelled = [name for name in slots if name not in INTERNAL and slot_label(name) == name]
    assert unlabelled == []


@pytest.mark.parametrize("injury, shown", [({"grade": 7}, "7级伤残"), ({"grade": None}, "还没有做伤残等级鉴定"),
                                           ({"death": True, "year": 2025}, "因工死亡（2025年）")])
def test_a_work_injury_reads_as_what_happened(app, clients, injury, shown):
    handoff = _open(app, "w-injury", [("worker", "找人", 2)], slots={"calc_kind": "work_injury", "calc_injury": injury})
    assert collected(clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True))[
        "伤残等级或工亡"] == shown


@pytest.mark.parametrize("consent, shown", [(True, "13812345678"), (False, "不同意联系，电话不显示，请勿主动致电")])
def test_the_phone_is_shown_only_where_the_worker_agreed_to_be_called(app, clients, consent, shown):
    handoff = _open(app, "w-phone", [("worker", "找人", 2)],
                    slots={"complaint_phone": "13812345678", "complaint_consent": consent})
    html = clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    rows = collected(html)
    assert shown in rows.values()
    assert ("13812345678" in html) is consent


def test_an_anonymous_worker_is_said_to_be_so(app, clients):
    handoff = _open(app, "w-anon", [("worker", "找人", 2)],
                    slots={"complaint_phone": "none", "complaint_consent": False})
    assert collected(clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)) == {
        "投诉单位": "星光电子厂", "联系电话": "未留（匿名）"}


def _complain(app: Flask, sender: str, employer: str, phone: str | None, consent: bool,
              region: str | None = None) -> str:
    with app.app_context():
        return ComplaintService(services().db).submit(ComplaintDraft(
            sender_id=sender, channel="wechat", employer=employer, topic="wage_arrears", description="拖欠工资",
            since_text="三月", workers_affected=1, phone=phone, consent_to_contact=consent,
            region=region)).complaint.ticket


def test_the_workers_complaints_are_linked_where_the_staff_member_may_open_them(app, clients):
    mine = _complain(app, "w-c", "星光电子厂", "13812345678", True)
    quiet = _complain(app, "w-c", "星光电子厂二车间", "13900001111", False, region="朝阳")
    theirs = _complain(app, "w-c", "海淀某公司", "13722223333", True, region="海淀")
    handoff = _open(app, "w-c", [("worker", "我的投诉怎么样了", 2)])
    html = clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    box = _section(html, '<ul class="worker-complaints"', "</ul>")
    assert f'<a href="/console/complaints/{mine}">{mine}</a>' in box
    assert f'<a href="/console/complaints/{quiet}">{quiet}</a>' in box
    assert theirs not in html and "另有 1 件由其他单位负责" in box
    assert clients["staff"].get(f"/console/complaints/{mine}").status_code == 200
    # The phone of the complaint that agreed to be called, none of the others'.
    assert collected(html)["联系电话（投诉时留下，同意工会联系）"] == "13812345678"
    assert "13900001111" not in html and "13722223333" not in html
    everything = clients["supervisor"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert f'<a href="/console/complaints/{theirs}">' in everything and "另有" not in everything


# --- The queue -----------------------------------------------------------------------------------

def test_the_queue_previews_the_workers_latest_words(app, clients):
    now = time.time()
    for sender in ("w-typed", "w-button", "w-stored"):
        _open(app, sender, [("worker", "我要找人工", 9), ("worker", "已经等了很久了", 1), ("worker", "/greet", 0)])
    # Written while the bot is paused: in the tracker store at once, in our copy when someone opens it.
    record(app, "w-typed", [UserUttered("我要找人工", timestamp=now - 9), UserUttered("有人吗？？腿很疼", timestamp=now + 1),
                            UserUttered("/greet", timestamp=now + 2)])  # no title: never the preview
    record(app, "w-button", [BotUttered("想算算吗？", data={"buttons": [OFFER]}, timestamp=now - 10),
                             UserUttered(OFFER["payload"], timestamp=now + 1)])
    previews = [r["preview"] for r in clients["staff"].get("/console/queue.json").get_json()["handoffs"]]
    assert previews == ["有人吗？？腿很疼", "帮我算一算", "已经等了很久了"]
    html = clients["staff"].get("/console/queue").get_data(as_text=True)
    assert '<td class="preview">有人吗？？腿很疼</td>' in html and "/greet" not in html


def test_the_tab_title_counts_the_handoffs_nobody_has_claimed(app, clients):
    assert "<title>转人工队列 · 娘家人工作台</title>" in clients["staff"].get("/console/queue").get_data(as_text=True)
    first = _open(app, "w-t1", [("worker", "找人", 2)])
    _open(app, "w-t2", [("worker", "找人", 1)])
    with app.app_context():
        open_handoff(services().handoffs, "w-t3", region="海淀")  # another unit's
    assert "<title>(2) 待处理 · 娘家人工作台</title>" in clients["staff"].get("/console/queue").get_data(as_text=True)
    post(clients["staff"], f"/console/handoffs/{first.id}/claim")
    data = clients["staff"].get("/console/queue.json").get_json()
    assert (data["waiting"], data["title"]) == (1, "(1) 待处理 · 娘家人工作台")
    assert clients["supervisor"].get("/console/queue.json").get_json()["title"] == "(2) 待处理 · 娘家人工作台"


# --- Resolving -----------------------------------------------------------------------------------

@pytest.fixture
def claimed(app, clients):  # type: ignore[no-untyped-def]
    """A handoff of 星光电子厂 (朝阳) claimed by ``staff``."""
    handoff = _open(app, "w-claimed", [("worker", "找人", 2)])
    assert post(clients["staff"], f"/console/handoffs/{handoff.id}/claim").status_code == 302
    return handoff.id


@pytest.fixture
def colleague(app, everyone):  # type: ignore[no-untyped-def]
    """``everyone`` and ``staff2``, a colleague of ``staff`` in 朝阳区工会."""
    return {**everyone, "staff2": account_client(app, "staff2", "周干事", "staff", "朝阳区工会")}


# role × unit: the claimer; a colleague of the same unit; staff and a supervisor of another district;
# a supervisor above the unit; an admin.
RESOLVE = {"staff": 302, "staff2": 403, "haidian": 404, "zhou": 404, "supervisor": 302, "admin": 302}


@pytest.mark.parametrize("who", sorted(RESOLVE))
def test_only_the_claimer_or_a_supervisor_of_its_units_resolves_a_handoff(app, colleague, claimed, rasa, who):
    page = colleague[who].get(f"/console/handoffs/{claimed}")
    assert page.status_code == (404 if RESOLVE[who] == 404 else 200)
    assert ('id="resolve-form"' in page.get_data(as_text=True)) is (RESOLVE[who] == 302)
    response = post(colleague[who], f"/console/handoffs/{claimed}/resolve")
    assert response.status_code == RESOLVE[who]
    with app.app_context():
        status = services().handoffs.get(claimed).status
    assert status == ("resolved" if RESOLVE[who] == 302 else "claimed")
    assert (("resume", "w-claimed", None) in rasa.calls) is (RESOLVE[who] == 302)


@pytest.mark.parametrize("who", ["staff", "supervisor", "admin"])
def test_an_unclaimed_handoff_is_claimed_before_it_is_resolved(app, clients, rasa, who):
    handoff = _open(app, "w-unclaimed", [("worker", "找人", 2)])
    page = clients[who].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert 'id="resolve-form"' not in page and "认领后才能解决" in page
    response = post(clients[who], f"/console/handoffs/{handoff.id}/resolve")
    assert "请先认领这个对话" in clients[who].get(response.location).get_data(as_text=True)
    with app.app_context():
        assert services().handoffs.get(handoff.id).status == "open"
    assert not [c for c in rasa.calls if c[0] in ("resume", "execute")]


def test_the_service_refuses_what_the_page_refuses(app):
    """The CLI resolves through the same service, without the console's unit check."""
    with app.app_context():
        handoffs, accounts = services().handoffs, AccountService(services().db)
        accounts.add("zhou", "周主任", "supervisor", "海淀区工会")
        unclaimed = _open(app, "w-s1", [("worker", "找人", 2)])
        with pytest.raises(InvalidTransition):
            handoffs.resolve(unclaimed.id, "supervisor")
        with pytest.raises(InvalidTransition):
            handoffs.check_may_resolve(unclaimed.id, "admin")
        handoffs.claim(unclaimed.id, "staff")
        for refused in (lambda: handoffs.resolve(unclaimed.id, "zhou"),
                        lambda: handoffs.check_may_resolve(unclaimed.id, "zhou"),
                        lambda: handoffs.resolve(unclaimed.id, "haidian")):
            with pytest.raises(NotHandoffOwner):
                refused()
        assert handoffs.get(unclaimed.id).status == "claimed"
        assert handoffs.resolve(unclaimed.id, "supervisor").status == "resolved"


def test_resolving_asks_for_confirmation_on_the_page(app, clients, claimed):
    html = clients["staff"].get(f"/console/handoffs/{claimed}").get_data(as_text=True)
    confirm = _section(html, '<details class="confirm" id="resolve">', "</details>")
    assert "<summary" in confirm and "确定已经处理完了吗" in confirm and 'id="resolve-confirm"' in confirm
    assert confirm.index("<summary") < confirm.index('id="resolve-form"')  # the form opens from the summary


# --- Channel names -------------------------------------------------------------------------------

@pytest.mark.parametrize("channel, name", [("socketio", "网页"), ("wechat", "微信"), ("wecom", "企业微信"),
                                           ("callback", "接口（回调）"), (None, "未知"), ("telegram", "其他（telegram）")])
def test_channels_have_chinese_names_on_every_page(app, everyone, channel, name):
    handoff = _open(app, f"w-{channel}", [("worker", "找人", 2)], channel=channel)
    client = everyone["supervisor"]
    assert f"渠道：{name} ·" in client.get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert [r["channel"] for r in client.get("/console/queue.json").get_json()["handoffs"]] == [name]
    assert f"渠道：{name} ·" in client.get(f"/console/escalations/{handoff.id}").get_data(as_text=True)
    post(client, f"/console/handoffs/{handoff.id}/claim")
    post(client, f"/console/handoffs/{handoff.id}/resolve")
    assert [r["渠道"] for r in exported(client)] == [name]
    if channel:
        with app.app_context():
            ticket = ComplaintService(services().db).submit(ComplaintDraft(
                sender_id="w-ch", channel=channel, employer="星光电子厂", topic="wage_arrears", description="拖欠",
                since_text="三月", workers_affected=1, phone=None, consent_to_contact=False)).complaint.ticket
        html = client.get(f"/console/complaints/{ticket}").get_data(as_text=True)
        assert f"<dt>来源渠道</dt><dd>{name}</dd>" in html


# --- The complaint page --------------------------------------------------------------------------

def test_the_explanation_the_worker_reads_is_labelled_and_the_history_names_people(app, clients):
    ticket = _complain(app, "w-h", "星光电子厂", None, False)
    client = clients["staff"]
    post(client, f"/console/complaints/{ticket}/note", **{"note-text": "老板是我表哥，回避一下"})
    post(client, f"/console/complaints/{ticket}/assign", target="staff")
    post(client, f"/console/complaints/{ticket}/status", status="rejected", reason="不属于劳动争议，请向法院起诉")
    html = client.get(f"/console/complaints/{ticket}").get_data(as_text=True)
    assert re.search(r'id="status-reason"><strong>给职工的说明</strong>（职工查询进度时会看到）：不属于劳动争议', html)
    assert "内部备注 <span class=\"hint\">只有同事能看到，职工看不到</span>" in html
    history = _section(html, '<ol class="history" id="history">', "</ol>")
    assert "李干事：指派给：李干事" in history
    assert "李干事：状态：待受理 → 不予受理（给职工的说明：不属于劳动争议，请向法院起诉）" in history
    assert "职工：职工提交投诉" in history
    assert "staff" not in history and "worker" not in history
    # The note is the staff's: the worker's answer to "查询投诉进度" carries the status and the explanation.
    with app.app_context():
        complaint = ComplaintService(services().db).for_sender(ticket, "w-h")
    assert complaint.status_reason == "不属于劳动争议，请向法院起诉" and "表哥" not in complaint.status_reason


def test_the_status_form_says_the_explanation_goes_to_the_worker(app, clients):
    ticket = _complain(app, "w-f", "星光电子厂", None, False)
    html = clients["staff"].get(f"/console/complaints/{ticket}").get_data(as_text=True)
    assert "<label>给职工的说明（职工查询进度时会看到；不予受理时必填。只给同事看的写在内部备注里）" in html


# --- In a browser --------------------------------------------------------------------------------

def _scroll(page) -> dict:  # type: ignore[no-untyped-def]
    return page.evaluate("""() => { const box = document.getElementById('transcript');
        return {top: box.scrollTop, bottom: box.scrollHeight - box.scrollTop - box.clientHeight}; }""")


def _worker_writes(rasa, sender: str, *texts: str) -> None:
    """The worker writes while the bot is paused (the console reads it from Rasa's tracker)."""
    now = time.time()
    events = rasa.events.setdefault(sender, [{"event": "pause", "timestamp": now - 60}])
    events += [{"event": "user", "text": text, "timestamp": now + i / 100} for i, text in enumerate(texts)]


@pytest.mark.browser
def test_the_transcript_opens_at_the_newest_message_and_does_not_jump_while_reading(app, rasa):
    from playwright.sync_api import expect

    said = [("worker", f"以前的问题{i}", 900 - i) for i in range(6)] + [("worker", "我要找人工", 300)]
    # After the handoff (a negative age: later than it), staff and worker talked for a while.
    said += [("staff" if i % 2 else "worker", f"第{i}条：" + "情况说明" * 12, -1 - i) for i in range(30)]
    handoff = _open(app, "w-browser", said)
    with console_in_chromium(app, "staff") as (page, errors):
        page.goto(page.url.replace("/queue", f"/handoffs/{handoff.id}"))
        newest = page.locator("#messages li").last
        expect(newest).to_contain_text("第29条")
        assert _scroll(page)["bottom"] <= 1 and _scroll(page)["top"] > 0
        expect(newest).to_be_in_viewport()
        expect(page.locator("#earlier li").first).to_be_hidden()
        # Reading further up: a new message does not move the page, a button says it is there.
        page.evaluate("() => { document.getElementById('transcript').scrollTop = 0; }")
        _worker_writes(rasa, "w-browser", "有人在吗")
        expect(page.locator("#messages li", has_text="有人在吗")).to_have_count(1, timeout=15_000)
        assert _scroll(page)["top"] == 0
        expect(page.locator("#new-messages")).to_be_visible()
        page.click("#new-messages")
        assert _scroll(page)["bottom"] <= 1
        expect(page.locator("#new-messages")).to_be_hidden()
        # At the bottom, the page follows the conversation.
        _worker_writes(rasa, "w-browser", "腿很疼")
        expect(page.locator("#messages li", has_text="腿很疼")).to_be_in_viewport(timeout=15_000)
        assert _scroll(page)["bottom"] <= 1 and page.locator("#new-messages").is_hidden()
        # The earlier conversation on request.
        page.evaluate("() => { document.getElementById('transcript').scrollTop = 0; }")
        page.click("#earlier summary")
        expect(page.locator("#earlier li").first).to_contain_text("以前的问题0")
        expect(page.locator("#earlier li").first).to_be_visible()
        assert errors == []


# Counts the tones played and the desktop notifications shown (permission granted).
_WATCH = """
window.__tones = 0; window.__notes = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function () { window.__tones += 1; return start.apply(this, arguments); };
window.Notification = class { constructor(title) { window.__notes.push(title); }
  static get permission() { return 'granted'; } static requestPermission() { return Promise.resolve('granted'); } };
"""


@pytest.mark.browser
def test_the_tab_title_counts_waiting_handoffs_and_a_new_crisis_rings_once(app):
    from playwright.sync_api import expect

    _open(app, "w-q1", [("worker", "找人", 20)])
    _open(app, "w-q2", [("worker", "找人", 10)])
    with console_in_chromium(app, "staff") as (page, errors):
        page.context.add_init_script(_WATCH)
        page.reload()
        expect(page).to_have_title("(2) 待处理 · 娘家人工作台")
        crisis = _open(app, "w-q3", [("worker", "工地有人从架子上摔下来了", 1)], priority=Priority.CRISIS)
        expect(page).to_have_title("(3) 待处理 · 娘家人工作台", timeout=15_000)
        expect(page.locator("#crisis-alert")).to_be_visible()
        expect(page.locator("#crisis-alert a")).to_contain_text(f"#{crisis.id}")
        assert page.evaluate("() => window.__tones") > 0
        assert page.evaluate("() => window.__notes") == [f"危急求助 #{crisis.id}"]
        # Announced once per tab: a reload (or coming back from a conversation) does not ring again.
        page.reload()
        expect(page).to_have_title("(3) 待处理 · 娘家人工作台")
        page.wait_for_timeout(6_000)  # one refresh
        assert page.evaluate("() => [window.__tones, window.__notes.length]") == [0, 0]
        assert page.locator("#crisis-alert").is_hidden()
        with app.app_context():
            services().handoffs.claim(crisis.id, "staff")
        expect(page).to_have_title("(2) 待处理 · 娘家人工作台", timeout=15_000)
        assert errors == []


@pytest.mark.browser
def test_resolving_asks_for_confirmation_first(app, clients, claimed, rasa):
    from playwright.sync_api import expect

    with console_in_chromium(app, "staff") as (page, errors):
        page.goto(page.url.replace("/queue", f"/handoffs/{claimed}"))
        expect(page.locator("#resolve-confirm")).to_be_hidden()
        page.click("#resolve summary")
        expect(page.locator("#resolve-form")).to_contain_text("确定已经处理完了吗")
        page.click("#resolve-cancel")
        expect(page.locator("#resolve-confirm")).to_be_hidden()
        with app.app_context():
            assert services().handoffs.get(claimed).status == "claimed"
        page.click("#resolve summary")
        page.click("#resolve-confirm")
        page.wait_for_url(re.compile(r".*/console/queue$"))
        expect(page.locator(".flash").first).to_contain_text("已解决")
        with app.app_context():
            assert services().handoffs.get(claimed).status == "resolved"
        assert ("resume", "w-claimed", None) in rasa.calls and errors == []
