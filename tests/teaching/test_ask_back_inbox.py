"""Learning from ask-backs on the running assistant: a worker's unclear message is asked back, the
worker presses a topic button, and staff find the topic as a suggestion in the inbox and confirm it."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from bot.storage.accounts import AccountService
from bot.storage.db import Database
from bot.storage.teaching import TeachingService
from tests.conftest import Stack, rest_id

pytestmark = pytest.mark.slow

PASSWORD = "ask-back-test-password"
# Messages a worker might send that say too little to pick a topic; the bot asks back on at least one.
UNCLEAR = ("那个事情咋弄啊", "厂里那个事儿怎么办", "我想问一下那个", "就是那个那个")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def ask_back(stack: Stack) -> tuple[str, str, dict]:
    """A new worker's first unclear message the bot asked back about: the worker, the message, the ask-back."""
    for text in UNCLEAR:
        sender = f"ask-{uuid.uuid4().hex[:10]}"
        reply = stack.answer(sender, text)
        tags = [m["custom"] for m in reply if (m.get("custom") or {}).get("clarify")]
        if tags:  # REST delivers the custom payload as a message of its own, after the text
            [shown] = [m for m in reply if m.get("buttons")]
            return sender, text, {**shown, "custom": tags[0]}
    raise AssertionError(f"none of {UNCLEAR} was asked back")


def console(stack: Stack) -> requests.Session:
    """A logged-in staff member of the top unit (sees unrouted messages)."""
    db = Database(stack.database_url)
    username = f"teach{uuid.uuid4().hex[:8]}"
    try:
        AccountService(db).add(username, "李干事", "staff", password=PASSWORD)
    finally:
        db.dispose()
    session = requests.Session()
    token = _CSRF.search(session.get(f"{stack.web_url}/console/login", timeout=30).text).group(1)
    response = session.post(f"{stack.web_url}/console/login", timeout=30, allow_redirects=False,
                            data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text[-500:]
    return session


def test_the_topic_a_worker_presses_after_an_ask_back_is_suggested_in_the_inbox(servers: Stack):
    sender, text, asked = ask_back(servers)
    assert asked["text"].startswith("你想问的是哪一个？")
    chosen = asked["custom"]["clarify"][0]
    button = next(b for b in asked["buttons"] if b["payload"] == f"/{chosen}")
    answer = servers.answer(sender, button["payload"])
    assert answer and not any((m.get("custom") or {}).get("clarify") for m in answer)  # answered, not asked again

    staff = console(servers)
    page = staff.get(f"{servers.web_url}/console/teach", timeout=60).text
    row = re.search(r'<tr data-id="(\d+)">((?:(?!</tr>).)*?' + re.escape(text) + r".*?)</tr>", page, re.S)
    assert row, page[-3000:]
    assert f'<strong class="suggested">{button["title"]}</strong>' in row.group(2)

    token = _CSRF.search(page).group(1)
    staff.post(f"{servers.web_url}/console/teach/messages/{row.group(1)}/confirm", data={"csrf_token": token},
               timeout=30)
    db = Database(servers.database_url)
    try:
        _, examples = TeachingService(db).publishable()
        message = TeachingService(db).message(int(row.group(1)))
    finally:
        db.dispose()
    assert (text, chosen) in [(e.text, e.intent) for e in examples]
    assert (message.sender_id, message.status, message.offered) == (rest_id(sender), "labelled",
                                                                    asked["custom"]["clarify"])
