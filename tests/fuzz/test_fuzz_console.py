"""Hostile input to the staff console (in-process Flask app of tests/console/conftest.py).

What staff, or someone attacking them, would notice:
- no form field or query string, however odd, gives a 500;
- whatever a worker or a colleague typed is shown escaped: a script in a complaint, a note,
  a reply, a FAQ or a filter never reaches a page as markup, and no spreadsheet cell of the
  export starts like a formula;
- a form without the session's CSRF token (missing, empty, forged, another session's, altered)
  is refused with 400 and changes nothing;
- a staff member's session cookie, replayed, opens nothing a supervisor or admin may open;
  a cookie of a session that was logged out opens nothing; a tampered cookie is a login page.
"""
from __future__ import annotations

import csv
import io
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import text

from bot.complaints import ComplaintDraft
from bot.console.tables import FORMULA_STARTS
from bot.console.deps import services
from bot.staff import claim_notice
from tests.console.conftest import (PASSWORD, app, clients, csrf_token, launched, open_handoff,  # noqa: F401
                                    post, rasa)
from tests.fuzz.conftest import SCRIPT, fuzz, hostile_text, injection_text, short_text, unsafe_markup

STAFF_EMPLOYER = "星光电子厂"  # routed to 星光电子厂工会, inside the staff account's 朝阳区工会
field = hostile_text(3000)


def _complaint(app, employer: str = STAFF_EMPLOYER, description: str = "老板拖欠三个月工资",  # noqa: F811
               since_text: str = "三月") -> str:
    with app.app_context():
        return services().complaints.submit(ComplaintDraft(
            sender_id=f"w-{uuid.uuid4().hex}", channel="socketio", employer=employer, topic="wage_arrears",
            description=description, since_text=since_text, workers_affected=3, phone="13812345678",
            consent_to_contact=True)).complaint.ticket


def _forget(app, ticket: str | None = None, handoff_id: int | None = None) -> None:  # noqa: F811
    """Remove what one example stored, so the next example (and shrinking) starts from the same state."""
    with app.app_context(), services().db.transaction() as session:
        if ticket is not None:
            session.execute(text("DELETE FROM complaint_notes WHERE complaint_id IN "
                                 "(SELECT id FROM complaints WHERE ticket = :t)"), {"t": ticket})
            session.execute(text("DELETE FROM complaints WHERE ticket = :t"), {"t": ticket})
        if handoff_id is not None:
            session.execute(text("DELETE FROM handoff_messages WHERE handoff_id = :h"), {"h": handoff_id})
            session.execute(text("DELETE FROM handoffs WHERE id = :h"), {"h": handoff_id})


def _snapshot(app) -> dict:  # noqa: F811
    """Everything a console form could change."""
    tables = ("audit_log", "complaints", "complaint_notes", "handoffs", "handoff_messages", "faq_entries",
              "faq_versions", "staff_users", "org_units")
    with app.app_context(), services().db.transaction() as session:
        counts = {t: session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in tables}
        counts["complaint_states"] = session.execute(text(
            "SELECT ticket, status, assigned_to_id, status_reason FROM complaints ORDER BY id")).all()
        counts["handoff_states"] = session.execute(text(
            "SELECT id, status, claimed_by_id, org_unit_id FROM handoffs ORDER BY id")).all()
        counts["accounts"] = session.execute(text(
            "SELECT username, role, active, org_unit_id, password_hash FROM staff_users ORDER BY id")).all()
    return counts


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _no_500(response, what: str = "") -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, (what, response.status_code, _html(response)[:500])


# -- login ---------------------------------------------------------------------------------------------------
@fuzz()
@given(username=st.one_of(hostile_text(300), st.sampled_from(["staff", "admin ", "ADMIN", "admin\x00", "' OR 1=1 --"])),
       password=hostile_text(1000))
@example(username="admin' --", password="x")
@example(username="<script>alert(1)</script>", password="<script>alert(1)</script>")
def test_login_form_never_fails_and_never_lets_a_wrong_password_in(app, username: str,  # noqa: F811
                                                                    password: str) -> None:
    assume(password != PASSWORD)
    with app.app_context(), services().db.transaction() as session:
        session.execute(text("DELETE FROM login_throttle"))  # each example checks a password, unthrottled
    client = app.test_client()
    response = client.post("/console/login", data={"username": username, "password": password,
                                                   "csrf_token": csrf_token(client)})
    _no_500(response)
    assert response.status_code == 400
    assert not unsafe_markup(_html(response))
    assert client.get("/console/queue").status_code == 302  # still not logged in


