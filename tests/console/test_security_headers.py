"""What the web app tells browsers itself (nginx may add more): a Content-Security-Policy the
pages live with, no sniffing, no framing, no referrer to other sites, no caching of console pages,
and session cookies that stay on HTTPS whenever HTTPS is in use."""
from __future__ import annotations

import logging
import re

import pytest

from bot.complaints import ComplaintDraft
from bot.config import load_settings
from bot.console import create_app
from bot.console.deps import services
from tests.console.conftest import PASSWORD, build_app, csrf_token, login, open_handoff
from tests.console.test_access import EXPECTED, console_rules, _url

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.I)


def _policy(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    directives = [d.strip().split(None, 1) for d in response.headers["Content-Security-Policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d}


def _pages(app, clients):  # type: ignore[no-untyped-def]
    """Every page the app serves to a browser, fetched as the role that may see it."""
    with app.app_context():
        handoff = open_handoff(services().handoffs, "w-headers", employer="星光电子厂")
        ticket = services().complaints.submit(ComplaintDraft(
            sender_id="w-headers", channel="socketio", employer="星光电子厂", topic="wage_arrears",
            description="拖欠工资", since_text="三月", workers_affected=1, phone="13812345678",
            consent_to_contact=True)).complaint.ticket
    yield "/", clients["anonymous"].get("/")
    yield "/console/login", clients["anonymous"].get("/console/login")
    yield "/static/chat.js", clients["anonymous"].get("/static/chat.js")
    yield "/no-such-page", clients["anonymous"].get("/no-such-page")
    for rule in console_rules(app):
        if "GET" in rule.methods and EXPECTED[rule.endpoint] is not None:
            url = _url(rule, handoff.id, ticket)
            response = clients["admin"].get(url)
            assert response.status_code < 500, url
            yield url, response


def test_every_response_carries_the_security_headers(app, clients):
    for url, response in _pages(app, clients):
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
        assert response.headers.get("X-Frame-Options") == "DENY", url
        assert response.headers.get("Referrer-Policy") == "same-origin", url
        policy = _policy(response)
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", url
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"], url
        assert "'unsafe-inline'" not in policy["style-src"], url


def test_inline_scripts_run_only_with_the_nonce_of_their_own_response(app, clients):
    nonces = set()
    for url, response in _pages(app, clients):
        html = response.get_data(as_text=True)
        if not response.content_type.startswith("text/html"):
            continue
        for attributes in _INLINE_SCRIPT.findall(html):
            nonce = re.search(r'nonce="([^"]+)"', attributes)
            assert nonce, f"{url}: an inline script without a nonce would be blocked"
            assert f"'nonce-{nonce.group(1)}'" in _policy(response)["script-src"], url
            nonces.add(nonce.group(1))
        assert not re.search(r"<[^>]+\son[a-z]+=", html), f"{url}: inline event handlers are blocked"
        assert not re.search(r"<[^>]+\sstyle=", html), f"{url}: inline styles are blocked"
    assert len(nonces) >= 3  # chat page, queue, dashboard: each response its own


def test_the_chat_page_may_connect_to_the_rasa_server_and_nothing_else(tmp_path):
    app = build_app(tmp_path, RASA_PUBLIC_URL="https://chat.example.org")
    connect = _policy(app.test_client().get("/"))["connect-src"].split()
    assert set(connect) == {"'self'", "https://chat.example.org", "wss://chat.example.org"}


def test_console_pages_are_never_cached_but_static_files_are(app, clients):
    for url, response in _pages(app, clients):
        if url.startswith("/console"):
            assert response.headers.get("Cache-Control") == "no-store", url
    response = clients["supervisor"].get("/console/complaints.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in (clients["anonymous"].get("/static/console.css").headers.get("Cache-Control") or "")


def _session_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def test_session_cookies_are_secure_whenever_the_request_is_https(app):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/console/login", base_url="https://localhost",
                           headers={"Referer": "https://localhost/console/login"},
                           data={"username": "staff", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert all("; Secure" in c for c in response.headers.getlist("Set-Cookie"))
    plain = login(app.test_client(), "staff")  # local development over plain HTTP still works
    assert "; Secure" not in _session_cookie(plain)


def test_behind_nginx_https_is_what_nginx_says(tmp_path):
    app = build_app(tmp_path, WEB_TRUSTED_PROXIES="1")
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/console/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.4",
                                                      "Referer": "https://localhost/console/login"},
                           data={"username": "staff", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "; Secure" in _session_cookie(response)


def test_secure_cookies_can_be_forced_for_plain_http_requests(tmp_path):
    app = build_app(tmp_path, CONSOLE_SECURE_COOKIES="true")
    assert "; Secure" in _session_cookie(login(app.test_client(), "staff"))


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("10.77.0.10", True), ("127.0.0.1", False),
                                          ("localhost", False)])
def test_a_warning_at_start_when_cookies_may_travel_unencrypted(tmp_path, caplog, host, warned):
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "RASA_TOKEN": "t", "NIANGJIA_HOST": host})
    with caplog.at_level(logging.WARNING):
        create_app(settings)
    assert any("CONSOLE_SECURE_COOKIES" in r.getMessage() for r in caplog.records) == warned
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "RASA_TOKEN": "t", "NIANGJIA_HOST": host,
                                  "CONSOLE_SECURE_COOKIES": "1"}))
    assert not any("CONSOLE_SECURE_COOKIES" in r.getMessage() for r in caplog.records)
