"""Shared fixtures: paths, the trained model, and servers started for real."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest
import requests

from bot.channels.common import folded_details
from bot.rasa_client import RasaClient
from bot.staff import StaffDesk
from bot.storage.db import Database
from bot.storage.accounts import AccountService
from bot.storage.services import HandoffService
from bot.testing.wechat import FakeWeChatApi, WeChatServerSim
from bot.cluster.postgres import PostgresServer
from bot.cluster.processes import free_port, kill, terminate, wait_for  # noqa: F401 (re-exported to tests)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# ../shared (the contract topics, real questions) is beside the project in CI, not in every clone.
_SPEC_TOPICS = SHARED / "spec" / "topics.yml"
needs_shared_spec = pytest.mark.skipif(
    not _SPEC_TOPICS.exists(), reason="../shared/spec/topics.yml is not beside the project (CI has it)")
needs_shared_eval = pytest.mark.skipif(
    not (SHARED / "eval").is_dir(), reason="../shared/eval is not beside the project (CI has it)")


def spec_topics() -> list[dict]:
    """The contract topics of ../shared/spec/topics.yml ([] in a clone without ../shared)."""
    if not _SPEC_TOPICS.exists():
        return []
    import yaml

    return yaml.safe_load(_SPEC_TOPICS.read_text(encoding="utf-8"))["topics"]
# The WeChat accounts every test stack is configured with (their API is a FakeWeChatApi).
# (Servers refuse secrets under 32 characters; WeChat allows tokens of at most 32.)
WECHAT = {"token": "wechatTestToken0123456789abcdefA", "app_id": "wx5e1f0c0ffee00001",
          "secret": "wechat-test-secret-0123456789abcdef"}
WECOM = {"token": "wecomTestToken0123456789abcdefAB", "corp_id": "ww5e1f0c0ffee00002", "agent_id": "1000002",
         "secret": "wecom-test-secret-0123456789abcdef", "aes_key": "k9QnF2xWm4Rt7Yp1Lc8Vb3Zs6Hd0Gj5Ku2Ae4Tf7Wq1"}
# The Rasa API token and the REST channel's bearer token of every test stack.
RASA_TOKEN = "test-rasa-api-token-0123456789abcdef"
REST_TOKEN = "test-rest-channel-token-0123456789abcdef"
REST_AUTH = {"Authorization": f"Bearer {REST_TOKEN}"}
# The key of WeChat/WeCom conversation ids (bot.storage.channels.channel_sender_id) of every stack.
SENDER_KEY = "test-sender-id-key-0123456789abcdef"


def wechat_id(channel: str, external_id: str) -> str:
    """The conversation id a test stack gives a WeChat (``wechat``) or WeCom (``wecom``) user."""
    from bot.storage.channels import channel_sender_id

    return channel_sender_id(channel, external_id, SENDER_KEY)


def rest_id(sender: str, channel: str = "rest") -> str:
    """The conversation id Rasa keeps for a REST (or callback) client's ``sender``."""
    return f"{channel}:{sender}"
BIN = Path(sys.executable).parent
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")  # never phone home from tests



@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run; each test takes a fresh database on it."""
    server = PostgresServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database without any table, on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'niangjia.db'}"
    return request.getfixturevalue("postgres").create_database()


@pytest.fixture
def database_url(blank_database_url: str) -> str:
    """An empty database on each engine, its schema built by our Alembic migrations."""
    from bot.storage.migrate import upgrade

    upgrade(blank_database_url)
    return blank_database_url


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model matching the current data (trained once per data fingerprint)."""
    from bot.config import load_settings
    from bot.training import ensure_model

    return ensure_model(load_settings())