@fuzz(0.6)
@given(current=st.one_of(hostile_text(300), st.just(PASSWORD)), new=hostile_text(400), same=st.booleans())
@example(current=PASSWORD, new="<script>alert(1)</script>", same=True)
@example(current=PASSWORD, new="woaini1314", same=True)
def test_password_change_never_fails_and_needs_the_current_password(app, clients, current: str,  # noqa: F811
                                                                     new: str, same: bool) -> None:
    with app.app_context(), services().db.transaction() as session:
        session.execute(text("DELETE FROM login_throttle"))
    before = _snapshot(app)["accounts"]
    response = post(clients["staff"], "/console/password", current=current, password=new,
                    again=new if same else new + "x")
    _no_500(response)
    assert not unsafe_markup(_html(response))
    if current != PASSWORD or not same:
        assert response.status_code in (400, 429) and _snapshot(app)["accounts"] == before
    elif response.status_code == 302:  # changed: put the known password back for the next example
        with app.app_context():
            services().accounts.set_password("staff", PASSWORD, actor="test")
        clients["staff"].post("/console/logout", data={"csrf_token": csrf_token(clients["staff"])})
        clients["staff"].post("/console/login", data={"username": "staff", "password": PASSWORD,
                                                      "csrf_token": csrf_token(clients["staff"])})


OFF_SITE = ["https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
            "/console//evil.example",
            "/console/..//evil.example", "/console/\t/evil.example", "/\t/evil.example", "java\nscript:alert(1)",
            "https:evil.example", "/console\\@evil.example", "/console/%2F%2Fevil.example", " //evil.example",
            "/console/../../\\evil.example", "\x00//evil.example", "/console\r\nLocation: https://evil.example",
            "/console/queue\n"]


@fuzz(0.6)
@given(target=st.one_of(st.sampled_from(OFF_SITE), hostile_text(300), st.tuples(
    st.sampled_from(["/console", "/console/", "//", "/"]), short_text).map("".join)))
@example(target="/console/queue\n")  # a line break in a console path: the redirect header cannot carry it
def test_login_never_sends_anyone_off_site(app, target: str) -> None:  # noqa: F811
    client = app.test_client()
    response = client.post("/console/login", query_string={"next": target},
                           data={"username": "supervisor", "password": PASSWORD, "csrf_token": csrf_token(client)})
    _no_500(response, target)
    assert response.status_code == 302, _html(response)[:300]
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    # As a browser reads it: tabs and line breaks dropped, backslashes are slashes.
    browser = urljoin("http://localhost/console/login", location.replace("\t", "").replace("\\", "/"))
    assert urlsplit(browser).netloc == "localhost", location  # same site ("/console/../x" may leave /console)


# -- complaint filters (query string) ----------------------------------------------------------------------------
FILTERS = ["status", "topic", "employer", "region", "date_from", "date_to", "page", "limit", "days", "actor"]
ODD_VALUES = ["new", "accepted", "wage_arrears", "other", "2026-01-01", "2026-13-45", "0000-00-00", "0001-01-02",
              "9999-12-30", "1970-01-01", "-1", "1e9", "2026-02-30", "２０２６-０１-０１"]
queries = st.dictionaries(st.sampled_from(FILTERS) | short_text,
                          st.one_of(st.sampled_from(ODD_VALUES), hostile_text(400)), max_size=6)


@fuzz()
@given(query=queries, role=st.sampled_from(["staff", "supervisor"]))
@example(query={"employer": "<script>alert(1)</script>", "region": "' OR 1=1 --"}, role="staff")
def test_complaint_filters_never_fail_and_are_shown_escaped(clients, query: dict, role: str) -> None:  # noqa: F811
    response = clients[role].get("/console/complaints", query_string=query)
    _no_500(response, query)
    assert response.status_code == 200
    assert not unsafe_markup(_html(response))


