"""Login, sessions, CSRF and the authorisation matrix: every console route × every role."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

import bot.storage.accounts as accounts_module
from bot.complaints import ComplaintDraft
from bot.console.deps import services
from bot.storage.accounts import FREE_FAILURES
from bot.storage.models import AuditEntry, utcnow
from tests.console.conftest import PASSWORD, build_app, csrf_token, login, open_handoff, post

# The least role each console endpoint needs, decided here, independently of the code's own
# declarations. A new route fails test_every_console_route_is_in_the_matrix until it is added.
LOGIN_PAGE = None
EXPECTED = {
    "access.login": LOGIN_PAGE,
    "access.logout": "staff",
    "access.home": "staff",
    "access.password": "staff",
    "handoffs.queue": "staff",
    "handoffs.queue_json": "staff",
    "handoffs.detail": "staff",
    "handoffs.messages_json": "staff",
    "handoffs.claim": "staff",
    "handoffs.reply": "staff",
    "handoffs.note": "staff",
    "handoffs.transfer": "staff",
    "handoffs.resolve": "staff",
    "alerts.unclaimed": "supervisor",
    "escalations.listing": "staff",
    "escalations.detail": "staff",
    "escalations.review": "supervisor",
    "escalations.export": "supervisor",
    "teaching.inbox": "staff",
    "teaching.label": "staff",
    "teaching.confirm": "staff",
    "teaching.dismiss": "staff",
    "teaching.faq_new": "staff",
    "teaching.faqs": "staff",
    "teaching.faq_edit": "staff",
    "teaching.faq_try": "staff",
    "teaching.faq_retire": "staff",
    "teaching.faq_approve": "supervisor",
    "teaching.publish": "supervisor",
    "teaching.job_json": "staff",
    "complaints.listing": "staff",
    "complaints.detail": "staff",
    "complaints.status": "staff",
    "complaints.assign": "staff",
    "complaints.note": "staff",
    "complaints.export": "supervisor",
    "accounts.audit": "supervisor",
    "analytics.dashboard": "supervisor",
    "analytics.data": "supervisor",
    "accounts.accounts": "admin",
    "accounts.account": "admin",
    "accounts.units": "admin",
    "accounts.unit_update": "admin",
}
RANK = {"anonymous": -1, "staff": 0, "supervisor": 1, "admin": 2}


def console_rules(app):  # type: ignore[no-untyped-def]
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/console")]


def test_every_console_route_is_in_the_matrix(app):
    assert {r.endpoint for r in console_rules(app)} == set(EXPECTED)


def _url(rule, handoff_id: int, ticket: str) -> str:  # type: ignore[no-untyped-def]
    values = {"handoff_id": handoff_id, "username": "staff", "unit_id": 1, "message_id": 1, "faq_id": 1,
              "job_id": 1, "ticket": ticket}
    return rule.build({k: values[k] for k in rule.arguments})[1]


@pytest.mark.parametrize("who", ["anonymous", "staff", "supervisor", "admin"])
def test_authorisation_matrix(app, clients, who):
    """Below the needed role: 403 (anonymous: the login page); at or above it: never refused."""
    with app.app_context():
        handoff = open_handoff(services().handoffs, "w-matrix", employer="星光电子厂")
        ticket = services().complaints.submit(ComplaintDraft(
            sender_id="w-matrix", channel="socketio", employer="星光电子厂", topic="wage_arrears",
            description="拖欠工资", since_text="三月", workers_affected=1, phone=None,
            consent_to_contact=False)).complaint.ticket
    client = clients[who]
    for rule in console_rules(app):
        needed = EXPECTED[rule.endpoint]
        url = _url(rule, handoff.id, ticket)
        method = "GET" if "GET" in rule.methods else "POST"
        data = {"csrf_token": csrf_token(client)} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        where = f"{who} {method} {url} -> {response.status_code}"
        if needed is LOGIN_PAGE:
            assert response.status_code in (200, 302), where
        elif who == "anonymous":
            assert response.status_code == 302 and "/console/login" in response.location, where
        elif RANK[who] < RANK[needed]:
            assert response.status_code == 403, where
            assert "没有权限" in response.get_data(as_text=True)
        else:
            assert response.status_code not in (401, 403, 500), where
            if rule.endpoint != "access.logout":
                assert "/console/login" not in (response.location or ""), where
        if rule.endpoint == "access.logout" and who != "anonymous":
            assert login(client, who).status_code == 302  # log back in for the next routes


def test_login_with_the_right_password_opens_the_queue(app):
    client = app.test_client()
    response = login(client, "staff")
    assert response.status_code == 302 and response.location.endswith("/console/queue")
    page = client.get("/console/queue").get_data(as_text=True)
    assert "转人工队列" in page and "李干事" in page


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app):
    client = app.test_client()
    for username in ("staff", "nobody"):
        response = login(client, username, "wrong password!")
        assert response.status_code == 400
        assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/console/queue").status_code == 302


class Clock:
    """The accounts' clock, moved by the test instead of waited for."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.now = utcnow()
        with app.app_context():
            services().accounts.clock = lambda: self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def attempt(client, username: str, password: str, address: str = "198.51.100.7", **headers: str):  # type: ignore[no-untyped-def]
    """A login attempt from ``address`` (what the server sees as the client's address)."""
    return client.post("/console/login", data={"username": username, "password": password,
                                                "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def answer(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    flashed = re.search(r'<div class="flash[^"]*"[^>]*>([^<]*)</div>', response.get_data(as_text=True))
    return response.status_code, flashed.group(1) if flashed else ""


def test_wrong_passwords_slow_guessing_down_and_the_right_one_works_after_the_wait(app):
    clock = Clock(app)
    client = app.test_client()
    for _ in range(FREE_FAILURES + 1):
        assert answer(attempt(client, "staff", "wrong password!")) == (400, "用户名或密码不正确。")
    # Even the right password waits now: otherwise guessing would go on at full speed.
    status, message = answer(attempt(client, "staff", PASSWORD))
    assert status == 429 and "请 2 秒后再试" in message
    assert client.get("/console/queue").status_code == 302
    clock.advance(timedelta(seconds=2))
    assert attempt(client, "staff", PASSWORD).status_code == 302
    with app.app_context(), services().db.transaction() as session:
        actions = [e.action for e in session.query(AuditEntry).filter_by(object_id="staff")]
    assert "staff.login_throttled" in actions
    # Another account, from another address, was never slowed down.
    assert attempt(app.test_client(), "supervisor", PASSWORD, "192.0.2.44").status_code == 302


def test_the_wait_grows_but_never_beyond_five_minutes_so_nobody_is_locked_out(app):
    clock = Clock(app)
    attacker = app.test_client()
    for _ in range(40):  # never refused unheard after five minutes' wait
        clock.advance(timedelta(minutes=5))
        assert answer(attempt(attacker, "staff", "guess " * 3)) == (400, "用户名或密码不正确。")
    status, message = answer(attempt(attacker, "staff", PASSWORD))
    assert status == 429 and "请 5 分钟后再试" in message
    # The owner, on another computer, five minutes after the attacker's last guess:
    clock.advance(timedelta(minutes=5))
    assert attempt(app.test_client(), "staff", PASSWORD, "192.0.2.10").status_code == 302


def test_an_attacker_cannot_keep_the_owner_of_an_account_out(app):
    clock = Clock(app)
    owner = app.test_client()
    assert attempt(owner, "staff", PASSWORD, "192.0.2.10").status_code == 302  # this browser is known now
    post(owner, "/console/logout")
    attacker = app.test_client()
    for _ in range(30):  # one guess the moment each wait is over, from another address
        clock.advance(timedelta(minutes=5))
        attempt(attacker, "staff", "guess " * 3, "203.0.113.66")
    assert attempt(app.test_client(), "staff", PASSWORD, "192.0.2.10").status_code == 429  # a new browser waits
    assert attempt(owner, "staff", PASSWORD, "192.0.2.10").status_code == 302  # the owner's does not
    assert owner.get("/console/queue").status_code == 200
    # The owner's browser is known for the owner's account only.
    for _ in range(30):
        clock.advance(timedelta(minutes=5))
        attempt(attacker, "supervisor", "guess " * 3, "203.0.113.66")
    assert attempt(owner, "supervisor", PASSWORD, "192.0.2.10").status_code == 429


def test_one_address_guessing_many_accounts_is_slowed_down(app):
    Clock(app)
    attacker = app.test_client()
    for name in ("staff", "supervisor", "haidian", "nobody"):
        assert attempt(attacker, name, "guess " * 3, "203.0.113.66").status_code == 400
    # Even a right guess for a fifth name must wait; the same account from elsewhere need not.
    assert attempt(attacker, "admin", PASSWORD, "203.0.113.66").status_code == 429
    assert attempt(app.test_client(), "admin", PASSWORD, "192.0.2.10").status_code == 302


def test_unknown_disabled_and_real_names_get_the_same_answers_after_the_same_work(app, monkeypatch):
    """Nothing in the answers, nor in the work behind them, tells whether an account exists."""
    with app.app_context():
        services().accounts.add("gone", "钱干事", "staff", "朝阳区工会", password=PASSWORD)
        services().accounts.update("gone", actor="admin", active=False)
    verified: list[str] = []
    real_verify = accounts_module._verify
    monkeypatch.setattr(accounts_module, "_verify", lambda h, p: verified.append(p) or real_verify(h, p))
    clock = Clock(app)
    seen = {}
    for number, name in enumerate(("staff", "gone", "nobody-at-all")):
        client, answers = app.test_client(), []
        for step in range(12):
            verified.clear()
            clock.advance(timedelta(seconds=3 * (step % 3)))
            answers.append((answer(attempt(client, name, "wrong password!", f"192.0.2.{number}")), len(verified)))
        seen[name] = answers
    assert seen["staff"] == seen["gone"] == seen["nobody-at-all"]
    assert {count for _, count in seen["staff"]} == {0, 1}  # throttled answers verify nothing, others one hash


def test_forwarded_addresses_are_believed_only_behind_a_configured_proxy(app, tmp_path):
    """A client cannot pick its own address with X-Forwarded-For; nginx (WEB_TRUSTED_PROXIES=1) can."""
    Clock(app)
    attacker = app.test_client()
    for number, name in enumerate(("staff", "supervisor", "haidian", "nobody")):
        attempt(attacker, name, "guess " * 3, "203.0.113.66", **{"X-Forwarded-For": f"10.0.0.{number}"})
    assert attempt(attacker, "admin", PASSWORD, "203.0.113.66", **{"X-Forwarded-For": "10.0.0.9"}).status_code == 429

    proxied = build_app(tmp_path / "proxied", WEB_TRUSTED_PROXIES="1")
    Clock(proxied)
    for name in ("staff", "supervisor", "haidian", "nobody"):  # all through nginx, from one client
        attempt(proxied.test_client(), name, "guess " * 3, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.66"})
    assert attempt(proxied.test_client(), "admin", PASSWORD, "127.0.0.1",
                   **{"X-Forwarded-For": "203.0.113.66"}).status_code == 429
    # Another staff member behind the same nginx is not slowed down by that client's failures.
    assert attempt(proxied.test_client(), "admin", PASSWORD, "127.0.0.1",
                   **{"X-Forwarded-For": "192.0.2.10"}).status_code == 302


def test_disabled_account_cannot_log_in_and_its_session_ends(app, clients):
    with app.app_context():
        services().accounts.update("staff", actor="admin", active=False)
    assert clients["staff"].get("/console/queue").status_code == 302
    assert login(app.test_client(), "staff").status_code == 400


def test_session_expires_after_the_maximum_age(app, clients, monkeypatch):
    client = clients["staff"]
    assert client.get("/console/queue").status_code == 200
    monkeypatch.setattr(time, "time", lambda: 10**10)
    assert client.get("/console/queue").status_code == 302


def test_idle_session_cookie_is_time_limited(app):
    client = app.test_client()
    response = login(client, "staff")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_post_without_csrf_token_is_refused_and_changes_nothing(app, clients):
    with app.app_context():
        handoff = open_handoff(services().handoffs, "w-csrf", employer="星光电子厂")
    client = clients["staff"]
    response = client.post(f"/console/handoffs/{handoff.id}/claim", data={})
    assert response.status_code == 400 and "刷新页面" in response.get_data(as_text=True)
    forged = client.post(f"/console/handoffs/{handoff.id}/claim", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    with app.app_context():
        assert services().handoffs.get(handoff.id).status == "open"
    # The same request with the session's token works.
    assert post(client, f"/console/handoffs/{handoff.id}/claim").status_code == 302


def test_login_form_needs_csrf_too(app):
    response = app.test_client().post("/console/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 400


def test_login_never_redirects_to_another_site(app):
    client = app.test_client()
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/x", "/console//evil.example"):
        response = client.post(f"/console/login?next={target}",
                               data={"username": "staff", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302 and "evil" not in response.location
        client.post("/console/logout", data={"csrf_token": csrf_token(client)})
        token = csrf_token(client)


def test_anonymous_is_sent_to_login_and_back_after(app):
    client = app.test_client()
    response = client.get("/console/audit")
    assert response.status_code == 302 and "next=/console/audit" in response.location
    back = client.post(response.location, data={"username": "supervisor", "password": PASSWORD,
                                                "csrf_token": csrf_token(client)})
    assert back.location.endswith("/console/audit")


def test_logout_ends_the_session(clients):
    client = clients["staff"]
    assert post(client, "/console/logout").status_code == 302
    assert client.get("/console/queue").status_code == 302