class CallbackRecorder:
    """Stands in for an integration behind Rasa's callback channel: records what Rasa posts."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with recorder._lock:
                    recorder.messages.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bot"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self, sender: str) -> list[str]:
        """What reached the integration for its ``sender`` (Rasa's conversation ``callback:<sender>``)."""
        recipient = rest_id(sender, "callback")
        with self._lock:
            return [m.get("text") or "" for m in self.messages if m.get("recipient_id") == recipient]

    def wait_for(self, recipient: str, needle: str, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts(recipient)
            if any(needle in t for t in texts):
                return texts
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} never reached {recipient}: {self.texts(recipient)}")


class Stack:
    """The Rasa server, the action server and the web app, started as `make run` starts them."""

    def __init__(self, var_dir: Path, database_url: str | None = None, callback_url: str = "",
                 wechat_api: str = "", **extra_env: str) -> None:
        self.var_dir = var_dir
        self.logs = var_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(NIANGJIA_VAR_DIR=str(var_dir), RASA_PORT=str(free_port()), WEB_PORT=str(free_port()),
                   ACTIONS_PORT=str(free_port()), RASA_TOKEN=RASA_TOKEN, REST_TOKEN=REST_TOKEN, SENDER_KEY=SENDER_KEY, WEB_WORKERS="1",
                   CALLBACK_URL=callback_url, PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
        env["RASA_PUBLIC_URL"] = f"http://127.0.0.1:{env['RASA_PORT']}"
        env.pop("DATABASE_URL", None)
        env.pop("TRACKER_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        if wechat_api:
            env.update(WECHAT_TOKEN=WECHAT["token"], WECHAT_APP_ID=WECHAT["app_id"],
                       WECHAT_APP_SECRET=WECHAT["secret"], WECHAT_AES_KEY="", WECHAT_API_BASE=wechat_api,
                       WECOM_TOKEN=WECOM["token"], WECOM_CORP_ID=WECOM["corp_id"],
                       WECOM_AGENT_ID=WECOM["agent_id"], WECOM_SECRET=WECOM["secret"],
                       WECOM_AES_KEY=WECOM["aes_key"], WECOM_API_BASE=wechat_api)
        env.update(extra_env)
        self.env = env
        self.rasa_url = f"http://127.0.0.1:{env['RASA_PORT']}"
        self.web_url = f"http://127.0.0.1:{env['WEB_PORT']}"
        self.actions_url = f"http://127.0.0.1:{env['ACTIONS_PORT']}"
        self.token = env["RASA_TOKEN"]
        self.database_url = database_url or f"sqlite:///{var_dir / 'niangjia.db'}"
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: list = []

    def start(self, name: str) -> None:
        log = open(self.logs / f"{name}.log", "ab")
        self._logs.append(log)
        self.procs[name] = subprocess.Popen([str(BIN / "niangjia"), "run", name], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        health = {"rasa": f"{self.rasa_url}/status?token={self.token}", "web": f"{self.web_url}/healthz",
                  "actions": f"{self.actions_url}/health"}[name]
        wait_for(health, 240 if name == "rasa" else 90, self.procs[name])

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to finish what it is doing."""
        kill(self.procs.pop(name))

    def stop(self) -> None:
        terminate(self.procs.values(), timeout=20)
        self.procs.clear()
        for log in self._logs:
            log.close()

    def events(self, sender: str) -> list[dict]:
        """Every event Rasa stored for the conversation ``sender`` (its HTTP API, all sessions);
        a REST client's conversation is ``rest_id(sender)``."""
        response = requests.get(f"{self.rasa_url}/conversations/{quote(sender, safe=':')}/tracker",
                                params={"token": self.token}, timeout=30)
        response.raise_for_status()
        return response.json()["events"]

    def user_texts(self, sender: str) -> list[str]:
        """What Rasa recorded as ``sender``'s messages."""
        return [e.get("text") for e in self.events(sender) if e.get("event") == "user"]

    def answer(self, sender: str, text: str) -> list[dict]:
        """A worker's message over the REST channel; the bot's messages (text, buttons …)."""
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", headers=REST_AUTH,
                                 json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()
        return response.json()

    def say(self, sender: str, text: str) -> list[str]:
        """A worker's message over the REST channel; the bot's replies, a calculation's details
        (its custom payload: the working and citations a page folds behind "查看依据") after it."""
        return [m.get("text") or folded_details(m) or "" for m in self.answer(sender, text)]

    def wechat(self, wecom: bool = False) -> WeChatServerSim:
        """WeChat's servers calling this stack's Official Account (plain) or WeCom (safe) webhook."""
        if wecom:
            return WeChatServerSim(f"{self.rasa_url}/webhooks/wecom/webhook", WECOM["token"],
                                   WECOM["corp_id"], WECOM["aes_key"], wecom=True)
        return WeChatServerSim(f"{self.rasa_url}/webhooks/wechat/webhook", WECHAT["token"], WECHAT["app_id"])

    def say_callback(self, sender: str, text: str) -> None:
        """A worker's message over the callback channel (replies go to the recorder)."""
        response = requests.post(f"{self.rasa_url}/webhooks/callback/webhook", headers=REST_AUTH,
                                 json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()


@pytest.fixture(scope="session")
def callback_recorder() -> Iterator[CallbackRecorder]:
    recorder = CallbackRecorder()
    yield recorder
    recorder.server.shutdown()


def _stack(var_dir: Path, names: tuple[str, ...], **kwargs: str) -> Iterator[Stack]:
    stack = Stack(var_dir, **kwargs)
    try:
        for name in names:
            stack.start(name)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def fake_wechat_api() -> Iterator[FakeWeChatApi]:
    """WeChat's and WeCom's HTTP API for every test stack."""
    api = FakeWeChatApi(WECHAT["app_id"], WECHAT["secret"], WECOM["corp_id"], WECOM["secret"]).start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def servers(trained_model: Path, tmp_path_factory: pytest.TempPathFactory,
            callback_recorder: CallbackRecorder, fake_wechat_api: FakeWeChatApi) -> Iterator[Stack]:
    """The whole assistant on the embedded defaults (SQLite)."""
    yield from _stack(tmp_path_factory.mktemp("var"), ("web", "actions", "rasa"),
                      callback_url=callback_recorder.url, wechat_api=fake_wechat_api.url)


@pytest.fixture(scope="session")
def servers_pg(trained_model: Path, tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer,
               callback_recorder: CallbackRecorder, fake_wechat_api: FakeWeChatApi) -> Iterator[Stack]:
    """Rasa and the action server on PostgreSQL (our tables and Rasa's tracker store)."""
    yield from _stack(tmp_path_factory.mktemp("var_pg"), ("actions", "rasa"),
                      database_url=postgres.create_database(), callback_url=callback_recorder.url,
                      wechat_api=fake_wechat_api.url)


@contextmanager
def staff_desk(stack: Stack, display_name: str = "李干事") -> Iterator[tuple[StaffDesk, str]]:
    """A staff member's desk on ``stack`` (its database and Rasa API), with a new staff account."""
    db = Database(stack.database_url)
    username = f"staff{uuid.uuid4().hex[:8]}"
    AccountService(db).add(username, display_name)
    try:
        yield StaffDesk(HandoffService(db), RasaClient(stack.rasa_url, stack.token)), username
    finally:
        db.dispose()


@pytest.fixture
def desk(stack: Stack) -> Iterator[tuple[StaffDesk, str]]:
    with staff_desk(stack) as pair:
        yield pair


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest) -> Stack:
    """Each end-to-end test runs on both engines."""
    return request.getfixturevalue("servers" if request.param == "sqlite" else "servers_pg")
