"""The escalation queue as staff use it: see, claim, read, reply, note, transfer, resolve."""
from __future__ import annotations

import time

import pytest

from bot.console.deps import services
from bot.storage.errors import InvalidTransition
from bot.storage.models import AuditEntry, Priority
from bot.storage.services import HandoffRequest
from tests.console.conftest import PASSWORD, login, open_handoff, post

SCRIPT = "<script>alert('x')</script>"


def _open(app, sender, **kwargs):  # type: ignore[no-untyped-def]
    with app.app_context():
        return open_handoff(services().handoffs, sender, **kwargs)


def _audit(app, action):  # type: ignore[no-untyped-def]
    with app.app_context(), services().db.transaction() as session:
        return [(e.actor, e.object_id) for e in session.query(AuditEntry).filter_by(action=action)]


def test_handoffs_are_routed_to_the_most_specific_unit(app):
    factory = _open(app, "w1", employer="星光电子厂（朝阳）")
    district = _open(app, "w2", region="北京市海淀区")
    nowhere = _open(app, "w3", employer="不认识的公司")
    assert factory.org_unit.name == "星光电子厂工会"
    assert district.org_unit.name == "海淀区工会"
    assert nowhere.org_unit is None


def test_queue_puts_crisis_first_highlighted_and_shows_only_the_users_units(app, clients):
    _open(app, "w-normal", employer="星光电子厂", said="工资拖了三个月")
    _open(app, "w-crisis", employer="星光电子厂", reason="crisis", priority=Priority.CRISIS, said="我不想活了")
    _open(app, "w-haidian", region="海淀", said="海淀的问题")
    page = clients["staff"].get("/console/queue").get_data(as_text=True)
    assert page.index("我不想活了") < page.index("工资拖了三个月")
    assert 'class="p1' in page and "危急" in page
    assert "海淀的问题" not in page
    other = clients["haidian"].get("/console/queue.json").get_json()
    assert [h["preview"] for h in other["handoffs"]] == ["海淀的问题"]
    everything = clients["supervisor"].get("/console/queue.json").get_json()
    assert [h["preview"] for h in everything["handoffs"]] == ["我不想活了", "工资拖了三个月", "海淀的问题"]


def test_queue_updates_without_reload_through_its_json(app, clients):
    before = clients["staff"].get("/console/queue.json").get_json()["handoffs"]
    _open(app, "w-new", employer="星光电子厂", said="新来的")
    after = clients["staff"].get("/console/queue.json").get_json()["handoffs"]
    assert len(after) == len(before) + 1 and after[-1]["preview"] == "新来的"
    assert "queue.js" in clients["staff"].get("/console/queue").get_data(as_text=True)


def test_another_units_handoff_is_not_found(app, clients):
    handoff = _open(app, "w-h", region="海淀")
    assert clients["staff"].get(f"/console/handoffs/{handoff.id}").status_code == 404
    assert post(clients["staff"], f"/console/handoffs/{handoff.id}/claim").status_code == 404
    assert clients["haidian"].get(f"/console/handoffs/{handoff.id}").status_code == 200


def test_claim_reply_resolve_reaches_the_worker_and_is_audited(app, clients, rasa):
    handoff = _open(app, "w-flow", employer="星光电子厂", said="老板不给加班费")
    client = clients["staff"]
    page = client.get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert "老板不给加班费" in page and "星光电子厂" in page and "认领这个对话" in page
    post(client, f"/console/handoffs/{handoff.id}/claim")
    page = client.get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert "发送回复" in page
    response = post(client, f"/console/handoffs/{handoff.id}/reply", **{"reply-text": "您好，我是工会李干事"})
    page = client.get(response.location).get_data(as_text=True)
    # A web-chat reply is sent, but delivered only once the worker's page confirms it.
    assert "回复已发出" in page and "职工尚未收到" in page
    # The worker was told who took the conversation, then got the reply.
    assert rasa.sent("w-flow") == ["工会的李干事已接入，接下来会在这个对话里直接回复你。", "您好，我是工会李干事"]
    post(client, f"/console/handoffs/{handoff.id}/resolve")
    assert ("resume", "w-flow", None) in rasa.calls
    with app.app_context():
        assert services().handoffs.get(handoff.id).status == "resolved"
    for action in ("handoff.claimed", "handoff.replied", "handoff.resolved"):
        assert ("staff", str(handoff.id)) in _audit(app, action)


