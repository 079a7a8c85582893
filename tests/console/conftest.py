"""The console app on a real migrated database, a fake Rasa API, and a logged-in client per role.

Units: 市总工会 (root) → 朝阳区工会 → 星光电子厂工会, and a second district 海淀区工会.
Accounts: ``staff`` (朝阳区工会), ``supervisor`` (市总工会), ``admin`` (no unit), ``haidian``
(staff of 海淀区工会); every password is ``PASSWORD``.
"""
from __future__ import annotations

import re
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.config import load_settings
from bot.console import create_app
from bot.console.deps import services
from bot.storage.accounts import AccountService
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Handoff, Priority
from bot.storage.services import HandoffRequest, HandoffService

PASSWORD = "correct horse battery"
# Debian's Chromium (Playwright's own browser download is not available here).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROLES = ("staff", "supervisor", "admin")
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@dataclass
class FakeRasa:
    """Records what the console asks of Rasa; ``events`` is the tracker it returns."""

    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    events: dict[str, list[dict]] = field(default_factory=dict)
    parses: dict[str, dict] = field(default_factory=dict)  # /model/parse by text (else: not understood)
    down: bool = False

    def _record(self, name: str, sender: str, payload: Any = None) -> None:
        from bot.rasa_client import RasaUnavailable

        if self.down:
            raise RasaUnavailable("ConnectionError")
        self.calls.append((name, sender, payload))

    def tracker(self, sender_id: str) -> dict:
        self._record("tracker", sender_id)
        return {"events": self.events.get(sender_id, [])}

    def send_bot_message(self, sender_id: str, text: str, metadata: dict | None = None) -> None:
        self._record("send", sender_id, text)

    def resume(self, sender_id: str) -> None:
        self._record("resume", sender_id)

    def execute(self, sender_id: str, action: str) -> None:
        self._record("execute", sender_id, action)

    def parse(self, text: str) -> dict:
        self._record("parse", "", text)
        return self.parses.get(text, {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3},
                                      "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}]})

    def sent(self, sender: str) -> list[str]:
        return [p for name, s, p in self.calls if name == "send" and s == sender]


def open_handoff(handoffs: HandoffService, sender: str, employer: str | None = None,
                 reason: str = "requested", priority: Priority = Priority.NORMAL,
                 said: str = "我要找人工", region: str | None = None) -> Handoff:
    """A worker asks for a person (what action_handoff does), with what the bot collected."""
    slots = {k: v for k, v in (("complaint_employer", employer), ("region", region)) if v}
    return handoffs.open(HandoffRequest(sender, "socketio", reason, priority, slots=slots,
                                        transcript=[("worker", said, time.time())]))


def seed(db: Database) -> None:
    accounts = AccountService(db)
    accounts.add_unit("市总工会")
    accounts.add_unit("朝阳区工会", parent="市总工会", regions=["朝阳"])
    accounts.add_unit("星光电子厂工会", parent="朝阳区工会", employers=["星光电子厂"])
    accounts.add_unit("海淀区工会", parent="市总工会", regions=["海淀"])
    accounts.add("staff", "李干事", "staff", "朝阳区工会", password=PASSWORD)
    accounts.add("supervisor", "王主任", "supervisor", "市总工会", password=PASSWORD)
    accounts.add("admin", "赵管理员", "admin", None, password=PASSWORD)
    accounts.add("haidian", "孙干事", "staff", "海淀区工会", password=PASSWORD)


def build_app(tmp_path: Path, **env: str) -> Flask:
    """The console on a fresh seeded database in ``tmp_path``, configured with ``env`` on top."""
    url = f"sqlite:///{tmp_path / 'niangjia.db'}"
    upgrade(url)
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "RASA_TOKEN": "t", "DATABASE_URL": url,
                              "TRACKER_URL": f"sqlite:///{tmp_path / 'tracker.db'}", **env})
    app = create_app(settings)
    app.config["TESTING"] = True
    with app.app_context():
        seed(services().db)
        services().desk.rasa = FakeRasa()
    return app


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return build_app(tmp_path)


@pytest.fixture(autouse=True)
def launched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Publish jobs the console started (recorded: console tests never train a model)."""
    jobs: list[int] = []
    monkeypatch.setattr("bot.console.teaching.launch", lambda settings, job_id: jobs.append(job_id))
    return jobs


@pytest.fixture
def rasa(app: Flask) -> FakeRasa:
    with app.app_context():
        return services().desk.rasa


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session (every console form carries it)."""
    html = client.get("/console/login").get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, "login page has no CSRF token"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/console/login", data={"username": username, "password": password,
                                                "csrf_token": csrf_token(client)})


def post(client: FlaskClient, url: str, **data: Any):  # type: ignore[no-untyped-def]
    """A form POST the way the browser sends it: with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def account_client(app: Flask, username: str, display_name: str, role: str, unit: str | None) -> FlaskClient:
    """A client logged in as a new account (``PASSWORD``) of ``role`` in ``unit``."""
    with app.app_context():
        services().accounts.add(username, display_name, role, unit, password=PASSWORD)
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


@pytest.fixture
def clients(app: Flask) -> dict[str, FlaskClient]:
    """A logged-in test client per account (and ``anonymous``)."""
    result = {"anonymous": app.test_client()}
    for name in (*ROLES, "haidian"):
        client = app.test_client()
        response = login(client, name)
        assert response.status_code == 302, response.get_data(as_text=True)
        result[name] = client
    return result


# Report every Content-Security-Policy violation to the console, where watch_csp collects it.
_CSP_REPORTER = ("document.addEventListener('securitypolicyviolation', e => console.error("
                 "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")


def watch_csp(context) -> list[str]:  # type: ignore[no-untyped-def]
    """Every CSP violation on the pages of a browser context (the page's reports and Chromium's own)."""
    found: list[str] = []
    context.add_init_script(_CSP_REPORTER)
    context.on("console", lambda message: found.append(message.text)
               if "CSP violation" in message.text or "Content Security Policy" in message.text else None)
    return found


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Headless Chromium for the browser tests of one module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield instance
        instance.close()


@contextmanager
def console_in_chromium(app: Flask, username: str, width: int = 1366, height: int = 900) -> Iterator[tuple[Any, list]]:
    """``app`` served on a local port and a headless Chromium page logged in as ``username``:
    yields the page and the list its script errors (and any alert) are collected in."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            page = instance.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda dialog: errors.append("dialog " + dialog.message))
            page.goto(f"http://127.0.0.1:{server.server_port}/console/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url(re.compile(r".*/console/queue$"))
            yield page, errors
            instance.close()
    finally:
        server.shutdown()