@fuzz(0.6)
@given(query=queries)
def test_complaint_export_filters_never_fail(clients, query: dict) -> None:  # noqa: F811
    response = clients["supervisor"].get("/console/complaints.csv", query_string=query)
    _no_500(response, query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert not unsafe_markup(_html(response))


@pytest.mark.parametrize("url", ["/console/complaints", "/console/complaints.csv"])
@pytest.mark.parametrize("query", [{"date_from": "0001-01-01"}, {"date_to": "9999-12-31"},
                                   {"date_from": "0001-01-01", "date_to": "9999-12-31"}])
def test_the_first_and_last_possible_dates_are_filters_like_any_other(clients, url: str,  # noqa: F811
                                                                      query: dict) -> None:
    """Midnight of 0001-01-01 in Beijing is before year 1 in UTC; the day after 9999-12-31 does not exist."""
    response = clients["supervisor"].get(url, query_string=query)
    _no_500(response, query)
    assert response.status_code in (200, 400)


@fuzz(0.4)
@given(query=queries)
def test_audit_and_dashboard_queries_never_fail(clients, query: dict) -> None:  # noqa: F811
    for url in ("/console/audit", "/console/dashboard", "/console/dashboard.json", "/console/queue.json"):
        response = clients["supervisor"].get(url, query_string=query)
        _no_500(response, (url, query))
        assert response.status_code == 200
        assert not unsafe_markup(_html(response))


# -- what workers typed, on staff pages ---------------------------------------------------------------------------
@fuzz()
@given(employer=hostile_text(300), description=field, since_text=hostile_text(200), said=field)
@example(employer="<script>alert(1)</script>", description="<script>alert(1)</script>",
         since_text="<script>alert(1)</script>", said="<script>alert(1)</script>")
@example(employer="\"><img src=x onerror=alert(1)>", description="</textarea><script>alert(1)</script>",
         since_text="-2+3", said="'><svg onload=alert(1)>")
def test_worker_text_is_shown_escaped(app, clients, employer: str, description: str,  # noqa: F811
                                                        since_text: str, said: str) -> None:
    assume(employer.strip() and description.strip())
    ticket = _complaint(app, employer=employer, description=description, since_text=since_text)
    with app.app_context():
        handoff = open_handoff(services().handoffs, f"w-{uuid.uuid4().hex}", employer=employer, said=said,
                               region=since_text[:50] or None)
    try:
        supervisor = clients["supervisor"]  # the top unit sees complaints and handoffs no district's rules match
        for url in ("/console/complaints", f"/console/complaints/{ticket}", "/console/queue",
                    f"/console/handoffs/{handoff.id}", "/console/dashboard"):
            response = supervisor.get(url)
            _no_500(response, url)
            assert response.status_code == 200, url
            assert not unsafe_markup(_html(response)), url
        messages = supervisor.get(f"/console/handoffs/{handoff.id}/messages.json").get_json()["messages"]
        if said:  # JSON carries it as data, as said; the page's script sets it with textContent
            assert said in [m["text"] for m in messages]
    finally:
        _forget(app, ticket, handoff.id)


@fuzz()
@given(employer=hostile_text(300), description=field, since_text=hostile_text(200))
@example(employer="=HYPERLINK(\"http://evil.example\",\"点我\")", description="+cmd|' /C calc'!A0",
         since_text="@SUM(1+1)*cmd|' /C calc'!A0")
@example(employer="-2+3", description="\t=1+1", since_text="\r=1+1")
@example(employer="宏达\x00电子厂", description="拖欠工资", since_text="三月")  # a NUL, as a REST client can send
def test_worker_text_in_the_export_is_never_a_formula(app, clients, employer: str, description: str,  # noqa: F811
                                                     since_text: str) -> None:
    assume(employer.strip() and description.strip())
    ticket = _complaint(app, employer=employer, description=description, since_text=since_text)
    try:
        export = clients["supervisor"].get("/console/complaints.csv")
        _no_500(export)
        assert export.status_code == 200
        rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
        assert ticket in [row[0] for row in rows[1:]]
        for row in rows[1:]:
            for cell in row:
                assert not cell.startswith(FORMULA_STARTS), f"a spreadsheet would run {cell[:40]!r}"
    finally:
        _forget(app, ticket)


# -- staff forms: complaint notes and status -----------------------------------------------------------------------
@fuzz()
@given(note=field)
@example(note="<script>alert(1)</script>")
@example(note="'; DROP TABLE complaint_notes; --")
@example(note="   ")
@example(note="备" * 2001)
def test_complaint_notes_are_kept_as_typed_and_shown_escaped(app, clients, note: str) -> None:  # noqa: F811
    ticket = _complaint(app)
    before = _snapshot(app)["complaint_notes"]
    response = post(clients["staff"], f"/console/complaints/{ticket}/note", **{"note-text": note})
    _no_500(response)
    assert response.status_code == 302
    accepted = bool(note.strip()) and len(note) <= 2000
    assert _snapshot(app)["complaint_notes"] == before + accepted
    page = _html(clients["staff"].get(f"/console/complaints/{ticket}"))
    assert not unsafe_markup(page)
    if accepted:
        assert str(escape(note.strip())) in page


@fuzz()
@given(status=st.one_of(st.sampled_from(["accepted", "in_progress", "resolved", "rejected", "new", ""]),
                        hostile_text(100)),
       reason=st.one_of(hostile_text(1500), st.sampled_from(SCRIPT)), steps=st.integers(0, 2))
@example(status="rejected", reason="", steps=0)
@example(status="rejected", reason="<script>alert(1)</script>", steps=0)
@example(status="accepted", reason="x" * 1001, steps=0)
def test_complaint_status_changes_only_along_the_workflow(app, clients, status: str, reason: str,  # noqa: F811
                                                         steps: int) -> None:
    ticket = _complaint(app)
    staff = clients["staff"]
    for step in ("accepted", "in_progress")[:steps]:  # start somewhere along the workflow
        assert post(staff, f"/console/complaints/{ticket}/status", status=step).status_code == 302
    before = _snapshot(app)
    response = post(staff, f"/console/complaints/{ticket}/status", status=status, reason=reason)
    _no_500(response)
    assert response.status_code in (302, 400, 409)
    after = _snapshot(app)
    row = next(r for r in after["complaint_states"] if r.ticket == ticket)
    if response.status_code == 302:
        assert row.status == status and after["audit_log"] == before["audit_log"] + 1
    else:
        assert after == before
        assert not unsafe_markup(_html(response))
    page = _html(staff.get(f"/console/complaints/{ticket}"))
    assert not unsafe_markup(page)
    if response.status_code == 302 and reason.strip():
        assert str(escape(reason.strip())) in page


# -- staff forms: handoff reply and note ---------------------------------------------------------------------------
@fuzz()
@given(kind=st.sampled_from(["reply", "note"]), message=field)
@example(kind="reply", message="<script>alert(1)</script>")
@example(kind="note", message="\"><img src=x onerror=alert(1)>")
@example(kind="reply", message=" \n ")
@example(kind="reply", message="复" * 2001)
def test_handoff_replies_and_notes_are_sent_as_typed_and_shown_escaped(app, clients, rasa, kind: str,  # noqa: F811
                                                                       message: str) -> None:
    worker = f"w-{uuid.uuid4().hex}"
    with app.app_context():
        handoff = open_handoff(services().handoffs, worker, employer=STAFF_EMPLOYER)
        services().desk.claim(handoff.id, "staff")
    staff = clients["staff"]
    before = _snapshot(app)["handoff_messages"]
    response = post(staff, f"/console/handoffs/{handoff.id}/{kind}", **{f"{kind}-text": message})
    _no_500(response)
    assert response.status_code == 302
    accepted = bool(message.strip()) and len(message) <= 2000
    assert _snapshot(app)["handoff_messages"] == before + accepted
    told = [claim_notice("李干事")]  # when the staff member claimed it
    assert rasa.sent(worker) == told + ([message.strip()] if accepted and kind == "reply" else [])
    page = _html(staff.get(f"/console/handoffs/{handoff.id}"))
    assert not unsafe_markup(page)
    if accepted:
        assert str(escape(message.strip())) in page
        texts = [m["text"] for m in staff.get(f"/console/handoffs/{handoff.id}/messages.json").get_json()["messages"]]
        assert message.strip() in texts


# -- the FAQ editor ------------------------------------------------------------------------------------------------
@fuzz()
@given(title=hostile_text(300), questions=hostile_text(7000), answer=hostile_text(4000), basis=hostile_text(600),
       source=st.none() | st.integers(-5, 10 ** 12).map(str) | short_text)
@example(title="<script>alert(1)</script>", questions="<script>alert(1)</script>\n工资",
         answer="\"><img src=x onerror=alert(1)>", basis="'><svg onload=alert(1)>", source=None)
@example(title="标题", questions="问题", answer="回答", basis="", source="0")  # ?from=0: no such message
def test_faq_editor_never_fails_and_shows_everything_escaped(app, clients, title: str, questions: str,  # noqa: F811
                                                            answer: str, basis: str, source: str | None) -> None:
    staff = clients["staff"]
    before = _snapshot(app)["faq_entries"]
    query = {"from": source} if source is not None else None
    response = staff.post("/console/faqs/new", query_string=query, data={
        "title": title, "questions": questions, "answer": answer, "basis": basis,
        "csrf_token": csrf_token(staff)})
    _no_500(response)
    assert response.status_code in (302, 400, 404)
    assert not unsafe_markup(_html(response))  # a refused form is shown again with what was typed
    created = _snapshot(app)["faq_entries"] - before
    assert created == (response.status_code == 302)
    listing = _html(staff.get("/console/faqs"))
    assert not unsafe_markup(listing)
    if created:
        assert str(escape(title.strip())) in listing
        with app.app_context(), services().db.transaction() as session:
            faq_id = session.execute(text("SELECT MAX(id) FROM faq_entries")).scalar()
        edit = staff.get(f"/console/faqs/{faq_id}")
        assert edit.status_code == 200 and not unsafe_markup(_html(edit))
        edited = staff.post(f"/console/faqs/{faq_id}", data={
            "title": answer[:200], "questions": title, "answer": questions[:3000], "basis": basis[:500],
            "csrf_token": csrf_token(staff)})
        _no_500(edited)
        assert edited.status_code in (302, 400) and not unsafe_markup(_html(edited))


# -- CSRF ------------------------------------------------------------------------------------------------------
def _forms(ticket: str, handoff_id: int) -> dict[str, tuple[str, str, dict]]:
    """Every kind of state-changing form: (who, url, otherwise valid data)."""
    return {
        "complaint-status": ("staff", f"/console/complaints/{ticket}/status", {"status": "accepted"}),
        "complaint-note": ("staff", f"/console/complaints/{ticket}/note", {"note-text": "备注"}),
        "complaint-assign": ("staff", f"/console/complaints/{ticket}/assign", {"target": "staff"}),
        "handoff-claim": ("staff", f"/console/handoffs/{handoff_id}/claim", {}),
        "handoff-reply": ("staff", f"/console/handoffs/{handoff_id}/reply", {"reply-text": "你好"}),
        "handoff-note": ("staff", f"/console/handoffs/{handoff_id}/note", {"note-text": "备注"}),
        "handoff-transfer": ("staff", f"/console/handoffs/{handoff_id}/transfer", {"target": "unit:1"}),
        "handoff-resolve": ("staff", f"/console/handoffs/{handoff_id}/resolve", {}),
        "faq-new": ("staff", "/console/faqs/new", {"title": "标题", "questions": "问题一\n问题二\n问题三",
                                                   "answer": "回答要有二十个字以上，职工才能照着去做。"}),
        "publish": ("staff", "/console/publish", {}),
        "logout": ("staff", "/console/logout", {}),
        "account-new": ("admin", "/console/accounts", {"username": "mallory", "display_name": "M", "role": "admin",
                                                       "unit": "", "password": "a-long-password-1"}),
        "account-edit": ("admin", "/console/accounts/staff", {"display_name": "李干事", "role": "admin",
                                                              "unit": "", "active": "y"}),
        "unit-new": ("admin", "/console/units", {"name": "新单位", "parent": "", "regions": "", "employers": ""}),
        "unit-edit": ("admin", "/console/units/1", {"regions": "全国", "employers": ""}),
        "login": ("anonymous", "/console/login", {"username": "staff", "password": PASSWORD}),
    }


FORM_NAMES = list(_forms("t", 1))
BAD_TOKENS = ["missing", "empty", "random", "other-session", "altered", "truncated", "header-only"]


@fuzz(1.5)
@given(form=st.sampled_from(FORM_NAMES), bad=st.sampled_from(BAD_TOKENS), junk=hostile_text(300), where=st.integers())
def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
        app, clients, rasa, launched, form: str, bad: str, junk: str, where: int) -> None:  # noqa: F811
    ticket = _complaint(app)
    with app.app_context():
        handoff = open_handoff(services().handoffs, f"w-{uuid.uuid4().hex}", employer=STAFF_EMPLOYER)
        services().desk.claim(handoff.id, "staff")
    who, url, data = _forms(ticket, handoff.id)[form]
    client = clients[who]
    good = csrf_token(client)
    # Altered inside the signed payload (its base64 has no spare bits, so any change is a change).
    at = where % len(good.split(".")[0])
    token = {"missing": None, "empty": "", "random": junk, "other-session": csrf_token(app.test_client()),
             "altered": good[:at] + ("A" if good[at] != "A" else "B") + good[at + 1:],
             "truncated": good[:where % len(good)], "header-only": None}[bad]
    assume(token != good)
    if token is not None:
        data = {**data, "csrf_token": token}
    printable = "".join(c for c in junk if " " <= c <= "~")  # what an HTTP header can carry
    headers = {"X-CSRFToken": printable if bad == "header-only" else ""}
    before, calls, jobs = _snapshot(app), list(rasa.calls), list(launched)
    response = client.post(url, data=data, headers=headers)
    assert response.status_code == 400, (form, bad, response.status_code)
    assert "刷新页面" in _html(response) and not unsafe_markup(_html(response))
    assert _snapshot(app) == before and rasa.calls == calls and launched == jobs
    if who != "anonymous":  # still logged in (a forged logout does not log anyone out either)
        assert client.get("/console/queue").status_code == 200
    else:
        assert client.get("/console/queue").status_code == 302