def test_reply_before_claiming_or_empty_is_refused(app, clients, rasa):
    handoff = _open(app, "w-early", employer="星光电子厂")
    response = post(clients["staff"], f"/console/handoffs/{handoff.id}/reply", **{"reply-text": "hi"})
    assert response.status_code == 409
    post(clients["staff"], f"/console/handoffs/{handoff.id}/claim")
    empty = post(clients["staff"], f"/console/handoffs/{handoff.id}/reply", **{"reply-text": "   "})
    assert "不能为空" in clients["staff"].get(empty.location).get_data(as_text=True)
    assert rasa.sent("w-early") == ["工会的李干事已接入，接下来会在这个对话里直接回复你。"]  # only the claim notice


def test_undelivered_reply_is_kept_and_reported(app, clients, rasa):
    handoff = _open(app, "w-down", employer="星光电子厂")
    post(clients["staff"], f"/console/handoffs/{handoff.id}/claim")
    rasa.down = True
    response = post(clients["staff"], f"/console/handoffs/{handoff.id}/reply", **{"reply-text": "稍等"})
    page = clients["staff"].get(response.location)
    assert page.status_code == 200 and "没有送达" in page.get_data(as_text=True)
    with app.app_context():
        staff_messages = [m for m in services().handoffs.get(handoff.id).messages if m.role == "staff"]
    assert [(m.text, m.delivered) for m in staff_messages] == [("稍等", False)]


