"""Org-unit scope × role on the audit log, the teaching inbox, FAQ approval and publishing.

Accounts of the console fixture plus ``zhou``, a supervisor of 海淀区工会: a district's
supervisor is no root supervisor, and 朝阳's work is not theirs.
"""
from __future__ import annotations

import time

import pytest

from bot.analytics import AskBack
from bot.console.deps import services
from bot.storage.models_teaching import PublishJob
from bot.storage.teaching import TeachingService
from tests.console.conftest import account_client, open_handoff, post
from tests.console.test_teaching import Found, FakeAnalytics
from tests.storage.test_teaching import record_slots

# Who may approve or publish, whatever their unit: the bot's FAQs are the whole organisation's.
MAY_APPROVE = {"staff": False, "haidian": False, "supervisor": True, "zhou": True, "admin": True}


@pytest.fixture
def everyone(app, clients):  # type: ignore[no-untyped-def]
    return {**clients, "zhou": account_client(app, "zhou", "周主任", "supervisor", "海淀区工会")}


@pytest.fixture
def untaught(app):  # type: ignore[no-untyped-def]
    """One untaught message of a worker in 朝阳 and one of a worker in 海淀, by text."""
    now = time.time()
    with app.app_context():
        services().analytics = FakeAnalytics([Found("w-cy", "朝阳职工问的", "nlu_fallback", 0.2, now - 1),
                                              Found("w-hd", "海淀职工问的", "nlu_fallback", 0.2, now)])
        record_slots(services().settings.tracker_url, {"w-cy": {"region": "朝阳"}, "w-hd": {"region": "海淀"}})
    return ("朝阳职工问的", "海淀职工问的")


@pytest.mark.parametrize("who, sees", [("staff", {"朝阳职工问的"}), ("haidian", {"海淀职工问的"}),
                                       ("zhou", {"海淀职工问的"}), ("supervisor", {"朝阳职工问的", "海淀职工问的"}),
                                       ("admin", {"朝阳职工问的", "海淀职工问的"})])
def test_the_teaching_inbox_shows_the_messages_of_ones_units(app, everyone, untaught, who, sees):
    page = everyone[who].get("/console/teach").get_data(as_text=True)
    assert {text for text in untaught if text in page} == sees


@pytest.mark.parametrize("who", ["haidian", "zhou"])
def test_another_units_untaught_message_cannot_be_opened_labelled_or_dismissed(app, everyone, untaught, who):
    everyone["supervisor"].get("/console/teach")  # imports both
    with app.app_context():
        teaching = TeachingService(services().db)
        message_id = next(m.id for m in teaching.inbox() if m.text == "朝阳职工问的")
    client = everyone[who]
    assert client.get(f"/console/faqs/new?from={message_id}").status_code == 404
    assert post(client, f"/console/teach/messages/{message_id}/label", intent="overtime_pay").status_code == 404
    assert post(client, f"/console/teach/messages/{message_id}/dismiss").status_code == 404
    with app.app_context():
        assert TeachingService(services().db).message(message_id).status == "new"


@pytest.mark.parametrize("who, may", [("haidian", False), ("zhou", False), ("staff", True), ("supervisor", True),
                                      ("admin", True)])
def test_only_the_messages_unit_confirms_the_topic_its_worker_chose(app, everyone, untaught, who, may):
    everyone["supervisor"].get("/console/teach")  # imports both
    with app.app_context():
        teaching = TeachingService(services().db)
        message = next(m for m in teaching.inbox() if m.text == "朝阳职工问的")
        teaching.record_ask_backs([AskBack("w-cy", message.event_ts + 1, message.event_ts, ("overtime_pay",),
                                           "overtime_pay")])
    response = post(everyone[who], f"/console/teach/messages/{message.id}/confirm")
    assert response.status_code == (302 if may else 404)
    with app.app_context():
        handled = TeachingService(services().db).message(message.id)
        assert (handled.status, handled.label) == (("labelled", "overtime_pay") if may else ("new", None))


@pytest.mark.parametrize("who, sees_chaoyang", [("zhou", False), ("supervisor", True), ("admin", True)])
def test_the_audit_log_shows_entries_about_objects_in_ones_scope(app, everyone, who, sees_chaoyang):
    with app.app_context():
        chaoyang = open_handoff(services().handoffs, "w-audit-cy", region="朝阳")
        haidian = open_handoff(services().handoffs, "w-audit-hd", region="海淀")
    post(everyone["staff"], f"/console/handoffs/{chaoyang.id}/claim")
    page = everyone[who].get("/console/audit").get_data(as_text=True)
    assert (f"转人工 #{chaoyang.id}<" in page) is sees_chaoyang
    assert ("账号 李干事<" in page) is sees_chaoyang  # 朝阳's account, logging in
    assert f"转人工 #{haidian.id}<" in page
    assert "账号 孙干事<" in page


@pytest.mark.parametrize("who", sorted(MAY_APPROVE))
def test_approving_and_publishing_by_role_whatever_the_unit(app, everyone, launched, who):
    with app.app_context():
        teaching = TeachingService(services().db)
        entry = teaching.create_faq("办公时间", ["工会几点下班"], "17:00下班。", "公告", "staff")
    client = everyone[who]
    approve = post(client, f"/console/faqs/{entry.id}/approve", version="1")
    publish = post(client, "/console/publish")
    with app.app_context():
        approved = TeachingService(services().db).faq(entry.id).current.approved_by_id is not None
        with services().db.transaction() as session:
            jobs = session.query(PublishJob).count()
    if MAY_APPROVE[who]:
        assert approve.status_code == publish.status_code == 302 and approved and jobs == len(launched) == 1
    else:
        assert approve.status_code == publish.status_code == 403 and not approved and jobs == len(launched) == 0