# -- session cookies ------------------------------------------------------------------------------------------
ABOVE_STAFF = [("GET", "/console/dashboard"), ("GET", "/console/dashboard.json"), ("GET", "/console/audit"),
               ("GET", "/console/complaints.csv"), ("GET", "/console/accounts"), ("GET", "/console/accounts/admin"),
               ("GET", "/console/units"), ("POST", "/console/accounts"), ("POST", "/console/accounts/staff"),
               ("POST", "/console/units"), ("POST", "/console/units/1")]


@fuzz()
@given(route=st.sampled_from(ABOVE_STAFF), query=queries,
       data=st.fixed_dictionaries({"username": st.just("mallory"), "display_name": st.just("李干事"),
                                   "role": st.sampled_from(["admin", "supervisor"]), "unit": st.just(""),
                                   "active": st.just("y"), "password": st.just("a-long-password-1"),
                                   "name": injection_text, "regions": hostile_text(100)}))
def test_a_staff_cookie_replayed_opens_nothing_above_staff(app, clients, route: tuple[str, str],  # noqa: F811
                                                          query: dict, data: dict) -> None:
    cookie = clients["staff"].get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    before = _snapshot(app)
    method, url = route
    if method == "POST":
        data = {**data, "csrf_token": csrf_token(thief)}
    response = thief.open(url, method=method, query_string=query, data=data if method == "POST" else None)
    assert response.status_code == 403 or (response.status_code == 302 and "/console/login" in response.location), \
        (route, response.status_code)
    assert _snapshot(app) == before