def test_internal_note_is_kept_but_never_sent(app, clients, rasa):
    handoff = _open(app, "w-note", employer="星光电子厂")
    post(clients["staff"], f"/console/handoffs/{handoff.id}/note", **{"note-text": "可能涉及工伤，明天回访"})
    page = clients["staff"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert "可能涉及工伤" in page and "内部备注" in page
    assert rasa.sent("w-note") == []


def test_transfer_to_a_colleague_and_to_another_unit(app, clients, rasa):
    handoff = _open(app, "w-t", employer="星光电子厂")
    client = clients["supervisor"]
    post(client, f"/console/handoffs/{handoff.id}/claim")
    post(client, f"/console/handoffs/{handoff.id}/transfer", target="staff:staff")
    with app.app_context():
        moved = services().handoffs.get(handoff.id)
    assert moved.claimed_by.username == "staff" and moved.status == "claimed"
    with app.app_context():
        haidian = next(u for u in services().accounts.units() if u.name == "海淀区工会")
    post(clients["staff"], f"/console/handoffs/{handoff.id}/transfer", target=f"unit:{haidian.id}")
    with app.app_context():
        moved = services().handoffs.get(handoff.id)
    assert moved.org_unit_id == haidian.id and moved.status == "open" and moved.claimed_by is None
    assert clients["staff"].get(f"/console/handoffs/{handoff.id}").status_code == 404
    assert clients["haidian"].get(f"/console/handoffs/{handoff.id}").status_code == 200
    assert len(_audit(app, "handoff.transferred")) == 2
    # The worker hears each move in the chat: who took it, who has it now, that another unit will answer.
    assert rasa.sent("w-t") == [
        "工会的王主任已接入，接下来会在这个对话里直接回复你。",
        "你的咨询已转给工会的李干事，接下来由李干事在这个对话里回复你。",
        "你的咨询已转给海淀区工会，那里的工会工作人员会在这个对话里回复你，请稍等。急事可以拨打职工维权热线12351。"]


def test_transfer_to_an_unknown_target_changes_nothing(app, clients):
    handoff = _open(app, "w-x", employer="星光电子厂")
    response = post(clients["staff"], f"/console/handoffs/{handoff.id}/transfer", target="staff:nobody")
    assert "请选择" in clients["staff"].get(response.location).get_data(as_text=True)
    with app.app_context():
        assert services().handoffs.get(handoff.id).status == "open"


def test_worker_script_is_shown_as_text_in_queue_and_transcript(app, clients, rasa):
    handoff = _open(app, "w-xss", employer="星光电子厂", said=SCRIPT)
    for url in ("/console/queue", f"/console/handoffs/{handoff.id}"):
        html = clients["staff"].get(url).get_data(as_text=True)
        assert SCRIPT not in html and "&lt;script&gt;" in html
    assert clients["staff"].get("/console/queue.json").get_json()["handoffs"][0]["preview"] == SCRIPT
    for script in ("queue.js", "handoff.js"):
        source = clients["staff"].get(f"/static/{script}").get_data(as_text=True)
        assert "innerHTML" not in source and "textContent" in source


def test_rasa_down_on_resolve_is_a_clear_error_and_nothing_changes(app, clients, rasa):
    handoff = _open(app, "w-r", employer="星光电子厂")
    post(clients["staff"], f"/console/handoffs/{handoff.id}/claim")
    rasa.down = True
    response = post(clients["staff"], f"/console/handoffs/{handoff.id}/resolve")
    assert response.status_code == 503 and "机器人服务暂时无法连接" in response.get_data(as_text=True)
    with app.app_context():
        assert services().handoffs.get(handoff.id).status == "claimed"


def test_what_the_bot_collected_is_labelled_in_chinese(app, clients):
    with app.app_context():
        handoff = services().handoffs.open(HandoffRequest(
            "w-calc", "socketio", "requested", Priority.NORMAL,
            slots={"region": "海淀", "calc_monthly_wage": 6000, "some_new_slot": "x"},
            transcript=[("worker", "帮我算算补偿", time.time())]))
    page = clients["haidian"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert "所在省份" in page and "<dt>月工资</dt><dd>6000 元</dd>" in page
    assert "calc_monthly_wage" not in page
    assert "some_new_slot" in page  # a slot without a label still shows, by its name


def test_a_colleague_cannot_transfer_or_resolve_a_handoff_someone_else_claimed(app, clients, rasa):
    with app.app_context():
        services().accounts.add("staff2", "周干事", "staff", "朝阳区工会", password=PASSWORD)
        haidian = next(u.id for u in services().accounts.units() if u.name == "海淀区工会")
    colleague = app.test_client()
    assert login(colleague, "staff2").status_code == 302
    handoff = _open(app, "w-own", employer="星光电子厂")
    post(clients["staff"], f"/console/handoffs/{handoff.id}/claim")
    page = colleague.get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert 'id="resolve-form"' not in page and 'id="transfer-form"' not in page and "已由李干事认领" in page
    for action, data in (("transfer", {"target": f"unit:{haidian}"}), ("resolve", {})):
        response = post(colleague, f"/console/handoffs/{handoff.id}/{action}", **data)
        assert response.status_code == 403, action
        assert "已由李干事认领" in response.get_data(as_text=True)
    with app.app_context():
        kept = services().handoffs.get(handoff.id)
    assert (kept.status, kept.claimed_by.username) == ("claimed", "staff")
    assert not [c for c in rasa.calls if c[0] in ("resume", "execute")]  # the bot was never woken
    # The claimer, and a supervisor above them, may.
    assert 'id="resolve-form"' in clients["supervisor"].get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    post(clients["staff"], f"/console/handoffs/{handoff.id}/transfer", target="staff:staff2")
    post(clients["supervisor"], f"/console/handoffs/{handoff.id}/resolve")
    with app.app_context():
        assert services().handoffs.get(handoff.id).status == "resolved"


def test_a_resolved_handoff_keeps_what_was_said_during_it_and_nothing_later(app, clients, rasa):
    """The worker's later chat with the bot, and a newer handoff to another unit, stay out of it."""
    handoff = _open(app, "w-later", region="朝阳")
    client = clients["staff"]
    t0 = time.time() - 1000
    rasa.events["w-later"] = [
        {"event": "user", "text": "我要找人工", "timestamp": t0},
        {"event": "pause", "timestamp": t0 + 1},
        {"event": "user", "text": "老板三个月没发工资", "timestamp": t0 + 5}]
    post(client, f"/console/handoffs/{handoff.id}/claim")
    post(client, f"/console/handoffs/{handoff.id}/resolve")  # the last words are kept on resolving
    rasa.events["w-later"] += [
        {"event": "resume", "timestamp": t0 + 10},
        {"event": "user", "text": "我怀孕了会不会被辞退", "timestamp": t0 + 500},
        {"event": "user", "text": "我在海淀，转人工", "timestamp": t0 + 600},
        {"event": "pause", "timestamp": t0 + 601},
        {"event": "user", "text": "只对海淀工会说的事", "timestamp": t0 + 650}]
    newer = _open(app, "w-later", region="海淀", said="我在海淀，转人工")
    assert newer.id != handoff.id
    page = client.get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    texts = [m["text"] for m in client.get(f"/console/handoffs/{handoff.id}/messages.json").get_json()["messages"]]
    assert "老板三个月没发工资" in page and "老板三个月没发工资" in texts
    for later in ("我怀孕了会不会被辞退", "只对海淀工会说的事"):
        assert later not in page and later not in texts
    assert client.get(f"/console/handoffs/{newer.id}").status_code == 404
    assert "只对海淀工会说的事" in clients["haidian"].get(f"/console/handoffs/{newer.id}").get_data(as_text=True)


def test_a_resolved_handoff_is_read_by_whoever_handled_it_and_supervisors_not_by_every_colleague(app, clients):
    with app.app_context():
        services().accounts.add("staff2", "周干事", "staff", "朝阳区工会", password=PASSWORD)
    colleague = app.test_client()
    assert login(colleague, "staff2").status_code == 302
    handoff = _open(app, "w-closed", employer="星光电子厂", said="我被打了")
    assert colleague.get(f"/console/handoffs/{handoff.id}").status_code == 200  # open: anyone may take it
    post(clients["staff"], f"/console/handoffs/{handoff.id}/claim")
    post(clients["staff"], f"/console/handoffs/{handoff.id}/resolve")
    for path in ("", "/messages.json"):
        assert colleague.get(f"/console/handoffs/{handoff.id}{path}").status_code == 404, path
        assert clients["staff"].get(f"/console/handoffs/{handoff.id}{path}").status_code == 200, path
        assert clients["supervisor"].get(f"/console/handoffs/{handoff.id}{path}").status_code == 200, path
        assert clients["haidian"].get(f"/console/handoffs/{handoff.id}{path}").status_code == 404, path


def test_a_handoff_goes_only_to_colleagues_who_can_see_its_unit(app, clients, rasa):
    """A root supervisor's colleagues include other districts' staff, who could not open it."""
    handoff = _open(app, "w-far", region="朝阳")
    client = clients["supervisor"]
    post(client, f"/console/handoffs/{handoff.id}/claim")
    page = client.get(f"/console/handoffs/{handoff.id}").get_data(as_text=True)
    assert "staff:staff" in page and "staff:haidian" not in page
    post(client, f"/console/handoffs/{handoff.id}/transfer", target="staff:haidian")
    with app.app_context():
        kept = services().handoffs.get(handoff.id)
    assert kept.claimed_by.username == "supervisor"
    assert rasa.sent("w-far") == ["工会的王主任已接入，接下来会在这个对话里直接回复你。"]  # nobody named to the worker
    with app.app_context(), pytest.raises(InvalidTransition):
        services().handoffs.transfer(handoff.id, "supervisor", to_staff="haidian")
