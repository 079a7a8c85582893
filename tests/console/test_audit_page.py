"""The audit log as supervisors read it, and the account forms' role names."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.console.deps import services
from bot.storage.models import AuditEntry, utcnow
from tests.console.conftest import login, open_handoff, post


def rows(html: str) -> list[list[str]]:
    """The audit table's rows, each as its cells' text."""
    body = html.split('<table class="list" id="audit">', 1)[1].split("</table>", 1)[0]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in row] for row in cells if row]


def add_entries(app, *entries: AuditEntry) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), services().db.transaction() as session:
        session.add_all(entries)


def test_actions_objects_and_details_read_in_chinese_with_display_names(app, clients):
    with app.app_context():
        services().accounts.update("staff", "admin", role="supervisor")
        services().accounts.add_unit("宏达电子厂工会", parent="朝阳区工会", employers=["宏达电子厂"], actor="admin")
        handoff = open_handoff(services().handoffs, "w-audit", region="朝阳")
    post(clients["supervisor"], f"/console/handoffs/{handoff.id}/transfer", target="staff:staff")
    html = clients["admin"].get("/console/audit").get_data(as_text=True)
    table = rows(html)
    assert ["赵管理员", "修改账号", "账号 李干事", "角色：主管"] == table_row(table, "修改账号")[1:]
    assert table_row(table, "新建单位")[1:4] == ["赵管理员", "新建单位", table_row(table, "新建单位")[3]]
    assert "名称：宏达电子厂工会" in table_row(table, "新建单位")[4] and "上级单位：朝阳区工会" in table_row(table, "新建单位")[4]
    assert table_row(table, "转交")[1:] == ["王主任", "转交", f"转人工 #{handoff.id}", "转给同事：李干事"]
    opened = table_row(table, "转人工")
    assert opened[1] == "职工" and "原因：职工要求转人工" in opened[4] and "级别：一般" in opened[4]
    detail = html.split('<table class="list" id="audit">', 1)[1]
    assert "\\u" not in detail and "{" not in detail and "staff.updated" not in detail and "handoff.opened" not in detail


def table_row(table: list[list[str]], action: str) -> list[str]:
    return next(r for r in table if r[2] == action)


def test_an_accounts_logins_of_a_day_are_one_row(app, clients):
    for _ in range(2):
        assert login(app.test_client(), "staff").status_code == 302  # with the fixture's own: 3 logins today
    table = rows(clients["admin"].get("/console/audit").get_data(as_text=True))
    logins = [r for r in table if r[2].startswith("登录")]
    by_person = {r[1]: r[2] for r in logins}
    assert by_person["李干事"] == "登录 3 次（当天）" and by_person["王主任"] == "登录" and len(logins) == len(by_person)
    yesterday = utcnow() - timedelta(days=1)
    add_entries(app, AuditEntry(actor="staff", action="staff.login", object_type="staff_user", object_id="staff",
                                at=yesterday, detail={}))
    table = rows(clients["admin"].get("/console/audit").get_data(as_text=True))
    assert [r[2] for r in table if r[1] == "李干事" and r[2].startswith("登录")] == ["登录 3 次（当天）", "登录"]


def test_filters_by_action_object_and_date_and_pages(app, clients):
    start = datetime(2026, 3, 1, 4)  # 12:00 in Beijing
    add_entries(app, *[AuditEntry(actor="supervisor", action="complaint.noted", object_type="complaint",
                                  object_id=f"NJ-{n:03d}", detail={"note_id": n}, at=start + timedelta(minutes=n))
                       for n in range(60)])
    add_entries(app, AuditEntry(actor="admin", action="faq.retired", object_type="faq", object_id="staff_0001",
                                detail={}, at=start + timedelta(days=1)))
    admin = clients["admin"]

    noted = admin.get("/console/audit?action=complaint.noted").get_data(as_text=True)
    first = rows(noted)
    assert len(first) == 50 and {r[2] for r in first} == {"投诉内部备注"} and first[0][3] == "投诉 NJ-059"
    assert "第 1 / 2 页，共 60 条" in noted and "下一页" in noted
    second = rows(admin.get("/console/audit?action=complaint.noted&page=2").get_data(as_text=True))
    assert [r[3] for r in second] == [f"投诉 NJ-{n:03d}" for n in range(9, -1, -1)] and second[-1][4] == "备注编号：#0"

    assert [r[2] for r in rows(admin.get("/console/audit?object=faq").get_data(as_text=True))] == ["停用问答"]
    day = rows(admin.get("/console/audit?date_from=2026-03-02&date_to=2026-03-02").get_data(as_text=True))
    assert [r[2] for r in day] == ["停用问答"]
    march_first = admin.get("/console/audit?date_from=2026-03-01&date_to=2026-03-01&page=2").get_data(as_text=True)
    assert len(rows(march_first)) == 10 and "第 2 / 2 页，共 60 条" in march_first and "上一页" in march_first
    assert 'value="complaint.noted"' in noted and ">投诉内部备注</option>" in noted  # the filter names actions too


def test_a_bad_filter_is_said_and_ignored(clients):
    response = clients["admin"].get("/console/audit?date_from=yesterday&page=-3")
    assert response.status_code == 200 and "筛选条件有误" in response.get_data(as_text=True)


def test_the_role_selector_names_roles_like_the_account_list(clients):
    for url in ("/console/accounts", "/console/accounts/staff"):
        html = clients["admin"].get(url).get_data(as_text=True)
        options = re.findall(r'<option[^>]*value="(\w+)"[^>]*>([^<]*)</option>', html.split('name="role"', 1)[1].split("</select>", 1)[0])
        assert options == [("staff", "工作人员"), ("supervisor", "主管"), ("admin", "管理员")], url