def test_a_cookie_saved_after_logout_is_a_login_page(app, clients) -> None:  # noqa: F811
    staff = clients["staff"]
    assert post(staff, "/console/logout").status_code == 302
    after = staff.get_cookie("session")
    replay = app.test_client()
    if after is not None:
        replay.set_cookie("session", after.value)
    response = replay.get("/console/queue")
    assert response.status_code == 302 and "/console/login" in response.location


def test_a_cookie_captured_before_logout_is_dead_after_it(app, clients) -> None:  # noqa: F811
    """Logging out must end the session on the server too, not just in the browser that logged out."""
    captured = clients["supervisor"].get_cookie("session").value  # e.g. off a shared computer or a proxy log
    assert post(clients["supervisor"], "/console/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", captured)
    for url in ("/console/queue", "/console/audit"):
        response = thief.get(url)
        assert response.status_code == 302 and "/console/login" in response.location, \
            f"{url} still opens with the cookie of a session that was logged out ({response.status_code})"


def _still_signed(app, cookie: str) -> bool:  # noqa: F811
    try:
        app.session_interface.get_signing_serializer(app).loads(cookie)
    except Exception:  # noqa: BLE001 - BadSignature, BadPayload, ...
        return False
    return True


@fuzz()
@given(cookie=st.one_of(st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';,"\\'),
                                max_size=500),
                        st.tuples(st.integers(0, 10_000), st.sampled_from("AB.-_x0"))),
       url=st.sampled_from(["/console/queue", "/console/dashboard", "/console/accounts"]))
def test_a_tampered_cookie_is_a_login_page(app, clients, cookie, url: str) -> None:  # noqa: F811
    if isinstance(cookie, tuple):  # the admin's real cookie with one character changed
        real = clients["admin"].get_cookie("session").value
        where, char = cookie[0] % len(real), cookie[1]
        assume(real[where] != char)
        cookie = real[:where] + char + real[where + 1:]
        assume(not _still_signed(app, cookie))  # a change in base64's spare bits is not a tampering
    client = app.test_client()
    client.set_cookie("session", cookie)
    response = client.get(url)
    _no_500(response)
    assert response.status_code == 302 and "/console/login" in response.location, (cookie[:60], response.status_code)
