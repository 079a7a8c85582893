"""The complaints pages: filters, scope, workflow, assignment, notes, CSV export and the audit trail."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.complaints import ComplaintDraft
from bot.console.tables import formula_safe
from bot.console.deps import services
from bot.knowledge.topics import load_topics
from bot.storage.accounts import AccountService
from bot.storage.models import AuditEntry, Complaint
from bot.storage.services import ComplaintService
from tests.console.conftest import PASSWORD, login, post

JUNE = datetime(2026, 6, 1, 2, 0)  # 10:00 in Beijing
TOPIC_TITLE = next(t.title for t in load_topics() if t.id == "wage_arrears")


def file_complaint(app, sender: str = "w-1", when: datetime = JUNE, **changes: object) -> str:
    """A worker files a complaint (routed by employer, else region); returns its ticket."""
    fields = dict(sender_id=sender, channel="socketio", employer="星光电子厂", topic="wage_arrears",
                  description="三个月没发工资", since_text="今年三月", workers_affected=3,
                  phone="13812345678", consent_to_contact=True)
    fields.update(changes)
    with app.app_context():
        service = ComplaintService(services().db, clock=lambda: when)
        return service.submit(ComplaintDraft(**fields)).complaint.ticket


def stored(app, ticket: str) -> Complaint:
    with app.app_context(), services().db.transaction() as session:
        return session.scalars(select(Complaint).where(Complaint.ticket == ticket)).one()


def audit(app, ticket: str) -> list[tuple[str, str, dict]]:
    with app.app_context(), services().db.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_id == ticket)
                                  .order_by(AuditEntry.id)).all()
        return [(e.actor, e.action, e.detail) for e in entries]


def listed(client, query: str = "") -> str:
    response = client.get(f"/console/complaints{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- list and filters ------------------------------------------------------------------------

def test_list_masks_phones_and_puts_urgent_first(app, clients):
    normal = file_complaint(app, "w-1", topic="probation", workers_affected=1)
    urgent = file_complaint(app, "w-2", workers_affected=30, phone="13900001111")
    html = listed(clients["staff"])
    assert html.index(urgent) < html.index(normal)
    assert "139****1111" in html and "13900001111" not in html


@pytest.mark.parametrize("query, expected", [
    ("?status=new", {"a", "b", "c"}),
    ("?status=accepted", set()),
    ("?topic=probation", {"b"}),
    ("?employer=星光", {"a", "b", "c"}),
    ("?employer=朝阳食品", set()),
    ("?region=朝阳", {"c"}),
    ("?region=北京", {"c"}),
    ("?region=海淀", set()),
    ("?date_from=2026-06-02", {"b", "c"}),
    ("?date_to=2026-06-01", {"a"}),
    ("?date_from=2026-06-02&date_to=2026-06-02", {"b"}),
    ("?topic=wage_arrears&region=朝阳", {"c"}),
])
def test_filters(app, clients, query, expected):
    tickets = {
        "a": file_complaint(app, "w-a", when=datetime(2026, 6, 1, 15, 59)),  # 06-01 23:59 in Beijing
        "b": file_complaint(app, "w-b", when=datetime(2026, 6, 1, 16, 0), topic="probation"),  # 06-02 00:00
        "c": file_complaint(app, "w-c", when=datetime(2026, 6, 3, 2, 0), region="北京朝阳区"),
    }
    html = listed(clients["staff"], query)
    assert {k for k, t in tickets.items() if t in html} == expected


def test_an_invalid_filter_is_reported_not_fatal(app, clients):
    ticket = file_complaint(app)
    html = listed(clients["staff"], "?date_from=yesterday&status=bogus")
    assert "筛选条件有误" in html and ticket in html


def test_list_stops_at_200_and_says_so(app, clients, monkeypatch):
    monkeypatch.setattr("bot.console.complaints.LIST_LIMIT", 2)
    for n in range(3):
        file_complaint(app, f"w-{n}")
    html = listed(clients["staff"])
    assert html.count('data-ticket="') == 2 and 'id="truncated"' in html


# --- scope ---------------------------------------------------------------------------------------

def test_another_district_sees_neither_the_list_entry_nor_the_page(app, clients):
    ticket = file_complaint(app)
    assert ticket not in listed(clients["haidian"])
    assert clients["haidian"].get(f"/console/complaints/{ticket}").status_code == 404
    assert post(clients["haidian"], f"/console/complaints/{ticket}/status", status="accepted").status_code == 404
    assert post(clients["haidian"], f"/console/complaints/{ticket}/note", **{"note-text": "x"}).status_code == 404
    assert stored(app, ticket).status == "new" and not stored(app, ticket).notes
    assert ticket in listed(clients["staff"]) and ticket in listed(clients["supervisor"])


def test_detail_shows_every_field_and_the_whole_phone_within_scope(app, clients):
    ticket = file_complaint(app, region="朝阳", consent_to_contact=False)
    html = clients["staff"].get(f"/console/complaints/{ticket}").get_data(as_text=True)
    for text in ("星光电子厂", TOPIC_TITLE, "三个月没发工资", "今年三月",
                 "13812345678", "朝阳", "星光电子厂工会", "不同意联系", "待受理"):
        assert text in html, text


def test_a_complaint_reaches_the_district_the_worker_named_or_the_employers_name_names(app, clients):
    haidian = file_complaint(app, "w-hd", employer="宏达电子厂", region="北京海淀区")
    chaoyang = file_complaint(app, "w-cy", employer="朝阳宏达电子厂")
    assert haidian in listed(clients["haidian"]) and haidian not in listed(clients["staff"])
    assert chaoyang in listed(clients["staff"]) and chaoyang not in listed(clients["haidian"])
    page = clients["haidian"].get(f"/console/complaints/{haidian}").get_data(as_text=True)
    assert "北京海淀区" in page and "海淀区工会" in page and "未分派" not in page
    row = next(r for r in listed(clients["haidian"], "?region=海淀").split("<tr") if haidian in r)
    assert "<td>北京海淀区</td>" in row and "<td>海淀区工会</td>" in row


def test_worker_text_is_shown_as_text(app, clients):
    ticket = file_complaint(app, description="<script>alert(1)</script>", employer="星光电子厂<b>")
    for page in (f"/console/complaints/{ticket}", "/console/complaints"):
        html = clients["staff"].get(page).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in clients["staff"].get(
        f"/console/complaints/{ticket}").get_data(as_text=True)


# --- workflow ------------------------------------------------------------------------------------

def change(client, ticket: str, status: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return post(client, f"/console/complaints/{ticket}/status", status=status, reason=reason)


def test_full_workflow_with_only_the_allowed_buttons(app, clients):
    ticket = file_complaint(app)
    client = clients["staff"]
    page = client.get(f"/console/complaints/{ticket}").get_data(as_text=True)
    assert 'value="accepted"' in page and 'value="rejected"' in page and 'value="resolved"' not in page
    for status in ("accepted", "in_progress", "resolved"):
        response = change(client, ticket, status)
        assert response.status_code == 302, status
        assert stored(app, ticket).status == status
    page = client.get(f"/console/complaints/{ticket}").get_data(as_text=True)
    assert 'name="status"' not in page and "已办结" in page
    moves = [(d["from"], d["to"]) for actor, action, d in audit(app, ticket) if action == "complaint.status"]
    assert moves == [("new", "accepted"), ("accepted", "in_progress"), ("in_progress", "resolved")]
    assert {actor for actor, action, _ in audit(app, ticket) if action == "complaint.status"} == {"staff"}


def test_rejection_needs_a_reason(app, clients):
    ticket = file_complaint(app)
    response = change(clients["staff"], ticket, "rejected", reason="   ")
    assert response.status_code == 400
    assert "必须写明给职工的说明" in response.get_data(as_text=True)
    assert stored(app, ticket).status == "new"
    assert change(clients["staff"], ticket, "rejected", reason="不属于劳动争议").status_code == 302
    complaint = stored(app, ticket)
    assert (complaint.status, complaint.status_reason) == ("rejected", "不属于劳动争议")
    assert ("staff", "complaint.status", {"from": "new", "to": "rejected", "reason": "不属于劳动争议"}) in audit(app, ticket)


@pytest.mark.parametrize("status", ["resolved", "in_progress", "new", "bogus"])
def test_a_transition_the_workflow_does_not_allow_is_409_and_changes_nothing(app, clients, status):
    ticket = file_complaint(app)
    before = audit(app, ticket)
    response = change(clients["staff"], ticket, status)
    assert response.status_code == 409
    assert stored(app, ticket).status == "new" and audit(app, ticket) == before


def test_a_closed_complaint_cannot_be_reopened(app, clients):
    ticket = file_complaint(app)
    change(clients["staff"], ticket, "rejected", reason="重复投诉")
    assert change(clients["staff"], ticket, "accepted").status_code == 409
    assert stored(app, ticket).status == "rejected"


# --- assignment and notes ------------------------------------------------------------------------

def test_assign_to_a_colleague_who_can_see_it(app, clients):
    ticket = file_complaint(app)
    page = clients["supervisor"].get(f"/console/complaints/{ticket}").get_data(as_text=True)
    assert 'value="staff"' in page and 'value="haidian"' not in page  # 海淀 cannot see a 朝阳 complaint
    assert post(clients["supervisor"], f"/console/complaints/{ticket}/assign", target="staff").status_code == 302
    assert stored(app, ticket).assigned_to.username == "staff"
    assert "李干事" in listed(clients["staff"])
    assert ("supervisor", "complaint.assigned", {"from": None, "to": "staff"}) in audit(app, ticket)
    post(clients["supervisor"], f"/console/complaints/{ticket}/assign", target="")
    assert stored(app, ticket).assigned_to_id is None
    assert ("supervisor", "complaint.assigned", {"from": "staff", "to": None}) in audit(app, ticket)


def test_assigning_someone_outside_the_scope_is_refused(app, clients):
    ticket = file_complaint(app)
    response = post(clients["supervisor"], f"/console/complaints/{ticket}/assign", target="haidian")
    assert response.status_code == 302
    assert "请选择一位" in clients["supervisor"].get(response.location).get_data(as_text=True)
    assert stored(app, ticket).assigned_to_id is None
    assert not [a for _, a, _ in audit(app, ticket) if a == "complaint.assigned"]


def test_internal_note(app, clients):
    ticket = file_complaint(app)
    response = post(clients["staff"], f"/console/complaints/{ticket}/note", **{"note-text": "已电话联系<i>职工</i>"})
    assert response.status_code == 302
    notes = stored(app, ticket).notes
    assert [(n.text, n.staff.username) for n in notes] == [("已电话联系<i>职工</i>", "staff")]
    html = clients["staff"].get(f"/console/complaints/{ticket}").get_data(as_text=True)
    assert "已电话联系&lt;i&gt;职工&lt;/i&gt;" in html
    assert ("staff", "complaint.noted", {"note_id": notes[0].id}) in audit(app, ticket)
    post(clients["staff"], f"/console/complaints/{ticket}/note", **{"note-text": "  "})
    assert len(stored(app, ticket).notes) == 1


# --- CSV export -------------------------------------------------------------------------------

def export(client, query: str = ""):  # type: ignore[no-untyped-def]
    return client.get(f"/console/complaints.csv{query}")


def test_staff_may_not_export(app, clients):
    file_complaint(app)
    assert export(clients["staff"]).status_code == 403
    assert 'id="export"' not in listed(clients["staff"])
    assert 'id="export"' in listed(clients["supervisor"])


def test_export_is_excel_friendly_and_formula_safe(app, clients):
    evil = file_complaint(app, "w-evil", employer="星光电子厂", description="=HYPERLINK(\"http://x\",\"点我\")",
                          since_text="+1月", phone="13812345678")
    file_complaint(app, "w-2", topic="probation", description="@SUM(1)\n第二行")
    response = export(clients["supervisor"], "?employer=星光")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[0] == "编号" and len(data) == 2
    by_ticket = {r[0]: dict(zip(header, r)) for r in data}
    row = by_ticket[evil]
    assert row["情况描述"] == "'=HYPERLINK(\"http://x\",\"点我\")" and row["开始时间"] == "'+1月"
    assert row["联系电话（已隐藏中间位）"] == "138****5678" and "13812345678" not in body.decode("utf-8")
    assert row["状态"] == "待受理"
    assert any(r["情况描述"] == "'@SUM(1)\n第二行" for r in by_ticket.values())
    for r in data:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in r)


def test_export_uses_the_filters_and_the_scope_and_is_audited(app, clients):
    mine = file_complaint(app, "w-1", topic="probation")
    other = file_complaint(app, "w-2")
    body = export(clients["supervisor"], "?topic=probation").get_data().decode("utf-8-sig")
    assert mine in body and other not in body
    district = file_complaint(app, "w-3", employer="宏达电子厂", region="北京海淀区")
    rows = list(csv.DictReader(io.StringIO(export(clients["supervisor"], "?region=海淀")
                                           .get_data().decode("utf-8-sig"))))
    assert [(r["编号"], r["地区"], r["负责工会"]) for r in rows] == [(district, "北京海淀区", "海淀区工会")]
    with app.app_context():
        AccountService(services().db).add("hd-boss", "海淀主任", "supervisor", "海淀区工会", password=PASSWORD)
    district = app.test_client()
    assert login(district, "hd-boss").status_code == 302
    assert mine not in export(district).get_data().decode("utf-8-sig")
    with app.app_context(), services().db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.exported")).first()
    assert entry.actor == "supervisor" and entry.detail == {"filters": {"topic": "probation"}, "rows": 1}


def test_export_refuses_invalid_filters_rather_than_exporting_everything(app, clients):
    file_complaint(app)
    assert export(clients["admin"], "?date_to=tomorrow").status_code == 400


@pytest.mark.parametrize("text, safe", [("=1+1", "'=1+1"), ("+86", "'+86"), ("-5", "'-5"), ("@x", "'@x"),
                                        ("\tcmd", "'\tcmd"), ("正常", "正常"), ("", "")])
def test_formula_safe(text, safe):
    assert formula_safe(text) == safe
